/**
 * The `exec:` source: runs a command and reads media from its stdout (the "pipe" flow of go2rtc).
 *
 * Supported stdout formats, detected from the first bytes:
 * - MJPEG (`-f mjpeg -`): concatenated JPEG images, one frame each;
 * - MPEG-TS (`-f mpegts -`): H.264, H.265, AAC, Opus tracks through the MPEG-TS demuxer;
 * - WAV (`-f wav -`: G.711 or 16-bit PCM) and ADTS AAC (`-f adts -`), go2rtc's audio pipes.
 *
 * The RTSP flow (`{output}` in the command: the process publishes into strom's RTSP server) is in
 * `rtsp_output.ts`; `#backchannel=1` (audio to the command's stdin) in `backchannel.ts`.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import { redactUrl, SourceError } from "../../core/errors.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type Media, mediaToString } from "../../core/media.ts";
import { Receiver } from "../../core/fanout.ts";
import { type TsDemuxedFrame, TsDemuxer, type TsTrack } from "../../format/mpegts/ts_demuxer.ts";
import { checkAllowedExecutable } from "./allow_paths.ts";
import { type ExecUrl, parseExecUrl } from "./exec_url.ts";
import { JpegSplitter } from "./jpeg_splitter.ts";
import { ExecError, ExecProcess } from "./process.ts";
import { ExecBackchannelProducer } from "./backchannel.ts";
import { AdtsReader, type AudioPipeReader, WavFormatError, WavReader } from "./audio_pipe.ts";
import type { Frame } from "../../core/frame.ts";
import { ExecRtspProducer, RtspOutput, type RtspOutputTarget } from "./rtsp_output.ts";
import { concatBytes } from "../../core/bytes.ts";

/** Formats an exec command may write to stdout. */
export type ExecPipeFormat = "mjpeg" | "mpegts" | "wav" | "adts";

/** Options of {@link dialExec}. */
export interface ExecDialOptions {
  log?: Logger;
  /** Aborts the dial (kills the process). */
  signal?: AbortSignal;
  /** Skip detection and expect this format. */
  format?: ExecPipeFormat;
  /** Overrides `#starttimeout` (ms). */
  startTimeoutMs?: number;
  /**
   * `exec.allow_paths`: when non-empty, only these executables may run (see
   * {@link checkAllowedExecutable}). Empty or absent allows any.
   */
  allowPaths?: readonly string[];
  /**
   * strom's RTSP server, for `{output}` in the command (the RTSP flow). Absent: such commands are
   * refused with a clear error.
   */
  rtspOutput?: RtspOutputTarget;
}

/**
 * Guesses the stdout format from its first bytes: JPEG starts with SOI `FF D8`, MPEG-TS has the
 * sync byte 0x47 every 188 bytes. Returns `undefined` when unknown, `"more"` when more bytes are
 * needed to tell.
 *
 * @example
 * ```ts
 * detectPipeFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])); // "mjpeg"
 * ```
 */
export function detectPipeFormat(head: Uint8Array): ExecPipeFormat | "more" | undefined {
  if (head.length < 2) return "more";
  if (head[0] === 0xff && head[1] === 0xd8) return "mjpeg";
  // ADTS syncword 0xFFF, layer 0.
  if (head[0] === 0xff && (head[1] & 0xf6) === 0xf0) return "adts";
  if (head[0] === 0x52 && head[1] === 0x49) {
    if (head.length < 4) return "more";
    if (head[2] === 0x46 && head[3] === 0x46) return "wav"; // "RIFF"
  }
  if (head[0] === 0x47) {
    if (head.length < 189) return "more";
    if (head[188] === 0x47) return "mpegts";
  }
  return undefined;
}


/**
 * Runs an `exec:` URL and waits until its stdout shows a supported format.
 *
 * @throws {ExecError} when the command exits or stays silent past `#starttimeout`, with its stderr;
 *   {SourceError} for an unsupported flow or format; SpawnError when it cannot start.
 * @example
 * ```ts
 * const producer = await dialExec("exec:ffmpeg -re -i /media/a.mp4 -c:v mjpeg -f mjpeg -");
 * const [video] = producer.medias();
 * producer.track(video, video.codecs[0]).addSender(sender);
 * await producer.start();
 * ```
 */
export async function dialExec(
  url: string,
  options: ExecDialOptions = {},
): Promise<ExecProducer | ExecRtspProducer | ExecBackchannelProducer> {
  const parsed = parseExecUrl(url);
  await checkAllowedExecutable(parsed.command, options.allowPaths ?? []);
  const log = (options.log ?? silentLogger).child({ source: "exec" });
  if (parsed.backchannel) return ExecBackchannelProducer.spawn(url, parsed, log);
  if (parsed.rtspOutput) return await dialExecRtsp(url, parsed, options, log);
  return await dialExecPipe(url, parsed, options, log);
}

