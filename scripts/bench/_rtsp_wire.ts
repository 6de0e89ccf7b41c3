/**
 * A deliberately small, independent RTSP-over-TCP wire layer for the benchmark tools (reader, camera,
 * raw relay). It does not use strom's own RTSP code on purpose: the bench must not share a parser bug
 * with the server it measures.
 *
 * One TCP connection carries text messages and `$`-interleaved binary frames (RFC 2326 §10.12):
 *
 * ```text
 *  +------+---------+-----------------+-----------------------------+
 *  | '$'  | channel | length (16, BE) | RTP or RTCP packet (length) |
 *  +------+---------+-----------------+-----------------------------+
 * ```
 *
 * @module
 */
import * as net from "node:net";

/** A parsed RTSP request or response; header names lower-cased. */
export interface RtspMessage {
  /** `RTSP/1.0 200 OK` or `DESCRIBE rtsp://host/path RTSP/1.0`. */
  startLine: string;
  headers: Map<string, string>;
  body: Uint8Array;
}

const DOLLAR = 0x24;
const MAX_TEXT = 64 * 1024;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Thrown when the byte stream is neither an RTSP message nor an interleaved frame. */
export class RtspWireError extends Error {
  override name = "RtspWireError";
}

/**
 * Splits a TCP byte stream into RTSP messages and interleaved frames.
 *
 * Frames wholly inside a received chunk are handed out as a view of that chunk (no copy). A frame
 * split across chunks is completed in a private carry buffer that is reused: `onFrame` callers must
 * copy `buf.subarray(start, end)` if they keep it after returning. The 4-byte `$` header always sits
 * in `buf` right before `start`, so `buf.subarray(start - 4, end)` is the whole interleaved frame.
 */
export class InterleavedReader {
  /** One RTP/RTCP packet: `buf[start..end)`, channel from the `$` header. */
  onFrame: (channel: number, buf: Uint8Array, start: number, end: number) => void = () => {};
  /** One text message (request or response). */
  onMessage: (msg: RtspMessage) => void = () => {};

  #carry = new Uint8Array(4 + 65535);
  #carryLen = 0;
  /** Pending partial text message (rare: only during handshakes). */
  #text: Uint8Array | undefined;

