/**
 * The in-process transcoder for two-way audio between PCM-family codecs (PCMA, PCMU, L16, PCML at
 * any rate): e.g. a talker's PCMU/8000 to a camera's PCMA/8000, or L16/16000 to PCMA/8000. No
 * process, no extra latency: each frame is converted in the talker's drain.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { AudioTranscoder, AudioTranscoderFactory } from "../../core/backchannel.ts";
import { Receiver, Sender } from "../../core/fanout.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { isPcmCodec, PcmTranscoder } from "./transcode.ts";

/**
 * Converts one talker's PCM-family audio into another PCM-family codec.
 *
 * @example
 * ```ts
 * const tc = new PcmAudioTranscoder(micReceiver, { name: "PCMA", clockRate: 8000 }, cameraMedia);
 * await camera.addTrack(cameraMedia, tc.output.codec, tc.output);
 * ```
 */
export class PcmAudioTranscoder implements AudioTranscoder {
  readonly output: Receiver;
  readonly #input: Sender;
  readonly #pcm: PcmTranscoder;
  readonly #ratio: number;

  constructor(input: Receiver, to: Codec, media: Media) {
    this.#pcm = new PcmTranscoder(input.codec, to);
    this.#ratio = (to.clockRate || 8000) / (input.codec.clockRate || 8000);
    this.output = new Receiver(media, to);
    this.#input = new Sender(input.media, input.codec, this.#onFrame, { capacity: 64 });
    input.addSender(this.#input);
  }

  readonly #onFrame = (frame: Frame): void => {
    const data = this.#pcm.transcode(frame.data);
    if (!data.length) return;
    this.output.push({ timestamp: Math.round(frame.timestamp * this.#ratio) >>> 0, keyframe: true, data });
  };

  close(): void {
    this.#input.close();
  }
}

/**
 * The factory for {@link PcmAudioTranscoder}, named `pcm`.
 *
 * @example
 * ```ts
 * registerAudioTranscoder(pcmAudioTranscoderFactory);
 * ```
 */
export const pcmAudioTranscoderFactory: AudioTranscoderFactory = {
  name: "pcm",
  canTranscode: (from, to) => isPcmCodec(from) && isPcmCodec(to),
  create: (input, to, media) => new PcmAudioTranscoder(input, to, media),
};
