/**
 * Groups an H.265 Annex-B stream into access units, for tests (private).
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import { splitAnnexb } from "../annexb/annexb.ts";
import { joinAvcc } from "../annexb/avcc.ts";

/**
 * Access units of a stream (7.4.2.4.4): one starts at the first VPS/SPS/PPS/AUD/prefix SEI or first
 * slice segment (first_slice_segment_in_pic_flag) after a coded slice. Timestamps 3600 apart.
 */
export function h265AccessUnits(es: Uint8Array): Frame[] {
  const units: Uint8Array[][] = [];
  let cur: Uint8Array[] = [];
  let sawSlice = false;
  for (const nal of splitAnnexb(es)) {
    const t = (nal[0] >> 1) & 0x3f;
    const vcl = t < 32;
    const starts = (t >= 32 && t <= 35) || t === 39 || (vcl && (nal[2] & 0x80) !== 0);
    if (cur.length && sawSlice && starts) {
      units.push(cur);
      cur = [];
      sawSlice = false;
    }
    cur.push(nal);
    if (vcl) sawSlice = true;
  }
  if (cur.length) units.push(cur);
  return units.map((nals, i) => ({
    timestamp: i * 3600,
    keyframe: nals.some((n) => {
      const t = (n[0] >> 1) & 0x3f;
      return t >= 16 && t <= 21;
    }),
    data: joinAvcc(nals),
  }));
}
