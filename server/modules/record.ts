/**
 * The record module: records the streams that `record.streams` names (or matches with `*`) into
 * fragmented MP4 segments under `record.dir/<stream>/`, applies retention (`max_age`, `max_size`,
 * per-stream `overrides`), and serves the recordings API:
 *
 * ```
 * GET    /api/record                       streams being recorded (and errors)
 * POST   /api/record?src=<stream>          start recording a stream now (until DELETE or restart)
 * DELETE /api/record?src=<stream>          stop recording it (also a configured one, until restart)
 * GET    /api/recordings?src=<stream>      segments: [{start, duration, bytes}]
 * GET    /api/recordings.mp4?src=<stream>&start=<RFC 3339>&duration=<seconds>   one MP4 cut
 * ```
 *
 * A recording keeps its stream's sources running (it is a consumer like a viewer), survives source
 * reconnects (the stream swaps receivers under it), waits with backoff for a source that is down,
 * and after a write error (disk full, folder not writable) logs it and tries again later; viewers
 * are never affected.
 *
 * @module
 */
import type { Hono } from "hono";
import type { Logger } from "../../lib/core/log.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import { SegmentCatalog } from "../../lib/record/catalog.ts";
import { applyRetention } from "../../lib/record/retention.ts";
import { RecordRules } from "../../lib/record/recording_rules.ts";
import { StreamRecorder } from "../../lib/record/stream_recorder.ts";
import type { RecordConfig } from "../config/types.ts";
import { recordingsRoutes } from "../routes/recordings.ts";
import type { Module } from "./types.ts";

/** State of one stream's recording, for `GET /api/record`. */
export interface RecordingStatus {
  stream: string;
  /** `config` when `record.streams` selects it, `api` when started with POST. */
  origin: "config" | "api";
  state: "waiting" | "recording" | "failed";
  /** The segment file being written. */
  path?: string;
  /** Segments finished since the recording started. */
  segments: number;
  /** The last error (write failure, source that cannot be reached). */
  error?: string;
}

interface Recording {
  stream: string;
  origin: "config" | "api";
  recorder: StreamRecorder | undefined;
  abort: AbortController;
  retry: ReturnType<typeof setTimeout> | undefined;
  state: RecordingStatus["state"];
  segments: number;
  error?: string;
}

/** Options of a {@link RecordManager} (tests shorten the timers). */
export interface RecordManagerOptions {
  hub: StreamHub;
  config: RecordConfig;
  log: Logger;
  /** Delay before recording again after a write error. Default 10 s. */
  retryMs?: number;
  /** How often configured streams are checked (new ones started) and retention applied. Default 30 s. */
  checkMs?: number;
  /** fsync after every fragment. Default true. */
  sync?: boolean;
}

/**
 * Stream names are folder names under `record.dir`: refuse what could leave it.
 *
 * @example
 * ```ts
 * safeFolderName("front_door"); // true
 * safeFolderName("../etc"); // false
 * ```
 */
export function safeFolderName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !/[/\\\x00-\x1f:*?"<>|]/.test(name);
}

/**
 * Runs the recordings of a server.
 *
 * @example
 * ```ts
 * const manager = new RecordManager({ hub, config: config.record, log });
 * manager.startConfigured();
 * await manager.close();
 * ```
 */
export class RecordManager {
  readonly catalog = new SegmentCatalog();
  readonly rules: RecordRules;
  readonly #o: RecordManagerOptions;
  readonly #log: Logger;
  readonly #recordings = new Map<string, Recording>();
  /** Configured streams stopped through the API (until restart). */
  readonly #stoppedByApi = new Set<string>();
  /** Matching streams whose names cannot be folder names (warned once). */
  readonly #unsafe = new Set<string>();
  /** Retention runs in flight (close waits for them). */
  readonly #retaining = new Set<Promise<void>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  readonly #off: () => void;

