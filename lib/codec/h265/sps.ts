/**
 * H.265 sequence parameter set parsing (ITU-T H.265 7.3.2.2.1, profile_tier_level 7.3.3, VUI E.2.1).
 *
 * @module
 */
import { BitReader, BitstreamError } from "../h264/bit_reader.ts";
import { nalToRbsp } from "../h264/rbsp.ts";
import { skipVuiHead } from "../h264/vui.ts";
import { H265NalType } from "./nal.ts";

/**
 * What strom needs from an H.265 SPS: the general profile/tier/level (for codec strings and hvcC),
 * the picture size and format, and the frame rate when the VUI states it.
 *
 * @example
 * ```ts
 * const sps: H265Sps = parseH265Sps(nal); // { profileIdc: 1, tierFlag: 0, levelIdc: 93, width: 1280, height: 720, ... }
 * ```
 */
export interface H265Sps {
  /** general_profile_space (0 for every profile in use). */
  profileSpace: number;
  /** general_profile_idc: 1 Main, 2 Main 10, 3 Main Still Picture, 4 range extensions... */
  profileIdc: number;
  /** general_tier_flag: 0 Main tier, 1 High tier. */
  tierFlag: number;
  /** general_level_idc: level times 30 (93 = level 3.1, 120 = level 4). */
  levelIdc: number;
  /** Displayed width after the conformance window. */
  width: number;
  /** Displayed height after the conformance window. */
  height: number;
  /** The 32 general_profile_compatibility_flag bits, flag 0 as the most significant bit. */
  generalProfileCompatibilityFlags: number;
  /** The 48 bits after the compatibility flags (progressive_source_flag onward), as 6 bytes. */
  constraintIndicatorFlags: Uint8Array;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** sps_max_sub_layers_minus1 + 1. */
  maxSubLayers: number;
  /** sps_temporal_id_nesting_flag. */
  temporalIdNesting: boolean;
  /** Frames per second from the VUI timing info, when present: time_scale / num_units_in_tick. */
  fps?: number;
}

const WHAT = "H.265 SPS";

/** profile_tier_level(1, maxSubLayersMinus1): returns the general fields and skips the sub-layer ones. */
function readProfileTierLevel(r: BitReader, maxSubLayersMinus1: number) {
  const profileSpace = r.u(2, "general_profile_space");
  const tierFlag = r.u(1, "general_tier_flag");
  const profileIdc = r.u(5, "general_profile_idc");
  const compat = r.u(32, "general_profile_compatibility_flags");
  const constraint = new Uint8Array(6);
  for (let i = 0; i < 6; i++) constraint[i] = r.u(8, "general_constraint_indicator_flags");
  const levelIdc = r.u(8, "general_level_idc");
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.flag("sub_layer_profile_present_flag"));
    levelPresent.push(r.flag("sub_layer_level_present_flag"));
  }
  if (maxSubLayersMinus1 > 0) r.skip(2 * (8 - maxSubLayersMinus1), "reserved_zero_2bits");
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) r.skip(88, "sub_layer_profile");
    if (levelPresent[i]) r.skip(8, "sub_layer_level_idc");
  }
  return { profileSpace, tierFlag, profileIdc, compat, constraint, levelIdc };
}

/**
 * Parses an H.265 SPS NAL unit (with its 2-byte header, without start code). Emulation prevention
 * bytes are removed first. Only the base layer (nuh_layer_id 0) syntax is supported.
 *
 * @throws {BitstreamError} when the NAL unit is not an SPS, is truncated, or holds out-of-range values.
 * @example
 * ```ts
 * const { width, height, profileIdc, levelIdc } = parseH265Sps(sps);
 * ```
 */
