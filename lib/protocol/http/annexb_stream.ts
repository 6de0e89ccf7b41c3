/**
 * A raw H.264 or H.265 Annex-B byte stream (`ffmpeg -f h264|hevc`, encoders on a TCP port) cut
 * into access units, as go2rtc's `magic` reads `tcp://` sources.
 *
 * NAL units are found by their start codes across chunk boundaries and grouped into access units by
 * the rules of H.264 7.4.1.2.3 and H.265 7.4.2.4.4: a new unit starts at an access unit delimiter,
 * a parameter set or prefix SEI after picture data, or a slice that opens a new picture
 * (`first_mb_in_slice == 0`, `first_slice_segment_in_pic_flag`). A unit is handed out when the next
 * one begins, in AVCC form (4-byte lengths, delimiters dropped). The stream carries no timestamps;
 * the caller stamps arrival time.
 *
 * Memory is bounded: a NAL unit growing past `maxNalBytes` is dropped and counted in `errors`.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { buildH264Fmtp } from "../../codec/h264/fmtp.ts";
import { buildH265Fmtp } from "../../codec/h265/fmtp.ts";

/** The two video codecs an Annex-B stream can carry. */
export type AnnexbCodec = "H264" | "H265";

/**
 * Which codec a byte stream starting with a start code carries, from its first NAL unit header:
 * H.264 streams start with an AUD, SPS or SEI; H.265 ones with an AUD, VPS or SEI.
 *
 * @example
 * ```ts
 * detectAnnexb(new Uint8Array([0, 0, 0, 1, 0x67, 0x42])); // "H264" (SPS)
 * detectAnnexb(new Uint8Array([0, 0, 0, 1, 0x40, 0x01])); // "H265" (VPS)
 * ```
 */
export function detectAnnexb(head: Uint8Array): AnnexbCodec | undefined {
  let p = 0;
  while (p < head.length && p < 4 && head[p] === 0) p++;
  if (p < 2 || head[p] !== 1 || p + 2 >= head.length) return undefined;
  const b = head[p + 1];
  if (b & 0x80) return undefined;
  const h265 = (b >> 1) & 0x3f;
  if ((h265 === 32 || h265 === 35 || h265 === 39) && head[p + 2] === 1 && (b & 1) === 0) return "H265";
  const h264 = b & 0x1f;
  // SEI always has nal_ref_idc 0; an SPS a non-zero one.
  if (h264 === 9 || (h264 === 7 && b & 0x60) || (h264 === 6 && !(b & 0x60))) return "H264";
  return undefined;
}

/** One access unit out of the splitter. */
export interface AnnexbAccessUnit {
  /** AVCC: each NAL unit with a 4-byte big-endian length. */
  data: Uint8Array;
  keyframe: boolean;
}

/**
 * Incremental Annex-B access unit splitter.
 *
 * @example
 * ```ts
 * const split = new AnnexbSplitter("H264", (au) => receiver.push({ timestamp: now90k(), ...au }));
 * for await (const chunk of socket) split.push(chunk);
 * split.codec; // { name: "H264", clockRate: 90000, fmtp: "...sprop-parameter-sets=..." } once SPS/PPS were seen
 * ```
 */
export class AnnexbSplitter {
  readonly codecName: AnnexbCodec;
  /** The codec with its parameter sets in the fmtp, once they were seen. */
  codec: Codec | undefined;
  /** Oversize NAL units dropped, access units dropped before the parameter sets. */
  errors = 0;
  /** Access units emitted. */
  units = 0;

  readonly #onUnit: (au: AnnexbAccessUnit) => void;
  readonly #maxNal: number;
  #buf = new Uint8Array(256 * 1024);
  #len = 0;
  /** Where the current NAL unit's payload starts in `#buf`, or -1 before the first start code. */
  #nalStart = -1;
  /** Where the start code search resumes. */
  #scan = 0;
  #oversize = false;
  #au: Uint8Array[] = [];
  #auHasVcl = false;
  #auKey = false;
  readonly #params = new Map<number, Uint8Array>();

  constructor(codec: AnnexbCodec, onUnit: (au: AnnexbAccessUnit) => void, maxNalBytes = 8 * 1024 * 1024) {
    this.codecName = codec;
    this.#onUnit = onUnit;
    this.#maxNal = maxNalBytes;
  }