  constructor(options: RecordManagerOptions) {
    this.#o = options;
    this.#log = options.log;
    this.rules = new RecordRules(options.config);
    // A disabled stream stopped the recorder: close its file, then wait (state "waiting") until the
    // stream is enabled and record into a new file. A recorder still waiting for its source is
    // left alone: its own addConsumer (retry) waits for the stream to be enabled.
    this.#off = options.hub.events.on((event) => {
      if (event.type !== "disabled") return;
      const rec = this.#recordings.get(event.stream);
      if (rec?.recorder && rec.state === "recording") void this.#pause(rec);
    });
  }

  async #pause(rec: Recording): Promise<void> {
    const recorder = rec.recorder;
    if (!recorder) return;
    rec.recorder = undefined;
    rec.state = "waiting";
    await this.#closeLast(rec, recorder);
    this.#log.info("recording paused: the stream is disabled", { stream: rec.stream });
    if (this.#recordings.get(rec.stream) === rec && !rec.abort.signal.aborted) void this.#run(rec);
  }

  /** The folder of a stream's segments. */
  dirOf(stream: string): string {
    const dir = this.#o.config.dir || "recordings";
    return `${dir.replace(/[/\\]+$/, "")}/${stream}`;
  }

  /** Starts the configured streams and the periodic check (new streams, retention). */
  startConfigured(): void {
    this.#check();
    this.#timer = setInterval(() => this.#check(), this.#o.checkMs ?? 30_000);
  }

  #check(): void {
    if (this.#closed) return;
    const names = new Set(this.#o.hub.names());
    for (const name of names) {
      if (this.rules.records(name) && !this.#stoppedByApi.has(name) && !this.#recordings.has(name)) {
        if (!safeFolderName(name)) {
          if (!this.#unsafe.has(name)) {
            this.#unsafe.add(name);
            this.#log.warn(`cannot record stream "${name}": its name cannot be a folder name under record.dir; rename it`);
          }
          continue;
        }
        this.#start(name, "config");
      }
    }
    for (const [name, rec] of this.#recordings) {
      if (!names.has(name)) this.#stop(rec); // the stream was deleted
    }
    void this.#retainAll();
  }

  async #retainAll(): Promise<void> {
    const names = new Set<string>([...this.#recordings.keys()]);
    for (const name of this.#o.hub.names()) if (this.rules.records(name)) names.add(name);
    for (const name of names) await this.retain(name);
  }

  /** Applies retention to a stream's folder, keeping the file being written. */
  retain(stream: string): Promise<void> {
    if (this.#closed || !safeFolderName(stream)) return Promise.resolve();
    const run = this.#retainNow(stream);
    this.#retaining.add(run);
    void run.finally(() => this.#retaining.delete(run));
    return run;
  }

  async #retainNow(stream: string): Promise<void> {
    const s = this.rules.settings(stream);
    const current = this.#recordings.get(stream)?.recorder?.currentPath;
    try {
      const deleted = await applyRetention(this.dirOf(stream), {
        maxAgeSeconds: s.maxAgeSeconds,
        maxBytes: s.maxBytes,
        keep: new Set(current ? [current] : []),
      });
      for (const f of deleted) this.#log.debug("deleted old segment", { stream, path: f.path });
    } catch (error) {
      this.#log.warn("retention failed", { stream, error: (error as Error).message });
    }
  }

  /**
   * Starts recording a stream (API). Already recording: nothing changes.
   *
   * @throws {Error} for a stream name that cannot be a folder name.
   */
  start(stream: string): RecordingStatus {
    this.#stoppedByApi.delete(stream);
    const rec = this.#recordings.get(stream) ?? this.#start(stream, "api");
    return this.#status(rec);
  }

  /** Stops recording a stream (API); false when it was not being recorded. */
  async stop(stream: string): Promise<boolean> {
    const rec = this.#recordings.get(stream);
    if (this.rules.records(stream)) this.#stoppedByApi.add(stream);
    if (!rec) return false;
    await this.#stop(rec);
    return true;
  }

  /** Whether a stream is being recorded (or waiting for its source). */
  isRecording(stream: string): boolean {
    return this.#recordings.has(stream);
  }

  /** All recordings. */
  list(): RecordingStatus[] {
    return [...this.#recordings.values()].map((r) => this.#status(r));
  }

  #status(r: Recording): RecordingStatus {
    return {
      stream: r.stream,
      origin: r.origin,
      state: r.state,
      path: r.recorder?.currentPath,
      segments: r.segments,
      error: r.error,
    };
  }

  #start(stream: string, origin: "config" | "api"): Recording {
    if (!safeFolderName(stream)) {
      throw new Error(`Cannot record stream "${stream}": its name cannot be a folder name under record.dir`);
    }
    const rec: Recording = {
      stream,
      origin,
      recorder: undefined,
      abort: new AbortController(),
      retry: undefined,
      state: "waiting",
      segments: 0,
    };
    this.#recordings.set(stream, rec);
    void this.#run(rec);
    return rec;
  }

  async #run(rec: Recording): Promise<void> {
    const stream = this.#o.hub.get(rec.stream);
    if (!stream || rec.abort.signal.aborted) return;
    const settings = this.rules.settings(rec.stream);
    const recorder = new StreamRecorder({
      dir: this.dirOf(rec.stream),
      segmentSeconds: settings.segmentSeconds,
      sync: this.#o.sync,
      onSegment: (s) => {
        rec.segments++;
        this.#log.debug("segment complete", { stream: rec.stream, path: s.path, seconds: s.seconds });
        this.#o.hub.events.emit({
          type: "segment_complete",
          stream: rec.stream,
          time: Date.now(),
          path: s.path,
          start: s.startMs,
          duration: s.seconds,
        });
        void this.retain(rec.stream);
      },
    });
    rec.recorder = recorder;
    recorder.onError = (error) => {
      if (rec.abort.signal.aborted) return;
      rec.state = "failed";
      rec.error = (error as Error).message ?? String(error);
      const retryMs = this.#o.retryMs ?? 10_000;
      this.#log.error(
        `recording "${rec.stream}" failed: ${rec.error}; viewers are not affected, trying again in ${retryMs / 1000} s`,
        { stream: rec.stream, dir: this.dirOf(rec.stream) },
      );
      void stream.removeConsumer(recorder).catch(() => {});
      rec.recorder = undefined;
      rec.retry = setTimeout(() => {
        rec.retry = undefined;
        void this.#run(rec);
      }, retryMs);
    };
    try {
      await stream.addConsumer(recorder, { retry: { signal: rec.abort.signal } });
      if (rec.abort.signal.aborted) {
        await stream.removeConsumer(recorder).catch(() => {});
        return;
      }
      recorder.start(rec.stream);
      rec.state = "recording";
      rec.error = undefined;
      this.#log.info("recording", { stream: rec.stream, dir: this.dirOf(rec.stream) });
    } catch (error) {
      if (rec.abort.signal.aborted) return;
      rec.state = "failed";
      rec.error = (error as Error).message;
      this.#log.warn(`cannot record "${rec.stream}": ${rec.error}`, { stream: rec.stream });
      await stream.removeConsumer(recorder).catch(() => {});
    }
  }

  async #stop(rec: Recording): Promise<void> {
    this.#recordings.delete(rec.stream);
    rec.abort.abort();
    clearTimeout(rec.retry);
    const recorder = rec.recorder;
    if (!recorder) return;
    await this.#o.hub.get(rec.stream)?.removeConsumer(recorder).catch(() => {});
    await this.#closeLast(rec, recorder);
    this.#log.info("recording stopped", { stream: rec.stream });
  }

  // Stops a recorder and waits until its last segment is closed (a failure is logged).
  async #closeLast(rec: Recording, recorder: StreamRecorder): Promise<void> {
    recorder.stop();
    await recorder.flushed().catch((error) =>
      this.#log.warn("closing the last segment failed", { stream: rec.stream, error: (error as Error).message })
    );
  }

  /** Stops every recording (their last segments are closed). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#off();
    clearInterval(this.#timer);
    await Promise.all([...this.#recordings.values()].map((r) => this.#stop(r)));
    await Promise.all([...this.#retaining]);
  }
}

/**
 * Creates the record module (tests pass shorter timers).
 *
 * @example
 * ```ts
 * const handle = await createRecordModule({ checkMs: 500 }).init(ctx, app);
 * ```
 */
export function createRecordModule(
  options: Pick<RecordManagerOptions, "retryMs" | "checkMs" | "sync"> = {},
): Module {
  return {
    name: "record",
    // deno-lint-ignore require-await
    async init(ctx, app: Hono) {
      const manager = new RecordManager({
        hub: ctx.hub,
        config: ctx.config.record ?? { dir: "recordings", streams: [], segment: 60, max_age: 0, max_size: 0, overrides: {} },
        log: ctx.log.child({ module: "record" }),
        ...options,
      });
      recordingsRoutes(app, ctx, manager);
      manager.startConfigured();
      return { close: () => manager.close() };
    },
  };
}

/**
 * The built-in record module.
 *
 * @example
 * ```ts
 * export const builtinModules = [rtspModule, preloadModule, recordModule];
 * ```
 */
export const recordModule: Module = createRecordModule();
