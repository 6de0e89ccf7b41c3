/**
 * The last group of pictures of a video track: the latest keyframe and every frame after it,
 * bounded in bytes and in time. New viewers and snapshots start from it instead of waiting for the
 * camera's next keyframe.
 *
 * The cache copies each frame's bytes (its data and its RTP packets) into one buffer it reuses from
 * GOP to GOP, and keeps only offsets. Holding the frames themselves for a whole GOP (seconds) made
 * V8 promote them, with the socket read chunks their packets point into, to its old generation,
 * where they waited for a full GC: at 200 RTSP viewers that was 15 MB of garbage and RSS going from
 * ~72 to ~90 MB (docs/performance.md). Frames now die young; the cache hands out fresh copies
 * ({@link GopCache.frames}) when a viewer joins or a snapshot is taken, which is rare.
 *
 * @module
 */
import { parseRtp, type RtpPacket, rtpSize, writeRtp } from "../rtp/packet.ts";
import type { Frame } from "./frame.ts";

/** Limits of a GOP cache. */
export interface GopCacheOptions {
  /** Bytes kept at most; past this the cache empties until the next keyframe. Default 8 MiB. */
  maxBytes?: number;
  /** Frames kept at most. Default 1024. */
  maxFrames?: number;
  /** Span kept at most, in codec clock units. Default 20 s at 90 kHz. */
  maxDuration?: number;
}

/** Where one cached frame's bytes are in the buffer. */
interface Entry {
  timestamp: number;
  keyframe: boolean;
  cts: number | undefined;
  dataOffset: number;
  dataLength: number;
  /** Offset and length of each RTP packet, in pairs; undefined when the frame had none. */
  packets: number[] | undefined;
  /** End of this frame's bytes in the buffer. */
  end: number;
}

/**
 * A bounded cache of the current GOP.
 *
 * @example
 * ```ts
 * const gop = new GopCache({ maxBytes: 4 << 20 });
 * gop.push(frame);
 * const key = gop.keyframe(); // latest keyframe, for a snapshot
 * ```
 */
export class GopCache {
  readonly maxBytes: number;
  readonly maxFrames: number;
  readonly maxDuration: number;
  #entries: Entry[] = [];
  #buffer = new Uint8Array(0);
  #used = 0;
  #bytes = 0;
  #overflowed = false;
  // Copies handed out since the last change, shared by viewers joining at the same moment.
  #frames: Frame[] | undefined;

  constructor(options: GopCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.maxFrames = options.maxFrames ?? 1024;
    this.maxDuration = options.maxDuration ?? 20 * 90000;
  }

  /** Frame bytes (`data`) held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Frames held now. */
  get size(): number {
    return this.#entries.length;
  }

  /** Adds a frame: a keyframe starts a new GOP; other frames extend the current one if it fits. */
  push(frame: Frame): void {
    if (frame.keyframe) {
      const previous = this.#used;
      this.clear();
      // A buffer grown for an exceptional GOP goes back to the size the stream needs.
      if (this.#buffer.length > 1 << 20 && this.#buffer.length > 4 * previous) {
        this.#buffer = new Uint8Array(Math.max(2 * previous, 64 * 1024));
      }
      this.#overflowed = frame.data.length > this.maxBytes;
      if (!this.#overflowed) this.#store(frame);
      return;
    }
    if (this.#overflowed || this.#entries.length === 0) return;
    const first = this.#entries[0];
    if (
      this.#bytes + frame.data.length > this.maxBytes ||
      this.#entries.length >= this.maxFrames ||
      ((frame.timestamp - first.timestamp) >>> 0) > this.maxDuration
    ) {
      // A partial GOP is useless to a decoder; drop it all until the next keyframe.
      this.clear();
      this.#overflowed = true;
      return;
    }
    this.#store(frame);
  }

  #store(frame: Frame): void {
    const packets = frame.packets;
    let need = frame.data.length;
    if (packets) { for (let i = 0; i < packets.length; i++) need += rtpSize(packets[i]); }
    this.#reserve(need);
    const buf = this.#buffer;
    let off = this.#used;
    const dataOffset = off;
    buf.set(frame.data, off);
    off += frame.data.length;
    let spans: number[] | undefined;
    if (packets) {
      spans = new Array(packets.length * 2);
      for (let i = 0; i < packets.length; i++) {
        const n = writeRtp(packets[i], buf, off);
        spans[2 * i] = off;
        spans[2 * i + 1] = n;
        off += n;
      }
    }
    this.#entries.push({
      timestamp: frame.timestamp,
      keyframe: frame.keyframe,
      cts: frame.cts,
      dataOffset,
      dataLength: frame.data.length,
      packets: spans,
      end: off,
    });
    this.#used = off;
    this.#bytes += frame.data.length;
    this.#frames = undefined;
  }

  // Grows the buffer (doubling, keeping what is cached) so `need` more bytes fit.
  #reserve(need: number): void {
    if (this.#used + need <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#used + need, 64 * 1024));
    grown.set(this.#buffer.subarray(0, this.#used));
    this.#buffer = grown;
  }

  /**
   * The cached frames, keyframe first: fresh objects over a fresh copy of the bytes (the cache's
   * buffer is reused by the next GOP), with their RTP packets when the frames had them.
   */
  frames(): readonly Frame[] {
    if (this.#frames) return this.#frames;
    const entries = this.#entries;
    const copy = this.#buffer.slice(0, this.#used);
    const out: Frame[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) out[i] = toFrame(entries[i], copy);
    this.#frames = out;
    return out;
  }

  /** The latest keyframe, if one is cached (a copy, as {@link frames}). */
  keyframe(): Frame | undefined {
    if (this.#frames) return this.#frames[0];
    const first = this.#entries[0];
    if (!first) return undefined;
    return toFrame(first, this.#buffer.slice(first.dataOffset, first.end), first.dataOffset);
  }

  /** Empties the cache (the buffer is kept for the next GOP). */
  clear(): void {
    this.#entries = [];
    this.#used = 0;
    this.#bytes = 0;
    this.#frames = undefined;
  }
}

/** A Frame over `bytes`, which holds the cache's buffer from offset `base` on. */
function toFrame(e: Entry, bytes: Uint8Array, base = 0): Frame {
  const start = e.dataOffset - base;
  const frame: Frame = {
    timestamp: e.timestamp,
    keyframe: e.keyframe,
    data: bytes.subarray(start, start + e.dataLength),
  };
  if (e.cts !== undefined) frame.cts = e.cts;
  if (e.packets) {
    const spans = e.packets;
    const packets: RtpPacket[] = new Array(spans.length / 2);
    for (let i = 0; i < packets.length; i++) {
      const off = spans[2 * i] - base;
      packets[i] = parseRtp(bytes.subarray(off, off + spans[2 * i + 1]));
    }
    frame.packets = packets;
  }
  return frame;
}
