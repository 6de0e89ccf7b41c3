/**
 * Progressive (non-fragmented) MP4 writer for recordings, downloads and `/api/frame.mp4`.
 *
 * Two layouts:
 * - `moov-at-end` streams: `push()` returns bytes to append (`ftyp`, an `mdat` header with a 64-bit
 *   size, then the samples); `finish()` returns the `moov` to append and one 8-byte patch for the
 *   `mdat` size. Memory: only the sample tables (about 16 bytes per sample).
 * - `faststart` keeps the samples (references, no copy) and writes `ftyp` + `moov` + `mdat` as one
 *   buffer at `finish()`, so players can start before downloading everything. Bounded by
 *   `maxBytes`.
 *
 * Both stop accepting frames once `maxDurationSeconds` or `maxBytes` is reached ({@link
 * Mp4FileWriter.full}).
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import { BoxWriter } from "./mp4_box.ts";
import { writeFtyp, writeProgressiveMoov } from "./mp4_moov.ts";
import { Mp4SampleTableBuilder } from "./mp4_sample_table.ts";
import type { Mp4Track, Mp4TrackOptions } from "./mp4_track.ts";
import { Mp4Input } from "./_mp4_input.ts";

/** Options of an {@link Mp4FileWriter}. */
export interface Mp4FileWriterOptions {
  /** Default `faststart`. */
  layout?: "faststart" | "moov-at-end";
  /** Stop accepting frames after this much media. Default 3600 s (faststart: 300 s). */
  maxDurationSeconds?: number;
  /** Stop accepting frames after this many sample bytes. Default 256 MiB for faststart, unlimited else. */
  maxBytes?: number;
  /** See `Mp4MuxerOptions.timeBase`. Default `track`. */
  timeBase?: "track" | "shared";
}

/** What {@link Mp4FileWriter.finish} returns. */
export interface Mp4FileResult {
  /** Bytes to append: the whole file (faststart) or the `moov` (moov-at-end). */
  data: Uint8Array;
  /** moov-at-end only: bytes to write over the file at `offset` (the 64-bit `mdat` size). */
  patch?: { offset: number; data: Uint8Array };
}

/**
 * Thrown by {@link Mp4FileWriter.finish} when no frame became a sample.
 *
 * @example
 * ```ts
 * try { writer.finish(); } catch (e) { if (e instanceof Mp4EmptyError) res.status = 404; }
 * ```
 */
export class Mp4EmptyError extends Error {
  override name = "Mp4EmptyError";
  constructor(dropped: number) {
    super(
      `Cannot finish the MP4: no samples were written (${dropped} frames dropped while waiting for ` +
        `a keyframe with known parameter sets)`,
    );
  }
}

/**
 * Progressive MP4 writer.
 *
 * @example
 * ```ts
 * const mp4 = new Mp4FileWriter([{ codec: h264 }, { codec: aac }], { layout: "faststart", maxDurationSeconds: 10 });
 * for (const [i, frame] of frames) if (mp4.push(i, frame) === undefined && mp4.full) break;
 * const { data } = mp4.finish(); // a complete file
 * ```
 */
export class Mp4FileWriter {
  readonly tracks: readonly Mp4Track[];
  readonly layout: "faststart" | "moov-at-end";
  /** True once a limit was reached; further frames are ignored. */
  full = false;

  readonly #input: Mp4Input;
  readonly #tables: Mp4SampleTableBuilder[];
  readonly #maxTicks: number[];
  readonly #maxBytes: number;
  /** faststart: the sample bytes in order. */
  readonly #chunks: Uint8Array[] = [];
  /** Bytes of sample data so far (the mdat payload size). */
  #bytes = 0;
  #lastTrack = -1;
  #headerLength = 0;
  #finished = false;

  constructor(tracks: readonly Mp4TrackOptions[], options: Mp4FileWriterOptions = {}) {
    this.layout = options.layout ?? "faststart";
    this.#input = new Mp4Input(tracks, options.timeBase);
    this.tracks = this.#input.tracks;
    const faststart = this.layout === "faststart";
    const maxSeconds = options.maxDurationSeconds ?? (faststart ? 300 : 3600);
    this.#maxTicks = this.tracks.map((t) => maxSeconds * t.timescale);
    this.#maxBytes = options.maxBytes ?? (faststart ? 256 * 1024 * 1024 : Number.MAX_SAFE_INTEGER);
    this.#tables = this.tracks.map((t) => new Mp4SampleTableBuilder(t.kind === "video"));
  }

  /** Frames dropped (before the start keyframe, unconvertible, or after the writer was full). */
  get dropped(): number {
    return this.#input.dropped;
  }

  /**
   * What each track holds so far: samples and seconds of media (sum of the sample durations), for
   * reporting what a file really contains.
   *
   * @example
   * ```ts
   * for (const t of writer.written()) console.log(t.track.kind, t.samples, t.seconds.toFixed(2));
   * ```
   */
  written(): { track: Mp4Track; samples: number; seconds: number }[] {
    return this.tracks.map((track, i) => ({
      track,
      samples: this.#tables[i].sampleCount,
      seconds: this.#tables[i].duration / track.timescale,
    }));
  }

