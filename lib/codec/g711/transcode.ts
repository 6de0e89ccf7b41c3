/**
 * PCM-family transcoding as go2rtc does it for two-way audio and WebRTC: any of L16 (16-bit
 * big-endian, RFC 3551), PCML (16-bit little-endian), PCMA and PCMU, at any rate and channel count,
 * to any of them (typically PCMA/8000 mono for a camera or a browser).
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from "./companding.ts";
import { Resampler } from "./resample.ts";

/** The sample formats {@link PcmTranscoder} reads and writes, by SDP codec name. */
export type PcmCodecName = "L16" | "PCML" | "PCMA" | "PCMU";

const NAMES = new Set(["L16", "PCML", "PCMA", "PCMU"]);

/**
 * Whether a codec is one {@link PcmTranscoder} handles.
 *
 * @example
 * ```ts
 * isPcmCodec({ name: "PCMA", clockRate: 16000 }); // true
 * ```
 */
export function isPcmCodec(codec: Codec): boolean {
  return NAMES.has(codec.name.toUpperCase());
}

/**
 * Converts audio frames from one PCM-family codec to another, resampling and remixing as needed.
 * Stateful (the resampler carries across frames): use one instance per stream.
 *
 * @example
 * ```ts
 * const tc = new PcmTranscoder({ name: "L16", clockRate: 16000 }, { name: "PCMA", clockRate: 8000 });
 * const pcma = tc.transcode(frame.data); // half as many bytes per 16-bit sample pair
 * ```
 */
export class PcmTranscoder {
  readonly from: Codec;
  readonly to: Codec;
  readonly #resampler: Resampler | undefined;
  readonly #fromName: PcmCodecName;
  readonly #toName: PcmCodecName;

  constructor(from: Codec, to: Codec) {
    if (!isPcmCodec(from) || !isPcmCodec(to)) {
      throw new TypeError(
        `PcmTranscoder converts between L16, PCML, PCMA and PCMU; got ${from.name} -> ${to.name}`,
      );
    }
    this.from = from;
    this.to = to;
    this.#fromName = from.name.toUpperCase() as PcmCodecName;
    this.#toName = to.name.toUpperCase() as PcmCodecName;
    const inputRate = from.clockRate || 8000;
    const outputRate = to.clockRate || 8000;
    const inputChannels = from.channels || 1;
    const outputChannels = to.channels || 1;
    if (inputRate !== outputRate || inputChannels !== outputChannels) {
      this.#resampler = new Resampler({ inputRate, outputRate, inputChannels, outputChannels });
    }
  }

  /** Converts one chunk of encoded audio. */
  transcode(data: Uint8Array): Uint8Array {
    let samples = readSamples(this.#fromName, data);
    if (this.#resampler) samples = this.#resampler.process(samples);
    return writeSamples(this.#toName, samples);
  }
}

function readSamples(name: PcmCodecName, data: Uint8Array): Int16Array {
  switch (name) {
    case "PCMA":
      return decodeAlaw(data);
    case "PCMU":
      return decodeUlaw(data);
    default: {
      const n = data.length >> 1;
      const out = new Int16Array(n);
      const view = new DataView(data.buffer, data.byteOffset, n * 2);
      const little = name === "PCML";
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, little);
      return out;
    }
  }
}

function writeSamples(name: PcmCodecName, samples: Int16Array): Uint8Array {
  switch (name) {
    case "PCMA":
      return encodeAlaw(samples);
    case "PCMU":
      return encodeUlaw(samples);
    default: {
      const out = new Uint8Array(samples.length * 2);
      const view = new DataView(out.buffer);
      const little = name === "PCML";
      for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i], little);
      return out;
    }
  }
}
