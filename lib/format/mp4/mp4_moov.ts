/**
 * `ftyp` and `moov` writing (ISO/IEC 14496-12 sections 4.3, 8.2-8.8) for both the fragmented
 * init segment (empty sample tables + `mvex`) and the progressive file (full sample tables).
 *
 * ```text
 * moov
 * ├─ mvhd
 * ├─ trak (per track)
 * │  ├─ tkhd
 * │  ├─ edts/elst          progressive only, when the track starts later than the movie
 * │  └─ mdia
 * │     ├─ mdhd, hdlr
 * │     └─ minf
 * │        ├─ vmhd | smhd, dinf/dref/url
 * │        └─ stbl: stsd, stts, [ctts], stsc, stsz, stco|co64, [stss]
 * └─ mvex/trex (per track)  fragmented only
 * ```
 *
 * @module
 */
import type { BoxWriter } from "./mp4_box.ts";
import type { Mp4Track } from "./mp4_track.ts";

/** Movie timescale (mvhd, tkhd and elst durations): milliseconds. */
export const MOVIE_TIMESCALE = 1000;

/** Sample tables of one track of a progressive file. */
export interface Mp4SampleTables {
  /** stts entries as [count, delta] pairs. */
  stts: ArrayLike<number>;
  sttsCount: number;
  /** ctts entries as [count, offset] pairs; undefined when all offsets are 0. */
  ctts?: ArrayLike<number>;
  cttsCount: number;
  /** stsc entries as [first_chunk, samples_per_chunk] pairs. */
  stsc: ArrayLike<number>;
  stscCount: number;
  sizes: ArrayLike<number>;
  sampleCount: number;
  chunkOffsets: ArrayLike<number>;
  chunkCount: number;
  /** 1-based numbers of sync samples; undefined when every sample is sync. */
  sync?: ArrayLike<number>;
  syncCount: number;
  /** Track duration in track timescale units. */
  duration: number;
  /** Start of the first sample on the movie timeline, in track timescale units (edit list). */
  startOffset: number;
  /** Add to every chunk offset (when moov is placed before mdat). */
  offsetShift: number;
}

/**
 * Writes an `ftyp` box.
 *
 * @example
 * ```ts
 * writeFtyp(w, "iso5", ["iso5", "iso6", "mp41"]);
 * ```
 */
export function writeFtyp(w: BoxWriter, major: string, compatible: readonly string[]): void {
  const at = w.start("ftyp");
  w.fourcc(major);
  w.u32(0x200);
  for (const c of compatible) w.fourcc(c);
  w.end(at);
}

function writeMatrix(w: BoxWriter, rotate: number): void {
  // 3x3 matrix {a b u / c d v / x y w}, a..d and x,y in 16.16, u,v,w in 2.30 (section 8.2.2.3).
  const one = 0x00010000;
  let a = one, b = 0, c = 0, d = one;
  if (rotate === 90) [a, b, c, d] = [0, one, -one, 0];
  else if (rotate === 180) [a, b, c, d] = [-one, 0, 0, -one];
  else if (rotate === 270) [a, b, c, d] = [0, -one, one, 0];
  for (const v of [a, b, 0, c, d, 0, 0, 0, 0x40000000]) w.i32(v);
}

function writeMvhd(w: BoxWriter, durationMs: number, nextTrackId: number): void {
  const big = durationMs > 0xffffffff;
  const at = w.startFull("mvhd", big ? 1 : 0, 0);
  if (big) {
    w.u64(0);
    w.u64(0);
    w.u32(MOVIE_TIMESCALE);
    w.u64(durationMs);
  } else {
    w.u32(0); // creation_time
    w.u32(0); // modification_time
    w.u32(MOVIE_TIMESCALE);
    w.u32(durationMs);
  }
  w.u32(0x00010000); // rate 1.0
  w.u16(0x0100); // volume 1.0
  w.zeros(10);
  writeMatrix(w, 0);
  w.zeros(24); // pre_defined
  w.u32(nextTrackId);
  w.end(at);
}