/**
 * The RTSP flow: `{output}` becomes a private path on strom's RTSP server; waits until the process
 * published there (or exits, stalls past `#starttimeout`, or the dial is aborted).
 */
async function dialExecRtsp(
  url: string,
  parsed: ExecUrl,
  options: ExecDialOptions,
  log: Logger,
): Promise<ExecRtspProducer> {
  const target = options.rtspOutput;
  if (!target) {
    throw new SourceError(
      url,
      "{output} in the command needs strom's RTSP server, which is not running (rtsp.listen is off). " +
        'Turn it on, or have the command write to stdout, e.g. "-f mpegts -".',
    );
  }
  const output = RtspOutput.reserve(target);
  const args = parsed.args.map((a) => a.replaceAll("{output}", output.url));
  let proc: ExecProcess;
  try {
    proc = ExecProcess.spawn(parsed.command, args, {
      killSignal: parsed.killSignal,
      killTimeoutMs: parsed.killTimeoutMs,
      log,
      stdout: false,
    });
  } catch (error) {
    output.release();
    throw error;
  }
  log.debug("started", { pid: proc.pid, command: redactUrl(parsed.commandLine), output: output.safeUrl });
  const startTimeoutMs = options.startTimeoutMs ?? parsed.startTimeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const next = await Promise.race([
      output.publisher,
      proc.exited.then(() => "exit" as const),
      new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), startTimeoutMs))),
      new Promise<"aborted">((resolve) => {
        onAbort = () => resolve("aborted");
        if (options.signal?.aborted) onAbort();
        else options.signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    if (next === "exit") {
      const status = await proc.waitExit();
      const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
      throw new ExecError(
        parsed.commandLine,
        `${how} before publishing to ${output.safeUrl} ({output})`,
        status,
        output.scrub(proc.stderrTail()),
      );
    }
    if (next === "timeout") {
      await proc.stop();
      throw new ExecError(
        parsed.commandLine,
        `did not publish to ${output.safeUrl} ({output}) within ${startTimeoutMs} ms (#starttimeout)`,
        {},
        output.scrub(proc.stderrTail()),
      );
    }
    if (next === "aborted") {
      await proc.stop();
      throw new SourceError(url, "dial aborted", { cause: options.signal?.reason });
    }
    log.debug("publishing over rtsp", { pid: proc.pid, medias: next.medias().length });
    return new ExecRtspProducer(url, parsed, proc, next, output, log);
  } catch (error) {
    if (!proc.hasExited) await proc.stop();
    throw error;
  } finally {
    output.release();
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
  }
}

