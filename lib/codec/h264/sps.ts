/**
 * H.264 sequence parameter set parsing (ITU-T H.264 7.3.2.1.1 and E.1.1), as far as the picture size
 * and the VUI timing.
 *
 * @module
 */
import { BitReader, BitstreamError } from "./bit_reader.ts";
import { H264NalType } from "./nal.ts";
import { nalToRbsp } from "./rbsp.ts";
import { skipVuiHead } from "./vui.ts";

/**
 * What strom needs from an H.264 SPS.
 *
 * @example
 * ```ts
 * const sps: H264Sps = parseH264Sps(nal); // { profileIdc: 100, constraintFlags: 0, levelIdc: 31, width: 1280, height: 720, ... }
 * ```
 */
export interface H264Sps {
  /** 66 Baseline, 77 Main, 100 High, 110 High 10, 122 High 4:2:2, 244 High 4:4:4 ... */
  profileIdc: number;
  /** The byte of constraint_set0..5 flags (and 2 reserved bits) as it appears in the SPS. */
  constraintFlags: number;
  /** Level times ten: 31 = level 3.1. */
  levelIdc: number;
  /** Displayed width in pixels, after cropping. */
  width: number;
  /** Displayed height in pixels, after cropping (frame height for interlaced streams). */
  height: number;
  /** Frames per second from the VUI timing info, when present: time_scale / (2 * num_units_in_tick). */
  fps?: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (1 unless a high profile says otherwise). */
  chromaFormatIdc: number;
  /** Luma sample bit depth (8 unless a high profile says otherwise). */
  bitDepthLuma: number;
  /** Chroma sample bit depth. */
  bitDepthChroma: number;
  /** False for interlaced (field or MBAFF) coding. */
  frameMbsOnly: boolean;
}

// Profiles whose SPS carries chroma_format_idc, bit depths and scaling matrices (7.3.2.1.1).
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

const WHAT = "H.264 SPS";

/** Skips one scaling_list() (7.3.2.1.1.1): only the delta_scale values are coded. */
function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.se("delta_scale");
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/**
 * Parses an H.264 SPS NAL unit (with its 1-byte header, without start code). Emulation prevention
 * bytes are removed first.
 *
 * @throws {BitstreamError} when the NAL unit is not an SPS, is truncated, or holds out-of-range values.
 * @example
 * ```ts
 * const { width, height, profileIdc, fps } = parseH264Sps(sps);
 * ```
 */
export function parseH264Sps(nal: Uint8Array): H264Sps {
  if (nal.length < 4) {
    throw new BitstreamError(
      WHAT,
      "nal_unit_header",
      0,
      `needs at least 4 bytes, got ${nal.length}: the NAL unit is truncated`,
    );
  }
  const type = nal[0] & 0x1f;
  if (type !== H264NalType.SPS) {
    throw new BitstreamError(
      WHAT,
      "nal_unit_type",
      3,
      `is ${type}, expected 7: pass the SPS NAL unit (header byte 0x67)`,
    );
  }
  const r = new BitReader(nalToRbsp(nal), WHAT);
  r.skip(8, "nal_unit_header");
  const profileIdc = r.u(8, "profile_idc");
  const constraintFlags = r.u(8, "constraint_set_flags");
  const levelIdc = r.u(8, "level_idc");
  r.ue("seq_parameter_set_id");

  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    const at = r.pos;
    chromaFormatIdc = r.ue("chroma_format_idc");
    if (chromaFormatIdc > 3) {
      throw new BitstreamError(WHAT, "chroma_format_idc", at, `is ${chromaFormatIdc}, expected 0..3`);
    }
    if (chromaFormatIdc === 3) separateColourPlane = r.flag("separate_colour_plane_flag");
    bitDepthLuma = 8 + r.ue("bit_depth_luma_minus8");
    bitDepthChroma = 8 + r.ue("bit_depth_chroma_minus8");
    r.skip(1, "qpprime_y_zero_transform_bypass_flag");
    if (r.flag("seq_scaling_matrix_present_flag")) {
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (r.flag("seq_scaling_list_present_flag")) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }

  r.ue("log2_max_frame_num_minus4");
  const pocType = r.ue("pic_order_cnt_type");
  if (pocType === 0) {
    r.ue("log2_max_pic_order_cnt_lsb_minus4");
  } else if (pocType === 1) {
    r.skip(1, "delta_pic_order_always_zero_flag");
    r.se("offset_for_non_ref_pic");
    r.se("offset_for_top_to_bottom_field");
    const at = r.pos;
    const cycle = r.ue("num_ref_frames_in_pic_order_cnt_cycle");
    if (cycle > 255) {
      throw new BitstreamError(
        WHAT,
        "num_ref_frames_in_pic_order_cnt_cycle",
        at,
        `is ${cycle}, expected 0..255`,
      );
    }
    for (let i = 0; i < cycle; i++) r.se("offset_for_ref_frame");
  }
  r.ue("max_num_ref_frames");
  r.skip(1, "gaps_in_frame_num_value_allowed_flag");
  const widthMbs = r.ue("pic_width_in_mbs_minus1") + 1;
  const heightMapUnits = r.ue("pic_height_in_map_units_minus1") + 1;
  const frameMbsOnly = r.flag("frame_mbs_only_flag");
  if (!frameMbsOnly) r.skip(1, "mb_adaptive_frame_field_flag");
  r.skip(1, "direct_8x8_inference_flag");

  let width = widthMbs * 16;
  let height = (frameMbsOnly ? 1 : 2) * heightMapUnits * 16;
  if (r.flag("frame_cropping_flag")) {
    const left = r.ue("frame_crop_left_offset");
    const right = r.ue("frame_crop_right_offset");
    const top = r.ue("frame_crop_top_offset");
    const bottom = r.ue("frame_crop_bottom_offset");
    // Crop units (7.4.2.1.1, equations 7-19..7-22) depend on ChromaArrayType and field coding.
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 3 ? 1 : 2;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    const cropX = chromaArrayType === 0 ? 1 : subWidthC;
    const cropY = (chromaArrayType === 0 ? 1 : subHeightC) * (frameMbsOnly ? 1 : 2);
    width -= cropX * (left + right);
    height -= cropY * (top + bottom);
  }

  const sps: H264Sps = {
    profileIdc,
    constraintFlags,
    levelIdc,
    width,
    height,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    frameMbsOnly,
  };
  // The VUI is optional for decoding; a camera that cuts it short still has a usable SPS, so a
  // truncated VUI only loses the frame rate.
  try {
    if (r.flag("vui_parameters_present_flag")) {
      const fps = readVuiFps(r);
      if (fps !== undefined) sps.fps = fps;
    }
  } catch (e) {
    if (!(e instanceof BitstreamError)) throw e;
  }
  return sps;
}

/** Reads the VUI (E.1.1) up to timing_info; returns the frame rate when timing info is present. */
function readVuiFps(r: BitReader): number | undefined {
  skipVuiHead(r);
  if (!r.flag("timing_info_present_flag")) return undefined;
  const unitsInTick = r.u(32, "num_units_in_tick");
  const timeScale = r.u(32, "time_scale");
  if (!unitsInTick || !timeScale) return undefined;
  // One frame is two ticks (fields) in H.264 timing (E.2.1).
  return Math.round((timeScale / (2 * unitsInTick)) * 1000) / 1000;
}
