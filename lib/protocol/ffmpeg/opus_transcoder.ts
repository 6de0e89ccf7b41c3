/**
 * AAC to Opus through one ffmpeg process, for WebRTC viewers of AAC-only sources (browsers take
 * Opus, PCMA or PCMU, never AAC).
 *
 * ```text
 * AAC frames -> TsMuxer -> ffmpeg stdin  (-f mpegts ... -c:a libopus ... -f mpegts)  stdout -> TsDemuxer -> Opus frames
 * ```
 *
 * The AAC goes in as MPEG-TS (strom's own muxer), the Opus comes back as MPEG-TS (strom's own
 * demuxer), so each Opus packet keeps the source's timeline: ffmpeg runs with `-copyts`, and a
 * frame's timestamp (48 kHz) is the AAC frame's presentation time. {@link latencyMs} is how long
 * ffmpeg held the audio (measured per packet against the arrival of the AAC frame with the same
 * time), so the WebRTC sender can tell the peer when the audio really was captured and lip sync
 * holds (see WebRtcTrack.delayTicks).
 *
 * Security: the command line is fixed here (the binary from the config file); nothing a client
 * sends reaches it.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { TsDemuxer } from "../../format/mpegts/ts_demuxer.ts";
import { TsMuxer } from "../../format/mpegts/ts_muxer.ts";
import { type ChildProcess, spawn } from "../../runtime/process.ts";
import { PIPE_INPUT_ARGS } from "./audio_transcoder.ts";

/** The Opus strom makes for WebRTC: 48 kHz stereo, as every browser offers it. */
export const WEBRTC_OPUS: Readonly<Codec> = Object.freeze({ name: "OPUS", clockRate: 48000, channels: 2 });

/** Whether {@link OpusTranscoder} takes `codec`: AAC (MPEG4-GENERIC or MP4A-LATM) with its config. */
export function opusTranscoderTakes(codec: Codec): boolean {
  const name = codec.name.toUpperCase();
  // MPEG-TS carries AAC as ADTS, built from the AudioSpecificConfig in the fmtp.
  return name === "MPEG4-GENERIC" && /config=/i.test(codec.fmtp ?? "");
}

/**
 * The fixed ffmpeg arguments: AAC in MPEG-TS on stdin, 20 ms Opus packets in MPEG-TS on stdout,
 * each packet flushed at once (`-pes_payload_size 0`: one PES per packet).
 *
 * @example
 * ```ts
 * opusTranscodeArgs(); // ["-hide_banner", ..., "-c:a", "libopus", ..., "-f", "mpegts", "pipe:1"]
 * ```
 */
export function opusTranscodeArgs(): string[] {
  return [
    ...PIPE_INPUT_ARGS,
    "-copyts",
    "-f",
    "mpegts",
    "-i",
    "pipe:0",
    "-vn",
    "-c:a",
    "libopus",
    "-application",
    "lowdelay",
    "-frame_duration",
    "20",
    "-b:a",
    "64k",
    "-ar",
    "48000",
    "-ac",
    "2",
    "-muxdelay",
    "0",
    "-muxpreload",
    "0",
    "-pes_payload_size",
    "0",
    "-flush_packets",
    "1",
    "-f",
    "mpegts",
    "pipe:1",
  ];
}

// ffmpeg's MPEG-TS probe first reads 8 KiB: null packets (PID 0x1FFF, ignored by every demuxer)
// fill it at once, so the first AAC frames do not wait ~0.5 s for it.
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

/** MPEG-TS timestamps start 1.4 s in (strom's muxer, as ffmpeg's), here in 48 kHz. */
const TS_START = 1.4 * 48000;

/** Arrival times kept to measure ffmpeg's delay (about 2 s of AAC frames). */
const ARRIVALS = 128;

/** Options of an {@link OpusTranscoder}. */
export interface OpusTranscoderOptions {
  /** The source's AAC codec (with `config=` in the fmtp). */
  codec: Codec;
  /** Receives each Opus packet (timestamp in 48 kHz on the source's timeline). */
  onFrame: (frame: Frame) => void;
  /** Called once when ffmpeg ended (or could not start) without {@link OpusTranscoder.close}. */
  onExit?: (reason: string) => void;
  /** The ffmpeg binary (the config file's `ffmpeg.bin`). Default `ffmpeg`. */
  ffmpegBin?: string;
  log?: Logger;
}

/**
 * One ffmpeg turning an AAC track into Opus.
 *
 * @example
 * ```ts
 * const t = new OpusTranscoder({ codec: aac, onFrame: (opus) => receiver.push(opus) });
 * t.write(aacFrame); // for every AAC frame
 * t.close();         // kills ffmpeg
 * ```
 */
