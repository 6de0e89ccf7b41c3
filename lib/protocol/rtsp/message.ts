/**
 * RTSP messages (RFC 2326 sections 6-7) and the streaming parser for an RTSP TCP connection, where
 * text requests/responses and `$`-interleaved binary frames (RFC 2326 section 10.12) share one byte
 * stream:
 *
 * ```text
 *  +------+---------+-----------------+----------------------------+
 *  | '$'  | channel | length (16, BE) | RTP or RTCP packet (length) |
 *  +------+---------+-----------------+----------------------------+
 *   1 byte  1 byte     2 bytes
 * ```
 *
 * Interleaved payloads are returned as views into the received chunks (no copy): the parser never
 * writes into a buffer it has handed out, so the views stay valid for as long as a caller keeps them.
 *
 * @module
 */
import { RtspHeaders } from "./headers.ts";

/**
 * An RTSP request.
 *
 * @example
 * ```ts
 * const req: RtspRequest = { method: "OPTIONS", uri: "rtsp://cam/1", headers: new RtspHeaders({ CSeq: 1 }), body: new Uint8Array() };
 * ```
 */
export interface RtspRequest {
  method: string;
  uri: string;
  headers: RtspHeaders;
  body: Uint8Array;
  /** Protocol version of the request line; default `RTSP/1.0`. */
  version?: string;
}

/**
 * An RTSP response.
 *
 * @example
 * ```ts
 * const res: RtspResponse = { status: 200, reason: "OK", headers: new RtspHeaders({ CSeq: 1 }), body: new Uint8Array() };
 * ```
 */
export interface RtspResponse {
  status: number;
  reason: string;
  headers: RtspHeaders;
  body: Uint8Array;
  version?: string;
}

/** What the parser found next in the byte stream. */
export type RtspEvent =
  | { type: "request"; request: RtspRequest }
  | { type: "response"; response: RtspResponse }
  | { type: "interleaved"; channel: number; data: Uint8Array }
  | { type: "error"; error: RtspParseError };

/**
 * Bytes that are not a valid RTSP message. `fatal` errors leave the stream unframed (oversize
 * header, bad Content-Length): the connection must be closed. Others are recoverable: the parser
 * skipped the bad message and continues.
 *
 * @example
 * ```ts
 * if (event.type === "error" && event.error.fatal) conn.close();
 * ```
 */
export class RtspParseError extends SyntaxError {
  override name = "RtspParseError";
  /** Byte offset in the connection's stream where the bad message started. */
  readonly offset: number;
  readonly fatal: boolean;
  constructor(offset: number, message: string, fatal: boolean) {
    super(`Cannot parse RTSP message at byte ${offset}: ${message}`);
    this.offset = offset;
    this.fatal = fatal;
  }
}

/** Limits of {@link RtspMessageParser}. */
export interface RtspParserOptions {
  /** Bytes of start line + header fields at most. Default 32 KiB. */
  maxHeaderBytes?: number;
  /** Bytes of a message body at most. Default 1 MiB. */
  maxBodyBytes?: number;
}

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const REQUEST_LINE = /^([A-Za-z][A-Za-z0-9_-]*) +(\S+) +(RTSP\/\d\.\d)$/;
const STATUS_LINE = /^(RTSP\/\d\.\d) +(\d{3})(?: +(.*))?$/;

/**
 * Incremental parser for an RTSP TCP byte stream. Feed chunks with {@link push}; take messages
 * and interleaved frames with {@link next} until it returns `undefined`.
 *
 * Tolerance: bytes that start neither a `$` frame nor a text message are skipped and counted in
 * {@link skippedBytes} (cameras sometimes send truncated frames); a `$` frame whose first payload
 * byte is not RTP/RTCP version 2 is treated the same way so the parser resynchronises.
 *
 * @example
 * ```ts
 * const parser = new RtspMessageParser();
 * parser.push(chunk);
 * for (let ev = parser.next(); ev; ev = parser.next()) {
 *   if (ev.type === "interleaved") onRtp(ev.channel, ev.data);
 * }
 * ```
 */
