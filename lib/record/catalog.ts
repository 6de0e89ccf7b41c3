/**
 * The recordings of one stream on disk: its segment files (found by name), their durations (read
 * from their fragment index, cached by size), and cuts across them.
 *
 * @module
 */
import { openFile, readDir, statPath } from "../runtime/fs.ts";
import { type CutSource, planCut, type RecordingCut } from "./cut.ts";
import { readSegmentIndex, type SegmentIndex } from "./segment_index.ts";
import { parseSegmentFileName } from "./segment_name.ts";

/** A segment file found on disk. */
export interface SegmentFile {
  path: string;
  name: string;
  /** Wall-clock time of its first sample (from the name), Unix milliseconds. */
  startMs: number;
  bytes: number;
  /** Last write, Unix milliseconds (the end of the segment, roughly). */
  mtimeMs: number;
}

/** One entry of a recordings listing (`GET /api/recordings`). */
export interface SegmentSummary {
  /** RFC 3339 start time. */
  start: string;
  /** Seconds of media that play (up to the last complete fragment). */
  duration: number;
  bytes: number;
}

/**
 * The segment files in `dir`, oldest first. Other files are ignored; a missing folder is empty.
 *
 * @example
 * ```ts
 * const files = await listSegmentFiles("recordings/front_door");
 * ```
 */
export async function listSegmentFiles(dir: string): Promise<SegmentFile[]> {
  const out: SegmentFile[] = [];
  for (const e of await readDir(dir)) {
    if (!e.isFile) continue;
    const startMs = parseSegmentFileName(e.name);
    if (startMs === undefined) continue;
    const path = joinPath(dir, e.name);
    const info = await statPath(path);
    if (!info) continue; // deleted meanwhile (retention)
    out.push({ path, name: e.name, startMs, bytes: info.size, mtimeMs: info.mtimeMs });
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/**
 * Seconds of media in a segment by its reference track (video if any).
 *
 * @example
 * ```ts
 * segmentSeconds(index); // 59.96
 * ```
 */
export function segmentSeconds(index: SegmentIndex): number {
  const v = index.tracks.findIndex((t) => t.kind === "video");
  const ref = index.tracks[v >= 0 ? v : 0];
  let first = -1;
  let end = 0;
  for (const run of index.runs) {
    if (run.trackId !== ref.id) continue;
    if (first < 0) first = run.baseDecodeTime;
    let t = run.baseDecodeTime;
    for (let i = 0; i < run.durations.length; i++) t += run.durations[i];
    end = Math.max(end, t);
  }
  return first < 0 ? 0 : (end - first) / ref.timescale;
}

/**
 * Reads segment indexes, remembering the last ones by path and size (a segment being written
 * grows, so its index is read again when asked again).
 *
 * @example
 * ```ts
 * const catalog = new SegmentCatalog();
 * const list = await catalog.summaries("recordings/cam");
 * const cut = await catalog.cut("recordings/cam", Date.parse(list[0].start), Date.parse(list[0].start) + 30_000);
 * ```
 */
export class SegmentCatalog {
  readonly #cache = new Map<string, { bytes: number; index: SegmentIndex }>();
  /** Playable seconds by path and size: small, kept for every file listed (a week of 1-minute
   * segments is 10,000 entries), so a listing reads only new or grown files. */
  readonly #seconds = new Map<string, { bytes: number; seconds: number }>();
  readonly #max: number;

  constructor(options: { maxCached?: number } = {}) {
    this.#max = options.maxCached ?? 64;
  }

  /** The index of a segment file. */
  async index(file: SegmentFile): Promise<SegmentIndex> {
    const hit = this.#cache.get(file.path);
    if (hit && hit.bytes === file.bytes) {
      this.#cache.delete(file.path);
      this.#cache.set(file.path, hit);
      return hit.index;
    }
    const f = await openFile(file.path, "read");
    let index: SegmentIndex;
    try {
      index = await readSegmentIndex(f);
    } finally {
      await f.close();
    }
    this.#cache.set(file.path, { bytes: file.bytes, index });
    while (this.#cache.size > this.#max) this.#cache.delete(this.#cache.keys().next().value!);
    return index;
  }

  /**
   * The listing of a stream's folder: start, playable seconds and bytes per segment, oldest first.
   * Segments that cannot be read (no init segment yet, damaged) are left out.
   */
  async summaries(dir: string): Promise<SegmentSummary[]> {
    const out: SegmentSummary[] = [];
    const files = await listSegmentFiles(dir);
    const present = new Set(files.map((f) => f.path));
    for (const path of this.#seconds.keys()) {
      if (path.startsWith(dir) && !present.has(path)) this.#seconds.delete(path); // deleted by retention
    }
    for (const file of files) {
      let known = this.#seconds.get(file.path);
      if (!known || known.bytes !== file.bytes) {
        try {
          known = { bytes: file.bytes, seconds: segmentSeconds(await this.index(file)) };
        } catch {
          // A file created a moment ago holds no init segment yet; a damaged one has nothing to play.
          continue;
        }
        this.#seconds.set(file.path, known);
      }
      out.push({
        start: new Date(file.startMs).toISOString(),
        duration: Math.round(known.seconds * 1000) / 1000,
        bytes: file.bytes,
      });
    }
    return out;
  }

  /**
   * One MP4 of `[fromMs, toMs)` cut from the folder's segments.
   *
   * @throws {CutRangeError} when nothing was recorded then.
   */
  async cut(dir: string, fromMs: number, toMs: number): Promise<RecordingCut> {
    const files = await listSegmentFiles(dir);
    const sources: CutSource[] = [];
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      const nextStart = i + 1 < files.length ? files[i + 1].startMs : Infinity;
      if (f.startMs >= toMs || nextStart <= fromMs) continue;
      try {
        sources.push({ path: f.path, startMs: f.startMs, index: await this.index(f) });
      } catch {
        // unreadable segment: skipped
      }
    }
    return planCut(sources, fromMs, toMs);
  }
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : `${dir}/${name}`;
}
