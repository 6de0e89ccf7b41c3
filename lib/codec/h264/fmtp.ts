/**
 * H.264 SDP fmtp parameters (RFC 6184 section 8.1): sprop-parameter-sets, profile-level-id,
 * packetization-mode.
 *
 * ```text
 * a=fmtp:96 packetization-mode=1;profile-level-id=64001f;sprop-parameter-sets=Z2QAH6zZ...,aOvjyyLA
 * ```
 *
 * @module
 */
import { base64ToBytes, bytesToBase64 } from "../../core/bytes.ts";
import { fmtpParam } from "../../core/codec.ts";
import { H264NalType } from "./nal.ts";
import { h264ProfileLevelId } from "./profile_level_id.ts";

/**
 * Decodes a sprop-parameter-sets value: comma-separated base64 NAL units. Empty entries are skipped.
 *
 * @throws {SyntaxError} when an entry is not valid base64.
 * @example
 * ```ts
 * const [sps, pps] = parseSpropParameterSets("Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==");
 * ```
 */
export function parseSpropParameterSets(value: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const part of value.split(",")) {
    if (!part.trim()) continue;
    const nal = base64ToBytes(part, { lenient: true });
    if (nal.length) out.push(nal);
  }
  return out;
}

/**
 * Encodes NAL units as a sprop-parameter-sets value.
 *
 * @example
 * ```ts
 * buildSpropParameterSets([sps, pps]); // "Z2QAH6zZ...,aOvjyyLA"
 * ```
 */
export function buildSpropParameterSets(nals: readonly Uint8Array[]): string {
  return nals.map(bytesToBase64).join(",");
}

/**
 * The SPS and PPS carried in an fmtp line's sprop-parameter-sets, if any.
 *
 * @throws {SyntaxError} when the value is not valid base64.
 * @example
 * ```ts
 * const { sps, pps } = h264ParameterSetsFromFmtp(codec.fmtp);
 * ```
 */
export function h264ParameterSetsFromFmtp(fmtp: string | undefined): { sps?: Uint8Array; pps?: Uint8Array } {
  const value = fmtpParam(fmtp, "sprop-parameter-sets");
  const out: { sps?: Uint8Array; pps?: Uint8Array } = {};
  if (!value) return out;
  for (const nal of parseSpropParameterSets(value)) {
    const type = nal[0] & 0x1f;
    if (type === H264NalType.SPS && !out.sps) out.sps = nal;
    else if (type === H264NalType.PPS && !out.pps) out.pps = nal;
  }
  return out;
}

/**
 * Builds an fmtp line for H.264 over RTP: packetization-mode=1 (non-interleaved), and when an SPS is
 * given, profile-level-id and sprop-parameter-sets.
 *
 * @example
 * ```ts
 * buildH264Fmtp({ sps, pps }); // "packetization-mode=1;profile-level-id=64001f;sprop-parameter-sets=Z2Q...,aOv..."
 * ```
 */
export function buildH264Fmtp(
  o: { sps?: Uint8Array; pps?: Uint8Array; packetizationMode?: number } = {},
): string {
  let s = `packetization-mode=${o.packetizationMode ?? 1}`;
  if (o.sps && o.sps.length >= 4) s += `;profile-level-id=${h264ProfileLevelId(o.sps)}`;
  const sets = [o.sps, o.pps].filter((n): n is Uint8Array => !!n && n.length > 0);
  if (sets.length) s += `;sprop-parameter-sets=${buildSpropParameterSets(sets)}`;
  return s;
}
