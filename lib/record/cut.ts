/**
 * Cuts one progressive MP4 out of recorded segments: from the last keyframe at or before the asked
 * start to the asked end, across segment files. Only the indexes are read up front; the result's
 * `moov` is built from them and the samples are copied from the segment files as the body is read,
 * so memory does not grow with the length of the cut.
 *
 * ```text
 * segments:  [K....K....K..|.K....]   [K....K..|..K....]      (K = video keyframe, | = asked range)
 * cut:                 K...|.K....K....K..|                    starts at the keyframe before the start
 * output:    ftyp | moov (sample entries copied from the segments' init, tables rebuilt) | mdat
 * ```
 *
 * Segments must share their sample entries with the first one used (same codec parameters); the
 * cut ends before the first segment that does not (an SPS change), and says so in `truncated`.
 *
 * @module
 */
import { BoxWriter, readBoxes } from "../format/mp4/mp4_box.ts";
import { writeFtyp, writeTables } from "../format/mp4/mp4_moov.ts";
import { Mp4SampleTableBuilder } from "../format/mp4/mp4_sample_table.ts";
import { openFile } from "../runtime/fs.ts";
import { NON_SYNC_FLAG, type SegmentIndex, type SegmentTrack } from "./segment_index.ts";

/** A segment to cut from: where it is, when it started, and its index. */
export interface CutSource {
  path: string;
  /** Wall-clock time of its first sample, Unix milliseconds. */
  startMs: number;
  index: SegmentIndex;
}

/** A planned cut: its size, its time span, and its bytes on demand. */
export interface RecordingCut {
  /** Total bytes of the MP4. */
  size: number;
  /** Wall-clock time of the first sample (the keyframe at or before the asked start). */
  startMs: number;
  /** Seconds of media (the longest track). */
  seconds: number;
  /** Samples per track, in track order. */
  samples: number[];
  /** True when a segment with different codec parameters ended the cut early. */
  truncated: boolean;
  /** The file, streamed from the segments. */
  body(): ReadableStream<Uint8Array>;
}

/**
 * Nothing was recorded in the asked range.
 *
 * @example
 * ```ts
 * try { planCut(sources, from, to); } catch (e) { if (e instanceof CutRangeError) return c.json({ error: e.message }, 404); }
 * ```
 */
export class CutRangeError extends RangeError {
  override name = "CutRangeError";
  readonly fromMs: number;
  readonly toMs: number;
  constructor(fromMs: number, toMs: number, detail: string) {
    super(
      `Nothing to cut from ${new Date(fromMs).toISOString()} to ${new Date(toMs).toISOString()}: ${detail}`,
    );
    this.fromMs = fromMs;
    this.toMs = toMs;
  }
}

/** The samples of one track of one segment, flattened. */
interface TrackSamples {
  wall: Float64Array;
  size: Uint32Array;
  duration: Uint32Array;
  sync: Uint8Array;
  cts: Int32Array;
  offset: Float64Array;
  count: number;
}

/** A run of samples of one track in one segment: where in the flattened arrays. */
interface RunRef {
  track: number;
  first: number;
  count: number;
}

interface Flat {
  source: CutSource;
  tracks: TrackSamples[];
  runs: RunRef[];
  /** Wall-clock end of the reference track. */
  endMs: number;
}

/** The reference track of a segment: the first video track, else the first. */
function refTrack(tracks: readonly SegmentTrack[]): number {
  const v = tracks.findIndex((t) => t.kind === "video");
  return v >= 0 ? v : 0;
}

