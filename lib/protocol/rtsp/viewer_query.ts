/**
 * go2rtc's RTSP viewer query: which medias a viewer asks for (`?video=h264&audio=aac`, `?mp4`,
 * `?backchannel=1`...), parsed from the URL of its DESCRIBE.
 *
 * @module
 */
import { CodecName } from "../../core/codec.ts";
import type { Media } from "../../core/media.ts";

/**
 * The medias a viewer asks for with go2rtc's RTSP query: `?video=h264&audio=aac`, `?video=all`,
 * `?mp4` (H.264/H.265 + AAC), `?backchannel=1` (adds the viewer's audio towards the source).
 * An empty query uses `defaultQuery` (go2rtc's `video&audio`).
 *
 * @example
 * ```ts
 * viewerMedias(new URLSearchParams("mp4"), "video&audio", parseMediaQuery);
 * // [video sendonly H264,H265], [audio sendonly MPEG4-GENERIC]
 * ```
 */
export function viewerMedias(
  query: URLSearchParams,
  defaultQuery: string,
  parse: (q: URLSearchParams) => Media[],
): Media[] {
  const filtered = new URLSearchParams();
  for (const [k, v] of query) {
    if (k === "video" || k === "audio" || k === "mp4" || k === "backchannel") filtered.append(k, v);
  }
  const q = [...filtered.keys()].some((k) => k !== "backchannel")
    ? filtered
    : new URLSearchParams(defaultQuery);
  let medias: Media[];
  if (q.has("mp4")) {
    medias = [
      {
        kind: "video",
        direction: "sendonly",
        codecs: [{ name: CodecName.H264, clockRate: 90000 }, { name: CodecName.H265, clockRate: 90000 }],
      },
      { kind: "audio", direction: "sendonly", codecs: [{ name: CodecName.AAC, clockRate: 0 }] },
    ];
  } else {
    medias = parse(q);
  }
  const bc = query.get("backchannel");
  if (bc === "1" || bc === "true") {
    // What a viewer's microphone can be turned into for a camera speaker (go2rtc's list).
    medias.push({
      kind: "audio",
      direction: "recvonly",
      codecs: [
        { name: CodecName.OPUS, clockRate: 48000, channels: 2 },
        { name: CodecName.PCMA, clockRate: 16000 },
        { name: CodecName.PCMU, clockRate: 16000 },
        { name: CodecName.PCMA, clockRate: 8000 },
        { name: CodecName.PCMU, clockRate: 8000 },
        { name: CodecName.AAC, clockRate: 16000 },
        { name: CodecName.AAC, clockRate: 8000 },
      ],
    });
  }
  return medias;
}
