/**
 * Reads the index of a recorded segment (fragmented MP4: `ftyp` + `moov`, then `moof` + `mdat`
 * pairs) without reading the media: the init segment, and per fragment and track the decode time
 * and every sample's size, duration, flags and composition offset, with where its bytes are.
 *
 * A segment cut short (the server was killed while writing) ends at its last complete fragment:
 * reading stops at the first box that runs past the end of the file, and {@link SegmentIndex.completeBytes}
 * says where that was.
 *
 * ```text
 * file:  ftyp | moov (trak..., mvex/trex...) | moof | mdat | moof | mdat | ... | moof | md (cut short)
 *        <---------------- init --------------><- fragment -><- fragment ->     ^ completeBytes
 * ```
 *
 * @module
 */
import { findBox, findBoxes, Mp4BoxError, readBoxes } from "../format/mp4/mp4_box.ts";
import type { OpenFile } from "../runtime/fs.ts";

/** A track of a segment, from its init segment. */
export interface SegmentTrack {
  id: number;
  kind: "video" | "audio" | "other";
  /** Ticks per second of the track's decode times. */
  timescale: number;
  /** The whole `trak` box of the init segment (sample entry included). */
  trak: Uint8Array;
}

/** The samples of one track in one fragment. */
export interface SegmentRun {
  trackId: number;
  /** Decode time of the first sample, in track ticks. */
  baseDecodeTime: number;
  /** File offset of the first sample's bytes; the others follow it. */
  dataOffset: number;
  sizes: Uint32Array;
  durations: Uint32Array;
  /** Sample flags (bit 16, sample_is_non_sync_sample, clear on sync samples). */
  flags: Uint32Array;
  cts: Int32Array;
}

/** What {@link readSegmentIndex} found. */
export interface SegmentIndex {
  /** `ftyp` + `moov` bytes. */
  init: Uint8Array;
  tracks: SegmentTrack[];
  /** Runs in file order (a fragment has one run per track with samples). */
  runs: SegmentRun[];
  /** Bytes up to the end of the last complete fragment. */
  completeBytes: number;
  /** The size of the file when read. */
  fileBytes: number;
}

/** A sample's `sample_is_non_sync_sample` flag (ISO/IEC 14496-12 8.8.3.1). */
export const NON_SYNC_FLAG = 0x00010000;

/**
 * A segment file is not a fragmented MP4 strom can read.
 *
 * @example
 * ```ts
 * try { await readSegmentIndex(file); } catch (e) { if (e instanceof SegmentFormatError) console.log(e.path); }
 * ```
 */
export class SegmentFormatError extends Error {
  override name = "SegmentFormatError";
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`Cannot read recording segment "${path}": ${reason}`);
    this.path = path;
  }
}

/** Bytes read at each box header, so a following moof usually comes in the same read. */
const READ_AHEAD = 8192;

interface Trex {
  duration: number;
  size: number;
  flags: number;
}

/**
 * Reads a segment's init segment and fragment index.
 *
 * @throws {SegmentFormatError} when the file does not start with a complete `ftyp` + `moov`.
 * @example
 * ```ts
 * await using file = await openFile(path, "read");
 * const index = await readSegmentIndex(file);
 * console.log(index.runs.length, index.completeBytes);
 * ```
 */
export async function readSegmentIndex(file: OpenFile): Promise<SegmentIndex> {
  const fileBytes = await file.size();
  const parts: Uint8Array[] = [];
  let pos = 0;
  let moov: Uint8Array | undefined;
  let tracks: SegmentTrack[] = [];
  const trex = new Map<number, Trex>();
  const runs: SegmentRun[] = [];
  let completeBytes = 0;
  let pendingMoof: { start: number; runs: SegmentRun[] } | undefined;
  while (pos + 8 <= fileBytes) {
    // One read takes the header and, usually, the whole moof that follows (a few KB).
    const head = await file.read(pos, Math.min(READ_AHEAD, fileBytes - pos));
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    let size = view.getUint32(0);
    const type = String.fromCharCode(head[4], head[5], head[6], head[7]);
    if (size === 1) {
      if (head.length < 16) break;
      size = view.getUint32(8) * 0x100000000 + view.getUint32(12);
    } else if (size === 0) {
      size = fileBytes - pos;
    }
    if (size < 8 || pos + size > fileBytes) break; // cut short (or garbage): stop here
    if (type === "ftyp" || type === "moov") {
      const box = await file.read(pos, size);
      parts.push(box);
      if (type === "moov") {
        moov = box;
        try {
          tracks = parseTracks(box, trex);
        } catch (error) {
          throw new SegmentFormatError(file.path, (error as Error).message);
        }
        completeBytes = pos + size;
      }
    } else if (type === "moof") {
      if (!moov) throw new SegmentFormatError(file.path, `a moof at byte ${pos} comes before the moov`);
      const box = size <= head.length ? head.subarray(0, size) : await file.read(pos, size);
      try {
        pendingMoof = { start: pos, runs: parseMoof(box, pos, trex) };
      } catch {
        break; // a damaged fragment ends the readable part
      }
    } else if (type === "mdat") {
      if (pendingMoof) {
        // The fragment counts once its data is all there and inside this mdat.
        const inside = pendingMoof.runs.every((r) => {
          let bytes = 0;
          for (let i = 0; i < r.sizes.length; i++) bytes += r.sizes[i];
          return r.dataOffset >= pos && r.dataOffset + bytes <= pos + size;
        });
        if (!inside) break;
        runs.push(...pendingMoof.runs);
        pendingMoof = undefined;
        completeBytes = pos + size;
      }
    }
    pos += size;
  }
  if (!moov) throw new SegmentFormatError(file.path, "it has no complete ftyp + moov (init segment)");
  let initLength = 0;
  for (const p of parts) initLength += p.length;
  const init = new Uint8Array(initLength);
  let at = 0;
  for (const p of parts) {
    init.set(p, at);
    at += p.length;
  }
  return { init, tracks, runs, completeBytes, fileBytes };
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function u64(b: Uint8Array, p: number): number {
  return u32(b, p) * 0x100000000 + u32(b, p + 4);
}

function fourcc(b: Uint8Array, p: number): string {
  return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3]);
}

