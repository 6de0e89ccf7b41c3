/**
 * H.265 SDP fmtp parameters (RFC 7798 section 7.1): sprop-vps, sprop-sps, sprop-pps (each a
 * comma-separated list of base64 NAL units) and sprop-max-don-diff.
 *
 * ```text
 * a=fmtp:96 sprop-vps=QAEMAf//...;sprop-sps=QgEBAWAA...;sprop-pps=RAHBcrRiQA==
 * ```
 *
 * @module
 */
import { fmtpParam } from "../../core/codec.ts";
import { bytesToBase64 } from "../../core/bytes.ts";
import { parseSpropParameterSets } from "../h264/fmtp.ts";

/**
 * The parameter sets of an H.265 stream.
 *
 * @example
 * ```ts
 * const sets: H265ParameterSets = { vps, sps, pps };
 * ```
 */
export interface H265ParameterSets {
  vps?: Uint8Array;
  sps?: Uint8Array;
  pps?: Uint8Array;
}

/**
 * The first VPS, SPS and PPS of an fmtp line's sprop-vps / sprop-sps / sprop-pps.
 *
 * @throws {SyntaxError} when a value is not valid base64.
 * @example
 * ```ts
 * const { vps, sps, pps } = h265ParameterSetsFromFmtp(codec.fmtp);
 * ```
 */
export function h265ParameterSetsFromFmtp(fmtp: string | undefined): H265ParameterSets {
  const out: H265ParameterSets = {};
  for (const key of ["vps", "sps", "pps"] as const) {
    const value = fmtpParam(fmtp, `sprop-${key}`);
    const first = value ? parseSpropParameterSets(value)[0] : undefined;
    if (first) out[key] = first;
  }
  return out;
}

/**
 * sprop-max-don-diff from an fmtp line (0 when absent). Above 0, RTP payloads carry DON fields.
 *
 * @example
 * ```ts
 * h265MaxDonDiff("sprop-max-don-diff=2"); // 2
 * ```
 */
export function h265MaxDonDiff(fmtp: string | undefined): number {
  const v = Number(fmtpParam(fmtp, "sprop-max-don-diff") ?? 0);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/**
 * Builds the fmtp parameters for H.265 over RTP from the parameter sets that are known.
 *
 * @example
 * ```ts
 * buildH265Fmtp({ vps, sps, pps }); // "sprop-vps=QAEM...;sprop-sps=QgEB...;sprop-pps=RAHB..."
 * ```
 */
export function buildH265Fmtp(sets: H265ParameterSets): string {
  const parts: string[] = [];
  for (const key of ["vps", "sps", "pps"] as const) {
    const nal = sets[key];
    if (nal && nal.length) parts.push(`sprop-${key}=${bytesToBase64(nal)}`);
  }
  return parts.join(";");
}