export class RtspMessageParser {
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
  /** Bytes skipped while resynchronising (garbage between messages or broken frames). */
  skippedBytes = 0;
  /** Stream offset of the first byte of the current buffer. */
  #base = 0;
  #buf: Uint8Array = EMPTY;
  #pos = 0;
  // Chunks received but not yet merged into #buf (merging waits until enough bytes are there).
  #pending: Uint8Array[] = [];
  #pendingLen = 0;
  #need = 1;
  #failed: RtspParseError | undefined;
  // Reused for every interleaved frame: no allocation per packet besides the payload view.
  readonly #frame: { type: "interleaved"; channel: number; data: Uint8Array } = {
    type: "interleaved",
    channel: 0,
    data: EMPTY,
  };

  constructor(options: RtspParserOptions = {}) {
    this.maxHeaderBytes = options.maxHeaderBytes ?? 32 * 1024;
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  }

  /** Bytes received and not parsed yet. */
  get buffered(): number {
    return this.#buf.length - this.#pos + this.#pendingLen;
  }

  /** Adds received bytes. The chunk must not be modified afterwards. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#pending.push(chunk);
    this.#pendingLen += chunk.length;
  }

  #merge(): void {
    if (this.#pendingLen === 0) return;
    const rest = this.#buf.length - this.#pos;
    if (rest === 0 && this.#pending.length === 1) {
      this.#base += this.#pos;
      this.#buf = this.#pending[0];
    } else {
      const out = new Uint8Array(rest + this.#pendingLen);
      out.set(this.#buf.subarray(this.#pos));
      let off = rest;
      for (const c of this.#pending) {
        out.set(c, off);
        off += c.length;
      }
      this.#base += this.#pos;
      this.#buf = out;
    }
    this.#pos = 0;
    this.#pending.length = 0;
    this.#pendingLen = 0;
  }

  /**
   * The next complete message or frame, or `undefined` when more bytes are needed. An
   * `interleaved` event object is reused by the next call (its `data` view stays valid): take
   * `channel` and `data` out of it before calling again.
   */
  next(): RtspEvent | undefined {
    if (this.#failed) return undefined;
    for (;;) {
      if (this.buffered < this.#need) return undefined;
      this.#merge();
      const buf = this.#buf;
      const p = this.#pos;
      const avail = buf.length - p;
      if (avail === 0) {
        this.#need = 1;
        return undefined;
      }
      const b = buf[p];
      if (b === 0x24) {
        if (avail < 5) {
          this.#need = 5;
          return undefined;
        }
        const len = (buf[p + 2] << 8) | buf[p + 3];
        if (len === 0 || buf[p + 4] >> 6 !== 2) {
          this.#skip(1);
          continue;
        }
        if (avail < 4 + len) {
          this.#need = 4 + len;
          return undefined;
        }
        this.#pos = p + 4 + len;
        this.#need = 1;
        const frame = this.#frame;
        frame.channel = buf[p + 1];
        frame.data = buf.subarray(p + 4, p + 4 + len);
        return frame;
      }
      if (!isLetter(b)) {
        this.#skipGarbage();
        continue;
      }
      const ev = this.#text(buf, p, avail);
      if (ev === undefined) return undefined;
      if (ev === null) continue;
      return ev;
    }
  }

  #skip(n: number): void {
    this.#pos += n;
    this.skippedBytes += n;
    this.#need = 1;
  }

  // Skips to the next byte that can start a frame or a message.
  #skipGarbage(): void {
    const buf = this.#buf;
    let i = this.#pos + 1;
    while (i < buf.length && buf[i] !== 0x24 && !isLetter(buf[i])) i++;
    this.#skip(i - this.#pos);
  }

  #fail(offset: number, message: string): RtspEvent {
    this.#failed = new RtspParseError(this.#base + offset, message, true);
    return { type: "error", error: this.#failed };
  }

  // Parses a text message at p. Returns undefined to wait for bytes, null after skipping garbage.
  #text(buf: Uint8Array, p: number, avail: number): RtspEvent | null | undefined {
    // First line: printable ASCII up to LF. Anything else means binary garbage, not a message.
    const limit = Math.min(buf.length, p + this.maxHeaderBytes);
    let lineEnd = -1;
    for (let i = p; i < limit; i++) {
      const c = buf[i];
      if (c === 0x0a) {
        lineEnd = i;
        break;
      }
      if ((c < 0x20 && c !== 0x0d && c !== 0x09) || c > 0x7e) {
        this.#skipGarbage();
        return null;
      }
    }
    if (lineEnd < 0) {
      if (avail >= this.maxHeaderBytes) {
        return this.#fail(p, `start line longer than ${this.maxHeaderBytes} bytes; closing the connection`);
      }
      this.#need = avail + 1;
      return undefined;
    }
    const first = decoder.decode(buf.subarray(p, lineEnd)).trim();
    const isResponse = STATUS_LINE.test(first);
    if (!isResponse && !REQUEST_LINE.test(first)) {
      // Not a message start: report it once and skip the line (a whole header block would be
      // skipped line by line, each reported; callers reply 400 or count it).
      this.#pos = lineEnd + 1;
      this.#need = 1;
      return {
        type: "error",
        error: new RtspParseError(
          this.#base + p,
          `bad start line "${
            first.slice(0, 80)
          }", expected "<METHOD> <uri> RTSP/1.0" or "RTSP/1.0 <status> <reason>"`,
          false,
        ),
      };
    }
    // End of the header block: an empty line (CRLF CRLF, or bare LF LF from sloppy peers).
    let end = -1;
    let bodyStart = -1;
    for (let i = lineEnd; i < limit; i++) {
      if (buf[i] !== 0x0a) continue;
      if (i + 1 < buf.length && buf[i + 1] === 0x0a) {
        end = i;
        bodyStart = i + 2;
        break;
      }
      if (i + 2 < buf.length && buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) {
        end = i;
        bodyStart = i + 3;
        break;
      }
    }
    if (end < 0) {
      if (avail >= this.maxHeaderBytes) {
        return this.#fail(p, `header larger than ${this.maxHeaderBytes} bytes; closing the connection`);
      }
      this.#need = avail + 1;
      return undefined;
    }
    const lines = decoder.decode(buf.subarray(p, end)).split(/\r?\n/);
    const fields: [string, string][] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      if (!line.trim()) continue;
      if ((line[0] === " " || line[0] === "\t") && fields.length) {
        // Obsolete line folding (RFC 2616 section 2.2): continues the previous field.
        fields[fields.length - 1][1] += " " + line.trim();
        continue;
      }
      const colon = line.indexOf(":");
      if (colon <= 0) continue; // tolerate junk lines some cameras emit
      fields.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
    }
    const headers = new RtspHeaders(fields);
    let bodyLen = 0;
    const cl = headers.get("Content-Length");
    if (cl !== undefined) {
      if (!/^\d+$/.test(cl)) return this.#fail(p, `bad Content-Length "${cl}"; closing the connection`);
      bodyLen = Number(cl);
      if (bodyLen > this.maxBodyBytes) {
        return this.#fail(p, `body of ${bodyLen} bytes exceeds the ${this.maxBodyBytes}-byte limit`);
      }
    }
    if (bodyStart + bodyLen > buf.length) {
      this.#need = bodyStart + bodyLen - p;
      return undefined;
    }
    const body = bodyLen ? buf.slice(bodyStart, bodyStart + bodyLen) : EMPTY;
    this.#pos = bodyStart + bodyLen;
    this.#need = 1;
    if (isResponse) {
      const m = STATUS_LINE.exec(first)!;
      return {
        type: "response",
        response: { version: m[1], status: Number(m[2]), reason: m[3] ?? "", headers, body },
      };
    }
    const m = REQUEST_LINE.exec(first)!;
    return {
      type: "request",
      request: { method: m[1].toUpperCase(), uri: m[2], version: m[3], headers, body },
    };
  }
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function clean(value: string): string {
  // Header injection guard: a value never spans lines.
  return value.replace(/[\r\n]+/g, " ");
}

