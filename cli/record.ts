/**
 * `strom record <src> -o out.mp4|out.ts [--duration S] [--segment S]`: records a source to a
 * progressive MP4 or MPEG-TS file from its first keyframe, until the duration is reached or
 * Ctrl-C; the file is finalized (playable) either way.
 *
 * @module
 */
import { Command, Option } from "commander";
import { codecToString } from "../lib/core/codec.ts";
import type { Stream } from "../lib/core/stream.ts";
import { stderrIsTerminal, writeStderr, writeStdout } from "../lib/runtime/host.ts";
import { CliError } from "./errors.ts";
import { FileRecorder, formatOfPath, type RecordedFile, type RecordFormat } from "./file_recorder.ts";
import { onInterrupt } from "./interrupt.ts";
import { configOption, parseSeconds, timeoutOption } from "./options.ts";
import { openSources, withTimeout } from "./sources.ts";

/** How to record: where, which container, how long. */
export interface RecordSettings {
  path: string;
  format: RecordFormat;
  durationSeconds?: number;
  segmentSeconds?: number;
  /** Wait this long for the source to connect, and again for the first keyframe. */
  timeoutMs: number;
  video?: boolean;
  audio?: boolean;
  /** Progress lines go here (stderr). */
  print?: (line: string) => void;
  /**
   * `tty`: a progress line rewritten every second (default when stderr is a terminal); `json`:
   * JSON lines (start, progress every second, file, end) instead of the text lines; `none`.
   */
  progress?: "tty" | "json" | "none";
  /** Where JSON lines go. Default: stdout, or stderr when the media goes to stdout. */
  printJson?: (line: string) => void;
}

/** What {@link recordStream} reports each second. */
export interface RecordProgress {
  /** Wall seconds since the recording started. */
  elapsed: number;
  /** Seconds of media recorded. */
  seconds: number;
  bytes: number;
  /** Bits per second of media, over the whole recording. */
  bitrate: number;
  /** Frames lost because the output did not keep up. */
  dropped: number;
}

/**
 * The progress line shown on a terminal.
 *
 * @example
 * ```ts
 * formatProgress({ elapsed: 12.3, seconds: 12, bytes: 1536000, bitrate: 1024000, dropped: 0 });
 * // "12.3 s elapsed, 12.0 s recorded, 1.5 MB, 1024 kbit/s, 0 dropped"
 * ```
 */
export function formatProgress(p: RecordProgress): string {
  return `${p.elapsed.toFixed(1)} s elapsed, ${p.seconds.toFixed(1)} s recorded, ${formatBytes(p.bytes)}, ` +
    `${Math.round(p.bitrate / 1000)} kbit/s, ${p.dropped} dropped`;
}

/**
 * Human form of a byte count.
 *
 * @example
 * ```ts
 * formatBytes(1536); // "1.5 KB"
 * ```
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

/**
 * The summary line of a written file: what it holds, track by track, as written (not as asked).
 *
 * @example
 * ```ts
 * describeFile(file); // "wrote a.mp4: 4.00 s, 612.0 KB (video H264: 100 frames, 4.00 s; audio MPEG4-GENERIC: 188 frames, 4.01 s)"
 * ```
 */
export function describeFile(f: RecordedFile): string {
  const tracks = f.tracks.map((t) =>
    `${t.kind} ${t.codec}: ${t.frames} frame${t.frames === 1 ? "" : "s"}, ${t.seconds.toFixed(2)} s`
  );
  const empty = f.tracks.filter((t) => t.frames === 0).map((t) => t.kind);
  return `wrote ${f.path}: ${f.seconds.toFixed(2)} s, ${formatBytes(f.bytes)} (${tracks.join("; ")})` +
    (empty.length ? `; warning: no ${empty.join(" or ")} was written` : "");
}

/**
 * Records `stream` with the settings until the duration, Ctrl-C or an error; resolves with the
 * files written (each finalized).
 *
 * @throws {CliError} when the source does not connect or send a keyframe in time, or nothing matched.
 * @example
 * ```ts
 * const files = await recordStream(stream, { path: "out.mp4", format: "mp4", durationSeconds: 10, timeoutMs: 10_000 });
 * ```
 */
