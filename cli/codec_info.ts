/**
 * What `strom probe` says about a codec: profile and level from the SDP fmtp (RFC 6184 section 8.1
 * `profile-level-id`, RFC 7798 section 7.1 `profile-id`/`level-id`/`tier-flag`, RFC 3640 `config`),
 * and picture facts from a sequence parameter set (ITU-T H.264 7.3.2.1.1, H.265 7.3.2.2.1).
 *
 * @module
 */
import { type Codec, fmtpParam } from "../lib/core/codec.ts";
import { aacConfigFromCodec } from "../lib/codec/aac/codec.ts";
import {
  aacCodecString,
  type AudioSpecificConfig,
  parseAudioSpecificConfig,
} from "../lib/codec/aac/config.ts";
import { h264ParameterSetsFromFmtp } from "../lib/codec/h264/fmtp.ts";
import { parseH264ProfileLevelId } from "../lib/codec/h264/profile_level_id.ts";
import { parseH264Sps } from "../lib/codec/h264/sps.ts";
import { h265CodecStringFromSps } from "../lib/codec/h265/codec_string.ts";
import { h265ParameterSetsFromFmtp } from "../lib/codec/h265/fmtp.ts";
import { parseH265Sps } from "../lib/codec/h265/sps.ts";

/** A codec as `probe` reports it (JSON field names in snake_case). */
export interface CodecReport {
  name: string;
  clock_rate: number;
  channels?: number;
  payload_type?: number;
  fmtp?: string;
  /** Profile name from the fmtp: `High`, `Constrained Baseline`, `Main 10`, `AAC-LC`... */
  profile?: string;
  /** Level from the fmtp: `3.1`, `4`, `1b`. */
  level?: string;
  /** H.265 tier from the fmtp: `Main` or `High`. */
  tier?: string;
  /** H.264 `profile-level-id` as written in the fmtp. */
  profile_level_id?: string;
  /** H.264 `packetization-mode` (RFC 6184 section 8.1). */
  packetization_mode?: number;
  /** AAC: sample rate and channels from the AudioSpecificConfig (the output rate for HE-AAC). */
  sample_rate?: number;
  /** AAC: samples per access unit (1024 or 960; 512/480 for LD/ELD). */
  samples_per_frame?: number;
  /** RFC 6381 codec string, when it can be told (`avc1.64001f`, `hvc1.1.6.L93.B0`, `mp4a.40.2`). */
  codec_string?: string;
  /** The raw SPS (H.264/H.265) carried in the fmtp, if any, for {@link describeSps}. */
  sps?: Uint8Array;
}

/** What a sequence parameter set tells about the picture. */
export interface SpsReport {
  width: number;
  height: number;
  profile: string;
  level: string;
  tier?: string;
  /** `4:2:0`, `4:2:2`, `4:4:4` or `mono`. */
  chroma: string;
  bit_depth: number;
  interlaced: boolean;
  /** Frames per second stated in the VUI timing info, when present. */
  fps?: number;
  codec_string: string;
}

const H264_PROFILES: Record<number, string> = {
  44: "CAVLC 4:4:4 Intra",
  66: "Baseline",
  77: "Main",
  88: "Extended",
  100: "High",
  110: "High 10",
  118: "Multiview High",
  122: "High 4:2:2",
  128: "Stereo High",
  244: "High 4:4:4 Predictive",
};

const H265_PROFILES: Record<number, string> = {
  1: "Main",
  2: "Main 10",
  3: "Main Still Picture",
  4: "Range Extensions",
  5: "High Throughput",
  9: "Screen Content",
};

const AAC_OBJECTS: Record<number, string> = {
  1: "AAC Main",
  2: "AAC-LC",
  3: "AAC SSR",
  4: "AAC LTP",
  5: "HE-AAC",
  23: "AAC-LD",
  29: "HE-AACv2",
  39: "AAC-ELD",
};

/**
 * H.264 profile name from profile_idc and the constraint flags byte (Annex A.2): Baseline with
 * constraint_set1 is Constrained Baseline; High with constraint_set4+5 is Constrained High.
 *
 * @example
 * ```ts
 * h264ProfileName(66, 0xe0); // "Constrained Baseline"
 * ```
 */
export function h264ProfileName(profileIdc: number, constraintFlags: number): string {
  if (profileIdc === 66 && constraintFlags & 0x40) return "Constrained Baseline";
  if (profileIdc === 100 && (constraintFlags & 0x0c) === 0x0c) return "Constrained High";
  if (profileIdc === 100 && constraintFlags & 0x08) return "Progressive High";
  if ((profileIdc === 110 || profileIdc === 122 || profileIdc === 244) && constraintFlags & 0x10) {
    return `${H264_PROFILES[profileIdc]} Intra`;
  }
  return H264_PROFILES[profileIdc] ?? `profile_idc ${profileIdc}`;
}

/**
 * H.264 level from level_idc (Annex A.3): tenths, with level 1b being level_idc 11 plus
 * constraint_set3 in Baseline/Main/Extended, or level_idc 9.
 *
 * @example
 * ```ts
 * h264LevelName(31, 0); // "3.1"
 * ```
 */
export function h264LevelName(levelIdc: number, constraintFlags: number, profileIdc: number): string {
  if (levelIdc === 9) return "1b";
  if (
    levelIdc === 11 && constraintFlags & 0x10 && (profileIdc === 66 || profileIdc === 77 || profileIdc === 88)
  ) {
    return "1b";
  }
  return (levelIdc / 10).toFixed(1);
}

/**
 * H.265 level from general_level_idc (level times 30, Annex A.4): `93` -> `3.1`, `120` -> `4`.
 *
 * @example
 * ```ts
 * h265LevelName(123); // "4.1"
 * ```
 */