function stsdOf(trak: Uint8Array): Uint8Array | undefined {
  const path = ["mdia", "minf", "stbl", "stsd"];
  let start = 8;
  let end = trak.length;
  let found: Uint8Array | undefined;
  for (const name of path) {
    const box = readBoxes(trak, start, end).find((b) => b.type === name);
    if (!box) return undefined;
    start = box.payload;
    end = box.end;
    found = trak.subarray(box.start, box.end);
  }
  return found;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function flatten(source: CutSource): Flat {
  const idx = source.index;
  const counts = idx.tracks.map(() => 0);
  for (const run of idx.runs) {
    const t = idx.tracks.findIndex((x) => x.id === run.trackId);
    if (t >= 0) counts[t] += run.sizes.length;
  }
  const tracks: TrackSamples[] = counts.map((n) => ({
    wall: new Float64Array(n),
    size: new Uint32Array(n),
    duration: new Uint32Array(n),
    sync: new Uint8Array(n),
    cts: new Int32Array(n),
    offset: new Float64Array(n),
    count: 0,
  }));
  const dts = counts.map((n) => new Float64Array(n));
  const runs: RunRef[] = [];
  for (const run of idx.runs) {
    const t = idx.tracks.findIndex((x) => x.id === run.trackId);
    if (t < 0) continue;
    const ts = tracks[t];
    runs.push({ track: t, first: ts.count, count: run.sizes.length });
    let time = run.baseDecodeTime;
    let offset = run.dataOffset;
    for (let i = 0; i < run.sizes.length; i++) {
      const k = ts.count++;
      dts[t][k] = time;
      ts.size[k] = run.sizes[i];
      ts.duration[k] = run.durations[i];
      ts.sync[k] = run.flags[i] & NON_SYNC_FLAG ? 0 : 1;
      ts.cts[k] = run.cts[i];
      ts.offset[k] = offset;
      time += run.durations[i];
      offset += run.sizes[i];
    }
  }
  const ref = refTrack(idx.tracks);
  const refScale = idx.tracks[ref].timescale;
  const origin = tracks[ref].count ? dts[ref][0] / refScale : 0;
  let endMs = source.startMs;
  tracks.forEach((ts, t) => {
    const scale = idx.tracks[t].timescale;
    for (let k = 0; k < ts.count; k++) {
      // The exact duration is the step to the next sample; the trun's is a prediction for the
      // last sample of a fragment.
      if (k + 1 < ts.count && dts[t][k + 1] > dts[t][k]) ts.duration[k] = dts[t][k + 1] - dts[t][k];
      ts.wall[k] = source.startMs + (dts[t][k] / scale - origin) * 1000;
    }
    if (t === ref && ts.count) {
      endMs = ts.wall[ts.count - 1] + (ts.duration[ts.count - 1] / scale) * 1000;
    }
  });
  return { source, tracks, runs, endMs };
}

/**
 * Plans a cut of `[fromMs, toMs)` from segments sorted by start time.
 *
 * @throws {CutRangeError} when no keyframe was recorded in or before the range.
 * @example
 * ```ts
 * const cut = planCut(sources, Date.parse("2026-12-03T17:00:00Z"), Date.parse("2026-12-03T17:01:00Z"));
 * return new Response(cut.body(), { headers: { "Content-Length": String(cut.size) } });
 * ```
 */
export function planCut(sources: readonly CutSource[], fromMs: number, toMs: number): RecordingCut {
  if (!(toMs > fromMs)) throw new RangeError(`Cannot cut: the end (${toMs}) is not after the start (${fromMs})`);
  // Segments that may hold the range: started before its end, and not followed by one that
  // started before its start.
  const candidates: CutSource[] = [];
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i];
    const nextStart = i + 1 < sources.length ? sources[i + 1].startMs : Infinity;
    if (s.startMs < toMs && nextStart > fromMs && s.index.runs.length) candidates.push(s);
  }
  let flats = candidates.map(flatten).filter((f) => f.endMs > fromMs);
  if (!flats.length) throw new CutRangeError(fromMs, toMs, "no recording covers that time");
  // The layout of the first segment decides; a segment that differs ends the cut.
  const first = flats[0].source.index.tracks;
  let truncated = false;
  const layout = first.map((t) => stsdOf(t.trak));
  const compatible = flats.findIndex((f) =>
    f.source.index.tracks.length !== first.length ||
    f.source.index.tracks.some((t, i) => t.kind !== first[i].kind || !sameBytes(stsdOf(t.trak), layout[i]))
  );
  if (compatible > 0) {
    flats = flats.slice(0, compatible);
    truncated = true;
  }
  const ref = refTrack(first);
  // The start: the last keyframe at or before fromMs in the first segment, else its first
  // keyframe after fromMs (the range starts in a gap, or before the recording).
  const f0 = flats[0].tracks[ref];
  let startIdx = -1;
  for (let k = 0; k < f0.count; k++) {
    if (!f0.sync[k]) continue;
    if (f0.wall[k] <= fromMs || startIdx < 0) startIdx = k;
    if (f0.wall[k] > fromMs) break;
  }
  if (startIdx < 0 || f0.wall[startIdx] >= toMs) {
    throw new CutRangeError(fromMs, toMs, "no keyframe was recorded in that range");
  }
  const startMs = f0.wall[startIdx];

  const tables = first.map((t) => new Mp4SampleTableBuilder(t.kind === "video"));
  const firstWall = first.map(() => -1);
  const copies: { path: string; offset: number; length: number }[] = [];
  let mdatBytes = 0;
  flats.forEach((flat, fi) => {
    for (const run of flat.runs) {
      const ts = flat.tracks[run.track];
      let a = run.first;
      let b = run.first + run.count;
      const minWall = fi === 0 && run.track === ref ? undefined : startMs - 0.5;
      while (a < b && (fi === 0 && run.track === ref ? a < startIdx : ts.wall[a] < minWall!)) a++;
      while (b > a && ts.wall[b - 1] >= toMs) b--;
      if (a >= b) continue;
      const table = tables[run.track];
      if (firstWall[run.track] < 0) firstWall[run.track] = ts.wall[a];
      for (let k = a; k < b; k++) {
        table.add(ts.size[k], ts.cts[k], ts.sync[k] === 1, k === a ? mdatBytes : -1);
        table.setLastDuration(ts.duration[k]);
        mdatBytes += ts.size[k];
      }
      const offset = ts.offset[a];
      const length = ts.offset[b - 1] + ts.size[b - 1] - offset;
      copies.push({ path: flat.source.path, offset, length });
    }
  });

  const used = first.map((_, i) => i).filter((i) => tables[i].sampleCount > 0);
  for (const i of used) {
    const delay = (firstWall[i] - startMs) / 1000;
    tables[i].startOffset = delay > 0.001 ? Math.round(delay * first[i].timescale) : 0;
  }
  const ftyp = new BoxWriter(64);
  writeFtyp(ftyp, "isom", ["isom", "iso2", "avc1", "mp41"]);
  const mdatHeader = 8 + mdatBytes > 0xffffffff ? 16 : 8;
  const probe = buildMoov(first, used, tables, 0);
  const shift = ftyp.pos + probe.length + mdatHeader;
  const moov = buildMoov(first, used, tables, shift);
  const head = new Uint8Array(shift);
  head.set(ftyp.bytesView());
  head.set(moov, ftyp.pos);
  const hv = new DataView(head.buffer);
  if (mdatHeader === 16) {
    hv.setUint32(shift - 16, 1);
    head.set([0x6d, 0x64, 0x61, 0x74], shift - 12);
    hv.setUint32(shift - 8, Math.floor((16 + mdatBytes) / 0x100000000));
    hv.setUint32(shift - 4, (16 + mdatBytes) >>> 0);
  } else {
    hv.setUint32(shift - 8, 8 + mdatBytes);
    head.set([0x6d, 0x64, 0x61, 0x74], shift - 4);
  }
  let seconds = 0;
  for (const i of used) {
    seconds = Math.max(seconds, (tables[i].startOffset + tables[i].duration) / first[i].timescale);
  }
  return {
    size: shift + mdatBytes,
    startMs,
    seconds,
    samples: tables.map((t) => t.sampleCount),
    truncated,
    body: () => cutBody(head, copies),
  };
}