function serialize(startLine: string, headers: RtspHeaders, body: Uint8Array): Uint8Array {
  let head = startLine + "\r\n";
  for (const [k, v] of headers) {
    if (k.toLowerCase() === "content-length") continue;
    head += `${clean(k)}: ${clean(v)}\r\n`;
  }
  if (body.length) head += `Content-Length: ${body.length}\r\n`;
  head += "\r\n";
  const headBytes = encoder.encode(head);
  if (!body.length) return headBytes;
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes);
  out.set(body, headBytes.length);
  return out;
}

/**
 * Serializes a request; `Content-Length` is written from the body.
 *
 * @example
 * ```ts
 * conn.write(serializeRequest({ method: "OPTIONS", uri: "rtsp://cam/", headers: new RtspHeaders({ CSeq: 1 }), body: new Uint8Array() }));
 * ```
 */
export function serializeRequest(req: RtspRequest): Uint8Array {
  return serialize(`${req.method} ${clean(req.uri)} ${req.version ?? "RTSP/1.0"}`, req.headers, req.body);
}

/**
 * Serializes a response; `Content-Length` is written from the body.
 *
 * @example
 * ```ts
 * conn.write(serializeResponse({ status: 200, reason: "OK", headers: new RtspHeaders({ CSeq: 1 }), body: new Uint8Array() }));
 * ```
 */
