/**
 * What each HTTP output asks a stream for, from go2rtc's query conventions: `video=`/`audio=`
 * filters (`h264,h265`, `all`, `copy`), and for MP4-based outputs `mp4`, `mp4=flac`, `mp4=all`.
 *
 * @module
 */
import { type Codec, CodecName } from "../../core/codec.ts";
import { type Media, parseMediaQuery } from "../../core/media.ts";

/** Codec names an output can carry, per kind, in order of preference. */
export interface OutputCodecs {
  video: readonly string[];
  audio: readonly string[];
}

/** fMP4 (MSE, `/api/stream.mp4`, HLS fMP4): PCMA/PCMU/L16 are written as FLAC. */
export const MP4_CODECS: OutputCodecs = {
  video: ["H264", "H265"],
  audio: ["MPEG4-GENERIC", "OPUS", "PCMA", "PCMU", "L16"],
};

/** MPEG-TS (`/api/stream.ts`, HLS TS). */
export const TS_CODECS: OutputCodecs = { video: ["H264", "H265"], audio: ["MPEG4-GENERIC", "OPUS"] };

/** FLV (`/api/stream.flv`). */
export const FLV_CODECS: OutputCodecs = { video: ["H264", "H265"], audio: ["MPEG4-GENERIC", "PCMA", "PCMU"] };

function codecs(names: readonly string[]): Codec[] {
  return names.map((name) => ({ name, clockRate: 0 }));
}

/**
 * Medias for an output that carries `supported`: the `video=`/`audio=` filters of the query when
 * there are any (a wildcard becomes the supported list, codecs it cannot carry are left out), else
 * `defaults` (default: everything supported).
 *
 * @example
 * ```ts
 * outputMedias(new URLSearchParams("video=h264"), TS_CODECS);
 * // [{ kind: "video", direction: "sendonly", codecs: [{ name: "H264", ... }] }]
 * ```
 */
export function outputMedias(query: URLSearchParams, supported: OutputCodecs, defaults?: OutputCodecs): Media[] {
  if (!query.has("video") && !query.has("audio")) {
    const d = defaults ?? supported;
    const out: Media[] = [];
    if (d.video.length) out.push({ kind: "video", direction: "sendonly", codecs: codecs(d.video) });
    if (d.audio.length) out.push({ kind: "audio", direction: "sendonly", codecs: codecs(d.audio) });
    return out;
  }
  const out: Media[] = [];
  for (const media of parseMediaQuery(query)) {
    if (media.direction !== "sendonly") continue;
    const allowed = supported[media.kind];
    const list: Codec[] = [];
    for (const c of media.codecs) {
      if (c.name === CodecName.ALL) list.push(c);
      else if (c.name === CodecName.ANY) list.push(...codecs(allowed));
      else if (allowed.includes(c.name)) list.push(c);
    }
    // A filter naming only codecs this output cannot carry still counts as a request, so the
    // stream answers with a codec mismatch that names them instead of silently dropping the media.
    out.push({ kind: media.kind, direction: "sendonly", codecs: list.length ? list : media.codecs });
  }
  return out;
}

/**
 * Medias for MP4-based outputs: `mp4` (H.264/H.265 + AAC), `mp4=flac` (adds PCMA/PCMU/L16 as
 * FLAC), `mp4=all` (adds Opus too), `video=`/`audio=` filters, or by default everything fMP4 carries.
 *
 * @example
 * ```ts
 * mp4Medias(new URLSearchParams("mp4=flac"))[1].codecs.map((c) => c.name);
 * // ["MPEG4-GENERIC", "PCMA", "PCMU", "L16"]
 * ```
 */
export function mp4Medias(query: URLSearchParams): Media[] {
  if (query.has("mp4") && !query.has("video") && !query.has("audio")) {
    const mode = (query.get("mp4") ?? "").toLowerCase();
    const audio = mode === "all"
      ? MP4_CODECS.audio
      : mode === "flac"
      ? ["MPEG4-GENERIC", "PCMA", "PCMU", "L16"]
      : ["MPEG4-GENERIC"];
    return outputMedias(query, MP4_CODECS, { video: MP4_CODECS.video, audio });
  }
  return outputMedias(query, MP4_CODECS);
}
