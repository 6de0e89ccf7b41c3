/**
 * Parser of `multipart/x-mixed-replace` byte streams (MJPEG cameras, ffmpeg `-f mpjpeg`) back into
 * parts.
 *
 * Cameras differ in small ways, so the parser is lenient where it is safe to be:
 * - the boundary is taken from the stream itself (the first line starting with `--`), because some
 *   cameras announce `boundary=--foo` and write `----foo`, or announce one token and use another;
 * - `Content-Length` is used when present and checked against the next delimiter; when it is absent
 *   or wrong the body runs to the next delimiter line;
 * - header lines may end with LF instead of CRLF.
 *
 * Memory is bounded: a part larger than `maxPartBytes` is dropped (counted in `errors`) and the
 * parser resynchronises on the next delimiter.
 *
 * @module
 */

const decoder = new TextDecoder();

/** One part of a multipart stream. */
export interface MultipartPart {
  /** Header fields, names lower-cased: `{"content-type": "image/jpeg", "content-length": "3421"}`. */
  headers: Record<string, string>;
  /** The part's body (a copy, owned by the caller). */
  body: Uint8Array;
}

/** Options of a {@link MultipartParser}. */
export interface MultipartParserOptions {
  /**
   * Boundary from the HTTP `Content-Type` (`boundary=` value). Optional: the stream's first
   * delimiter line wins when they differ.
   */
  boundary?: string;
  /** Largest part kept; bigger ones are skipped and counted in `errors`. Default 16 MiB. */
  maxPartBytes?: number;
  /** Largest header block. Default 16 KiB. */
  maxHeaderBytes?: number;
}

const enum State {
  /** Looking for a delimiter line. */
  Delimiter,
  Headers,
  Body,
  /** After the close delimiter `--boundary--`. */
  Done,
}

/**
 * Extracts the `boundary` parameter of a `multipart/...` content type.
 *
 * @example
 * ```ts
 * multipartBoundary('multipart/x-mixed-replace; boundary="myboundary"'); // "myboundary"
 * ```
 */
export function multipartBoundary(contentType: string): string | undefined {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  return b === undefined || b === "" ? undefined : b;
}

/**
 * Splits a multipart byte stream into parts. Pure: `push()` returns the parts completed by a chunk;
 * it never throws on bad input (bad input is counted in `errors`).
 *
 * @example
 * ```ts
 * const parser = new MultipartParser({ boundary: multipartBoundary(res.headers.get("content-type") ?? "") });
 * for await (const chunk of res.body!) {
 *   for (const part of parser.push(chunk)) showJpeg(part.body);
 * }
 * ```
 */
export class MultipartParser {
  /** Malformed or oversize parts skipped so far. */
  errors = 0;
  /** Parts returned so far. */
  parts = 0;
  /** The boundary in use (learnt from the stream once the first delimiter is seen). */
  boundary: string | undefined;

  readonly #maxPart: number;
  readonly #maxHeader: number;
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  #state = State.Delimiter;
  /** Delimiter bytes `--boundary`. */
  #delim: Uint8Array | undefined;
  #headers: Record<string, string> = {};
  #length = -1;
  /** Where the body search resumes, so a big body is not rescanned from its start on each chunk. */
  #scan = 0;

  constructor(options: MultipartParserOptions = {}) {
    this.#maxPart = options.maxPartBytes ?? 16 * 1024 * 1024;
    this.#maxHeader = options.maxHeaderBytes ?? 16 * 1024;
    if (options.boundary) this.#setBoundary(options.boundary.replace(/^--/, ""));
  }