  /** Bytes of media written so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Adds a frame of track `index`. moov-at-end: returns the bytes to append (the first call also
   * carries `ftyp` and the `mdat` header); faststart: returns undefined.
   *
   * @throws {RangeError} for an unknown track index; {@link Error} after {@link finish}.
   * @example
   * ```ts
   * const bytes = writer.push(0, frame);
   * if (bytes) await file.write(bytes);
   * ```
   */
  push(index: number, frame: Frame): Uint8Array | undefined {
    if (this.#finished) throw new Error("Cannot push to an MP4 writer after finish()");
    if (this.full) {
      this.#input.dropped++;
      return undefined;
    }
    if (!this.#input.accept(index, frame)) return undefined;
    const s = this.#input.sample;
    const table = this.#tables[index];
    if (s.dts >= this.#maxTicks[index] || this.#bytes + s.data.length > this.#maxBytes) {
      this.full = true;
      this.#input.dropped++;
      return undefined;
    }
    if (table.sampleCount === 0) {
      table.startOffset = s.dts;
    } else if (s.prevDts >= 0) {
      table.setLastDuration(Math.max(1, s.dts - s.prevDts));
    }
    const sameChunk = this.#lastTrack === index;
    table.add(s.data.length, s.cts, s.sync, sameChunk ? -1 : this.#bytes);
    // Until the next frame tells, the newest sample lasts as long as the previous one (or its codec
    // duration): correct for the last sample of a constant-rate track.
    const last = s.known ??
      (s.prevDts >= 0 ? Math.max(1, s.dts - s.prevDts) : Math.round(s.track.timescale / 25));
    table.setLastDuration(last);
    this.#lastTrack = index;
    this.#bytes += s.data.length;

    if (this.layout === "faststart") {
      this.#chunks.push(s.data);
      return undefined;
    }
    if (this.#headerLength === 0) {
      const w = new BoxWriter(64);
      writeFtyp(w, "isom", ["isom", "iso2", "avc1", "mp41"]);
      w.u32(1);
      w.fourcc("mdat");
      w.u64(0); // patched by finish()
      this.#headerLength = w.pos;
      const out = new Uint8Array(w.pos + s.data.length);
      out.set(w.bytesView());
      out.set(s.data, w.pos);
      return out;
    }
    return s.data;
  }

  /**
   * Ends the file.
   *
   * @throws {Mp4EmptyError} when nothing was written.
   * @example
   * ```ts
   * const { data, patch } = writer.finish();
   * ```
   */
  finish(): Mp4FileResult {
    if (this.#finished) throw new Error("Cannot finish an MP4 writer twice");
    if (this.#bytes === 0 && this.#tables.every((t) => t.sampleCount === 0)) {
      throw new Mp4EmptyError(this.#input.dropped);
    }
    this.#finished = true;
    // Tracks that never got a sample are left out of the moov.
    const used = this.tracks.map((_, i) => i).filter((i) => this.#tables[i].sampleCount > 0);
    const tracks = used.map((i) => this.tracks[i]);
    if (this.layout === "moov-at-end") {
      const tables = used.map((i) => this.#tables[i].build(this.#headerLength));
      const w = new BoxWriter(4096);
      writeProgressiveMoov(w, tracks, tables);
      const size = 16 + this.#bytes;
      const patch = new Uint8Array(8);
      new DataView(patch.buffer).setUint32(0, Math.floor(size / 0x100000000));
      new DataView(patch.buffer).setUint32(4, size >>> 0);
      return { data: w.toBytes(), patch: { offset: this.#headerLength - 8, data: patch } };
    }
    // faststart: measure the moov once (its size does not depend on the offsets), then write it
    // with offsets shifted past ftyp + moov + mdat header.
    const head = new BoxWriter(64);
    writeFtyp(head, "isom", ["isom", "iso2", "avc1", "mp41"]);
    const probe = new BoxWriter(4096);
    writeProgressiveMoov(probe, tracks, used.map((i) => this.#tables[i].build(0)));
    const mdatHeader = 8 + this.#bytes > 0xffffffff ? 16 : 8;
    const shift = head.pos + probe.pos + mdatHeader;
    const w = new BoxWriter(shift + this.#bytes, true);
    w.bytes(head.bytesView());
    writeProgressiveMoov(w, tracks, used.map((i) => this.#tables[i].build(shift)));
    if (w.pos !== head.pos + probe.pos) throw new Error("internal: moov size changed between passes");
    if (mdatHeader === 16) {
      w.u32(1);
      w.fourcc("mdat");
      w.u64(16 + this.#bytes);
    } else {
      w.u32(8 + this.#bytes);
      w.fourcc("mdat");
    }
    for (const c of this.#chunks) w.bytes(c);
    this.#chunks.length = 0;
    return { data: w.buf };
  }
}
