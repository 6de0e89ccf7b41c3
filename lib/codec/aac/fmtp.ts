/**
 * SDP fmtp parameters of the two AAC RTP payload formats:
 *
 * - `MPEG4-GENERIC` (RFC 3640), mode `AAC-hbr`: `config=` is an AudioSpecificConfig in hex, and
 *   `sizelength`/`indexlength`/`indexdeltalength` describe the AU headers.
 * - `MP4A-LATM` (RFC 6416, formerly RFC 3016): `config=` is a StreamMuxConfig in hex, `cpresent=0`
 *   when it is only out of band.
 *
 * @module
 */
import { bytesToHex } from "../../core/bytes.ts";
import type { Codec } from "../../core/codec.ts";
import { fmtpParam } from "../../core/codec.ts";

/** SDP encoding name of LATM-framed AAC (RFC 6416). */
export const MP4A_LATM = "MP4A-LATM";

/**
 * Decodes a hex string such as an fmtp `config=` value. Non-hex input or an odd length throws.
 *
 * @example
 * ```ts
 * hexToBytes("1210"); // Uint8Array [0x12, 0x10]
 * ```
 */
export function hexToBytes(hex: string): Uint8Array {
  const s = hex.trim();
  if (s.length % 2 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new SyntaxError(`Cannot parse hex "${s}": expected an even number of hex digits`);
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Encodes bytes as lower-case hex, for fmtp `config=` (the shared helper, re-exported here). */
export { bytesToHex };

/**
 * RFC 3640 section 4.1 parameters that shape the AU header section. Unset lengths are 0 (absent).
 *
 * @example
 * ```ts
 * const p = parseAacFmtp("mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210");
 * p.sizeLength; // 13
 * ```
 */
export interface AacFmtp {
  mode: string;
  /** AudioSpecificConfig from `config=` (undefined when missing or not hex). */
  config?: Uint8Array;
  sizeLength: number;
  indexLength: number;
  indexDeltaLength: number;
  ctsDeltaLength: number;
  dtsDeltaLength: number;
  randomAccessIndication: boolean;
  streamStateIndication: number;
  auxiliaryDataSizeLength: number;
  /** `constantsize`: every AU has this size and AU-size is absent. */
  constantSize?: number;
  /** `constantduration`: samples per AU when the AU-Index is not needed. */
  constantDuration?: number;
  profileLevelId?: number;
}

function intParam(fmtp: string | undefined, key: string): number | undefined {
  const v = fmtpParam(fmtp, key);
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Reads the RFC 3640 parameters of an fmtp line. When the line names mode `AAC-hbr` (or gives no
 * lengths at all) the AAC-hbr defaults apply (13/3/3), since cameras often omit them.
 *
 * @example
 * ```ts
 * parseAacFmtp(codec.fmtp).config; // Uint8Array AudioSpecificConfig
 * ```
 */
export function parseAacFmtp(fmtp: string | undefined): AacFmtp {
  const mode = fmtpParam(fmtp, "mode") ?? "";
  const hbrDefaults = /^aac-hbr$/i.test(mode) ||
    (intParam(fmtp, "sizelength") === undefined && intParam(fmtp, "constantsize") === undefined);
  const out: AacFmtp = {
    mode,
    sizeLength: intParam(fmtp, "sizelength") ?? (hbrDefaults ? 13 : 0),
    indexLength: intParam(fmtp, "indexlength") ?? (hbrDefaults ? 3 : 0),
    indexDeltaLength: intParam(fmtp, "indexdeltalength") ?? (hbrDefaults ? 3 : 0),
    ctsDeltaLength: intParam(fmtp, "ctsdeltalength") ?? 0,
    dtsDeltaLength: intParam(fmtp, "dtsdeltalength") ?? 0,
    randomAccessIndication: fmtpParam(fmtp, "randomaccessindication") === "1",
    streamStateIndication: intParam(fmtp, "streamstateindication") ?? 0,
    auxiliaryDataSizeLength: intParam(fmtp, "auxiliarydatasizelength") ?? 0,
  };
  const config = fmtpParam(fmtp, "config");
  if (config) {
    try {
      out.config = hexToBytes(config);
    } catch { /* leave undefined: the caller decides whether a config is required */ }
  }
  const constantSize = intParam(fmtp, "constantsize");
  if (constantSize !== undefined) out.constantSize = constantSize;
  const constantDuration = intParam(fmtp, "constantduration");
  if (constantDuration !== undefined) out.constantDuration = constantDuration;
  const pl = intParam(fmtp, "profile-level-id");
  if (pl !== undefined) out.profileLevelId = pl;
  return out;
}

/**
 * The fmtp line we send for MPEG4-GENERIC AAC (mode AAC-hbr, as go2rtc and ffmpeg do).
 *
 * @example
 * ```ts
 * buildAacFmtp(config); // "profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210"
 * ```
 */
export function buildAacFmtp(config: Uint8Array): string {
  return `profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=${
    bytesToHex(config)
  }`;
}

/** Which AAC RTP payload format a codec uses. */
export type AacPayloadFormat = "mpeg4-generic" | "latm";

/**
 * Detects the AAC RTP payload format from the SDP encoding name: `MPEG4-GENERIC` (RFC 3640) or
 * `MP4A-LATM` (RFC 6416). Anything else is not AAC over RTP.
 *
 * @example
 * ```ts
 * aacPayloadFormat({ name: "MP4A-LATM", clockRate: 44100 }); // "latm"
 * ```
 */
export function aacPayloadFormat(codec: Codec): AacPayloadFormat | undefined {
  const name = codec.name.toUpperCase();
  if (name === "MPEG4-GENERIC") return "mpeg4-generic";
  if (name === MP4A_LATM) return "latm";
  return undefined;
}

/**
 * LATM fmtp parameters (RFC 6416 section 7.3).
 *
 * @example
 * ```ts
 * parseLatmFmtp("profile-level-id=41;cpresent=0;config=400024203fc0").cpresent; // false
 * ```
 */
export function parseLatmFmtp(
  fmtp: string | undefined,
): { cpresent: boolean; config?: Uint8Array; object?: number } {
  // cpresent defaults to 1 (config in band) per RFC 6416.
  const out: { cpresent: boolean; config?: Uint8Array; object?: number } = {
    cpresent: fmtpParam(fmtp, "cpresent") !== "0",
  };
  const config = fmtpParam(fmtp, "config");
  if (config) {
    try {
      out.config = hexToBytes(config);
    } catch { /* not hex */ }
  }
  const object = intParam(fmtp, "object");
  if (object !== undefined) out.object = object;
  return out;
}
