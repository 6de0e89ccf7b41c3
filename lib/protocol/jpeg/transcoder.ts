/**
 * A running H.264/H.265 -> MJPEG transcoder: one ffmpeg process that reads Annex-B on stdin and
 * writes one JPEG per frame on stdout. Used by `/api/stream.mjpeg` (and MJPEG over `/api/ws`) for
 * sources that are not JPEG already.
 *
 * Backpressure runs end to end: a slow viewer makes `onJpeg` wait, the stdout pipe fills, ffmpeg
 * stalls, `write` waits, and the viewer's bounded frame queue drops to the next keyframe.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type ChildProcess, spawn, SpawnError } from "../../runtime/process.ts";
import { JpegSplitter } from "../exec/jpeg_splitter.ts";
import { frameToAnnexb, rawDemuxerOf } from "./annexb_frame.ts";
import { JpegEncodeError } from "./errors.ts";
import { jpegFfmpegArgs, type JpegPictureOptions } from "./ffmpeg_args.ts";
import { StderrTail } from "./_process_io.ts";

/** Options of a {@link MjpegTranscoder}. */
export interface MjpegTranscoderOptions extends JpegPictureOptions {
  /** The source codec: H264 or H265. */
  codec: Codec;
  /** Receives each JPEG; a returned promise makes the transcoder wait (slow viewer). */
  onJpeg: (jpeg: Uint8Array) => void | Promise<void>;
  /** Called once when ffmpeg ended without {@link MjpegTranscoder.close}, with its last stderr lines. */
  onExit?: (error: JpegEncodeError) => void;
  /** The ffmpeg binary. Default `ffmpeg`. */
  ffmpegBin?: string;
  log?: Logger;
}

/**
 * One ffmpeg turning a video track into JPEGs.
 *
 * @example
 * ```ts
 * const t = new MjpegTranscoder({ codec, onJpeg: (jpeg) => body.write(multipart.push(jpeg)) });
 * await t.write(frame); // for every frame, from a keyframe on
 * t.close();
 * ```
 */
export class MjpegTranscoder {
  /** JPEGs produced. */
  images = 0;
  readonly #codec: Codec;
  readonly #child: ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stderr: StderrTail;
  readonly #log: Logger;
  #closed = false;

  /** @throws {JpegEncodeError} `FfmpegMissing` or `UnsupportedCodec`. */
  constructor(options: MjpegTranscoderOptions) {
    const input = rawDemuxerOf(options.codec);
    if (!input) {
      throw new JpegEncodeError("UnsupportedCodec", `Cannot transcode ${options.codec.name} to MJPEG: only H264 and H265 are supported`);
    }
    this.#codec = options.codec;
    this.#log = options.log ?? silentLogger;
    const bin = options.ffmpegBin || "ffmpeg";
    try {
      this.#child = spawn(bin, jpegFfmpegArgs(input, options), { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    } catch (error) {
      if (error instanceof SpawnError && error.code === "NotFound") {
        throw new JpegEncodeError(
          "FfmpegMissing",
          `Cannot transcode ${options.codec.name} to MJPEG: ffmpeg ("${bin}") was not found. Install ffmpeg or set ffmpeg.bin in the config.`,
          { cause: error },
        );
      }
      throw new JpegEncodeError("EncodeFailed", `Cannot start ffmpeg ("${bin}"): ${(error as Error).message}`, { cause: error });
    }
    this.#writer = this.#child.stdin!.getWriter();
    this.#writer.closed.catch(() => {}); // a dead ffmpeg is reported through onExit
    this.#stderr = new StderrTail(this.#child.stderr);
    void this.#pump(this.#child.stdout!, options.onJpeg);
    void this.#child.exited.then(async (status) => {
      await this.#stderr.done;
      if (this.#closed) return;
      this.#closed = true;
      const tail = this.#stderr.toString();
      options.onExit?.(
        new JpegEncodeError("EncodeFailed", `ffmpeg MJPEG transcoder exited (${status.code ?? status.signal})${tail ? `: ${tail}` : ""}`),
      );
    });
  }

  /** Feeds one frame (Annex-B conversion included). Resolves when ffmpeg took it. */
  write(frame: Frame): Promise<void> | void {
    if (this.#closed) return;
    return this.#writer.write(frameToAnnexb(this.#codec, frame)).catch((error) => {
      if (!this.#closed) this.#log.debug("mjpeg transcoder stdin failed", { error });
    });
  }

  /** Stops ffmpeg. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.abort().catch(() => {});
    this.#child.kill("SIGKILL");
  }

  async #pump(stdout: ReadableStream<Uint8Array>, onJpeg: (jpeg: Uint8Array) => void | Promise<void>): Promise<void> {
    const ready: Uint8Array[] = [];
    const splitter = new JpegSplitter((jpeg) => ready.push(jpeg));
    const reader = stdout.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.#closed) break;
        splitter.push(value);
        for (let i = 0; i < ready.length; i++) {
          this.images++;
          const wait = onJpeg(ready[i]);
          if (wait) await wait;
        }
        ready.length = 0;
      }
    } catch (error) {
      if (!this.#closed) this.#log.debug("mjpeg transcoder stdout failed", { error });
    } finally {
      reader.cancel().catch(() => {});
    }
  }
}
