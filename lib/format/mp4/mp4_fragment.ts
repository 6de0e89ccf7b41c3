/**
 * Movie fragments (ISO/IEC 14496-12 section 8.8): `moof` + `mdat`, built with one allocation of
 * the exact size.
 *
 * ```text
 * moof
 * ├─ mfhd                  sequence_number
 * └─ traf (per track with samples)
 *    ├─ tfhd               flags 0x020000 default-base-is-moof, track_ID
 *    ├─ tfdt (v1)          baseMediaDecodeTime (u64)
 *    └─ trun (v1)          flags 0x000F01: data_offset, then per sample
 *                          duration | size | flags | composition offset (signed, video only)
 * mdat                     the samples, track by track in traf order
 * ```
 *
 * @module
 */

/**
 * Samples of one track waiting to be written into a fragment. Preallocated parallel arrays, reused
 * from fragment to fragment.
 *
 * @example
 * ```ts
 * const batch = new Mp4SampleBatch(1, 1, true);
 * batch.add(bytes, 3000, SAMPLE_FLAGS_SYNC, 0);
 * ```
 */
export class Mp4SampleBatch {
  readonly trackId: number;
  /** Whether trun carries composition time offsets (video). */
  readonly withCts: boolean;
  /** Decode time of the first sample, in track ticks. */
  baseDecodeTime = 0;
  count = 0;
  bytes = 0;
  data: Uint8Array[];
  durations: Uint32Array;
  flags: Uint32Array;
  cts: Int32Array;

  constructor(trackId: number, capacity: number, withCts: boolean) {
    this.trackId = trackId;
    this.withCts = withCts;
    this.data = new Array<Uint8Array>(capacity);
    this.durations = new Uint32Array(capacity);
    this.flags = new Uint32Array(capacity);
    this.cts = new Int32Array(capacity);
  }

  get capacity(): number {
    return this.durations.length;
  }

  add(data: Uint8Array, duration: number, flags: number, cts: number): void {
    if (this.count === this.capacity) this.#grow();
    const i = this.count++;
    this.data[i] = data;
    this.durations[i] = duration;
    this.flags[i] = flags;
    this.cts[i] = cts;
    this.bytes += data.length;
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) this.data[i] = EMPTY;
    this.count = 0;
    this.bytes = 0;
  }

  #grow(): void {
    const n = Math.max(4, this.capacity * 2);
    const d = new Uint32Array(n);
    d.set(this.durations);
    this.durations = d;
    const f = new Uint32Array(n);
    f.set(this.flags);
    this.flags = f;
    const c = new Int32Array(n);
    c.set(this.cts);
    this.cts = c;
    this.data.length = n;
  }
}

const EMPTY = new Uint8Array(0);

function trafSize(b: Mp4SampleBatch): number {
  return 8 + 16 + 20 + 20 + b.count * (b.withCts ? 16 : 12);
}

/**
 * Builds `moof` + `mdat` for the batches that hold samples.
 *
 * @example
 * ```ts
 * const fragment = writeFragment(seq++, [videoBatch, audioBatch]);
 * ```
 */
export function writeFragment(sequence: number, batches: readonly Mp4SampleBatch[]): Uint8Array {
  let moofSize = 8 + 16;
  let dataSize = 0;
  for (const b of batches) {
    if (!b.count) continue;
    moofSize += trafSize(b);
    dataSize += b.bytes;
  }
  const bigMdat = 8 + dataSize > 0xffffffff;
  const mdatHeader = bigMdat ? 16 : 8;
  const out = new Uint8Array(moofSize + mdatHeader + dataSize);
  const v = new DataView(out.buffer);
  let p = 0;
  const box = (size: number, type: string) => {
    v.setUint32(p, size);
    out[p + 4] = type.charCodeAt(0);
    out[p + 5] = type.charCodeAt(1);
    out[p + 6] = type.charCodeAt(2);
    out[p + 7] = type.charCodeAt(3);
    p += 8;
  };
  box(moofSize, "moof");
  box(16, "mfhd");
  v.setUint32(p, 0);
  v.setUint32(p + 4, sequence >>> 0);
  p += 8;
  let dataOffset = moofSize + mdatHeader;
  for (const b of batches) {
    if (!b.count) continue;
    box(trafSize(b), "traf");
    box(16, "tfhd");
    v.setUint32(p, 0x020000); // version 0, default-base-is-moof
    v.setUint32(p + 4, b.trackId);
    p += 8;
    box(20, "tfdt");
    v.setUint32(p, 0x01000000); // version 1
    v.setUint32(p + 4, Math.floor(b.baseDecodeTime / 0x100000000));
    v.setUint32(p + 8, b.baseDecodeTime >>> 0);
    p += 12;
    box(20 + b.count * (b.withCts ? 16 : 12), "trun");
    v.setUint32(p, (b.withCts ? 0x01000000 : 0) | 0x000701 | (b.withCts ? 0x000800 : 0));
    v.setUint32(p + 4, b.count);
    v.setInt32(p + 8, dataOffset);
    p += 12;
    for (let i = 0; i < b.count; i++) {
      v.setUint32(p, b.durations[i]);
      v.setUint32(p + 4, b.data[i].length);
      v.setUint32(p + 8, b.flags[i]);
      p += 12;
      if (b.withCts) {
        v.setInt32(p, b.cts[i]);
        p += 4;
      }
    }
    dataOffset += b.bytes;
  }
  if (bigMdat) {
    v.setUint32(p, 1);
    out.set([0x6d, 0x64, 0x61, 0x74], p + 4);
    v.setUint32(p + 8, Math.floor((16 + dataSize) / 0x100000000));
    v.setUint32(p + 12, (16 + dataSize) >>> 0);
    p += 16;
  } else {
    box(8 + dataSize, "mdat");
  }
  for (const b of batches) {
    for (let i = 0; i < b.count; i++) {
      out.set(b.data[i], p);
      p += b.data[i].length;
    }
  }
  return out;
}
