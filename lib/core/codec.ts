/**
 * Codec descriptions and matching, as in SDP `a=rtpmap`/`a=fmtp`.
 *
 * @module
 */

/**
 * A codec as negotiated between a source and a viewer.
 *
 * `name` is upper case as in SDP (`H264`, `H265`, `MPEG4-GENERIC` for AAC, `OPUS`, `PCMA`...).
 * `clockRate` is the RTP clock (90000 for video, the sample rate for most audio).
 *
 * @example
 * ```ts
 * const h264: Codec = { name: "H264", clockRate: 90000, payloadType: 96, fmtp: "packetization-mode=1" };
 * ```
 */
export interface Codec {
  name: string;
  clockRate: number;
  channels?: number;
  /** The `a=fmtp` parameters, without the payload type: `packetization-mode=1;sprop-parameter-sets=...`. */
  fmtp?: string;
  payloadType?: number;
}

/** Codec names used across strom, spelled as in SDP. */
export const CodecName = {
  H264: "H264",
  H265: "H265",
  VP8: "VP8",
  VP9: "VP9",
  AV1: "AV1",
  JPEG: "JPEG",
  RAW: "RAW",
  PCMU: "PCMU",
  PCMA: "PCMA",
  AAC: "MPEG4-GENERIC",
  OPUS: "OPUS",
  G722: "G722",
  MPA: "MPA",
  L16: "L16",
  PCML: "PCML",
  FLAC: "FLAC",
  /** Any codec the source has (query value `copy` or empty). */
  ANY: "ANY",
  /** Every codec the source has, one track each (query value `all`). */
  ALL: "ALL",
} as const;

/** Kind of a media line. */
export type MediaKind = "video" | "audio";

const VIDEO_CODECS = new Set(["H264", "H265", "VP8", "VP9", "AV1", "JPEG", "RAW"]);

/**
 * Whether a codec name is a video codec.
 *
 * @example
 * ```ts
 * isVideoCodec("H264"); // true
 * ```
 */
export function isVideoCodec(name: string): boolean {
  return VIDEO_CODECS.has(name.toUpperCase());
}

/**
 * go2rtc's codec match: equal names, clock rate equal or unset on the remote side, channel count
 * equal or unset; a remote `ANY`/`ALL` matches anything.
 *
 * @example
 * ```ts
 * codecMatch({ name: "PCMA", clockRate: 8000 }, { name: "PCMA", clockRate: 0 }); // true
 * ```
 */
export function codecMatch(local: Codec, remote: Codec): boolean {
  if (remote.name === CodecName.ANY || remote.name === CodecName.ALL) return true;
  if (local.name !== remote.name) return false;
  if (remote.clockRate && local.clockRate && remote.clockRate !== local.clockRate) return false;
  // Opus: one RTP payload format for mono and stereo (RFC 7587 section 7: always "opus/48000/2";
  // every decoder plays both), so a mono Opus source fits a peer's opus/48000/2.
  if (local.name === "OPUS") return true;
  if (remote.channels && local.channels && remote.channels !== local.channels) {
    // Mono and unset are the same thing for audio.
    if (!(remote.channels <= 1 && local.channels <= 1)) return false;
  }
  return true;
}

const SHORT_NAMES: Record<string, string> = {
  h264: "H264",
  avc: "H264",
  h265: "H265",
  hevc: "H265",
  aac: "MPEG4-GENERIC",
  "mpeg4-generic": "MPEG4-GENERIC",
  opus: "OPUS",
  pcma: "PCMA",
  pcmu: "PCMU",
  mjpeg: "JPEG",
  jpeg: "JPEG",
  vp8: "VP8",
  vp9: "VP9",
  av1: "AV1",
  flac: "FLAC",
  pcm: "L16",
  pcml: "PCML",
  g722: "G722",
  mp3: "MPA",
  copy: "ANY",
  "": "ANY",
  all: "ALL",
  any: "ANY",
};

/**
 * Parses go2rtc's short codec strings: `h264`, `aac`, `pcma/16000`, `opus/48000/2`, `all`, `copy`.
 *
 * @example
 * ```ts
 * parseCodecString("pcma/16000/1"); // { name: "PCMA", clockRate: 16000, channels: 1 }
 * ```
 */
export function parseCodecString(text: string): Codec {
  const [rawName, rate, channels] = text.trim().split("/");
  const lower = (rawName ?? "").toLowerCase();
  const name = SHORT_NAMES[lower] ?? lower.toUpperCase();
  const codec: Codec = { name, clockRate: rate ? Number(rate) : defaultClockRate(name) };
  if (channels) codec.channels = Number(channels);
  return codec;
}

/**
 * The usual clock rate of a codec when none is given (0 = any).
 *
 * @example
 * ```ts
 * defaultClockRate("H264"); // 90000
 * ```
 */
export function defaultClockRate(name: string): number {
  if (isVideoCodec(name)) return 90000;
  switch (name) {
    case "PCMA":
    case "PCMU":
    case "G722":
      return 8000;
    case "OPUS":
      return 48000;
    default:
      return 0;
  }
}

/**
 * Short human form used in logs, errors and `/api/streams`: `H264/90000`, `OPUS/48000/2`.
 *
 * @example
 * ```ts
 * codecToString({ name: "OPUS", clockRate: 48000, channels: 2 }); // "OPUS/48000/2"
 * ```
 */
export function codecToString(codec: Codec): string {
  let s = codec.name;
  if (codec.clockRate) s += `/${codec.clockRate}`;
  if (codec.channels && codec.channels > 1) s += `/${codec.channels}`;
  return s;
}

/**
 * Reads one `key=value` parameter of an fmtp line, case-insensitively.
 *
 * @example
 * ```ts
 * fmtpParam("packetization-mode=1;profile-level-id=42e01f", "profile-level-id"); // "42e01f"
 * ```
 */
export function fmtpParam(fmtp: string | undefined, key: string): string | undefined {
  if (!fmtp) return undefined;
  const want = key.toLowerCase();
  for (const part of fmtp.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim().toLowerCase() === want) return part.slice(eq + 1).trim();
  }
  return undefined;
}
