/**
 * G.711 and 16-bit PCM at rates browsers do not play, converted in process for a WebRTC viewer:
 * browsers take PCMA and PCMU only at 8 kHz mono (RFC 3551's static payload types 0 and 8), while
 * cameras and `ffmpeg:...#audio=pcma/16000` sources may send G.711 at 16 kHz (or 48 kHz), and `exec:`
 * WAV sources 16-bit PCM at any rate. A viewer whose peer offered G.711 also takes those (the stream
 * matches them through {@link PCM_AT_ANY_RATE}), and {@link PcmRateConverter} turns each frame into
 * the peer's G.711 at 8 kHz: decode, resample and remix, encode (lib/codec/g711/transcode.ts), with
 * timestamps counted in the new rate. No process: 8 kHz audio costs a few microseconds per 20 ms
 * frame, so each viewer converts its own (no shared state to keep between viewers).
 *
 * @module
 */
import { type Codec, codecMatch } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { isPcmCodec, PcmTranscoder } from "../../codec/g711/transcode.ts";

/**
 * What a viewer's audio media also takes, after the peer's own codecs, when the peer takes G.711:
 * PCMA, PCMU and L16 at any rate (clock rate 0 matches every rate).
 */
export const PCM_AT_ANY_RATE: readonly Codec[] = Object.freeze([
  { name: "PCMA", clockRate: 0 },
  { name: "PCMU", clockRate: 0 },
  { name: "L16", clockRate: 0 },
]);

// The G.711 a browser plays: 8 kHz, mono.
function isPlayableG711(c: Codec): boolean {
  return (c.name === "PCMA" || c.name === "PCMU") && (c.clockRate || 8000) === 8000 && (c.channels ?? 1) <= 1;
}

/**
 * A viewer's wanted audio media with {@link PCM_AT_ANY_RATE} added when the peer offered G.711 at
 * 8 kHz (the same media otherwise, video included).
 *
 * @example
 * ```ts
 * withPcmAtAnyRate({ kind: "audio", direction: "sendonly", codecs: [OPUS, PCMA] }).codecs;
 * // [OPUS, PCMA, PCMA/any, PCMU/any, L16/any]
 * ```
 */
export function withPcmAtAnyRate(media: Media): Media {
  if (media.kind !== "audio" || !media.codecs.some(isPlayableG711)) return media;
  return { ...media, codecs: [...media.codecs, ...PCM_AT_ANY_RATE] };
}

/**
 * The peer's G.711 (8 kHz mono, with its payload type) to convert a source's PCM-family codec into:
 * the same name first (PCMA/16000 becomes PCMA/8000), else the other G.711 the peer offered.
 * Undefined when the source is not PCM-family, the peer takes it as it is, or offered no G.711.
 *
 * @example
 * ```ts
 * pcmPeerCodec({ name: "PCMU", clockRate: 16000 }, offered); // the peer's PCMU/8000 (pt 0)
 * ```
 */
export function pcmPeerCodec(source: Codec, offered: readonly Codec[]): Codec | undefined {
  if (!isPcmCodec(source)) return undefined;
  const playable = offered.filter(isPlayableG711);
  if (playable.some((c) => c.name === source.name.toUpperCase() && codecMatch(source, c))) return undefined;
  return playable.find((c) => c.name === source.name.toUpperCase()) ?? playable[0];
}

/**
 * Converts one viewer's PCM-family frames into the peer's G.711 at 8 kHz. Stateful (the resampler
 * and the timestamp count carry across frames): one per viewer track.
 *
 * @example
 * ```ts
 * const conv = new PcmRateConverter({ name: "PCMA", clockRate: 16000 }, peerPcma);
 * const out = conv.convert(frame); // 160 bytes for a 20 ms frame of 320 samples, timestamps at 8 kHz
 * ```
 */
export class PcmRateConverter {
  /** The codec frames come out in (the peer's G.711 at 8 kHz mono). */
  readonly to: Codec;
  readonly #pcm: PcmTranscoder;
  readonly #ratio: number;
  #started = false;
  #lastIn = 0;
  /** Input ticks since the first frame (a double: never wraps in practice). */
  #ticks = 0;

  constructor(from: Codec, peer: Codec) {
    this.to = { name: peer.name, clockRate: 8000, channels: 1, payloadType: peer.payloadType };
    this.#pcm = new PcmTranscoder(from, this.to);
    this.#ratio = 8000 / (from.clockRate || 8000);
  }

  /**
   * One frame in the peer's codec; undefined while the resampler has nothing to give yet. The
   * timestamp moves by the input's step times the rate ratio (RTP wrap-around of the input kept).
   */
  convert(frame: Frame): Frame | undefined {
    const ts = frame.timestamp >>> 0;
    if (this.#started) this.#ticks += (ts - this.#lastIn) | 0;
    this.#started = true;
    this.#lastIn = ts;
    const data = this.#pcm.transcode(frame.data);
    if (data.length === 0) return undefined;
    return { timestamp: Math.round(this.#ticks * this.#ratio) >>> 0, keyframe: true, data };
  }
}
