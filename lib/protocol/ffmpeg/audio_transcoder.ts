/**
 * Audio transcoding for two-way audio through ffmpeg, as go2rtc does: a talker's Opus (a browser
 * microphone) or AAC into the G.711 (or 16-bit PCM) a camera's speaker takes.
 *
 * The talker's frames are muxed into MPEG-TS (strom's own muxer) and piped to ffmpeg's stdin;
 * ffmpeg writes raw G.711 to stdout, which is cut into 20 ms frames with timestamps counting
 * samples. ffmpeg starts with the first frame (not when the talker attaches) and is killed when
 * the talker leaves; a crash is restarted by the next frame, at most {@link MAX_RESTARTS} times.
 * Input waits in the talker's bounded Sender queue while ffmpeg is busy, then drops.
 *
 * Security: the command line is fixed here (binary from the config file, arguments built from
 * codec names strom chose); nothing a client sends reaches it.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { AudioTranscoder, AudioTranscoderFactory } from "../../core/backchannel.ts";
import { registerAudioTranscoder } from "../../core/backchannel.ts";
import { Receiver, Sender } from "../../core/fanout.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import type { Media } from "../../core/media.ts";
import { TsMuxer } from "../../format/mpegts/ts_muxer.ts";
import { type ChildProcess, spawn } from "../../runtime/process.ts";
import { pcmAudioTranscoderFactory } from "../../codec/g711/pcm_audio_transcoder.ts";

// ffmpeg's MPEG-TS demuxer first reads 8 KiB to find the packet size, so a talker's first 20 ms
// frames (~2 TS packets each) would wait ~0.3 s for it: null packets (PID 0x1FFF, ignored by every
// demuxer) fill that read at once.
const NULL_PADDING = (() => {
  const n = 44; // 44 x 188 > 8192
  const out = new Uint8Array(n * 188).fill(0xff);
  for (let i = 0; i < n; i++) {
    out[i * 188] = 0x47;
    out[i * 188 + 1] = 0x1f;
    out[i * 188 + 2] = 0xff;
    out[i * 188 + 3] = 0x10;
  }
  return out;
})();

/**
 * The start of every command line strom's in-process audio transcoders give ffmpeg: quiet, no
 * stdin, and no input buffering or probing, since the input is strom's own MPEG-TS on a pipe whose
 * codec is known and whose first packet must come out at once.
 *
 * @example
 * ```ts
 * ["ffmpeg", ...PIPE_INPUT_ARGS, "-f", "mpegts", "-i", "pipe:0"];
 * ```
 */
export const PIPE_INPUT_ARGS: readonly string[] = [
  "-hide_banner",
  "-loglevel",
  "error",
  "-nostdin",
  "-fflags",
  "nobuffer",
  "-flags",
  "low_delay",
  "-probesize",
  "32",
  "-analyzeduration",
  "0",
];
/** A crashed ffmpeg is restarted by the next frame at most this many times per talker. */
export const MAX_RESTARTS = 3;

const INPUTS = new Set(["OPUS", "MPEG4-GENERIC"]);
const OUTPUTS: Record<string, { codec: string; format: string; bytesPerSample: number }> = {
  PCMA: { codec: "pcm_alaw", format: "alaw", bytesPerSample: 1 },
  PCMU: { codec: "pcm_mulaw", format: "mulaw", bytesPerSample: 1 },
  L16: { codec: "pcm_s16be", format: "s16be", bytesPerSample: 2 },
};

/**
 * Whether ffmpeg converts `from` into `to` here: Opus or AAC (with its config in the fmtp) into
 * PCMA, PCMU or L16.
 *
 * @example
 * ```ts
 * ffmpegCanTranscode({ name: "OPUS", clockRate: 48000, channels: 2 }, { name: "PCMA", clockRate: 8000 }); // true
 * ```
 */
export function ffmpegCanTranscode(from: Codec, to: Codec): boolean {
  const name = from.name.toUpperCase();
  if (!INPUTS.has(name) || !OUTPUTS[to.name.toUpperCase()]) return false;
  // AAC in MPEG-TS needs the AudioSpecificConfig (ADTS headers are made from it).
  return name !== "MPEG4-GENERIC" || /config=/i.test(from.fmtp ?? "");
}

