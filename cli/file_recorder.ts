/**
 * A consumer that records a stream to files: progressive MP4 (`Mp4FileWriter`, moov at the end so
 * memory stays flat) or MPEG-TS (`TsMuxer`), from the first video keyframe, optionally cut into
 * segments at keyframes, stopping after a duration. Used by `strom record` and `strom transcode`.
 *
 * Muxing happens synchronously as frames arrive (so the order of audio and video is kept); file
 * I/O runs on one promise chain behind it, in order. Stopping (duration reached, Ctrl-C, stream
 * gone) finalizes the open file: for MP4 the `moov` is appended and the 64-bit `mdat` size patched
 * in, so the file plays.
 *
 * ```text
 * moov-at-end MP4 on disk:  ftyp | mdat (size 1, largesize patched at finish) | samples... | moov
 * ```
 *
 * @module
 */
import { openFile, type OpenFile } from "../lib/runtime/fs.ts";
import { writeStdoutAndWait } from "../lib/runtime/host.ts";
import type { Codec } from "../lib/core/codec.ts";
import type { Frame } from "../lib/core/frame.ts";
import type { Media } from "../lib/core/media.ts";
import { Mp4EmptyError, Mp4FileWriter } from "../lib/format/mp4/mp4_file_writer.ts";
import { mp4CanMux } from "../lib/format/mp4/mp4_track.ts";
import { tsCanMux, TsMuxer } from "../lib/format/mpegts/ts_muxer.ts";
import { OutputConsumer } from "../lib/protocol/http/output_consumer.ts";
import { CliError } from "./errors.ts";

/** Container of a recording. */
export type RecordFormat = "mp4" | "mpegts";

/** Options of a {@link FileRecorder}. */
export interface FileRecorderOptions {
  /** Output path; with segments a pattern (`out_%03d.mp4`), see {@link segmentPath}. `-` is stdout (MPEG-TS only). */
  path: string;
  format: RecordFormat;
  /** Cut a new file at the first keyframe after this many seconds. */
  segmentSeconds?: number;
  /** Stop after this many seconds of media. */
  durationSeconds?: number;
  /** Leave out video or audio. */
  video?: boolean;
  audio?: boolean;
  /** Called when a file is complete. */
  onFile?: (file: RecordedFile) => void;
}

/** What one track of a finished file holds. */
export interface RecordedTrack {
  kind: "video" | "audio";
  /** Codec name as negotiated (`H264`, `MPEG4-GENERIC`...). */
  codec: string;
  /** Frames written into the file. */
  frames: number;
  /** Seconds of media written (MP4: the sum of the sample durations; MPEG-TS: first to last frame plus one frame). */
  seconds: number;
}

/** A finished file. */
export interface RecordedFile {
  path: string;
  bytes: number;
  /** Media seconds in the file: the longest track. */
  seconds: number;
  /** What each track holds, in track order; a track that got nothing has 0 frames. */
  tracks: RecordedTrack[];
}

/** Why the recording ended on its own. */
export type RecordEnd = { reason: "duration" } | { reason: "error"; error: unknown };

const MP4_VIDEO = ["H264", "H265"];
const MP4_AUDIO = ["MPEG4-GENERIC", "OPUS", "PCMA", "PCMU", "L16"];
const TS_VIDEO = ["H264", "H265"];
const TS_AUDIO = ["MPEG4-GENERIC", "OPUS"];

/**
 * The container for an output path by its extension, or undefined.
 *
 * @example
 * ```ts
 * formatOfPath("cam.ts"); // "mpegts"
 * ```
 */
export function formatOfPath(path: string): RecordFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (ext === "mp4" || ext === "m4v" || ext === "mov") return "mp4";
  if (ext === "ts" || ext === "m2ts" || ext === "mts") return "mpegts";
  return undefined;
}

/**
 * The file name of segment `n`: a `%d`/`%03d` in the path is replaced, otherwise `_%03d` goes
 * before the extension (`out.mp4` -> `out_000.mp4`).
 *
 * @example
 * ```ts
 * segmentPath("rec/cam.mp4", 7); // "rec/cam_007.mp4"
 * ```
 */