  push(chunk: Uint8Array): void {
    let off = 0;
    if (this.#text) {
      const joined = new Uint8Array(this.#text.length + chunk.length);
      joined.set(this.#text);
      joined.set(chunk, this.#text.length);
      this.#text = undefined;
      this.#parse(joined, 0);
      return;
    }
    if (this.#carryLen > 0) {
      off = this.#fillCarry(chunk);
      if (off < 0) return;
    }
    this.#parse(chunk, off);
  }

  /** Completes the pending frame from `chunk`; returns the offset after it or -1 when still incomplete. */
  #fillCarry(chunk: Uint8Array): number {
    const carry = this.#carry;
    let off = 0;
    if (this.#carryLen < 4) {
      const take = Math.min(4 - this.#carryLen, chunk.length);
      carry.set(chunk.subarray(0, take), this.#carryLen);
      this.#carryLen += take;
      off = take;
      if (this.#carryLen < 4) return -1;
    }
    const total = 4 + ((carry[2] << 8) | carry[3]);
    const take = Math.min(total - this.#carryLen, chunk.length - off);
    carry.set(chunk.subarray(off, off + take), this.#carryLen);
    this.#carryLen += take;
    off += take;
    if (this.#carryLen < total) return -1;
    this.#carryLen = 0;
    this.onFrame(carry[1], carry, 4, total);
    return off;
  }

  #parse(buf: Uint8Array, off: number): void {
    const len = buf.length;
    while (off < len) {
      if (buf[off] === DOLLAR) {
        if (len - off < 4) return this.#saveFrame(buf, off);
        const end = off + 4 + ((buf[off + 2] << 8) | buf[off + 3]);
        if (end > len) return this.#saveFrame(buf, off);
        this.onFrame(buf[off + 1], buf, off + 4, end);
        off = end;
        continue;
      }
      const headEnd = indexOfCrlfCrlf(buf, off);
      if (headEnd < 0) {
        if (len - off > MAX_TEXT) throw new RtspWireError(`No RTSP message end within ${MAX_TEXT} bytes`);
        this.#text = buf.slice(off);
        return;
      }
      const head = decoder.decode(buf.subarray(off, headEnd));
      const lines = head.split("\r\n");
      const headers = new Map<string, string>();
      for (let i = 1; i < lines.length; i++) {
        const colon = lines[i].indexOf(":");
        if (colon > 0) {
          headers.set(lines[i].slice(0, colon).trim().toLowerCase(), lines[i].slice(colon + 1).trim());
        }
      }
      const bodyLen = Number(headers.get("content-length") ?? "0") || 0;
      const bodyEnd = headEnd + 4 + bodyLen;
      if (bodyEnd > len) {
        this.#text = buf.slice(off);
        return;
      }
      const startLine = lines[0].replace(/^[\r\n]+/, "");
      this.onMessage({ startLine, headers, body: buf.slice(headEnd + 4, bodyEnd) });
      off = bodyEnd;
    }
  }

  #saveFrame(buf: Uint8Array, off: number): void {
    const rest = buf.subarray(off);
    const take = Math.min(rest.length, 4);
    this.#carry.set(rest.subarray(0, take), 0);
    this.#carryLen = take;
    if (take < 4) return;
    const total = 4 + ((this.#carry[2] << 8) | this.#carry[3]);
    this.#carry.set(rest.subarray(4, Math.min(rest.length, total)), 4);
    this.#carryLen = Math.min(rest.length, total);
  }
}

function indexOfCrlfCrlf(buf: Uint8Array, from: number): number {
  for (let i = from; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/** Status code of a response start line (`RTSP/1.0 200 OK` -> 200), 0 for a request. */
export function statusOf(msg: RtspMessage): number {
  const m = /^RTSP\/\d\.\d\s+(\d{3})/.exec(msg.startLine);
  return m ? Number(m[1]) : 0;
}

/** Serializes an RTSP message; `Content-Length` is added for a body. */
export function formatMessage(
  startLine: string,
  headers: Record<string, string | number>,
  body?: Uint8Array,
): Uint8Array {
  let head = `${startLine}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body && body.length) head += `Content-Length: ${body.length}\r\n`;
  head += "\r\n";
  const h = encoder.encode(head);
  if (!body || !body.length) return h;
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
}

/** Resolves an SDP `a=control` value against the presentation base URL (RFC 2326 §C.1.1). */
export function resolveControl(base: string, control: string | undefined): string {
  if (!control || control === "*") return base;
  if (/^rtsps?:\/\//i.test(control)) return control;
  return base.endsWith("/") ? base + control : `${base}/${control}`;
}

/** The first video media's `a=control` of an SDP, or the first media's when there is no video. */
export function firstVideoControl(sdp: string): string | undefined {
  let inVideo = false;
  let first: string | undefined;
  let sawMedia = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith("m=")) {
      if (inVideo) break;
      inVideo = line.startsWith("m=video");
      sawMedia = true;
      continue;
    }
    if (line.startsWith("a=control:") && sawMedia) {
      const value = line.slice(10).trim();
      if (inVideo) return value;
      first ??= value;
    }
  }
  return first;
}

const isNode = !("Deno" in globalThis) && !("Bun" in globalThis);

/**
 * Connects and hands every received chunk to `onChunk`. On Node the socket reads into one reused
 * 64 KiB buffer (`onread`), so a reader allocates nothing per read and its garbage collector stays
 * out of the latency measurement; the chunk is only valid during the call. Deno and Bun get the
 * portable `data` event.
 */
export function connectReading(host: string, port: number, onChunk: (chunk: Uint8Array) => void): net.Socket {
  if (isNode) {
    const buffer = new Uint8Array(64 * 1024);
    return net.connect({
      host,
      port,
      onread: { buffer, callback: (n: number, buf: Uint8Array) => onChunk(buf.subarray(0, n)) },
    } as net.NetConnectOpts);
  }
  const socket = net.connect({ host, port });
  socket.on("data", onChunk);
  return socket;
}

/** An RTSP client connection that has sent PLAY: the socket and the reader now carrying RTP. */
export interface PlayingSession {
  socket: net.Socket;
  reader: InterleavedReader;
  sdp: string;
  session: string;
  /** Sends `OPTIONS` with the session id: the keep-alive every server accepts. */
  keepAlive(): void;
}

/**
 * Connects, DESCRIBEs, SETUPs the first video track over TCP interleaved (channels 0-1) and PLAYs.
 * `onFrame` is installed before PLAY, so no packet sent right after the PLAY response is lost; later
 * text messages (keep-alive responses) are ignored.
 *
 * @example
 * ```ts
 * const s = await playRtsp("rtsp://127.0.0.1:8554/cam", { onFrame: (ch, buf, a, b) => {}, onData: () => {} });
 * ```
 */
export async function playRtsp(
  url: string,
  o: {
    onFrame: InterleavedReader["onFrame"];
    /** Called once per received chunk before it is parsed (timestamping). */
    onData?: (chunk: Uint8Array) => void;
    timeoutMs?: number;
    userAgent?: string;
  },
): Promise<PlayingSession> {
  const u = new URL(url);
  const timeoutMs = o.timeoutMs ?? 10_000;
  const reader = new InterleavedReader();
  const onChunk = (chunk: Uint8Array) => {
    o.onData?.(chunk);
    try {
      reader.push(chunk);
    } catch (e) {
      socket.destroy();
      fail(e as Error);
    }
  };
  const socket = connectReading(u.hostname, Number(u.port || 554), onChunk);
  socket.setNoDelay(true);
  let cseq = 0;
  let pending: { resolve: (m: RtspMessage) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  const fail = (e: Error) => {
    failure ??= e;
    pending?.reject(e);
    pending = undefined;
  };
  reader.onMessage = (msg) => {
    const p = pending;
    pending = undefined;
    p?.resolve(msg);
  };
  socket.on("error", (e) => fail(e));
  socket.on("close", () => fail(new Error(`RTSP connection to ${url} closed`)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`connect ${url} timed out`)), timeoutMs);
    socket.once("connect", () => {
      clearTimeout(t);
      resolve();
    });
    socket.once("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
  const ua = o.userAgent ?? "strom-bench";
  const request = (
    method: string,
    target: string,
    headers: Record<string, string> = {},
  ): Promise<RtspMessage> => {
    if (failure) return Promise.reject(failure);
    const msg = formatMessage(`${method} ${target} RTSP/1.0`, { CSeq: ++cseq, "User-Agent": ua, ...headers });
    return new Promise<RtspMessage>((resolve, reject) => {
      const t = setTimeout(() => {
        pending = undefined;
        reject(new Error(`${method} ${target}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      pending = {
        resolve: (m) => {
          clearTimeout(t);
          const status = statusOf(m);
          if (status !== 200) reject(new Error(`${method} ${target}: ${m.startLine}`));
          else resolve(m);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      };
      socket.write(msg);
    });
  };
  try {
    await request("OPTIONS", url);
    const desc = await request("DESCRIBE", url, { Accept: "application/sdp" });
    const sdp = decoder.decode(desc.body);
    const base = desc.headers.get("content-base") ?? desc.headers.get("content-location") ?? url;
    const control = resolveControl(base, firstVideoControl(sdp));
    const setup = await request("SETUP", control, { Transport: "RTP/AVP/TCP;unicast;interleaved=0-1" });
    const session = (setup.headers.get("session") ?? "").split(";")[0].trim();
    reader.onFrame = o.onFrame;
    await request("PLAY", base, { Session: session, Range: "npt=0.000-" });
    const keepAlive = () => {
      if (socket.destroyed) return;
      socket.write(
        formatMessage(`OPTIONS ${url} RTSP/1.0`, { CSeq: ++cseq, "User-Agent": ua, Session: session }),
      );
    };
    return { socket, reader, sdp, session, keepAlive };
  } catch (e) {
    socket.destroy();
    throw e;
  }
}
