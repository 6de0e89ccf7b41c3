/**
 * The start of vui_parameters(), which H.264 (E.1.1) and H.265 (E.2.1) share word for word: aspect
 * ratio, overscan, video signal type and chroma sample location. Both SPS parsers skip it on their
 * way to the timing info.
 *
 * @module
 */
import type { BitReader } from "./bit_reader.ts";

/** Extended_SAR: sar_width and sar_height follow aspect_ratio_idc (H.264 Table E-1, H.265 Table E.1). */
const EXTENDED_SAR = 255;

/**
 * Skips vui_parameters() from aspect_ratio_info_present_flag to chroma_loc_info, leaving the reader
 * on the first codec-specific field (H.264 timing_info_present_flag; H.265
 * neutral_chroma_indication_flag).
 *
 * @throws {BitstreamError} when the bits run out.
 * @example
 * ```ts
 * if (r.flag("vui_parameters_present_flag")) skipVuiHead(r);
 * ```
 */
export function skipVuiHead(r: BitReader): void {
  if (r.flag("aspect_ratio_info_present_flag")) {
    if (r.u(8, "aspect_ratio_idc") === EXTENDED_SAR) r.skip(32, "sar_width_height");
  }
  if (r.flag("overscan_info_present_flag")) r.skip(1, "overscan_appropriate_flag");
  if (r.flag("video_signal_type_present_flag")) {
    r.skip(4, "video_format_full_range");
    if (r.flag("colour_description_present_flag")) r.skip(24, "colour_description");
  }
  if (r.flag("chroma_loc_info_present_flag")) {
    r.ue("chroma_sample_loc_type_top_field");
    r.ue("chroma_sample_loc_type_bottom_field");
  }
}