/**
 * The fixed ffmpeg arguments: MPEG-TS on stdin, raw `to` on stdout, no buffering.
 *
 * @example
 * ```ts
 * ffmpegTranscodeArgs({ name: "PCMA", clockRate: 8000 });
 * // [..., "-f", "mpegts", "-i", "pipe:0", ..., "-c:a", "pcm_alaw", "-f", "alaw", "pipe:1"]
 * ```
 */
export function ffmpegTranscodeArgs(to: Codec): string[] {
  const out = OUTPUTS[to.name.toUpperCase()];
  if (!out) throw new RangeError(`ffmpeg audio transcoding writes PCMA, PCMU or L16, not ${to.name}`);
  return [
    ...PIPE_INPUT_ARGS,
    "-f",
    "mpegts",
    "-i",
    "pipe:0",
    "-vn",
    "-ac",
    String(to.channels || 1),
    "-ar",
    String(to.clockRate || 8000),
    "-c:a",
    out.codec,
    "-flush_packets",
    "1",
    "-f",
    out.format,
    "pipe:1",
  ];
}

/** Options of {@link FfmpegAudioTranscoder}. */
export interface FfmpegAudioTranscoderOptions {
  /** The ffmpeg binary (from the config file's `ffmpeg.bin`). Default `ffmpeg`. */
  bin?: string;
  log?: Logger;
}

/**
 * One talker's audio through one ffmpeg process.
 *
 * @example
 * ```ts
 * const tc = new FfmpegAudioTranscoder(micReceiver, { name: "PCMA", clockRate: 8000 }, cameraMedia);
 * await camera.addTrack(cameraMedia, tc.output.codec, tc.output);
 * // ...
 * tc.close(); // kills ffmpeg
 * ```
 */
export class FfmpegAudioTranscoder implements AudioTranscoder {
  readonly output: Receiver;
  /** ffmpeg processes started (1 normally; more after crashes). */
  starts = 0;
  readonly #input: Sender;
  readonly #from: Codec;
  readonly #to: Codec;
  readonly #bin: string;
  readonly #log: Logger;
  readonly #frameBytes: number;
  readonly #bytesPerSample: number;
  #child: ChildProcess | undefined;
  #exited: Promise<unknown> = Promise.resolve();
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #muxer: TsMuxer | undefined;
  #closed = false;
  // Output: raw bytes cut into 20 ms frames.
  #pending: Uint8Array;
  #pendingLen = 0;
  #samples = 0;