export function parseH265Sps(nal: Uint8Array): H265Sps {
  if (nal.length < 4) {
    throw new BitstreamError(
      WHAT,
      "nal_unit_header",
      0,
      `needs at least 4 bytes, got ${nal.length}: the NAL unit is truncated`,
    );
  }
  const type = (nal[0] >> 1) & 0x3f;
  if (type !== H265NalType.SPS) {
    throw new BitstreamError(
      WHAT,
      "nal_unit_type",
      1,
      `is ${type}, expected 33: pass the SPS NAL unit (header 0x42 0x01)`,
    );
  }
  const r = new BitReader(nalToRbsp(nal), WHAT);
  r.skip(16, "nal_unit_header");
  r.skip(4, "sps_video_parameter_set_id");
  const maxSubLayersMinus1 = r.u(3, "sps_max_sub_layers_minus1");
  if (maxSubLayersMinus1 > 6) {
    throw new BitstreamError(
      WHAT,
      "sps_max_sub_layers_minus1",
      20,
      `is ${maxSubLayersMinus1}, expected 0..6`,
    );
  }
  const temporalIdNesting = r.flag("sps_temporal_id_nesting_flag");
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1);
  r.ue("sps_seq_parameter_set_id");
  let at = r.pos;
  const chromaFormatIdc = r.ue("chroma_format_idc");
  if (chromaFormatIdc > 3) {
    throw new BitstreamError(WHAT, "chroma_format_idc", at, `is ${chromaFormatIdc}, expected 0..3`);
  }
  const separateColourPlane = chromaFormatIdc === 3 ? r.flag("separate_colour_plane_flag") : false;
  let width = r.ue("pic_width_in_luma_samples");
  let height = r.ue("pic_height_in_luma_samples");
  if (r.flag("conformance_window_flag")) {
    const left = r.ue("conf_win_left_offset");
    const right = r.ue("conf_win_right_offset");
    const top = r.ue("conf_win_top_offset");
    const bottom = r.ue("conf_win_bottom_offset");
    // Offsets are in chroma samples (7.4.3.2.1, Table 6-1): SubWidthC/SubHeightC of ChromaArrayType.
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    width -= subWidthC * (left + right);
    height -= subHeightC * (top + bottom);
  }
  at = r.pos;
  const bitDepthLuma = 8 + r.ue("bit_depth_luma_minus8");
  const bitDepthChroma = 8 + r.ue("bit_depth_chroma_minus8");
  if (bitDepthLuma > 16 || bitDepthChroma > 16) {
    throw new BitstreamError(WHAT, "bit_depth_luma_minus8", at, "is above 8, expected 0..8");
  }

  const sps: H265Sps = {
    profileSpace: ptl.profileSpace,
    profileIdc: ptl.profileIdc,
    tierFlag: ptl.tierFlag,
    levelIdc: ptl.levelIdc,
    width,
    height,
    generalProfileCompatibilityFlags: ptl.compat,
    constraintIndicatorFlags: ptl.constraint,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
  };
  // Everything after this point only leads to the frame rate; a camera SPS we cannot walk to the
  // end still has a usable size and profile.
  try {
    const fps = readFps(r, maxSubLayersMinus1);
    if (fps !== undefined) sps.fps = fps;
  } catch (e) {
    if (!(e instanceof BitstreamError)) throw e;
  }
  return sps;
}