export async function recordStream(stream: Stream, s: RecordSettings): Promise<RecordedFile[]> {
  const mode = s.progress ?? (stderrIsTerminal() ? "tty" : "none");
  const json = mode === "json";
  const printJson = s.printJson ??
    ((line: string) => (s.path === "-" ? writeStderr : writeStdout)(line + "\n"));
  const printText = s.print ?? ((line: string) => writeStderr(line + "\n"));
  // On a terminal the progress line is rewritten in place; other lines first clear it.
  let progressShown = false;
  const print = (line: string) => {
    if (progressShown) writeStderr("\r\x1b[K");
    progressShown = false;
    printText(line);
  };
  const emit = (event: Record<string, unknown>) => {
    if (json) printJson(JSON.stringify(event));
  };
  const interrupt = onInterrupt((sig) =>
    print(`${sig}: finishing ${s.path === "-" ? "the output" : s.path}`)
  );
  const recorder = new FileRecorder({
    path: s.path,
    format: s.format,
    durationSeconds: s.durationSeconds,
    segmentSeconds: s.segmentSeconds,
    video: s.video,
    audio: s.audio,
    onFile: (f) => {
      emit({ event: "file", ...f });
      if (f.path !== "-") print(describeFile(f));
    },
  });
  // Stopped by anything: duration, stall guard, the stream going away.
  const stopped = new Promise<undefined>((resolve) => (recorder.onStop = () => resolve(undefined)));
  let stall: ReturnType<typeof setTimeout> | undefined;
  let ticker: ReturnType<typeof setInterval> | undefined;
  let finalProgress: (() => RecordProgress) | undefined;
  try {
    await withTimeout(
      stream.addConsumer(recorder),
      s.timeoutMs,
      `connecting to "${stream.name}"`,
      interrupt.signal,
    );
    recorder.start(stream.name);
    const tracks = recorder.tracks.map((t) => `${t.media.kind} ${codecToString(t.codec)}`).join(" + ");
    const what = s.segmentSeconds
      ? `${s.path} in ${s.segmentSeconds} s segments`
      : s.path === "-"
      ? "stdout"
      : s.path;
    print(
      `recording ${stream.name} (${tracks}) to ${what}` +
        (s.durationSeconds ? ` for ${s.durationSeconds} s` : "") + "; Ctrl-C stops and finalizes",
    );
    emit({
      event: "start",
      stream: stream.name,
      tracks: recorder.tracks.map((t) => ({ kind: t.media.kind, codec: codecToString(t.codec) })),
      path: s.path,
      duration: s.durationSeconds ?? null,
    });
    const started = Date.now();
    const progress = (): RecordProgress => {
      const seconds = recorder.mediaSeconds;
      const bytes = recorder.bytesWritten;
      return {
        elapsed: Math.round((Date.now() - started) / 100) / 10,
        seconds: Math.round(seconds * 1000) / 1000,
        bytes,
        bitrate: seconds > 0 ? Math.round((bytes * 8) / seconds) : 0,
        dropped: recorder.droppedFrames,
      };
    };
    if (mode !== "none") {
      ticker = setInterval(() => {
        const p = progress();
        if (json) emit({ event: "progress", ...p });
        else {
          writeStderr(`\r\x1b[K${formatProgress(p)}`);
          progressShown = true;
        }
      }, 1000);
    }
    finalProgress = progress;
    const failed = recorder.ended.then((end) => {
      if (end.reason === "error") throw end.error;
    });
    await withTimeout(
      Promise.race([recorder.firstFrame, failed]),
      s.timeoutMs,
      `waiting for the first keyframe of "${stream.name}" (with parameter sets)`,
      interrupt.signal,
    );
    if (s.durationSeconds !== undefined) {
      // Media time decides where the file ends; this only ends a recording whose source stalled.
      const wallMs = (s.durationSeconds * 1000) + s.timeoutMs;
      stall = setTimeout(() => {
        print(`warning: the source stalled; stopping after ${(wallMs / 1000).toFixed(0)} s of wall time`);
        recorder.stop();
      }, wallMs);
    }
    const end = await Promise.race([recorder.ended, interrupt.received.then(() => undefined), stopped]);
    if (end?.reason === "error") throw end.error;
  } finally {
    clearTimeout(stall);
    clearInterval(ticker);
    if (progressShown) writeStderr("\r\x1b[K");
    progressShown = false;
    await stream.removeConsumer(recorder).catch(() => {});
    interrupt.dispose();
  }
  const files = await recorder.flushed();
  if (finalProgress) emit({ event: "end", ...finalProgress(), files: files.length });
  if (!files.length) {
    throw new CliError(
      `Nothing was recorded from "${stream.name}": no keyframe with parameter sets arrived.`,
    );
  }
  return files;
}

/** Options shared by `record` and `transcode`. */
export interface RecordCliOptions {
  output: string;
  format?: string;
  duration?: string;
  segment?: string;
  timeout: string;
  config: string[];
  /** JSON lines instead of text (see {@link RecordSettings.progress}). */
  json?: boolean;
}