  /** Feeds bytes; complete access units go to the callback. */
  push(chunk: Uint8Array): void {
    this.#append(chunk);
    const buf = this.#buf;
    let i = Math.max(this.#scan, 0);
    const end = this.#len;
    while (i + 3 <= end) {
      const c = buf[i + 2];
      if (c > 1) {
        i += 3;
        continue;
      }
      if (c === 1 && buf[i] === 0 && buf[i + 1] === 0) {
        if (this.#nalStart >= 0) {
          let e = i;
          while (e > this.#nalStart && buf[e - 1] === 0) e--; // zero_byte of a 4-byte start code
          if (!this.#oversize && e > this.#nalStart) this.#nal(buf.slice(this.#nalStart, e));
        }
        this.#oversize = false;
        this.#nalStart = i + 3;
        i += 3;
        continue;
      }
      i++;
    }
    this.#scan = i;
    this.#compact();
  }

  /** Ends the stream: the last NAL unit and access unit are handed out. */
  flush(): void {
    if (this.#nalStart >= 0 && !this.#oversize && this.#len > this.#nalStart) {
      this.#nal(this.#buf.slice(this.#nalStart, this.#len));
    }
    this.#nalStart = -1;
    this.#len = this.#scan = 0;
    this.#emit();
  }

  #append(chunk: Uint8Array): void {
    if (this.#len + chunk.length > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < this.#len + chunk.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
  }

  /** Drops bytes before the current NAL unit; drops the NAL unit itself past the size limit. */
  #compact(): void {
    const keepFrom = this.#nalStart >= 0 ? Math.min(this.#nalStart, this.#scan) : Math.max(0, this.#len - 3);
    if (this.#nalStart >= 0 && this.#len - this.#nalStart > this.#maxNal) {
      if (!this.#oversize) this.errors++;
      this.#oversize = true;
      // Keep only the tail that may hold the start of the next start code.
      const tail = Math.max(this.#scan, this.#len - 3);
      this.#buf.copyWithin(0, tail, this.#len);
      this.#len -= tail;
      this.#scan = 0;
      this.#nalStart = 0;
      return;
    }
    if (keepFrom <= 0) return;
    this.#buf.copyWithin(0, keepFrom, this.#len);
    this.#len -= keepFrom;
    this.#scan -= keepFrom;
    if (this.#nalStart >= 0) this.#nalStart -= keepFrom;
    // A small buffer again after a burst of big NAL units.
    if (this.#buf.length > 4 * 1024 * 1024 && this.#len < this.#buf.length / 8) {
      this.#buf = this.#buf.slice(0, Math.max(256 * 1024, this.#len * 2));
    }
  }

  #nal(nal: Uint8Array): void {
    if (this.codecName === "H264") this.#h264(nal);
    else this.#h265(nal);
  }

  #h264(nal: Uint8Array): void {
    const type = nal[0] & 0x1f;
    const vcl = type >= 1 && type <= 5;
    const firstSlice = vcl && nal.length > 1 && (nal[1] & 0x80) !== 0; // first_mb_in_slice == 0
    if (
      this.#auHasVcl &&
      (type === 9 || type === 7 || type === 8 || type === 6 || (type >= 14 && type <= 18) || firstSlice)
    ) {
      this.#emit();
    }
    if (type === 7 || type === 8) this.#param(type, nal);
    if (type === 9) return;
    this.#au.push(nal);
    if (vcl) this.#auHasVcl = true;
    if (type === 5) this.#auKey = true;
  }

  #h265(nal: Uint8Array): void {
    const type = (nal[0] >> 1) & 0x3f;
    const vcl = type < 32;
    const firstSlice = vcl && nal.length > 2 && (nal[2] & 0x80) !== 0; // first_slice_segment_in_pic_flag
    const opens = type === 35 || (type >= 32 && type <= 34) || type === 39 || (type >= 41 && type <= 44) ||
      (type >= 48 && type <= 55) || firstSlice;
    if (this.#auHasVcl && opens) this.#emit();
    if (type >= 32 && type <= 34) this.#param(type, nal);
    if (type === 35) return;
    this.#au.push(nal);
    if (vcl) this.#auHasVcl = true;
    if (type >= 16 && type <= 23) this.#auKey = true;
  }

  #param(type: number, nal: Uint8Array): void {
    const prev = this.#params.get(type);
    if (prev && prev.length === nal.length && prev.every((b, i) => b === nal[i])) return;
    this.#params.set(type, nal);
    const p = this.#params;
    if (this.codecName === "H264") {
      const sps = p.get(7), pps = p.get(8);
      if (sps && pps) this.codec = { name: "H264", clockRate: 90000, fmtp: buildH264Fmtp({ sps, pps }) };
    } else {
      const vps = p.get(32), sps = p.get(33), pps = p.get(34);
      if (vps && sps && pps) {
        this.codec = { name: "H265", clockRate: 90000, fmtp: buildH265Fmtp({ vps, sps, pps }) };
      }
    }
  }

  #emit(): void {
    const nals = this.#au;
    const key = this.#auKey;
    const hasVcl = this.#auHasVcl;
    this.#au = [];
    this.#auHasVcl = false;
    this.#auKey = false;
    if (!hasVcl) return;
    if (!this.codec) {
      this.errors++;
      return;
    }
    let size = 0;
    for (const n of nals) size += 4 + n.length;
    const data = new Uint8Array(size);
    let o = 0;
    for (const n of nals) {
      data[o] = n.length >>> 24;
      data[o + 1] = (n.length >>> 16) & 0xff;
      data[o + 2] = (n.length >>> 8) & 0xff;
      data[o + 3] = n.length & 0xff;
      data.set(n, o + 4);
      o += 4 + n.length;
    }
    this.units++;
    this.#onUnit({ data, keyframe: key });
  }
}
