/**
 * The RTMP handshake (RTMP 1.0 section 5.2), the plain variant every peer accepts (librtmp, OBS,
 * ffmpeg, nginx-rtmp, go2rtc):
 *
 * ```text
 * client                         server
 * C0 (u8 version 3) + C1  --->
 *                         <---   S0 (3) + S1 + S2 (echo of C1)
 * C2 (echo of S1)         --->
 *
 * C1/S1 (1536 bytes): u32 time | u32 zero | 1528 random bytes
 * ```
 *
 * S1's version field is zero, which tells ffmpeg's client not to expect the Flash digest scheme.
 * Version 6 (RTMPE, encrypted) is refused with a clear error.
 *
 * @module
 */
import { RtmpError } from "./messages.ts";

/** Size of C1, S1, C2, S2. */
export const HANDSHAKE_SIZE = 1536;

function randomPacket(): Uint8Array {
  const p = new Uint8Array(HANDSHAKE_SIZE);
  // getRandomValues fills at most 65536 bytes at a time; 1528 is fine.
  crypto.getRandomValues(p.subarray(8));
  return p;
}

/**
 * One side of the handshake as a byte processor.
 *
 * @example
 * ```ts
 * const hs = new RtmpHandshake("server", (bytes) => conn.write(bytes), "127.0.0.1:50000");
 * conn.read((chunk) => {
 *   const rest = hs.done ? chunk : hs.push(chunk);
 *   if (rest?.length) reader.push(rest);
 * }, () => {});
 * ```
 */
export class RtmpHandshake {
  readonly role: "client" | "server";
  #done = false;
  readonly #send: (bytes: Uint8Array) => void;
  readonly #peer: string;
  readonly #buf: Uint8Array;
  #have = 0;
  #stage: "s0s1s2" | "c0c1" | "c2";
  #c1s1: Uint8Array | undefined;

  constructor(role: "client" | "server", send: (bytes: Uint8Array) => void, peer = "the peer") {
    this.role = role;
    this.#send = send;
    this.#peer = peer;
    this.#stage = role === "client" ? "s0s1s2" : "c0c1";
    this.#buf = new Uint8Array(role === "client" ? 1 + 2 * HANDSHAKE_SIZE : 1 + HANDSHAKE_SIZE);
  }

  /** Whether the handshake completed. */
  get done(): boolean {
    return this.#done;
  }

  /** Client: sends C0 + C1. */
  start(): void {
    if (this.role !== "client") return;
    const c1 = randomPacket();
    this.#c1s1 = c1;
    const out = new Uint8Array(1 + HANDSHAKE_SIZE);
    out[0] = 3;
    out.set(c1, 1);
    this.#send(out);
  }

  /**
   * Feeds bytes. Returns the bytes after the handshake once it completed (maybe empty), or
   * undefined while it is still in progress.
   *
   * @throws {RtmpError} code `Handshake` for a version other than 3.
   */
  push(data: Uint8Array): Uint8Array | undefined {
    let pos = 0;
    while (!this.#done) {
      const need = this.#stage === "c2" ? HANDSHAKE_SIZE : this.#buf.length;
      const n = Math.min(need - this.#have, data.length - pos);
      this.#buf.set(data.subarray(pos, pos + n), this.#have);
      if (this.#have === 0 && n > 0 && this.#stage !== "c2") this.#checkVersion(this.#buf[0]);
      this.#have += n;
      pos += n;
      if (this.#have < need) return undefined;
      this.#have = 0;
      if (this.#stage === "c0c1") {
        // S0 + S1 + S2 (S2 echoes C1, with our read time in its second field).
        const out = new Uint8Array(1 + 2 * HANDSHAKE_SIZE);
        out[0] = 3;
        out.set(randomPacket(), 1);
        out.set(this.#buf.subarray(1, 1 + HANDSHAKE_SIZE), 1 + HANDSHAKE_SIZE);
        this.#send(out);
        this.#stage = "c2";
      } else if (this.#stage === "c2") {
        this.#done = true; // C2 is not checked: many clients echo loosely.
      } else {
        // Client got S0 + S1 + S2: C2 echoes S1.
        this.#send(this.#buf.slice(1, 1 + HANDSHAKE_SIZE));
        this.#done = true;
      }
    }
    return data.subarray(pos);
  }

  #checkVersion(v: number): void {
    if (v === 3) return;
    const what = v === 6
      ? "6 asks for RTMPE (encrypted RTMP), which strom does not support; use rtmps:// (RTMP over TLS)"
      : v === 0x47 || v === 0x50 || v === 0x16
      ? `0x${v.toString(16)} looks like ${v === 0x16 ? "TLS (use rtmps:// on the client, or plain rtmp://)" : "HTTP"}, not RTMP`
      : `0x${v.toString(16).padStart(2, "0")} is not RTMP version 3`;
    throw new RtmpError("Handshake", `Cannot do the RTMP handshake with ${this.#peer}: version byte ${what}`, 0);
  }
}