  /** Whether the close delimiter was seen. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /**
   * Feeds bytes; returns the parts they completed (possibly none).
   *
   * @example
   * ```ts
   * const parts = parser.push(chunk);
   * ```
   */
  push(chunk: Uint8Array): MultipartPart[] {
    const out: MultipartPart[] = [];
    if (this.#state === State.Done || chunk.length === 0) return out;
    this.#append(chunk);
    for (;;) {
      const progressed = this.#step(out);
      if (!progressed) break;
    }
    return out;
  }

  /**
   * Ends the stream: a body without Content-Length still waiting for its delimiter is returned.
   *
   * @example
   * ```ts
   * const last = parser.flush();
   * ```
   */
  flush(): MultipartPart[] {
    const out: MultipartPart[] = [];
    if (this.#state === State.Body && this.#length < 0 && this.#end > this.#start) {
      out.push(this.#emit(this.#start, trimCrlf(this.#buf, this.#start, this.#end)));
    }
    this.#start = this.#end = 0;
    if (this.#state !== State.Done) this.#state = State.Delimiter;
    return out;
  }

  #setBoundary(boundary: string): void {
    this.boundary = boundary;
    this.#delim = new TextEncoder().encode(`--${boundary}`);
  }

  #append(chunk: Uint8Array): void {
    const used = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buf.length) {
      if (used + chunk.length <= this.#buf.length && this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        let size = this.#buf.length * 2;
        while (size < used + chunk.length) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#scan -= this.#start;
      this.#start = 0;
      this.#end = used;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Runs one state transition; false when more bytes are needed. */
  #step(out: MultipartPart[]): boolean {
    switch (this.#state) {
      case State.Delimiter:
        return this.#findDelimiter();
      case State.Headers:
        return this.#readHeaders();
      case State.Body:
        return this.#readBody(out);
      default:
        return false;
    }
  }

  /** Skips to the next line that starts with `--` (the configured delimiter when known). */
  #findDelimiter(): boolean {
    const buf = this.#buf;
    let i = this.#start;
    while (i < this.#end) {
      const nl = buf.indexOf(0x0a, i);
      if (nl < 0 || nl >= this.#end) {
        // Keep at most one partial line; drop garbage before it.
        if (this.#end - i > this.#maxHeader) {
          this.errors++;
          this.#start = this.#end;
        } else {
          this.#start = i;
        }
        return false;
      }
      let lineEnd = nl;
      if (lineEnd > i && buf[lineEnd - 1] === 0x0d) lineEnd--;
      if (lineEnd - i >= 3 && buf[i] === 0x2d && buf[i + 1] === 0x2d) {
        const token = decoder.decode(buf.subarray(i + 2, lineEnd)).trimEnd();
        if (this.#delim === undefined || token !== this.boundary) {
          if (token.endsWith("--") && this.boundary !== undefined && token === `${this.boundary}--`) {
            this.#state = State.Done;
            this.#start = nl + 1;
            return false;
          }
          // The stream's own delimiter wins over the announced one.
          this.#setBoundary(token);
        }
        this.#start = nl + 1;
        this.#state = State.Headers;
        this.#headers = {};
        return true;
      }
      i = nl + 1;
    }
    this.#start = i;
    return false;
  }

  #readHeaders(): boolean {
    const buf = this.#buf;
    let i = this.#start;
    for (;;) {
      const nl = buf.indexOf(0x0a, i);
      if (nl < 0 || nl >= this.#end) {
        if (this.#end - this.#start > this.#maxHeader) {
          this.errors++;
          this.#start = this.#end;
          this.#state = State.Delimiter;
        }
        return false;
      }
      let lineEnd = nl;
      if (lineEnd > i && buf[lineEnd - 1] === 0x0d) lineEnd--;
      if (lineEnd === i) {
        // Empty line: end of headers.
        this.#start = nl + 1;
        this.#scan = this.#start;
        const len = this.#headers["content-length"];
        this.#length = len !== undefined && /^\d+$/.test(len.trim()) ? Number(len.trim()) : -1;
        if (this.#length > this.#maxPart) {
          this.errors++;
          this.#length = -1;
        }
        this.#state = State.Body;
        return true;
      }
      const line = decoder.decode(buf.subarray(i, lineEnd));
      const colon = line.indexOf(":");
      if (colon > 0) this.#headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      i = nl + 1;
      this.#start = i;
    }
  }

  #readBody(out: MultipartPart[]): boolean {
    const buf = this.#buf;
    const delim = this.#delim!;
    if (this.#length >= 0) {
      // Emit as soon as the announced bytes are in: waiting for the next delimiter would add a frame
      // of latency. Whatever follows (CRLF, the delimiter) is handled by the delimiter search.
      const bodyEnd = this.#start + this.#length;
      if (this.#end < bodyEnd) return false;
      out.push(this.#emit(this.#start, bodyEnd));
      this.#start = bodyEnd;
      this.#state = State.Delimiter;
      return true;
    }
    const from = Math.max(this.#start, this.#scan);
    const at = findDelimiterLine(buf, from, this.#end, delim);
    if (at < 0) {
      if (this.#end - this.#start > this.#maxPart) {
        this.errors++;
        // Keep the tail that could hold the start of a delimiter.
        this.#start = this.#end - delim.length;
        this.#state = State.Delimiter;
        return false;
      }
      this.#scan = Math.max(this.#start, this.#end - delim.length - 2);
      return false;
    }
    out.push(this.#emit(this.#start, trimCrlf(buf, this.#start, at)));
    this.#start = at;
    this.#state = State.Delimiter;
    return true;
  }

  #emit(start: number, end: number): MultipartPart {
    this.parts++;
    return { headers: this.#headers, body: this.#buf.slice(start, end) };
  }
}

function startsWith(buf: Uint8Array, at: number, prefix: Uint8Array): boolean {
  for (let k = 0; k < prefix.length; k++) if (buf[at + k] !== prefix[k]) return false;
  return true;
}

/** Position of `delim` at a line start (after LF, or at `from` when it follows a body directly), or -1. */
function findDelimiterLine(buf: Uint8Array, from: number, end: number, delim: Uint8Array): number {
  const first = delim[0];
  let i = from;
  while (i + delim.length <= end) {
    const at = buf.indexOf(first, i);
    if (at < 0 || at + delim.length > end) return -1;
    // Accept after LF, or right after a JPEG EOI marker (cameras that omit the CRLF).
    const prev = at > 0 ? buf[at - 1] : 0x0a;
    if ((prev === 0x0a || (prev === 0xd9 && buf[at - 2] === 0xff)) && startsWith(buf, at, delim)) return at;
    i = at + 1;
  }
  return -1;
}

function trimCrlf(buf: Uint8Array, start: number, end: number): number {
  if (end > start && buf[end - 1] === 0x0a) end--;
  if (end > start && buf[end - 1] === 0x0d) end--;
  return end;
}
