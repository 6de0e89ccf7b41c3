/**
 * Collects the per-sample facts of one track of a progressive MP4 and compresses them into the
 * `stbl` tables (run-length `stts`/`ctts`/`stsc`) at the end.
 *
 * @module
 */
import type { Mp4SampleTables } from "./mp4_moov.ts";

/** A growable list of numbers over a typed array. */
class NumberList<T extends Uint32Array | Int32Array | Float64Array> {
  data: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.data = make(256);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(this.data.length * 2);
      next.set(this.data as never);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  last(): number {
    return this.data[this.length - 1];
  }
  setLast(v: number): void {
    this.data[this.length - 1] = v;
  }
}

const u32 = (n: number) => new Uint32Array(n);

/**
 * Sample table of one track, built sample by sample.
 *
 * @example
 * ```ts
 * const table = new Mp4SampleTableBuilder(true);
 * table.add(1234, 0, true, 48); // size, cts, sync, chunk offset (-1 = same chunk)
 * table.setLastDuration(3000);
 * ```
 */
export class Mp4SampleTableBuilder {
  readonly #sizes = new NumberList(u32);
  readonly #durations = new NumberList(u32);
  readonly #cts = new NumberList((n) => new Int32Array(n));
  readonly #sync = new NumberList(u32);
  readonly #chunkOffsets = new NumberList((n) => new Float64Array(n));
  readonly #chunkSamples = new NumberList(u32);
  readonly #withSync: boolean;
  #anyCts = false;
  #allSync = true;
  /** Decode time of the first sample on the shared timeline, in track ticks. */
  startOffset = 0;

  constructor(video: boolean) {
    this.#withSync = video;
  }

  get sampleCount(): number {
    return this.#sizes.length;
  }

  /** Sum of the durations so far, in track ticks. */
  duration = 0;

  /**
   * Adds a sample. `chunkOffset` is the byte offset of a new chunk in the mdat payload, or -1 when
   * the sample directly follows the previous sample of this track (same chunk).
   */
  add(size: number, cts: number, sync: boolean, chunkOffset: number): void {
    this.#sizes.push(size);
    this.#durations.push(0);
    this.#cts.push(cts);
    if (cts !== 0) this.#anyCts = true;
    if (sync) this.#sync.push(this.#sizes.length);
    else this.#allSync = false;
    if (chunkOffset >= 0 || this.#chunkOffsets.length === 0) {
      this.#chunkOffsets.push(Math.max(0, chunkOffset));
      this.#chunkSamples.push(1);
    } else {
      this.#chunkSamples.setLast(this.#chunkSamples.last() + 1);
    }
  }

  /** Sets the duration of the newest sample. */
  setLastDuration(duration: number): void {
    this.duration += duration - this.#durations.last();
    this.#durations.setLast(duration);
  }

  /**
   * The tables for {@link writeProgressiveMoov}.
   *
   * @param offsetShift added to every chunk offset (position of the mdat payload in the file).
   */
  build(offsetShift: number): Mp4SampleTables {
    const n = this.#sizes.length;
    const stts: number[] = [];
    for (let i = 0; i < n; i++) {
      const d = this.#durations.data[i];
      if (stts.length && stts[stts.length - 1] === d) stts[stts.length - 2]++;
      else stts.push(1, d);
    }
    let ctts: number[] | undefined;
    if (this.#anyCts) {
      ctts = [];
      for (let i = 0; i < n; i++) {
        const c = this.#cts.data[i];
        if (ctts.length && ctts[ctts.length - 1] === c) ctts[ctts.length - 2]++;
        else ctts.push(1, c);
      }
    }
    const stsc: number[] = [];
    for (let i = 0; i < this.#chunkSamples.length; i++) {
      const s = this.#chunkSamples.data[i];
      if (!stsc.length || stsc[stsc.length - 1] !== s) stsc.push(i + 1, s);
    }
    const sync = this.#withSync && !this.#allSync ? this.#sync : undefined;
    return {
      stts,
      sttsCount: stts.length / 2,
      ctts,
      cttsCount: ctts ? ctts.length / 2 : 0,
      stsc,
      stscCount: stsc.length / 2,
      sizes: this.#sizes.data,
      sampleCount: n,
      chunkOffsets: this.#chunkOffsets.data,
      chunkCount: this.#chunkOffsets.length,
      sync: sync?.data,
      syncCount: sync?.length ?? 0,
      duration: this.duration,
      startOffset: this.startOffset,
      offsetShift,
    };
  }
}
