/**
 * The codec list an MSE player sends (`{"type":"mse","value":"avc1.640029,hvc1.1.6.L153.B0,mp4a.40.2,flac,opus"}`:
 * the RFC 6381 strings its `MediaSource.isTypeSupported` accepted) turned into the medias strom asks
 * the stream for, as go2rtc's `mp4.ParseCodecs`.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Media } from "../../core/media.ts";

function push(list: Codec[], name: string): void {
  if (!list.some((c) => c.name === name)) list.push({ name, clockRate: 0 });
}

/**
 * Medias for an MSE player: `avc1.*` -> H264, `hvc1.*`/`hev1.*` -> H265, `mp4a.40.*` -> AAC,
 * `opus` -> OPUS, `flac` -> PCMA, PCMU and L16 (strom writes them as FLAC). Unknown entries are
 * ignored; an empty list asks for H.264 + AAC (what every MSE browser plays).
 *
 * @example
 * ```ts
 * parseMseCodecs("avc1.640029,mp4a.40.2,flac");
 * // [{ kind: "video", ..., codecs: [H264] }, { kind: "audio", ..., codecs: [MPEG4-GENERIC, PCMA, PCMU, L16] }]
 * ```
 */
export function parseMseCodecs(value: string): Media[] {
  const video: Codec[] = [];
  const audio: Codec[] = [];
  for (const raw of value.split(",")) {
    const s = raw.trim().toLowerCase();
    if (!s) continue;
    if (s.startsWith("avc1") || s.startsWith("avc3")) push(video, "H264");
    else if (s.startsWith("hvc1") || s.startsWith("hev1")) push(video, "H265");
    else if (s.startsWith("mp4a.40")) push(audio, "MPEG4-GENERIC");
    else if (s === "opus") push(audio, "OPUS");
    else if (s === "flac") {
      push(audio, "PCMA");
      push(audio, "PCMU");
      push(audio, "L16");
    }
  }
  if (!video.length && !audio.length) {
    push(video, "H264");
    push(audio, "MPEG4-GENERIC");
  }
  const medias: Media[] = [];
  if (video.length) medias.push({ kind: "video", direction: "sendonly", codecs: video });
  if (audio.length) medias.push({ kind: "audio", direction: "sendonly", codecs: audio });
  return medias;
}