function writeTkhd(w: BoxWriter, track: Mp4Track, durationMs: number): void {
  const big = durationMs > 0xffffffff;
  const at = w.startFull("tkhd", big ? 1 : 0, 0x000003); // enabled | in_movie
  if (big) {
    w.u64(0);
    w.u64(0);
    w.u32(track.id);
    w.u32(0);
    w.u64(durationMs);
  } else {
    w.u32(0);
    w.u32(0);
    w.u32(track.id);
    w.u32(0);
    w.u32(durationMs);
  }
  w.zeros(8);
  w.u16(0); // layer
  w.u16(0); // alternate_group
  w.u16(track.kind === "audio" ? 0x0100 : 0);
  w.u16(0);
  writeMatrix(w, track.rotate);
  w.u32(track.kind === "video" ? track.width * 0x10000 : 0);
  w.u32(track.kind === "video" ? track.height * 0x10000 : 0);
  w.end(at);
}

function writeMdhd(w: BoxWriter, timescale: number, duration: number): void {
  const big = duration > 0xffffffff;
  const at = w.startFull("mdhd", big ? 1 : 0, 0);
  if (big) {
    w.u64(0);
    w.u64(0);
    w.u32(timescale);
    w.u64(duration);
  } else {
    w.u32(0);
    w.u32(0);
    w.u32(timescale);
    w.u32(duration);
  }
  w.u16(0x55c4); // language "und" (ISO-639-2/T packed as 3 x 5 bits)
  w.u16(0);
  w.end(at);
}

function writeHdlr(w: BoxWriter, kind: "video" | "audio"): void {
  const at = w.startFull("hdlr", 0, 0);
  w.u32(0);
  w.fourcc(kind === "video" ? "vide" : "soun");
  w.zeros(12);
  w.bytes(new TextEncoder().encode(kind === "video" ? "VideoHandler\0" : "SoundHandler\0"));
  w.end(at);
}

function writeMinfHeader(w: BoxWriter, kind: "video" | "audio"): void {
  if (kind === "video") {
    const at = w.startFull("vmhd", 0, 1);
    w.zeros(8); // graphicsmode, opcolor
    w.end(at);
  } else {
    const at = w.startFull("smhd", 0, 0);
    w.zeros(4); // balance, reserved
    w.end(at);
  }
  const dinf = w.start("dinf");
  const dref = w.startFull("dref", 0, 0);
  w.u32(1);
  const url = w.startFull("url ", 0, 1); // flag 1: media data is in this file
  w.end(url);
  w.end(dref);
  w.end(dinf);
}

function writeEmptyTables(w: BoxWriter): void {
  for (const type of ["stts", "stsc", "stco"]) {
    const at = w.startFull(type, 0, 0);
    w.u32(0);
    w.end(at);
  }
  const stsz = w.startFull("stsz", 0, 0);
  w.u32(0);
  w.u32(0);
  w.end(stsz);
}

/**
 * Writes the sample tables of a progressive track (`stts`, `ctts`, `stsc`, `stsz`, `stco`/`co64`,
 * `stss`), the `stbl` children after `stsd`. Also used to turn recorded fragments into a file.
 *
 * @example
 * ```ts
 * writeTables(w, builder.build(offsetShift));
 * ```
 */
export function writeTables(w: BoxWriter, t: Mp4SampleTables): void {
  let at = w.startFull("stts", 0, 0);
  w.u32(t.sttsCount);
  for (let i = 0; i < t.sttsCount * 2; i++) w.u32(t.stts[i]);
  w.end(at);
  if (t.ctts && t.cttsCount) {
    let negative = false;
    for (let i = 1; i < t.cttsCount * 2; i += 2) if (t.ctts[i] < 0) negative = true;
    at = w.startFull("ctts", negative ? 1 : 0, 0);
    w.u32(t.cttsCount);
    for (let i = 0; i < t.cttsCount * 2; i += 2) {
      w.u32(t.ctts[i]);
      w.i32(t.ctts[i + 1]);
    }
    w.end(at);
  }
  at = w.startFull("stsc", 0, 0);
  w.u32(t.stscCount);
  for (let i = 0; i < t.stscCount * 2; i += 2) {
    w.u32(t.stsc[i]);
    w.u32(t.stsc[i + 1]);
    w.u32(1); // sample_description_index
  }
  w.end(at);
  at = w.startFull("stsz", 0, 0);
  w.u32(0);
  w.u32(t.sampleCount);
  for (let i = 0; i < t.sampleCount; i++) w.u32(t.sizes[i]);
  w.end(at);
  const lastOffset = t.chunkCount ? t.chunkOffsets[t.chunkCount - 1] + t.offsetShift : 0;
  const co64 = lastOffset > 0xffffffff;
  at = w.startFull(co64 ? "co64" : "stco", 0, 0);
  w.u32(t.chunkCount);
  for (let i = 0; i < t.chunkCount; i++) {
    if (co64) w.u64(t.chunkOffsets[i] + t.offsetShift);
    else w.u32(t.chunkOffsets[i] + t.offsetShift);
  }
  w.end(at);
  if (t.sync) {
    at = w.startFull("stss", 0, 0);
    w.u32(t.syncCount);
    for (let i = 0; i < t.syncCount; i++) w.u32(t.sync[i]);
    w.end(at);
  }
}