/** The pipe flow: media on stdout, format detected from the first bytes. */
async function dialExecPipe(
  url: string,
  parsed: ExecUrl,
  options: ExecDialOptions,
  log: Logger,
): Promise<ExecProducer> {
  const proc = ExecProcess.spawn(parsed.command, parsed.args, {
    killSignal: parsed.killSignal,
    killTimeoutMs: parsed.killTimeoutMs,
    log,
  });
  log.debug("started", { pid: proc.pid, command: redactUrl(parsed.commandLine) });
  const startTimeoutMs = options.startTimeoutMs ?? parsed.startTimeoutMs;
  const reader = proc.stdout!.getReader();
  let head: Uint8Array = new Uint8Array(0);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const timeout = new Promise<"timeout">((
      resolve,
    ) => (timer = setTimeout(() => resolve("timeout"), startTimeoutMs)));
    const aborted = new Promise<"aborted">((resolve) => {
      onAbort = () => resolve("aborted");
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener("abort", onAbort, { once: true });
    });
    // The next stdout chunk while probing; throws when the command stalls past #starttimeout
    // (`stalled` says what it failed to write), the dial is aborted, or stdout ends (`ended`).
    const nextChunk = async (stalled: string, ended: string): Promise<Uint8Array> => {
      const next = await Promise.race([reader.read(), timeout, aborted]);
      if (next === "timeout") {
        await proc.stop();
        throw new ExecError(
          proc.commandLine,
          `${stalled} within ${startTimeoutMs} ms (#starttimeout)`,
          {},
          proc.stderrTail(),
        );
      }
      if (next === "aborted") {
        await proc.stop();
        throw new SourceError(url, "dial aborted", { cause: options.signal?.reason });
      }
      if (next.done) {
        const status = await proc.waitExit();
        throw proc.exitError(status, ended);
      }
      return next.value;
    };
    let format: ExecPipeFormat | "more" | undefined = options.format ?? "more";
    while (format === "more" || head.length === 0) {
      const chunk = await nextChunk("wrote nothing usable", " before writing any media to stdout");
      head = head.length ? concatBytes([head, chunk]) : chunk;
      if (!options.format) format = detectPipeFormat(head);
    }
    if (format === undefined) {
      await proc.stop();
      const bytes = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
      throw new SourceError(
        url,
        `cannot tell the format of the command's stdout (first bytes ${bytes}). ` +
          'Supported: MJPEG ("-c:v mjpeg -f mjpeg -"), MPEG-TS ("-f mpegts -"), WAV ("-f wav -") and ADTS AAC ("-f adts -").',
      );
    }
    let demuxer: TsDemuxer | undefined;
    let early: TsDemuxedFrame[] = [];
    if (format === "mpegts") {
      // The medias are known once the PMT was read and every track's codec is complete (parameter
      // sets, AAC config). A track that stays silent must not block the dial forever: after
      // TRACK_WAIT_MS with at least one complete track, go with the complete ones.
      demuxer = new TsDemuxer();
      early = demuxer.push(head);
      let firstReady = 0;
      while (!demuxer.ready) {
        if (demuxer.tracks.some((t) => t.ready)) {
          firstReady ||= performance.now();
          if (performance.now() - firstReady > TRACK_WAIT_MS) break;
        }
        const chunk = await nextChunk(
          "wrote MPEG-TS without complete tracks",
          " before its MPEG-TS tracks were complete",
        );
        const frames = demuxer.push(chunk);
        // Keep what arrived while probing (bounded), so the first GOP is not lost.
        for (const f of frames) if (early.length < MAX_EARLY_FRAMES) early.push(f);
      }
    }
    let audio: { reader: AudioPipeReader; early: Frame[] } | undefined;
    if (format === "wav" || format === "adts") {
      // The codec is known from the WAV header or the first ADTS frame.
      const audioReader = format === "wav" ? new WavReader() : new AdtsReader();
      const earlyAudio: Frame[] = [];
      audioReader.onFrame = (f) => {
        if (earlyAudio.length < MAX_EARLY_FRAMES) earlyAudio.push(f);
      };
      try {
        audioReader.push(head);
        while (!audioReader.codec) {
          audioReader.push(await nextChunk(`wrote no complete ${format} header`, ` before its ${format} header was complete`));
        }
      } catch (error) {
        if (error instanceof WavFormatError) throw new SourceError(url, error.message);
        throw error;
      }
      audio = { reader: audioReader, early: earlyAudio };
    }
    reader.releaseLock();
    return new ExecProducer(
      url,
      parsed,
      proc,
      format,
      log,
      format === "mjpeg" ? head : undefined,
      demuxer,
      early,
      audio,
    );
  } catch (error) {
    if (!proc.hasExited) await proc.stop();
    throw error;
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
  }
}

const VIDEO_CLOCK = 90000;
// How long a dial waits for the remaining MPEG-TS tracks once one is complete.
const TRACK_WAIT_MS = 3000;
// Frames kept from the MPEG-TS probe to hand out at start.
const MAX_EARLY_FRAMES = 512;

/**
 * A running exec command whose stdout carries media. Created by {@link dialExec}.
 *
 * MJPEG frames get timestamps from the arrival time (90 kHz), since the pipe carries none; MPEG-TS
 * frames keep their PTS/DTS.
 */
export class ExecProducer implements Producer {
  readonly #id = nextConnectionId();
  readonly #url: string;
  readonly #parsed: ExecUrl;
  readonly #proc: ExecProcess;
  readonly #log: Logger;
  readonly #medias: Media[];
  readonly #format: ExecPipeFormat;
  // One receiver per media, created by track(); for MPEG-TS also indexed by PID.
  readonly #receivers = new Map<Media, Receiver>();
  readonly #byPid = new Map<number, Receiver>();
  readonly #pidOf = new Map<Media, number>();
  #head: Uint8Array | undefined;
  #early: TsDemuxedFrame[];
  readonly #demuxer: TsDemuxer | undefined;
  readonly #splitter: JpegSplitter | undefined;
  #jpegReceiver: Receiver | undefined;
  #audio: AudioPipeReader | undefined;
  #audioEarly: Frame[] = [];
  #audioReceiver: Receiver | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #bytes = 0;
  #startedAt: string | undefined;
  #t0 = 0;