export class OpusTranscoder {
  /** Opus packets produced. */
  frames = 0;
  /** ffmpeg's delay, AAC in to Opus out, smoothed (ms). 0 until the first packet. */
  latencyMs = 0;
  readonly #child: ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #muxer: TsMuxer;
  readonly #demuxer = new TsDemuxer();
  readonly #options: OpusTranscoderOptions;
  readonly #log: Logger;
  readonly #clock: number;
  // Ring of (AAC timestamp in 48 kHz, arrival ms).
  readonly #arrTs = new Float64Array(ARRIVALS);
  readonly #arrAt = new Float64Array(ARRIVALS);
  #arrNext = 0;
  #firstIn: number | undefined;
  #stderr = "";
  #closed = false;
  #ended = false;

  /** @throws {SpawnError} when ffmpeg cannot be started; {@link RangeError} for a codec it does not take. */
  constructor(options: OpusTranscoderOptions) {
    if (!opusTranscoderTakes(options.codec)) {
      throw new RangeError(`The Opus transcoder takes AAC with its config, not ${options.codec.name}`);
    }
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#clock = options.codec.clockRate || 48000;
    this.#child = spawn(options.ffmpegBin ?? "ffmpeg", opusTranscodeArgs(), {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.#writer = this.#child.stdin!.getWriter();
    this.#muxer = new TsMuxer([{ codec: options.codec }]);
    this.#writer.write(this.#muxer.header()).catch(this.#onWriteError);
    this.#writer.write(NULL_PADDING).catch(this.#onWriteError);
    this.#readStdout();
    this.#readStderr();
    this.#child.exited.then((status) => {
      this.#ended = true;
      if (this.#closed) return;
      const tail = this.#stderr.trim();
      this.#end(`ffmpeg exited (code ${status.code ?? status.signal})${tail ? `: ${tail.slice(-300)}` : ""}`);
    });
  }

  /** The process id, for logs and tests. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Resolves when ffmpeg has exited. */
  get exited(): Promise<unknown> {
    return this.#child.exited;
  }

  /**
   * Hands one AAC frame to ffmpeg. Returns a promise only while ffmpeg's stdin is full (the
   * caller's bounded queue then drops).
   */
  write(frame: Frame): void | Promise<void> {
    if (this.#closed || this.#ended) return;
    const bytes = this.#muxer.push(0, frame);
    if (!bytes) return;
    // Where this frame lands on ffmpeg's timeline: the muxer starts at 0 plus MPEG-TS's 1.4 s.
    this.#firstIn ??= frame.timestamp;
    const since = ((frame.timestamp - this.#firstIn) | 0) * 48000 / this.#clock;
    const i = this.#arrNext;
    this.#arrTs[i] = Math.round(since) + TS_START;
    this.#arrAt[i] = performance.now();
    this.#arrNext = (i + 1) % ARRIVALS;
    const written = this.#writer.write(bytes);
    if (this.#writer.desiredSize !== null && this.#writer.desiredSize <= 0) return written.catch(this.#onWriteError);
    written.catch(this.#onWriteError);
  }

  readonly #onWriteError = (error: unknown): void => {
    if (this.#closed) return;
    this.#log.debug("opus transcoder stdin closed", { error: String(error) });
  };

  async #readStdout(): Promise<void> {
    const reader = this.#child.stdout!.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.#closed) break;
        for (const { track, frame } of this.#demuxer.push(value)) {
          if (track.codec.name !== "OPUS") continue;
          this.#measure(frame.timestamp);
          this.frames++;
          // Back onto the source's timeline (in 48 kHz).
          const first = Math.round((this.#firstIn ?? 0) * 48000 / this.#clock);
          frame.timestamp = (frame.timestamp - TS_START + first) >>> 0;
          this.#options.onFrame(frame);
        }
      }
    } catch { /* process gone */ }
  }

  async #readStderr(): Promise<void> {
    const reader = this.#child.stderr!.getReader();
    const dec = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.#stderr = (this.#stderr + dec.decode(value, { stream: true })).slice(-2048);
      }
    } catch { /* process gone */ }
  }

  // Latency: now minus the arrival of the newest AAC frame that starts at or before this packet.
  #measure(ts: number): void {
    let best = -1;
    let bestTs = -Infinity;
    for (let i = 0; i < ARRIVALS; i++) {
      const t = this.#arrTs[i];
      if (this.#arrAt[i] > 0 && t <= ts && t > bestTs) {
        bestTs = t;
        best = i;
      }
    }
    if (best < 0 || ts - bestTs > 48000) return;
    const ms = performance.now() - this.#arrAt[best];
    this.latencyMs = this.latencyMs === 0 ? ms : this.latencyMs * 0.9 + ms * 0.1;
  }

  #end(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.close().catch(() => {});
    this.#child.kill();
    this.#log.warn("opus transcoder ended", { reason });
    this.#options.onExit?.(reason);
  }

  /** Kills ffmpeg. Idempotent; no {@link OpusTranscoderOptions.onExit} call. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.close().catch(() => {});
    this.#child.kill();
  }
}