const MOVIE_TIMESCALE = 1000;

/** moov: a new mvhd, then each used track's trak rebuilt around its original sample entry. */
function buildMoov(
  tracks: readonly SegmentTrack[],
  used: number[],
  tables: Mp4SampleTableBuilder[],
  shift: number,
): Uint8Array {
  const w = new BoxWriter(4096);
  const moov = w.start("moov");
  let movieMs = 0;
  const trackMs = used.map((i) =>
    Math.round(((tables[i].startOffset + tables[i].duration) / tracks[i].timescale) * MOVIE_TIMESCALE)
  );
  for (const ms of trackMs) movieMs = Math.max(movieMs, ms);
  if (movieMs > 0xffffffff) throw new RangeError("Cannot cut more than 49 days into one MP4");
  const mvhd = w.startFull("mvhd", 0, 0);
  w.u32(0);
  w.u32(0);
  w.u32(MOVIE_TIMESCALE);
  w.u32(movieMs);
  w.u32(0x00010000);
  w.u16(0x0100);
  w.zeros(10);
  for (const v of [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000]) w.i32(v);
  w.zeros(24);
  let maxId = 0;
  for (const i of used) maxId = Math.max(maxId, tracks[i].id);
  w.u32(maxId + 1);
  w.end(mvhd);
  used.forEach((i, n) => writeTrak(w, tracks[i], tables[i], trackMs[n], shift));
  w.end(moov);
  return w.toBytes();
}

