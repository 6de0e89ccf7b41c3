/**
 * A consumer that records a stream into fragmented MP4 segment files: each file starts with the
 * init segment (`ftyp` + `moov`) and a keyframe, and grows by one `moof` + `mdat` fragment at a
 * time (at each video keyframe, and at least every `fragmentSeconds`). Every fragment is written
 * (and by default fsynced) as soon as it is complete, so a file cut short by `kill -9` or a power
 * loss plays up to its last complete fragment.
 *
 * A new file starts at the first keyframe after `segmentSeconds` of media (audio-only streams: at
 * any frame), and when the video's parameter sets change (a new init segment is needed). File
 * names carry the wall-clock time of their first sample (`segment_name.ts`).
 *
 * Each file gets its own muxer, so its decode times start at 0; a source reconnect (new RTP
 * bases, a pause) is smoothed by the muxer's timelines instead of breaking the recording.
 *
 * @module
 */
import type { Codec } from "../core/codec.ts";
import type { Frame } from "../core/frame.ts";
import type { Media } from "../core/media.ts";
import { MediaTimeline } from "../format/mp4/media_timeline.ts";
import { Mp4Muxer } from "../format/mp4/mp4_muxer.ts";
import { mp4CanMux } from "../format/mp4/mp4_track.ts";
import { OutputConsumer } from "../protocol/http/output_consumer.ts";
import { makeDir, type OpenFile, openFile } from "../runtime/fs.ts";
import { segmentFileName } from "./segment_name.ts";
import { concatBytes } from "../core/bytes.ts";

/** Options of a {@link StreamRecorder}. */
export interface StreamRecorderOptions {
  /** Folder of this stream's segments (created when missing). */
  dir: string;
  /** Start a new file at the first keyframe after this many seconds. */
  segmentSeconds: number;
  /** Write a fragment at least this often, in seconds of media. Default 1. */
  fragmentSeconds?: number;
  /** fsync after every fragment (survives a power loss, not only a crash). Default true. */
  sync?: boolean;
  /** Wall clock, Unix milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Called when a segment file is complete and closed. */
  onSegment?: (segment: RecordedSegment) => void;
}

/** A finished segment file. */
export interface RecordedSegment {
  path: string;
  /** Wall-clock time of the first sample, Unix milliseconds (also in the file name). */
  startMs: number;
  /** Seconds of media by the reference track (video if any). */
  seconds: number;
  bytes: number;
}

const VIDEO = ["H264", "H265"];
const AUDIO = ["MPEG4-GENERIC", "OPUS", "PCMA", "PCMU", "L16"];

/** One segment file being written. */
interface OpenSegment {
  path: string;
  startMs: number;
  /** Reference-track seconds of its first sample. */
  startSec: number;
  bytes: number;
  file: Promise<OpenFile> | undefined;
}

/**
 * Records a stream into segment files.
 *
 * @example
 * ```ts
 * const rec = new StreamRecorder({ dir: "recordings/cam", segmentSeconds: 60 });
 * await stream.addConsumer(rec);
 * rec.start(stream.name);
 * // ... later
 * await stream.removeConsumer(rec);
 * await rec.flushed();
 * ```
 */
export class StreamRecorder extends OutputConsumer {
  readonly options: StreamRecorderOptions;
  /** Finished segments, in order (bounded: the last 100). */
  readonly segments: RecordedSegment[] = [];

  #mux: Mp4Muxer | undefined;
  #refIndex = 0;
  #refVideo = false;
  #refTimeline: MediaTimeline | undefined;
  /** Reference-track seconds of the newest frame. */
  #reachedSec = 0;
  #lastFlushSec = 0;
  /** Reference-track seconds of the first sample waiting in the muxer for the next file. */
  #nextStartSec: number | undefined;
  #segment: OpenSegment | undefined;
  #io: Promise<void> = Promise.resolve();
  #ioError: unknown;
  #dirReady = false;

  constructor(options: StreamRecorderOptions) {
    const codecs = (names: string[]) => names.map((name) => ({ name, clockRate: 0 }));
    const medias: Media[] = [
      { kind: "video", direction: "sendonly", codecs: codecs(VIDEO) },
      { kind: "audio", direction: "sendonly", codecs: codecs(AUDIO) },
    ];
    // A recorder must not lose frames to a short disk stall: deeper queues than a viewer's.
    super("record/fmp4", medias, { protocol: "file" }, { capacity: 2048, maxBytes: 64 * 1024 * 1024 });
    this.options = options;
  }

  /** The file being written now, if any (retention must not delete it). */
  get currentPath(): string | undefined {
    return this.#segment?.path;
  }

  protected override accepts(codec: Codec): boolean {
    return mp4CanMux(codec);
  }

  protected open(): void {
    this.#mux = this.#newMuxer();
    const video = this.tracks.findIndex((t) => t.media.kind === "video");
    this.#refIndex = video >= 0 ? video : 0;
    this.#refVideo = video >= 0;
    const clock = this.tracks[this.#refIndex].codec.clockRate || 90000;
    this.#refTimeline = new MediaTimeline({ clockRate: clock });
  }

  /** A muxer per file: each file's decode times start at 0, as players expect of a file. */
  #newMuxer(): Mp4Muxer {
    return new Mp4Muxer(this.tracks.map((t) => ({ codec: t.codec })), {
      fragmentAtKeyframe: true,
      fragmentFrames: 100_000,
      timeBase: "shared",
    });
  }