  constructor(input: Receiver, to: Codec, media: Media, options: FfmpegAudioTranscoderOptions = {}) {
    if (!ffmpegCanTranscode(input.codec, to)) {
      throw new RangeError(`ffmpeg cannot transcode ${input.codec.name} to ${to.name} for a backchannel`);
    }
    this.#from = input.codec;
    this.#to = to;
    this.#bin = options.bin ?? "ffmpeg";
    this.#log = options.log ?? silentLogger;
    const out = OUTPUTS[to.name.toUpperCase()];
    this.#bytesPerSample = out.bytesPerSample * (to.channels || 1);
    this.#frameBytes = Math.round((to.clockRate || 8000) / 50) * this.#bytesPerSample;
    this.#pending = new Uint8Array(this.#frameBytes);
    this.output = new Receiver(media, to);
    this.#input = new Sender(input.media, input.codec, this.#onFrame, {
      capacity: 64,
      onError: (error) => this.#log.warn("backchannel transcoder input failed", { error: String(error) }),
    });
    input.addSender(this.#input);
  }

  readonly #onFrame = (frame: Frame): void | Promise<void> => {
    if (this.#closed) return;
    if (!this.#writer) {
      if (this.starts > MAX_RESTARTS) return;
      this.#start();
      if (!this.#writer) return;
    }
    const bytes = this.#muxer!.push(0, frame);
    if (!bytes) return;
    const writer = this.#writer;
    const written = writer.write(bytes);
    // Wait only when ffmpeg's pipe is full: the Sender's bounded queue then fills and drops.
    if (writer.desiredSize !== null && writer.desiredSize <= 0) return written.catch(this.#onWriteError);
    written.catch(this.#onWriteError);
  };

  readonly #onWriteError = (error: unknown): void => {
    if (this.#closed) return;
    this.#log.debug("backchannel ffmpeg stdin closed", { error: String(error) });
    this.#stopChild();
  };

  #start(): void {
    this.starts++;
    let child: ChildProcess;
    try {
      child = spawn(this.#bin, ffmpegTranscodeArgs(this.#to), {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      });
    } catch (error) {
      this.#log.warn("cannot start ffmpeg for two-way audio", { error: String(error) });
      this.starts = MAX_RESTARTS + 1;
      return;
    }
    this.#child = child;
    this.#exited = child.exited;
    this.#writer = child.stdin!.getWriter();
    this.#muxer = new TsMuxer([{ codec: this.#from }]);
    this.#writer.write(this.#muxer.header()).catch(this.#onWriteError);
    this.#writer.write(NULL_PADDING).catch(this.#onWriteError);
    this.#log.debug("backchannel ffmpeg started", {
      from: this.#from.name,
      to: this.#to.name,
      pid: child.pid,
    });
    this.#readStdout(child);
    this.#readStderr(child);
    child.exited.then((status) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      this.#writer = undefined;
      if (!this.#closed) {
        this.#log.warn("backchannel ffmpeg exited", { code: status.code, signal: status.signal });
      }
    });
  }

  async #readStdout(child: ChildProcess): Promise<void> {
    const reader = child.stdout!.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.#closed) break;
        this.#emit(value);
      }
    } catch { /* process gone */ }
  }

  async #readStderr(child: ChildProcess): Promise<void> {
    const reader = child.stderr!.getReader();
    const dec = new TextDecoder();
    let text = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text = (text + dec.decode(value, { stream: true })).slice(-2048);
      }
    } catch { /* process gone */ }
    if (text.trim() && !this.#closed) this.#log.warn("backchannel ffmpeg said", { stderr: text.trim() });
  }

  // Cuts ffmpeg's output into 20 ms frames (one packet each at the camera).
  #emit(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(this.#frameBytes - this.#pendingLen, chunk.length - off);
      this.#pending.set(chunk.subarray(off, off + n), this.#pendingLen);
      this.#pendingLen += n;
      off += n;
      if (this.#pendingLen === this.#frameBytes) {
        const data = this.#pending;
        this.#pending = new Uint8Array(this.#frameBytes);
        this.#pendingLen = 0;
        const timestamp = this.#samples;
        this.#samples = (this.#samples + data.length / this.#bytesPerSample) >>> 0;
        this.output.push({ timestamp, keyframe: true, data });
      }
    }
  }

  #stopChild(): void {
    const child = this.#child;
    this.#child = undefined;
    const writer = this.#writer;
    this.#writer = undefined;
    writer?.close().catch(() => {});
    child?.kill();
  }

  /** Whether an ffmpeg process is running for this talker now. */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Resolves once the last ffmpeg process started has exited. */
  async exited(): Promise<void> {
    await this.#exited;
  }

  /** Detaches from the talker and kills ffmpeg. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#input.close();
    this.#stopChild();
  }
}

/**
 * Registers the audio transcoders for two-way audio: in-process PCM conversions (PCMA, PCMU, L16
 * at any rate) first, then ffmpeg for Opus and AAC talkers. Call once at startup.
 *
 * @example
 * ```ts
 * registerBackchannelTranscoders({ bin: () => config.ffmpeg.bin ?? "ffmpeg", log });
 * ```
 */
export function registerBackchannelTranscoders(
  options: { bin?: string | (() => string); log?: Logger } = {},
): void {
  registerAudioTranscoder(pcmAudioTranscoderFactory);
  const factory: AudioTranscoderFactory = {
    name: "ffmpeg",
    canTranscode: ffmpegCanTranscode,
    create: (input, to, media) =>
      new FfmpegAudioTranscoder(input, to, media, {
        bin: typeof options.bin === "function" ? options.bin() : options.bin,
        log: options.log,
      }),
  };
  registerAudioTranscoder(factory);
}