export function segmentPath(path: string, n: number): string {
  if (/%0?\d*d/.test(path)) {
    return path.replace(
      /%(0?)(\d*)d/,
      (_, zero: string, width: string) => String(n).padStart(Number(width || 0), zero ? "0" : " "),
    );
  }
  const m = /^(.*?)(\.[^./\\]*)?$/.exec(path)!;
  return `${m[1]}_${String(n).padStart(3, "0")}${m[2] ?? ""}`;
}

/** Where a file's bytes go: a file handle, or stdout (no seeking). */
interface Output {
  write(data: Uint8Array, position: number): Promise<void>;
  close(): Promise<void>;
}

async function openOutput(path: string): Promise<Output> {
  if (path === "-") return { write: (data) => writeStdoutAndWait(data), close: () => Promise.resolve() };
  let file: OpenFile;
  try {
    file = await openFile(path, "overwrite");
  } catch (error) {
    throw new CliError(`Cannot create "${path}": ${(error as Error).message}`);
  }
  return { write: (data, position) => file.writeAt(data, position), close: () => file.close() };
}

/** One output file being written. */
class Segment {
  readonly path: string;
  readonly mp4: Mp4FileWriter | undefined;
  readonly ts: TsMuxer | undefined;
  output: Promise<Output> | undefined;
  bytes = 0;
  /** Reference-track time (s) of the first and last frame written. */
  startSec: number | undefined;
  lastSec = 0;
  frameSec = 0;
  /** MPEG-TS: per track, frames written and the first/last timestamp seen (codec clock). */
  readonly frames: number[];
  readonly firstTs: number[];
  readonly lastTs: number[];

  constructor(path: string, format: RecordFormat, codecs: Codec[], maxSeconds: number) {
    this.path = path;
    this.frames = codecs.map(() => 0);
    this.firstTs = codecs.map(() => -1);
    this.lastTs = codecs.map(() => 0);
    if (format === "mp4") {
      this.mp4 = new Mp4FileWriter(codecs.map((codec) => ({ codec })), {
        layout: "moov-at-end",
        timeBase: "shared",
        maxDurationSeconds: maxSeconds,
      });
    } else {
      this.ts = new TsMuxer(codecs.map((codec) => ({ codec })), { timeBase: "shared" });
    }
  }

  /** Muxes a frame; returns bytes to append. */
  push(index: number, frame: Frame): Uint8Array | undefined {
    if (this.mp4) return this.mp4.push(index, frame);
    const out = this.ts!.push(index, frame);
    if (out) {
      this.frames[index]++;
      if (this.firstTs[index] < 0) this.firstTs[index] = frame.timestamp;
      this.lastTs[index] = frame.timestamp;
    }
    return out;
  }