export function serializeResponse(res: RtspResponse): Uint8Array {
  return serialize(`${res.version ?? "RTSP/1.0"} ${res.status} ${clean(res.reason)}`, res.headers, res.body);
}

/**
 * Writes an interleaved frame header (`$`, channel, 16-bit length) into `out` at `offset`.
 *
 * @example
 * ```ts
 * writeInterleavedHeader(buf, 0, 0, rtpBytes.length); buf.set(rtpBytes, 4);
 * ```
 */
export function writeInterleavedHeader(
  out: Uint8Array,
  offset: number,
  channel: number,
  length: number,
): void {
  out[offset] = 0x24;
  out[offset + 1] = channel & 0xff;
  out[offset + 2] = (length >> 8) & 0xff;
  out[offset + 3] = length & 0xff;
}

/**
 * One interleaved frame (header + payload) as a new buffer.
 *
 * @example
 * ```ts
 * conn.write(interleavedFrame(1, rtcpBytes));
 * ```
 */
export function interleavedFrame(channel: number, data: Uint8Array): Uint8Array {
  if (data.length > 0xffff) throw new RangeError(`Interleaved payload of ${data.length} bytes exceeds 65535`);
  const out = new Uint8Array(4 + data.length);
  writeInterleavedHeader(out, 0, channel, data.length);
  out.set(data, 4);
  return out;
}

/** Standard reason phrases (RFC 2326 section 7.1.1) for the statuses strom sends. */
export const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  301: "Moved Permanently",
  302: "Moved Temporarily",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  451: "Parameter Not Understood",
  454: "Session Not Found",
  455: "Method Not Valid in This State",
  459: "Aggregate Operation Not Allowed",
  461: "Unsupported Transport",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "RTSP Version Not Supported",
  551: "Option Not Supported",
};

/**
 * Body as text (SDP, error messages).
 *
 * @example
 * ```ts
 * const sdp = bodyText(response);
 * ```
 */
export function bodyText(msg: { body: Uint8Array }): string {
  return decoder.decode(msg.body);
}