  protected writeFrame(index: number, frame: Frame): void | Promise<void> {
    let mux = this.#mux!;
    if (this.#ioError) return;
    const isRef = index === this.#refIndex;
    let sec = this.#reachedSec;
    let write: Promise<void> | undefined;
    if (isRef) {
      const tl = this.#refTimeline!;
      sec = this.#reachedSec = tl.next(frame.timestamp) / tl.clockRate;
      const startSec = this.#segment?.startSec ?? this.#nextStartSec;
      const cut = startSec !== undefined && (frame.keyframe || !this.#refVideo) &&
        sec - startSec >= this.options.segmentSeconds - 1e-6;
      if (cut) {
        // End the file before this frame; the next one starts with it (a keyframe, with video).
        const rest = mux.flush();
        if (rest) write = this.#append(rest);
        this.#closeSegment();
        this.#nextStartSec = undefined;
        mux = this.#mux = this.#newMuxer();
        this.#lastFlushSec = sec;
      }
    }
    const dropped = mux.dropped;
    const fragment = mux.push(index, frame);
    if (isRef && mux.dropped === dropped && !this.#segment && this.#nextStartSec === undefined) {
      this.#nextStartSec = sec; // the first sample of the next file
    }
    if (fragment) {
      write = this.#append(fragment);
      if (isRef) this.#lastFlushSec = sec;
    } else if (isRef && sec - this.#lastFlushSec >= (this.options.fragmentSeconds ?? 1)) {
      const f = mux.flush();
      if (f) write = this.#append(f);
      this.#lastFlushSec = sec;
    }
    return write;
  }

  /** Appends a fragment to the current file, opening a new file (with the init segment) first if needed. */
  #append(fragment: Uint8Array): Promise<void> {
    const mux = this.#mux!;
    let seg = this.#segment;
    let init: Uint8Array | undefined;
    if (seg && mux.needsInit) {
      // New parameter sets: the file's init segment no longer describes the samples.
      this.#closeSegment();
      this.#nextStartSec = this.#reachedSec;
      seg = undefined;
    }
    if (!seg) {
      const startSec = this.#nextStartSec ?? this.#reachedSec;
      this.#nextStartSec = undefined;
      const startMs = Math.round((this.options.now ?? Date.now)() - (this.#reachedSec - startSec) * 1000);
      seg = this.#segment = { path: "", startMs, startSec, bytes: 0, file: undefined };
      seg.path = joinPath(this.options.dir, segmentFileName(startMs));
      init = mux.init();
    }
    const s = seg;
    const data = init ? concatBytes([init, fragment]) : fragment;
    s.bytes += data.length;
    return this.#enqueue(async () => {
      s.file ??= this.#create(s);
      const file = await s.file;
      await file.write(data);
      if (this.options.sync !== false) await file.sync();
    });
  }

  async #create(s: OpenSegment): Promise<OpenFile> {
    if (!this.#dirReady) {
      await makeDir(this.options.dir);
      this.#dirReady = true;
    }
    for (let i = 0;; i++) {
      try {
        return await openFile(s.path, "create");
      } catch (error) {
        // Two files in the same millisecond (a cut right after a restart): take the next one.
        if ((error as { code?: string }).code !== "EEXIST" || i > 20) throw error;
        s.startMs++;
        s.path = joinPath(this.options.dir, segmentFileName(s.startMs));
      }
    }
  }

  #closeSegment(): void {
    const s = this.#segment;
    this.#segment = undefined;
    if (!s) return;
    const seconds = Math.max(0, this.#reachedSec - s.startSec);
    void this.#enqueue(async () => {
      if (!s.file) return;
      const file = await s.file;
      if (this.#ioError) {
        // A write failed (disk full...): the file still gets closed, never left to the GC, and is
        // not reported as a complete segment.
        await file.close().catch(() => {});
        return;
      }
      if (this.options.sync !== false) await file.sync();
      await file.close();
      const done: RecordedSegment = { path: s.path, startMs: s.startMs, seconds, bytes: s.bytes };
      this.segments.push(done);
      if (this.segments.length > 100) this.segments.shift();
      this.options.onSegment?.(done);
    }, true);
  }

  /** Queues an I/O step; after a failed step the next ones are skipped unless `always` (closing). */
  #enqueue(op: () => Promise<void>, always = false): Promise<void> {
    const next = this.#io.then(() => (this.#ioError && !always ? undefined : op()));
    this.#io = next.catch((error) => {
      this.#ioError ??= error;
      this.fail(error);
    });
    return this.#io;
  }

  protected override close(): void {
    const mux = this.#mux;
    if (mux && !this.#ioError) {
      const rest = mux.flush();
      if (rest) void this.#append(rest);
    }
    this.#closeSegment();
  }

  /**
   * Waits until every write and the closing of the last file are done; call after `stop()` (or
   * `stream.removeConsumer`).
   *
   * @throws the first write error.
   */
  async flushed(): Promise<void> {
    await this.#io;
    if (this.#ioError) throw this.#ioError;
  }
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : `${dir}/${name}`;
}