  /** Use {@link dialExec}. */
  constructor(
    url: string,
    parsed: ExecUrl,
    proc: ExecProcess,
    format: ExecPipeFormat,
    log: Logger,
    head?: Uint8Array,
    demuxer?: TsDemuxer,
    early: TsDemuxedFrame[] = [],
    audio?: { reader: AudioPipeReader; early: Frame[] },
  ) {
    this.#url = url;
    this.#parsed = parsed;
    this.#proc = proc;
    this.#format = format;
    this.#log = log;
    this.#head = head;
    this.#early = early;
    if (format === "mpegts") {
      if (!demuxer) throw new TypeError("ExecProducer: an MPEG-TS source needs its demuxer");
      this.#demuxer = demuxer;
      this.#medias = demuxer.tracks.filter((t) => t.ready).map((t) => this.#trackMedia(t));
    } else if (audio) {
      this.#audio = audio.reader;
      this.#audioEarly = audio.early;
      audio.reader.onFrame = (f) => this.#audioReceiver?.push(f);
      this.#medias = [{ kind: "audio", direction: "recvonly", id: "audio", codecs: [{ ...audio.reader.codec! }] }];
    } else {
      this.#splitter = new JpegSplitter(this.#onImage);
      this.#medias = [{
        kind: "video",
        direction: "recvonly",
        id: "video",
        codecs: [{ name: "JPEG", clockRate: VIDEO_CLOCK, payloadType: 26 }],
      }];
    }
  }

  #trackMedia(t: TsTrack): Media {
    const media: Media = {
      kind: t.kind,
      direction: "recvonly",
      id: `pid=${t.pid}`,
      codecs: [{ ...t.codec }],
    };
    this.#pidOf.set(media, t.pid);
    return media;
  }

  /** The process id of the command. */
  get pid(): number {
    return this.#proc.pid;
  }

  /** The parsed URL (command, args and options). */
  get command(): ExecUrl {
    return this.#parsed;
  }

  medias(): Media[] {
    return this.#medias;
  }

  track(media: Media, _codec: Codec): Receiver {
    const own = this.#medias.find((m) => m === media || (media.id !== undefined && m.id === media.id)) ??
      this.#medias.find((m) => m.kind === media.kind);
    if (!own) throw new RangeError(`The exec ${this.#format} source has no ${media.kind} media`);
    let receiver = this.#receivers.get(own);
    if (!receiver) {
      receiver = new Receiver(own, own.codecs[0]);
      this.#receivers.set(own, receiver);
      const pid = this.#pidOf.get(own);
      if (pid !== undefined) this.#byPid.set(pid, receiver);
      else if (this.#audio) this.#audioReceiver = receiver;
      else this.#jpegReceiver = receiver;
    }
    return receiver;
  }

  /**
   * Reads stdout until the command ends. Resolves when stopped or when the command exits with
   * code 0; rejects with an {@link ExecError} (exit code and stderr tail) otherwise.
   */
  start(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Kills the command (`#killsignal`, `#killtimeout`) and waits for it to exit. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#proc.stop();
  }

  info(): ConnectionInfo {
    return {
      id: this.#id,
      format: this.#format,
      protocol: "pipe",
      url: redactUrl(this.#url),
      medias: this.#medias.map(mediaToString),
      bytesIn: this.#bytes,
      startedAt: this.#startedAt,
    };
  }

  readonly #onImage = (jpeg: Uint8Array): void => {
    this.#jpegReceiver?.push({
      timestamp: Math.round((performance.now() - this.#t0) * (VIDEO_CLOCK / 1000)),
      keyframe: true,
      data: jpeg,
    });
  };

  #pushTs(frames: TsDemuxedFrame[]): void {
    for (let i = 0; i < frames.length; i++) this.#byPid.get(frames[i].track.pid)?.push(frames[i].frame);
  }

  #feed(chunk: Uint8Array): void {
    this.#bytes += chunk.length;
    if (this.#splitter) this.#splitter.push(chunk);
    else if (this.#audio) this.#audio.push(chunk);
    else this.#pushTs(this.#demuxer!.push(chunk));
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    this.#startedAt = new Date().toISOString();
    this.#t0 = performance.now();
    const head = this.#head;
    this.#head = undefined;
    if (head) this.#feed(head);
    if (this.#early.length) {
      this.#pushTs(this.#early);
      this.#early = [];
    }
    for (const f of this.#audioEarly.splice(0)) this.#audioReceiver?.push(f);
    const reader = this.#proc.stdout!.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.#feed(value);
      }
    } catch (error) {
      if (!this.#stopped) this.#log.debug("stdout read failed", { error: String(error) });
    } finally {
      reader.releaseLock();
    }
    if (this.#demuxer && !this.#stopped) this.#pushTs(this.#demuxer.flush());
    const status = await this.#proc.waitExit();
    if (this.#stopped || status.code === 0) return;
    throw this.#proc.exitError(status);
  }
}