export function h265LevelName(levelIdc: number): string {
  return String(Math.round((levelIdc / 30) * 10) / 10);
}

function chromaName(idc: number): string {
  return ["mono", "4:2:0", "4:2:2", "4:4:4"][idc] ?? `chroma_format_idc ${idc}`;
}

function aacProfile(asc: AudioSpecificConfig): string {
  const ext = asc.extensionObjectType;
  if (ext === 29) return "HE-AACv2";
  if (ext === 5) return "HE-AAC";
  return AAC_OBJECTS[asc.objectType] ?? `AAC object type ${asc.objectType}`;
}

/**
 * Describes a codec from its SDP form. Never throws: unreadable fmtp values are left out.
 *
 * @example
 * ```ts
 * describeCodec({ name: "H264", clockRate: 90000, fmtp: "profile-level-id=42e01f" }).profile; // "Constrained Baseline"
 * ```
 */
export function describeCodec(codec: Codec): CodecReport {
  const out: CodecReport = { name: codec.name, clock_rate: codec.clockRate };
  if (codec.channels) out.channels = codec.channels;
  if (codec.payloadType !== undefined) out.payload_type = codec.payloadType;
  if (codec.fmtp) out.fmtp = codec.fmtp;
  const fmtp = codec.fmtp;
  switch (codec.name.toUpperCase()) {
    case "H264": {
      const pli = fmtpParam(fmtp, "profile-level-id");
      if (pli) {
        try {
          const pl = parseH264ProfileLevelId(pli);
          out.profile_level_id = pli.toLowerCase();
          out.profile = h264ProfileName(pl.profileIdc, pl.constraintFlags);
          out.level = h264LevelName(pl.levelIdc, pl.constraintFlags, pl.profileIdc);
          out.codec_string = `avc1.${out.profile_level_id}`;
        } catch { /* not six hex digits: leave it out */ }
      }
      const mode = fmtpParam(fmtp, "packetization-mode");
      if (mode !== undefined && /^\d+$/.test(mode)) out.packetization_mode = Number(mode);
      try {
        const sps = h264ParameterSetsFromFmtp(fmtp).sps;
        if (sps) out.sps = sps;
      } catch { /* bad base64 */ }
      break;
    }
    case "H265": {
      const profile = fmtpParam(fmtp, "profile-id");
      const level = fmtpParam(fmtp, "level-id");
      const tier = fmtpParam(fmtp, "tier-flag");
      if (profile && /^\d+$/.test(profile)) {
        out.profile = H265_PROFILES[Number(profile)] ?? `profile-id ${profile}`;
      }
      if (level && /^\d+$/.test(level)) out.level = h265LevelName(Number(level));
      if (tier === "0" || tier === "1") out.tier = tier === "1" ? "High" : "Main";
      try {
        const sps = h265ParameterSetsFromFmtp(fmtp).sps;
        if (sps) out.sps = sps;
      } catch { /* bad base64 */ }
      break;
    }
    case "MPEG4-GENERIC":
    case "MP4A-LATM": {
      const config = aacConfigFromCodec(codec);
      if (!config) break;
      try {
        const asc = parseAudioSpecificConfig(config);
        out.profile = aacProfile(asc);
        out.sample_rate = asc.extensionSampleRate ?? asc.sampleRate;
        if (asc.channels) out.channels = asc.channels;
        out.samples_per_frame = asc.frameLength;
        out.codec_string = aacCodecString(asc);
      } catch { /* unreadable config */ }
      break;
    }
    case "OPUS": {
      if (fmtpParam(fmtp, "sprop-stereo") === "1" || fmtpParam(fmtp, "stereo") === "1") out.channels = 2;
      break;
    }
  }
  return out;
}

/**
 * Reads picture facts from an SPS NAL unit (header included, no start code) of H.264 or H.265.
 * Returns undefined when it cannot be parsed.
 *
 * @example
 * ```ts
 * describeSps("H264", sps); // { width: 640, height: 360, profile: "Constrained Baseline", level: "3.0", ... }
 * ```
 */
export function describeSps(codecName: string, sps: Uint8Array): SpsReport | undefined {
  try {
    if (codecName.toUpperCase() === "H264") {
      const s = parseH264Sps(sps);
      const pli = [s.profileIdc, s.constraintFlags, s.levelIdc].map((n) => n.toString(16).padStart(2, "0"))
        .join("");
      return {
        width: s.width,
        height: s.height,
        profile: h264ProfileName(s.profileIdc, s.constraintFlags),
        level: h264LevelName(s.levelIdc, s.constraintFlags, s.profileIdc),
        chroma: chromaName(s.chromaFormatIdc),
        bit_depth: s.bitDepthLuma,
        interlaced: !s.frameMbsOnly,
        ...(s.fps ? { fps: s.fps } : {}),
        codec_string: `avc1.${pli}`,
      };
    }
    if (codecName.toUpperCase() === "H265") {
      const s = parseH265Sps(sps);
      return {
        width: s.width,
        height: s.height,
        profile: H265_PROFILES[s.profileIdc] ?? `profile_idc ${s.profileIdc}`,
        level: h265LevelName(s.levelIdc),
        tier: s.tierFlag ? "High" : "Main",
        chroma: chromaName(s.chromaFormatIdc),
        bit_depth: s.bitDepthLuma,
        // field_seq_flag lives in the VUI, which the parser does not keep; H.265 cameras are progressive.
        interlaced: false,
        ...(s.fps ? { fps: s.fps } : {}),
        codec_string: h265CodecStringFromSps(s),
      };
    }
  } catch { /* unparsable SPS */ }
  return undefined;
}