  /** What each track holds (after the last push). */
  summary(tracks: readonly { media: Media; codec: Codec }[]): RecordedTrack[] {
    if (this.mp4) {
      return this.mp4.written().map((w, i) => ({
        kind: tracks[i].media.kind,
        codec: tracks[i].codec.name,
        frames: w.samples,
        seconds: round3(w.seconds),
      }));
    }
    return tracks.map((t, i) => {
      const clock = t.codec.clockRate || 90000;
      const n = this.frames[i];
      // Span of the timestamps (32-bit RTP wrap folded) plus one average frame.
      const span = n ? ((this.lastTs[i] - this.firstTs[i] + 0x100000000) % 0x100000000) / clock : 0;
      return {
        kind: t.media.kind,
        codec: t.codec.name,
        frames: n,
        seconds: round3(n > 1 ? span + span / (n - 1) : 0),
      };
    });
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * Records a stream to MP4 or MPEG-TS files.
 *
 * @example
 * ```ts
 * const rec = new FileRecorder({ path: "cam.mp4", format: "mp4", durationSeconds: 60 });
 * await stream.addConsumer(rec);
 * rec.start(stream.name);
 * await Promise.race([rec.ended, interrupt.received]);
 * await stream.removeConsumer(rec);
 * const files = await rec.flushed();
 * ```
 */
export class FileRecorder extends OutputConsumer {
  readonly options: FileRecorderOptions;
  /** Resolves when the recording ends by itself (duration reached, or a write failed). */
  readonly ended: Promise<RecordEnd>;
  /** Resolves when the first frame was written (the recording really started). */
  readonly firstFrame: Promise<void>;
  /** Finished files, in order. */
  readonly files: RecordedFile[] = [];

  #resolveEnded!: (end: RecordEnd) => void;
  #resolveFirst!: () => void;
  #segment: Segment | undefined;
  #segmentCount = 0;
  #io: Promise<void> = Promise.resolve();
  #ioError: unknown;
  #refIndex = 0;
  #refClock = 90000;
  #refRaw = 0;
  #refExt = 0;
  #refSeen = false;
  #totalStart: number | undefined;
  #lastRefSec = 0;
  #codecs: Codec[] = [];

  constructor(options: FileRecorderOptions) {
    const mp4 = options.format === "mp4";
    const medias: Media[] = [];
    const codecs = (names: string[]) => names.map((name) => ({ name, clockRate: 0 }));
    if (options.video !== false) {
      medias.push({ kind: "video", direction: "sendonly", codecs: codecs(mp4 ? MP4_VIDEO : TS_VIDEO) });
    }
    if (options.audio !== false) {
      medias.push({ kind: "audio", direction: "sendonly", codecs: codecs(mp4 ? MP4_AUDIO : TS_AUDIO) });
    }
    // A recorder must not lose frames to a short disk stall: deeper queues than a viewer's.
    super(mp4 ? "record/mp4" : "record/mpegts", medias, { protocol: "file" }, {
      capacity: 1024,
      maxBytes: 64 * 1024 * 1024,
    });
    this.options = options;
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    this.firstFrame = new Promise((resolve) => (this.#resolveFirst = resolve));
    this.onError = (error) => this.#resolveEnded({ reason: "error", error });
  }

  protected override accepts(codec: Codec): boolean {
    return this.options.format === "mp4" ? mp4CanMux(codec) : tsCanMux(codec);
  }

  /** Bytes written so far, over all files (for progress). */
  get bytesWritten(): number {
    let n = this.#segment?.bytes ?? 0;
    for (const f of this.files) n += f.bytes;
    return n;
  }

  /** Seconds of media recorded so far, by the reference track (for progress). */
  get mediaSeconds(): number {
    return this.#totalStart === undefined ? 0 : Math.max(0, this.#lastRefSec - this.#totalStart);
  }

  /** Frames lost because the disk (or stdout) did not keep up: the queues' drops. */
  get droppedFrames(): number {
    return this.info().drops ?? 0;
  }

  protected open(): void {
    this.#codecs = this.tracks.map((t) => t.codec);
    const video = this.tracks.findIndex((t) => t.media.kind === "video");
    this.#refIndex = video >= 0 ? video : 0;
    this.#refClock = this.tracks[this.#refIndex].codec.clockRate || 90000;
    this.#segment = this.#newSegment();
  }

  #newSegment(): Segment {
    const o = this.options;
    const path = o.segmentSeconds ? segmentPath(o.path, this.#segmentCount) : o.path;
    this.#segmentCount++;
    // The writer's own limit sits above ours, so the recorder decides where files end.
    const max = (o.segmentSeconds ?? o.durationSeconds ?? 30 * 24 * 3600) * 2 + 3600;
    return new Segment(path, o.format, this.#codecs, max);
  }

  /** Seconds on the reference track's timeline (32-bit RTP wraps unwrapped). */
  #refSeconds(ts: number): number {
    if (!this.#refSeen) {
      this.#refSeen = true;
      this.#refExt = ts;
    } else {
      let delta = ts - this.#refRaw;
      if (ts < 0x100000000 && this.#refRaw < 0x100000000) {
        if (delta < -0x80000000) delta += 0x100000000;
        else if (delta > 0x80000000) delta -= 0x100000000;
      }
      this.#refExt += delta;
    }
    this.#refRaw = ts;
    return this.#refExt / this.#refClock;
  }

  protected writeFrame(index: number, frame: Frame): void | Promise<void> {
    let seg = this.#segment;
    if (!seg || this.#ioError) return;
    const isRef = index === this.#refIndex;
    let now = 0;
    if (isRef) {
      now = this.#refSeconds(frame.timestamp);
      const o = this.options;
      if (
        this.#totalStart !== undefined && o.durationSeconds !== undefined &&
        now - this.#totalStart >= o.durationSeconds - 1e-6
      ) {
        this.stop();
        this.#resolveEnded({ reason: "duration" });
        return;
      }
      const cut = seg.startSec !== undefined && o.segmentSeconds !== undefined &&
        (frame.keyframe || this.tracks[index].media.kind !== "video") &&
        now - seg.startSec >= o.segmentSeconds - 1e-6;
      if (cut) {
        this.#finalize(seg);
        seg = this.#segment = this.#newSegment();
      }
    }
    const bytes = seg.push(index, frame);
    if (isRef) {
      const wrote = bytes !== undefined || (seg.mp4 ? seg.mp4.bytes > 0 : false);
      if (wrote) {
        this.#lastRefSec = now;
        if (seg.startSec === undefined) {
          seg.startSec = now;
          if (this.#totalStart === undefined) {
            this.#totalStart = now;
            this.#resolveFirst();
          }
        } else if (now > seg.lastSec) {
          seg.frameSec = now - seg.lastSec;
        }
        seg.lastSec = now;
      }
    }
    if (!bytes) return;
    return this.#write(seg, bytes);
  }

  #write(seg: Segment, bytes: Uint8Array): Promise<void> {
    const position = seg.bytes;
    seg.bytes += bytes.length;
    return this.#enqueue(async () => {
      seg.output ??= openOutput(seg.path);
      await (await seg.output).write(bytes, position);
    });
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.#io.then(() => (this.#ioError ? undefined : op()));
    this.#io = next.catch((error) => {
      this.#ioError ??= error;
      this.fail(error);
    });
    return this.#io;
  }