function parseTracks(moov: Uint8Array, trex: Map<number, Trex>): SegmentTrack[] {
  const tracks: SegmentTrack[] = [];
  for (const trak of findBoxes(moov, "moov/trak")) {
    const bytes = moov.subarray(trak.start, trak.end);
    const tkhd = findBox(bytes, "trak/tkhd");
    const mdhd = findBox(bytes, "trak/mdia/mdhd");
    const hdlr = findBox(bytes, "trak/mdia/hdlr");
    if (!tkhd || !mdhd || !hdlr) throw new Mp4BoxError(trak.start, "a trak lacks tkhd, mdhd or hdlr");
    const tkhdV = bytes[tkhd.payload];
    const id = u32(bytes, tkhd.payload + 4 + (tkhdV === 1 ? 16 : 8));
    const mdhdV = bytes[mdhd.payload];
    const timescale = u32(bytes, mdhd.payload + 4 + (mdhdV === 1 ? 16 : 8));
    const handler = fourcc(bytes, hdlr.payload + 8);
    if (!timescale) throw new Mp4BoxError(mdhd.start, `track ${id} has timescale 0`);
    tracks.push({
      id,
      kind: handler === "vide" ? "video" : handler === "soun" ? "audio" : "other",
      timescale,
      trak: bytes.slice(),
    });
  }
  for (const box of findBoxes(moov, "moov/mvex/trex")) {
    const p = box.payload + 4;
    trex.set(u32(moov, p), { duration: u32(moov, p + 8), size: u32(moov, p + 12), flags: u32(moov, p + 16) });
  }
  if (!tracks.length) throw new Mp4BoxError(0, "the moov has no tracks");
  return tracks;
}

function parseMoof(moof: Uint8Array, fileOffset: number, trex: Map<number, Trex>): SegmentRun[] {
  const out: SegmentRun[] = [];
  for (const traf of findBoxes(moof, "moof/traf")) {
    let trackId = 0;
    let base = fileOffset; // default-base-is-moof (and the first traf's implicit base)
    let defaults: Trex = { duration: 0, size: 0, flags: 0 };
    let decodeTime = 0;
    let next = -1; // where a trun without data_offset starts: after the previous trun's data
    for (const box of readBoxes(moof, traf.payload, traf.end)) {
      const p = box.payload;
      if (box.type === "tfhd") {
        const flags = u32(moof, p) & 0xffffff;
        trackId = u32(moof, p + 4);
        defaults = { ...(trex.get(trackId) ?? defaults) };
        let q = p + 8;
        if (flags & 0x01) {
          base = u64(moof, q);
          q += 8;
        }
        if (flags & 0x02) q += 4;
        if (flags & 0x08) (defaults.duration = u32(moof, q)), (q += 4);
        if (flags & 0x10) (defaults.size = u32(moof, q)), (q += 4);
        if (flags & 0x20) defaults.flags = u32(moof, q);
      } else if (box.type === "tfdt") {
        decodeTime = moof[p] === 1 ? u64(moof, p + 4) : u32(moof, p + 4);
      } else if (box.type === "trun") {
        const version = moof[p];
        const flags = u32(moof, p) & 0xffffff;
        const count = u32(moof, p + 4);
        let q = p + 8;
        let dataOffset = next >= 0 ? next : base;
        if (flags & 0x01) {
          dataOffset = base + (u32(moof, q) | 0);
          q += 4;
        }
        let firstFlags: number | undefined;
        if (flags & 0x04) (firstFlags = u32(moof, q)), (q += 4);
        const per = ((flags & 0x100) ? 4 : 0) + ((flags & 0x200) ? 4 : 0) + ((flags & 0x400) ? 4 : 0) +
          ((flags & 0x800) ? 4 : 0);
        if (q + per * count > box.end) throw new Mp4BoxError(box.start, "trun runs past its box");
        const run: SegmentRun = {
          trackId,
          baseDecodeTime: decodeTime,
          dataOffset,
          sizes: new Uint32Array(count),
          durations: new Uint32Array(count),
          flags: new Uint32Array(count),
          cts: new Int32Array(count),
        };
        for (let i = 0; i < count; i++) {
          run.durations[i] = flags & 0x100 ? u32(moof, (q += 4) - 4) : defaults.duration;
          run.sizes[i] = flags & 0x200 ? u32(moof, (q += 4) - 4) : defaults.size;
          run.flags[i] = flags & 0x400
            ? u32(moof, (q += 4) - 4)
            : i === 0 && firstFlags !== undefined
            ? firstFlags
            : defaults.flags;
          if (flags & 0x800) {
            const v = u32(moof, (q += 4) - 4);
            run.cts[i] = version === 0 ? v : v | 0;
          }
        }
        for (let i = 0; i < count; i++) decodeTime += run.durations[i];
        let bytes = 0;
        for (let i = 0; i < count; i++) bytes += run.sizes[i];
        next = dataOffset + bytes;
        out.push(run);
      }
    }
  }
  return out;
}
