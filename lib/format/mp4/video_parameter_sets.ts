/**
 * The current H.264 SPS/PPS or H.265 VPS/SPS/PPS of a video track, from the codec fmtp
 * (`sprop-parameter-sets`, `sprop-vps`/`sprop-sps`/`sprop-pps`) and from in-band NAL units, with the
 * picture size, the RFC 6381 codec string and the decoder configuration record derived from them.
 *
 * Shared by the MP4, MPEG-TS and FLV muxers.
 *
 * @module
 */
import { type Codec, fmtpParam } from "../../core/codec.ts";
import { parseSpropParameterSets } from "../../codec/h264/fmtp.ts";
import { h264CodecString } from "../../codec/h264/profile_level_id.ts";
import { parseH264Sps } from "../../codec/h264/sps.ts";
import { buildAvcDecoderConfig } from "./avc_decoder_config.ts";
import { h265CodecStringFromSps } from "../../codec/h265/codec_string.ts";
import { parseH265Sps } from "../../codec/h265/sps.ts";
import { buildHevcDecoderConfig, HevcNalType } from "./hevc_decoder_config.ts";

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Parameter sets of one H.264 or H.265 track.
 *
 * @example
 * ```ts
 * const ps = new VideoParameterSets(codec);   // reads sprop-* from the fmtp
 * ps.observe(frame.data);                     // learns in-band SPS/PPS from AVCC access units
 * if (ps.ready) avcC = ps.decoderConfig();
 * ```
 */
export class VideoParameterSets {
  readonly h265: boolean;
  vps: Uint8Array | undefined;
  sps: Uint8Array | undefined;
  pps: Uint8Array | undefined;
  width = 0;
  height = 0;
  /** Frame rate from the SPS VUI timing info, when the encoder wrote it. */
  fps: number | undefined;
  /** RFC 6381 codec string, once the SPS is known. */
  mimeCodec = "";
  /** Bumped on every change. */
  version = 0;
  /** SPS that could not be parsed. */
  errors = 0;

  constructor(codec: Codec) {
    const name = codec.name.toUpperCase();
    if (name !== "H264" && name !== "H265") {
      throw new TypeError(`VideoParameterSets needs H264 or H265, got ${codec.name}`);
    }
    this.h265 = name === "H265";
    const keys = this.h265 ? ["sprop-vps", "sprop-sps", "sprop-pps"] : ["sprop-parameter-sets"];
    for (const key of keys) {
      const value = fmtpParam(codec.fmtp, key);
      if (!value) continue;
      try {
        for (const nal of parseSpropParameterSets(value)) this.learn(nal);
      } catch {
        // Bad base64 in the fmtp: rely on in-band parameter sets.
      }
    }
  }

  /** Whether every parameter set (and a parseable SPS) is known. */
  get ready(): boolean {
    return !!this.sps && !!this.pps && (!this.h265 || !!this.vps) && this.width > 0;
  }

  /**
   * Learns the parameter sets at the start of an AVCC access unit (they come before the slices, so
   * the walk stops at the first slice).
   *
   * @example
   * ```ts
   * ps.observe(frame.data);
   * ```
   */
  observe(avcc: Uint8Array): void {
    let p = 0;
    while (p + 5 <= avcc.length) {
      const len = ((avcc[p] << 24) | (avcc[p + 1] << 16) | (avcc[p + 2] << 8) | avcc[p + 3]) >>> 0;
      const end = p + 4 + len;
      if (end > avcc.length || len === 0) return;
      const b = avcc[p + 4];
      if (this.h265) {
        const t = (b >> 1) & 0x3f;
        if (t >= 32 && t <= 34) this.learn(avcc.subarray(p + 4, end));
        else if (t < 32) return;
      } else {
        const t = b & 0x1f;
        if (t === 7 || t === 8) this.learn(avcc.subarray(p + 4, end));
        else if (t >= 1 && t <= 5) return;
      }
      p = end;
    }
  }

  /**
   * Learns one NAL unit if it is a parameter set; returns whether anything changed.
   *
   * @example
   * ```ts
   * ps.learn(spsNal);
   * ```
   */
  learn(nal: Uint8Array): boolean {
    if (!nal.length) return false;
    if (this.h265) {
      const t = (nal[0] >> 1) & 0x3f;
      if (t === HevcNalType.VPS) {
        if (sameBytes(this.vps, nal)) return false;
        this.vps = nal.slice();
      } else if (t === HevcNalType.SPS) {
        if (sameBytes(this.sps, nal)) return false;
        try {
          const info = parseH265Sps(nal);
          this.width = info.width;
          this.height = info.height;
          this.mimeCodec = h265CodecStringFromSps(info);
          this.fps = info.fps;
        } catch {
          this.errors++;
          return false;
        }
        this.sps = nal.slice();
      } else if (t === HevcNalType.PPS) {
        if (sameBytes(this.pps, nal)) return false;
        this.pps = nal.slice();
      } else {
        return false;
      }
    } else {
      const t = nal[0] & 0x1f;
      if (t === 7) {
        if (sameBytes(this.sps, nal)) return false;
        try {
          const info = parseH264Sps(nal);
          this.width = info.width;
          this.height = info.height;
          this.mimeCodec = h264CodecString(nal);
          this.fps = info.fps;
        } catch {
          this.errors++;
          return false;
        }
        this.sps = nal.slice();
      } else if (t === 8) {
        if (sameBytes(this.pps, nal)) return false;
        this.pps = nal.slice();
      } else {
        return false;
      }
    }
    this.version++;
    return true;
  }

  /**
   * The parameter sets in decoding order (VPS, SPS, PPS), for putting in front of a keyframe.
   *
   * @example
   * ```ts
   * for (const nal of ps.list()) writeNal(nal);
   * ```
   */
  list(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.h265 && this.vps) out.push(this.vps);
    if (this.sps) out.push(this.sps);
    if (this.pps) out.push(this.pps);
    return out;
  }

  /**
   * AVCDecoderConfigurationRecord (H.264) or HEVCDecoderConfigurationRecord (H.265).
   *
   * @throws {RangeError} when not {@link ready}.
   * @example
   * ```ts
   * const avcC = ps.decoderConfig();
   * ```
   */
  decoderConfig(): Uint8Array {
    if (!this.ready) {
      throw new RangeError("Cannot build a decoder configuration record before the parameter sets are known");
    }
    return this.h265
      ? buildHevcDecoderConfig([this.vps!], [this.sps!], [this.pps!])
      : buildAvcDecoderConfig([this.sps!], [this.pps!]);
  }
}