/**
 * Turns the shared command-line options into {@link RecordSettings}.
 *
 * @throws {CliError} for bad values or an unknown container.
 * @example
 * ```ts
 * recordSettings({ output: "a.mp4", timeout: "10", config: [] });
 * ```
 */
export function recordSettings(o: RecordCliOptions): RecordSettings {
  let format: RecordFormat | undefined;
  if (o.format) {
    const f = o.format.toLowerCase();
    format = f === "mp4" ? "mp4" : f === "ts" || f === "mpegts" ? "mpegts" : undefined;
    if (!format) throw new CliError(`Invalid --format "${o.format}": use mp4 or ts.`);
  } else {
    format = formatOfPath(o.output);
    if (!format) {
      throw new CliError(
        `Cannot tell the container of "${o.output}" from its extension: name it .mp4 or .ts, or pass --format.`,
      );
    }
  }
  if (o.output === "-" && format === "mp4") {
    throw new CliError(
      "MP4 cannot be written to stdout (its index is written at the end); use --format ts with -o -.",
    );
  }
  if (o.output === "-" && o.segment) throw new CliError("--segment needs a file name, not -o -.");
  return {
    path: o.output,
    format,
    durationSeconds: o.duration !== undefined ? parseSeconds("--duration", o.duration) : undefined,
    segmentSeconds: o.segment !== undefined ? parseSeconds("--segment", o.segment) : undefined,
    timeoutMs: parseSeconds("--timeout", o.timeout) * 1000,
    progress: o.json ? "json" : undefined,
  };
}

/**
 * Adds the output options shared by `record` and `transcode` to a command.
 *
 * @example
 * ```ts
 * addRecordOptions(new Command("record"));
 * ```
 */
export function addRecordOptions(cmd: Command): Command {
  return cmd
    .requiredOption(
      "-o, --output <file>",
      "output file: .mp4 (progressive MP4) or .ts (MPEG-TS); - for MPEG-TS on stdout",
    )
    .addOption(
      new Option("-f, --format <format>", "container when the extension does not tell").choices([
        "mp4",
        "ts",
      ]),
    )
    .option("-d, --duration <seconds>", "stop after this many seconds of media (default: until Ctrl-C)")
    .option(
      "--segment <seconds>",
      "start a new file at the first keyframe after this many seconds (out_000.mp4, out_001.mp4...; or put %03d in the name)",
    )
    .addOption(
      timeoutOption(
        10,
        "give up when the source does not connect, or send a keyframe, within this many seconds",
      ),
    )
    .option(
      "--json",
      "JSON lines instead of text: start, progress every second, each file (tracks, frames, seconds), end; on stdout, or stderr with -o -",
    )
    .addOption(configOption());
}

/**
 * The `record` subcommand.
 *
 * @example
 * ```ts
 * program.addCommand(recordCommand());
 * ```
 */
export function recordCommand(): Command {
  const cmd = new Command("record")
    .description("record a source to a progressive MP4 or MPEG-TS file, from a keyframe, finalized on stop")
    .argument("<src>", 'source URL ("demo:", "rtsp://...", "ffmpeg:...") or a stream name of the config');
  addRecordOptions(cmd)
    .option("--no-video", "leave out video")
    .option("--no-audio", "leave out audio")
    .addHelpText(
      "after",
      `
Examples:
  strom record demo: -o demo.mp4 --duration 10
  strom record rtsp://admin:pass@192.168.1.10/stream1 -o door.ts
  strom record front_door -c strom.yaml -o rec/door.mp4 --segment 300
  strom record demo: -o - --format ts | ffplay -

Video H.264/H.265 and audio AAC, Opus, G.711 (as FLAC) and PCM go into MP4; H.264/H.265 and
AAC/Opus into MPEG-TS. Other codecs are left out: put an ffmpeg: source in front, or use
"strom transcode". The recording starts at the first keyframe and ends after --duration, on
Ctrl-C/SIGTERM (the file is finalized and playable), or on a write error (exit code 1).`,
    )
    .action(async (src: string, opts: RecordCliOptions & { video: boolean; audio: boolean }) => {
      const settings = recordSettings(opts);
      if (!opts.video && !opts.audio) {
        throw new CliError("--no-video and --no-audio together leave nothing to record.");
      }
      settings.video = opts.video;
      settings.audio = opts.audio;
      const sources = await openSources({ config: opts.config, dialTimeoutMs: settings.timeoutMs });
      try {
        await recordStream(sources.stream(src), settings);
      } finally {
        await sources.close();
      }
    });
  return cmd;
}