function toMovie(duration: number, timescale: number): number {
  return Math.round((duration * MOVIE_TIMESCALE) / timescale);
}

function writeTrak(w: BoxWriter, track: Mp4Track, tables: Mp4SampleTables | undefined): void {
  const trak = w.start("trak");
  const mediaDuration = tables?.duration ?? 0;
  const movieDuration = tables ? toMovie(tables.startOffset + mediaDuration, track.timescale) : 0;
  writeTkhd(w, track, movieDuration);
  if (tables && tables.startOffset > 0) {
    // An empty edit delays the track to where it started on the shared timeline (8.6.6).
    const edts = w.start("edts");
    const elst = w.startFull("elst", 0, 0);
    w.u32(2);
    w.u32(toMovie(tables.startOffset, track.timescale));
    w.i32(-1);
    w.u32(0x00010000);
    w.u32(toMovie(mediaDuration, track.timescale));
    w.i32(0);
    w.u32(0x00010000);
    w.end(elst);
    w.end(edts);
  }
  const mdia = w.start("mdia");
  writeMdhd(w, track.timescale, mediaDuration);
  writeHdlr(w, track.kind);
  const minf = w.start("minf");
  writeMinfHeader(w, track.kind);
  const stbl = w.start("stbl");
  const stsd = w.startFull("stsd", 0, 0);
  w.u32(1);
  track.writeSampleEntry(w);
  w.end(stsd);
  if (tables) writeTables(w, tables);
  else writeEmptyTables(w);
  w.end(stbl);
  w.end(minf);
  w.end(mdia);
  w.end(trak);
}

/**
 * Writes the `moov` of a fragmented MP4 init segment: empty sample tables and one `trex` per track.
 *
 * @example
 * ```ts
 * writeFragmentedMoov(w, tracks);
 * ```
 */
export function writeFragmentedMoov(w: BoxWriter, tracks: readonly Mp4Track[]): void {
  const moov = w.start("moov");
  writeMvhd(w, 0, nextId(tracks));
  for (const t of tracks) writeTrak(w, t, undefined);
  const mvex = w.start("mvex");
  for (const t of tracks) {
    const trex = w.startFull("trex", 0, 0);
    w.u32(t.id);
    w.u32(1); // default_sample_description_index
    w.u32(0); // default_sample_duration
    w.u32(0); // default_sample_size
    w.u32(0); // default_sample_flags
    w.end(trex);
  }
  w.end(mvex);
  w.end(moov);
}

/**
 * Writes the `moov` of a progressive MP4 with full sample tables.
 *
 * @example
 * ```ts
 * writeProgressiveMoov(w, tracks, tables);
 * ```
 */
export function writeProgressiveMoov(
  w: BoxWriter,
  tracks: readonly Mp4Track[],
  tables: readonly Mp4SampleTables[],
): void {
  const moov = w.start("moov");
  let movieDuration = 0;
  tracks.forEach((t, i) => {
    const tb = tables[i];
    movieDuration = Math.max(movieDuration, toMovie(tb.startOffset + tb.duration, t.timescale));
  });
  writeMvhd(w, movieDuration, nextId(tracks));
  tracks.forEach((t, i) => writeTrak(w, t, tables[i]));
  w.end(moov);
}

function nextId(tracks: readonly Mp4Track[]): number {
  let max = 0;
  for (const t of tracks) max = Math.max(max, t.id);
  return max + 1;
}