/** Walks the rest of the SPS (7.3.2.2.1) to vui_parameters() and returns the VUI frame rate. */
function readFps(r: BitReader, maxSubLayersMinus1: number): number | undefined {
  const log2MaxPocLsb = r.ue("log2_max_pic_order_cnt_lsb_minus4") + 4;
  const orderingAll = r.flag("sps_sub_layer_ordering_info_present_flag");
  for (let i = orderingAll ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
    r.ue("sps_max_dec_pic_buffering_minus1");
    r.ue("sps_max_num_reorder_pics");
    r.ue("sps_max_latency_increase_plus1");
  }
  r.ue("log2_min_luma_coding_block_size_minus3");
  r.ue("log2_diff_max_min_luma_coding_block_size");
  r.ue("log2_min_luma_transform_block_size_minus2");
  r.ue("log2_diff_max_min_luma_transform_block_size");
  r.ue("max_transform_hierarchy_depth_inter");
  r.ue("max_transform_hierarchy_depth_intra");
  if (r.flag("scaling_list_enabled_flag") && r.flag("sps_scaling_list_data_present_flag")) {
    skipScalingListData(r);
  }
  r.skip(2, "amp_enabled_flag, sample_adaptive_offset_enabled_flag");
  if (r.flag("pcm_enabled_flag")) {
    r.skip(8, "pcm_sample_bit_depth_minus1");
    r.ue("log2_min_pcm_luma_coding_block_size_minus3");
    r.ue("log2_diff_max_min_pcm_luma_coding_block_size");
    r.skip(1, "pcm_loop_filter_disabled_flag");
  }
  const at = r.pos;
  const numSets = r.ue("num_short_term_ref_pic_sets");
  if (numSets > 64) {
    throw new BitstreamError(WHAT, "num_short_term_ref_pic_sets", at, `is ${numSets}, expected 0..64`);
  }
  const numDeltaPocs: number[] = [];
  for (let i = 0; i < numSets; i++) numDeltaPocs.push(skipShortTermRefPicSet(r, i, numDeltaPocs));
  if (r.flag("long_term_ref_pics_present_flag")) {
    const n = r.ue("num_long_term_ref_pics_sps");
    for (let i = 0; i < n; i++) {
      r.skip(log2MaxPocLsb, "lt_ref_pic_poc_lsb_sps");
      r.skip(1, "used_by_curr_pic_lt_sps_flag");
    }
  }
  r.skip(2, "sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag");
  if (!r.flag("vui_parameters_present_flag")) return undefined;

  skipVuiHead(r);
  r.skip(3, "neutral_chroma_indication_flag, field_seq_flag, frame_field_info_present_flag");
  if (r.flag("default_display_window_flag")) {
    for (let i = 0; i < 4; i++) r.ue("def_disp_win_offset");
  }
  if (!r.flag("vui_timing_info_present_flag")) return undefined;
  const unitsInTick = r.u(32, "vui_num_units_in_tick");
  const timeScale = r.u(32, "vui_time_scale");
  if (!unitsInTick || !timeScale) return undefined;
  return Math.round((timeScale / unitsInTick) * 1000) / 1000;
}

/** scaling_list_data() (7.3.4). */
function skipScalingListData(r: BitReader): void {
  for (let sizeId = 0; sizeId < 4; sizeId++) {
    for (let matrixId = 0; matrixId < 6; matrixId += sizeId === 3 ? 3 : 1) {
      if (!r.flag("scaling_list_pred_mode_flag")) {
        r.ue("scaling_list_pred_matrix_id_delta");
      } else {
        const coefNum = Math.min(64, 1 << (4 + (sizeId << 1)));
        if (sizeId > 1) r.se("scaling_list_dc_coef_minus8");
        for (let i = 0; i < coefNum; i++) r.se("scaling_list_delta_coef");
      }
    }
  }
}

/** st_ref_pic_set(idx) (7.3.7); returns NumDeltaPocs[idx], needed by later sets that predict from it. */
function skipShortTermRefPicSet(r: BitReader, idx: number, numDeltaPocs: number[]): number {
  if (idx !== 0 && r.flag("inter_ref_pic_set_prediction_flag")) {
    // In the SPS delta_idx_minus1 is absent (only slice headers code it), so the reference is idx - 1.
    r.skip(1, "delta_rps_sign");
    r.ue("abs_delta_rps_minus1");
    const ref = numDeltaPocs[idx - 1];
    let count = 0;
    for (let j = 0; j <= ref; j++) {
      const used = r.flag("used_by_curr_pic_flag");
      const useDelta = used ? true : r.flag("use_delta_flag");
      if (used || useDelta) count++;
    }
    return count;
  }
  const at = r.pos;
  const negative = r.ue("num_negative_pics");
  const positive = r.ue("num_positive_pics");
  if (negative > 16 || positive > 16) {
    throw new BitstreamError(
      WHAT,
      "num_negative_pics",
      at,
      `is ${negative}/${positive}, expected at most 16`,
    );
  }
  for (let i = 0; i < negative + positive; i++) {
    r.ue("delta_poc_minus1");
    r.skip(1, "used_by_curr_pic_flag");
  }
  return negative + positive;
}