  /** Ends a segment: writes the MP4 index, closes the file, reports it. */
  #finalize(seg: Segment): void {
    let tail: { data: Uint8Array; patch?: { offset: number; data: Uint8Array } } | undefined;
    if (seg.mp4) {
      try {
        tail = seg.mp4.finish();
      } catch (error) {
        // Mp4EmptyError: nothing was recorded into this one, and no file was created (bytes are
        // written only after the first sample), so there is nothing to clean up.
        if (!(error instanceof Mp4EmptyError)) this.#ioError ??= error;
        return;
      }
    }
    if (seg.bytes === 0) return;
    const tracks = seg.summary(this.tracks);
    const seconds = tracks.reduce((max, t) => Math.max(max, t.seconds), 0);
    const position = seg.bytes;
    void this.#enqueue(async () => {
      seg.output ??= openOutput(seg.path);
      const out = await seg.output;
      if (tail) {
        await out.write(tail.data, position);
        if (tail.patch) await out.write(tail.patch.data, tail.patch.offset);
        seg.bytes += tail.data.length;
      }
      await out.close();
      const file = { path: seg.path, bytes: seg.bytes, seconds, tracks };
      this.files.push(file);
      this.options.onFile?.(file);
    });
  }

  protected override close(): void {
    const seg = this.#segment;
    this.#segment = undefined;
    if (seg) this.#finalize(seg);
  }

  /**
   * Waits until every write and the finalization of the last file are done; call after `stop()`
   * (or `stream.removeConsumer`). Resolves with the files written.
   *
   * @throws the first write error.
   */
  async flushed(): Promise<RecordedFile[]> {
    await this.#io;
    if (this.#ioError) throw this.#ioError;
    return this.files;
  }
}
