/**
 * In-band parameter sets for H.264/H.265 keyframes. RTSP cameras often send SPS/PPS only in the
 * SDP (`sprop-parameter-sets`); a browser's WebRTC decoder has no SDP fmtp to read them from, so a
 * keyframe without them in-band gets them put in front (AVCC), as go2rtc does.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { h264ParameterSetsFromFmtp } from "../../codec/h264/fmtp.ts";
import { h265ParameterSetsFromFmtp } from "../../codec/h265/fmtp.ts";

/**
 * The codec's parameter sets as AVCC (length-prefixed NAL units), or undefined when its fmtp has
 * none (or is not H.264/H.265).
 *
 * @example
 * ```ts
 * const prefix = parameterSetPrefix(codec); // SPS + PPS, each with a 4-byte length
 * ```
 */
export function parameterSetPrefix(codec: Codec): Uint8Array | undefined {
  let sets: (Uint8Array | undefined)[] = [];
  try {
    if (codec.name === "H264") {
      const p = h264ParameterSetsFromFmtp(codec.fmtp);
      sets = [p.sps, p.pps];
    } else if (codec.name === "H265") {
      const p = h265ParameterSetsFromFmtp(codec.fmtp);
      sets = [p.vps, p.sps, p.pps];
    }
  } catch {
    return undefined; // bad base64 in the fmtp: frames go as they are
  }
  const present = sets.filter((s): s is Uint8Array => !!s && s.length > 0);
  if (present.length === 0) return undefined;
  const out = new Uint8Array(present.reduce((n, s) => n + 4 + s.length, 0));
  let p = 0;
  for (const s of present) {
    new DataView(out.buffer).setUint32(p, s.length);
    out.set(s, p + 4);
    p += 4 + s.length;
  }
  return out;
}

/**
 * Whether an AVCC access unit carries an SPS (H.264 type 7, H.265 type 33). Walks the length
 * prefixes without copying; malformed data counts as "has them" so it is left alone.
 *
 * @example
 * ```ts
 * hasInBandSps("H264", frame.data);
 * ```
 */
export function hasInBandSps(codecName: string, data: Uint8Array): boolean {
  let p = 0;
  while (p + 4 <= data.length) {
    const len = ((data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3]) >>> 0;
    const start = p + 4;
    if (len === 0 || start + len > data.length) return true;
    const type = codecName === "H264" ? data[start] & 0x1f : (data[start] >> 1) & 0x3f;
    if (type === (codecName === "H264" ? 7 : 33)) return true;
    p = start + len;
  }
  return false;
}

/**
 * `data` with `prefix` in front (one copy, for keyframes only).
 *
 * @example
 * ```ts
 * const au = frame.keyframe && !hasInBandSps("H264", frame.data) ? withPrefix(prefix, frame.data) : frame.data;
 * ```
 */
export function withPrefix(prefix: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + data.length);
  out.set(prefix, 0);
  out.set(data, prefix.length);
  return out;
}