function writeTrak(
  w: BoxWriter,
  track: SegmentTrack,
  table: Mp4SampleTableBuilder,
  trackMs: number,
  shift: number,
): void {
  const trak = track.trak;
  const at = w.start("trak");
  for (const box of readBoxes(trak, 8, trak.length)) {
    const bytes = trak.subarray(box.start, box.end);
    if (box.type === "tkhd") {
      w.bytes(patchDuration(bytes, box.payload - box.start, trackMs, "tkhd"));
      if (table.startOffset > 0) {
        // An empty edit delays the track to where it started (ISO/IEC 14496-12 8.6.6).
        const edts = w.start("edts");
        const elst = w.startFull("elst", 0, 0);
        w.u32(2);
        w.u32(Math.round((table.startOffset / track.timescale) * MOVIE_TIMESCALE));
        w.i32(-1);
        w.u32(0x00010000);
        w.u32(Math.round((table.duration / track.timescale) * MOVIE_TIMESCALE));
        w.i32(0);
        w.u32(0x00010000);
        w.end(elst);
        w.end(edts);
      }
    } else if (box.type === "edts") {
      continue;
    } else if (box.type === "mdia") {
      const mdia = w.start("mdia");
      for (const c of readBoxes(trak, box.payload, box.end)) {
        const cb = trak.subarray(c.start, c.end);
        if (c.type === "mdhd") w.bytes(patchDuration(cb, c.payload - c.start, table.duration, "mdhd"));
        else if (c.type === "minf") {
          const minf = w.start("minf");
          for (const m of readBoxes(trak, c.payload, c.end)) {
            if (m.type !== "stbl") {
              w.bytes(trak.subarray(m.start, m.end));
              continue;
            }
            const stbl = w.start("stbl");
            const stsd = readBoxes(trak, m.payload, m.end).find((x) => x.type === "stsd");
            if (stsd) w.bytes(trak.subarray(stsd.start, stsd.end));
            writeTables(w, table.build(shift));
            w.end(stbl);
          }
          w.end(minf);
        } else w.bytes(cb);
      }
      w.end(mdia);
    } else {
      w.bytes(bytes);
    }
  }
  w.end(at);
}

/** A copy of a tkhd/mdhd with its duration replaced (version 0 boxes become version 1 when needed). */
function patchDuration(box: Uint8Array, header: number, duration: number, type: "tkhd" | "mdhd"): Uint8Array {
  const version = box[header];
  // Offset of the duration after version/flags: tkhd v0 creation, modification, track_ID,
  // reserved (16); mdhd v0 creation, modification, timescale (12). v1 has 64-bit times.
  const v0 = type === "tkhd" ? 16 : 12;
  const v1 = type === "tkhd" ? 24 : 20;
  const out = box.slice();
  const view = new DataView(out.buffer);
  const p = header + 4 + (version === 1 ? v1 : v0);
  if (version === 1) {
    view.setUint32(p, Math.floor(duration / 0x100000000));
    view.setUint32(p + 4, duration >>> 0);
  } else {
    if (duration > 0xffffffff) throw new RangeError(`Cannot cut: the ${type} duration ${duration} does not fit`);
    view.setUint32(p, duration);
  }
  return out;
}

/** Streams the head, then each copy range read from its file (one file open at a time). */
function cutBody(
  head: Uint8Array,
  copies: readonly { path: string; offset: number; length: number }[],
): ReadableStream<Uint8Array> {
  const CHUNK = 256 * 1024;
  let i = -1;
  let done = 0;
  let file: Awaited<ReturnType<typeof openFile>> | undefined;
  let filePath = "";
  const closeFile = async () => {
    const f = file;
    file = undefined;
    filePath = "";
    await f?.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (i < 0) {
          i = 0;
          controller.enqueue(head);
          return;
        }
        while (i < copies.length && done >= copies[i].length) {
          i++;
          done = 0;
        }
        if (i >= copies.length) {
          await closeFile();
          controller.close();
          return;
        }
        const c = copies[i];
        if (filePath !== c.path) {
          await closeFile();
          file = await openFile(c.path, "read");
          filePath = c.path;
        }
        const n = Math.min(CHUNK, c.length - done);
        const bytes = await file!.read(c.offset + done, n);
        if (bytes.length < n) throw new Error(`Recording segment "${c.path}" became shorter while being read`);
        done += n;
        controller.enqueue(bytes);
      } catch (error) {
        await closeFile().catch(() => {});
        controller.error(error);
      }
    },
    async cancel() {
      await closeFile();
    },
  }, { highWaterMark: 1 });
}
