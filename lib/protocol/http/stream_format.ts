/**
 * Content sniffing for HTTP and TCP sources: which media format a body carries, from its
 * `Content-Type` and its first bytes (go2rtc's `magic` autodetection).
 *
 * Magic bytes win over the header: cameras often send `application/octet-stream` or `text/plain`
 * for a perfectly good stream. The header decides only where the bytes cannot: `image/jpeg` (one
 * snapshot, polled) versus a JPEG stream, and HLS playlists served under odd names.
 *
 * @module
 */
import { isAdts } from "../../codec/aac/adts.ts";
import { detectAnnexb } from "./annexb_stream.ts";

/**
 * A media format an HTTP or TCP source can carry:
 * - `multipart`: `multipart/x-mixed-replace` MJPEG (IP cameras, ffmpeg `-f mpjpeg`);
 * - `mjpeg`: concatenated JPEG images without headers (ffmpeg `-f mjpeg`);
 * - `jpeg`: one JPEG snapshot per request (polled);
 * - `flv`: HTTP-FLV; `mpegts`: MPEG-TS; `adts`: AAC with ADTS headers; `hls`: an HLS playlist (`.m3u8`);
 * - `h264`, `h265`: a raw Annex-B video stream (ffmpeg `-f h264`, `-f hevc`).
 */
export type StreamFormat =
  | "multipart"
  | "mjpeg"
  | "jpeg"
  | "flv"
  | "mpegts"
  | "adts"
  | "h264"
  | "h265"
  | "hls";

/** Each format's name for messages. */
export const STREAM_FORMAT_LABEL: Record<StreamFormat, string> = {
  multipart: "MJPEG multipart",
  mjpeg: "raw JPEG stream",
  jpeg: "JPEG image",
  flv: "FLV",
  mpegts: "MPEG-TS",
  adts: "ADTS AAC",
  h264: "H.264 Annex-B",
  h265: "H.265 Annex-B",
  hls: "HLS playlist",
};

/** Every format's name, for messages. */
export const STREAM_FORMAT_NAMES =
  "MJPEG (multipart/x-mixed-replace or raw JPEG), JPEG snapshots, HTTP-FLV, MPEG-TS, ADTS AAC, raw H.264/H.265, HLS (.m3u8)";

const HLS_TYPES = new Set([
  "application/vnd.apple.mpegurl",
  "application/x-mpegurl",
  "audio/mpegurl",
  "audio/x-mpegurl",
]);

/** The media type of a `Content-Type` value, lower-cased without parameters. */
export function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

function startsWithText(head: Uint8Array, text: string): boolean {
  if (head.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (head[i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * Tells the format of a body from its `Content-Type` (may be empty) and first bytes. Returns
 * `"more"` when more bytes are needed to decide, `undefined` when the body is none of
 * {@link StreamFormat}. `single` says the body is known to be one whole object (HTTP with a
 * `Content-Length`, or ended), which turns a JPEG into a polled snapshot.
 *
 * @example
 * ```ts
 * detectStreamFormat("video/x-flv", new TextEncoder().encode("FLV\x01\x05")); // "flv"
 * detectStreamFormat("image/jpeg", new Uint8Array([0xff, 0xd8, 0xff]), { single: true }); // "jpeg"
 * detectStreamFormat("text/html", new TextEncoder().encode("<html>")); // undefined
 * ```
 */
export function detectStreamFormat(
  contentType: string | null | undefined,
  head: Uint8Array,
  options: { single?: boolean; ended?: boolean } = {},
): StreamFormat | "more" | undefined {
  const type = mediaType(contentType);
  const ended = options.ended ?? false;
  if (head.length < 4 && !ended) return "more";
  if (startsWithText(head, "FLV") && head[3] === 1) return "flv";
  if (head[0] === 0x47) {
    if (head.length > 188) {
      if (head[188] === 0x47) return "mpegts";
    } else if (!ended) {
      return "more";
    }
  }
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    return type === "image/jpeg" || options.single ? "jpeg" : "mjpeg";
  }
  if (startsWithText(head, "#EXTM3U")) return "hls";
  const annexb = detectAnnexb(head);
  if (annexb) return annexb === "H264" ? "h264" : "h265";
  // ADTS: a 0xFFF syncword with layer 0 (MP3 has a non-zero layer), and a sane frame length.
  if (isAdts(head)) {
    const length = ((head[3] & 0x03) << 11) | (head[4] << 3) | (head[5] >> 5);
    if (length >= 7) return "adts";
  }
  // A multipart body starts with a delimiter line ("--boundary"), maybe after an empty line.
  let p = 0;
  while (p < head.length && (head[p] === 0x0d || head[p] === 0x0a)) p++;
  if (head[p] === 0x2d && head[p + 1] === 0x2d) {
    if (type.startsWith("multipart/") || type === "" || type === "application/octet-stream") {
      return "multipart";
    }
    // "--" with any other type: look for a part header to be sure.
    const text = new TextDecoder().decode(head.subarray(0, 512)).toLowerCase();
    if (text.includes("content-type:") || text.includes("content-length:")) return "multipart";
    if (head.length < 512 && !ended) return "more";
  }
  if (HLS_TYPES.has(type)) {
    // Byte-order mark or blank lines before #EXTM3U.
    const text = new TextDecoder().decode(head.subarray(0, 64)).replace(/^\uFEFF/, "").trimStart();
    if (text.startsWith("#EXTM3U")) return "hls";
    if (text.length < 7 && !ended) return "more";
  }
  return undefined;
}

/**
 * Describes a body that is not media, for error messages: the content type and the first bytes,
 * as text when they are printable, else as hex.
 *
 * @example
 * ```ts
 * describeBody("text/html", new TextEncoder().encode("<!DOCTYPE html>"));
 * // 'Content-Type "text/html", first bytes "<!DOCTYPE html>"'
 * ```
 */
export function describeBody(contentType: string | null | undefined, head: Uint8Array): string {
  const first = head.subarray(0, 32);
  const printable = first.length > 0 &&
    first.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));
  const bytes = printable
    ? JSON.stringify(new TextDecoder().decode(first))
    : [...first].map((b) => b.toString(16).padStart(2, "0")).join(" ") || "(empty body)";
  return `Content-Type ${contentType ? JSON.stringify(contentType) : "(none)"}, first bytes ${bytes}`;
}
