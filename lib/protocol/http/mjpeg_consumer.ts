/**
 * MJPEG output (`/api/stream.mjpeg`, `{"type":"mjpeg"}` on `/api/ws`): JPEG sources pass through;
 * H.264/H.265 go through one ffmpeg transcoder per consumer. The server shares one consumer among
 * viewers with the same picture options: see `MjpegFeeds` in `../jpeg/shared_transcoder.ts`.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { Logger } from "../../core/log.ts";
import type { Media } from "../../core/media.ts";
import type { JpegPictureOptions } from "../jpeg/ffmpeg_args.ts";
import { MjpegTranscoder } from "../jpeg/transcoder.ts";
import { OutputConsumer, type OutputPeer } from "./output_consumer.ts";

/** What MJPEG outputs ask a stream for: JPEG first, else H.264/H.265 to transcode. */
export const MJPEG_MEDIAS: readonly Media[] = [{
  kind: "video",
  direction: "sendonly",
  codecs: [{ name: "JPEG", clockRate: 0 }, { name: "H264", clockRate: 0 }, { name: "H265", clockRate: 0 }],
}];

/** Options of an {@link MjpegConsumer}. */
export interface MjpegConsumerOptions extends JpegPictureOptions {
  /** Receives each JPEG; a returned promise makes the output wait (slow viewer). */
  onJpeg: (jpeg: Uint8Array) => void | Promise<void>;
  /** The ffmpeg binary for transcoding. Default `ffmpeg`. */
  ffmpegBin?: string;
  /** `mjpeg` (default) or e.g. `mse/mjpeg`. */
  format?: string;
  peer?: OutputPeer;
  log?: Logger;
}

const CARRIED = new Set(["JPEG", "H264", "H265"]);

/**
 * A viewer that receives one JPEG per frame.
 *
 * @example
 * ```ts
 * const mw = new MultipartWriter();
 * const mjpeg = new MjpegConsumer({ onJpeg: (jpeg) => body.write(mw.push(jpeg)) });
 * await stream.addConsumer(mjpeg);
 * mjpeg.start(); // throws JpegEncodeError "FfmpegMissing" for H.264 without ffmpeg
 * ```
 */
export class MjpegConsumer extends OutputConsumer {
  readonly #options: MjpegConsumerOptions;
  #transcoder: MjpegTranscoder | undefined;

  constructor(options: MjpegConsumerOptions) {
    super(options.format ?? "mjpeg", MJPEG_MEDIAS.map((m) => ({ ...m, codecs: [...m.codecs] })), options.peer, {
      // Each frame may cost an encode; keep the queue short so a slow viewer sees fresh frames.
      capacity: 32,
    });
    this.#options = options;
  }

  /** The codec being sent (after {@link start}): JPEG passes through, H264/H265 are transcoded. */
  get sourceCodec(): Codec | undefined {
    return this.tracks[0]?.codec;
  }

  protected override accepts(codec: Codec): boolean {
    return CARRIED.has(codec.name.toUpperCase()) && this.tracks.length === 0;
  }

  protected open(): void {
    const codec = this.tracks[0].codec;
    if (codec.name.toUpperCase() === "JPEG") return;
    const o = this.#options;
    this.#transcoder = new MjpegTranscoder({
      codec,
      width: o.width,
      height: o.height,
      rotate: o.rotate,
      quality: o.quality,
      ffmpegBin: o.ffmpegBin,
      log: o.log,
      onJpeg: (jpeg) => {
        this.bytesOut += jpeg.byteLength;
        return o.onJpeg(jpeg);
      },
      onExit: (error) => this.fail(error),
    });
  }

  protected writeFrame(_index: number, frame: Frame): void | Promise<void> {
    if (this.#transcoder) return this.#transcoder.write(frame);
    this.bytesOut += frame.data.byteLength;
    return this.#options.onJpeg(frame.data);
  }

  protected override close(): void {
    this.#transcoder?.close();
  }
}
