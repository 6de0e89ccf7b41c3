/**
 * MPEG-TS muxer for `/api/stream.ts` and HLS TS segments: PAT/PMT, one PES per frame, 188-byte
 * packets with continuity counters and the PCR on the video PID.
 *
 * Per codec (PES payload):
 * - H.264: Annex-B with an access unit delimiter first (as HLS requires), SPS/PPS put before every
 *   IDR that does not carry them;
 * - H.265: the same with its AUD (NAL type 35) and VPS/SPS/PPS;
 * - AAC: ADTS frames (stream type 0x0F);
 * - Opus: stream type 0x06 with registration descriptor "Opus" and the opus_control_header before
 *   each packet (ETSI TS 102 366-style mapping by the Opus-in-TS spec, section 6).
 *
 * Timestamps are converted to 90 kHz and offset by 1.4 s (as ffmpeg does) so the PCR, 0.7 s behind
 * the video DTS, never goes negative.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { type AudioSpecificConfig, parseAudioSpecificConfig } from "../../codec/aac/config.ts";
import { writeAdtsHeader } from "../../codec/aac/adts.ts";
import { parseAacFmtp } from "../../codec/aac/fmtp.ts";
import { MAX_SHARED_SKEW_SECONDS, MediaTimeline } from "../mp4/media_timeline.ts";
import { VideoParameterSets } from "../mp4/video_parameter_sets.ts";
import { buildPatSection, buildPmtSection, type PmtStream } from "./ts_psi.ts";
import { PesStreamId, TS_PACKET_SIZE, TS_SYNC_BYTE, TsStreamType, writePesTimestamp } from "./ts_packet.ts";

/**
 * A codec the MPEG-TS muxer cannot carry, or AAC without its config.
 *
 * @example
 * ```ts
 * try { new TsMuxer([{ codec }]); } catch (e) { if (e instanceof TsCodecError) console.log(e.codec); }
 * ```
 */
export class TsCodecError extends Error {
  override name = "TsCodecError";
  readonly codec: string;
  constructor(codec: Codec, reason: string) {
    super(`Cannot put ${codec.name}/${codec.clockRate} in MPEG-TS: ${reason}`);
    this.codec = codec.name;
  }
}

/** Per-track options of the {@link TsMuxer}. */
export interface TsTrackOptions {
  codec: Codec;
}

/** Options of the {@link TsMuxer}. */
export interface TsMuxerOptions {
  /** See {@link Mp4MuxerOptions.timeBase}. Default `track`. */
  timeBase?: "track" | "shared";
  /** Repeat PAT/PMT at least this often on audio-only streams, in seconds. Default 1. */
  psiIntervalSeconds?: number;
}

const PMT_PID = 0x1000;
const FIRST_PID = 0x100;
const TS_OFFSET = 126000; // 1.4 s at 90 kHz
const PCR_DELAY = 63000; // 0.7 s

const START_CODE = new Uint8Array([0, 0, 0, 1]);
const AUD_H264 = new Uint8Array([0, 0, 0, 1, 0x09, 0xf0]);
const AUD_H265 = new Uint8Array([0, 0, 0, 1, 0x46, 0x01, 0x50]);
const EMPTY = new Uint8Array(0);

/**
 * Which codecs the MPEG-TS muxer carries.
 *
 * @example
 * ```ts
 * tsCanMux({ name: "OPUS", clockRate: 48000 }); // true
 * ```
 */
export function tsCanMux(codec: Codec): boolean {
  return ["H264", "H265", "MPEG4-GENERIC", "OPUS"].includes(codec.name.toUpperCase());
}

interface TrackState {
  codec: Codec;
  name: string;
  pid: number;
  streamId: number;
  streamType: number;
  video: boolean;
  cc: number;
  timeline: MediaTimeline;
  /** 90000 / clock rate. */
  scale: number;
  offset: number;
  started: boolean;
  asc?: AudioSpecificConfig;
  /** Parameter sets to put before keyframes that lack them. */
  params?: VideoParameterSets;
  descriptors: Uint8Array;
  lastPsiDts: number;
}

/**
 * MPEG-TS muxer.
 *
 * @example
 * ```ts
 * const ts = new TsMuxer([{ codec: h264 }, { codec: aac }]);
 * const bytes = ts.push(0, frame); // 188-byte packets, PAT/PMT first and before each keyframe
 * if (bytes) socket.write(bytes);
 * ```
 */
export class TsMuxer {
  /** Frames dropped (before the first keyframe, or malformed). */
  dropped = 0;
  readonly #tracks: TrackState[];
  readonly #shared: boolean;
  readonly #psiInterval: number;
  readonly #pcrTrack: number;
  readonly #hasVideo: boolean;
  #started = false;
  #origin = 0;
  /** Latest decode time written, 90 kHz, without the TS offset. */
  #reached90 = 0;
  #patCc = 0;
  #pmtCc = 0;
  readonly #pat: Uint8Array;
  readonly #pmt: Uint8Array;
  /** Segments of the PES being written; reused. */
  #segments: Uint8Array[] = [];

  constructor(tracks: readonly TsTrackOptions[], options: TsMuxerOptions = {}) {
    if (!tracks.length) throw new RangeError("Cannot create an MPEG-TS muxer without tracks");
    this.#shared = options.timeBase === "shared";
    this.#psiInterval = (options.psiIntervalSeconds ?? 1) * 90000;
    this.#tracks = tracks.map((t, i) => this.#makeTrack(t.codec, FIRST_PID + i));
    this.#hasVideo = this.#tracks.some((t) => t.video);
    const pcr = this.#tracks.findIndex((t) => t.video);
    this.#pcrTrack = pcr >= 0 ? pcr : 0;
    const streams: PmtStream[] = this.#tracks.map((t) => ({
      streamType: t.streamType,
      pid: t.pid,
      descriptors: t.descriptors,
    }));
    this.#pat = buildPatSection(1, PMT_PID);
    this.#pmt = buildPmtSection(1, this.#tracks[this.#pcrTrack].pid, streams);
  }

  #makeTrack(codec: Codec, pid: number): TrackState {
    const name = codec.name.toUpperCase();
    const clock = codec.clockRate || 90000;
    const base = {
      codec,
      name,
      pid,
      cc: 0,
      timeline: new MediaTimeline({ clockRate: clock }),
      scale: 90000 / clock,
      offset: 0,
      started: false,
      descriptors: EMPTY,
      lastPsiDts: -Infinity,
    };
    switch (name) {
      case "H264":
      case "H265": {
        return {
          ...base,
          streamId: PesStreamId.VIDEO,
          streamType: name === "H264" ? TsStreamType.H264 : TsStreamType.H265,
          video: true,
          params: new VideoParameterSets(codec),
        };
      }
      case "MPEG4-GENERIC": {
        const config = parseAacFmtp(codec.fmtp).config;
        if (!config) throw new TsCodecError(codec, "the fmtp has no AudioSpecificConfig (config=...)");
        let asc: AudioSpecificConfig;
        try {
          asc = parseAudioSpecificConfig(config);
        } catch (e) {
          throw new TsCodecError(codec, (e as Error).message);
        }
        return { ...base, asc, streamId: PesStreamId.AUDIO, streamType: TsStreamType.AAC_ADTS, video: false };
      }
      case "OPUS": {
        const channels = codec.channels === 1 ? 1 : 2;
        // registration_descriptor "Opus" + extension descriptor (tag 0x7F) opus_audio_descriptor (0x80)
        // with channel_config_code = channel count for mono/stereo.
        const descriptors = new Uint8Array([0x05, 4, 0x4f, 0x70, 0x75, 0x73, 0x7f, 2, 0x80, channels]);
        return {
          ...base,
          timeline: new MediaTimeline({ clockRate: 48000 }),
          scale: 90000 / 48000,
          descriptors,
          streamId: PesStreamId.PRIVATE_1,
          streamType: TsStreamType.PRIVATE,
          video: false,
        };
      }
      default:
        throw new TsCodecError(codec, "supported are H264, H265, MPEG4-GENERIC (AAC) and OPUS");
    }
  }

  /**
   * PAT + PMT packets (also written automatically before the first frame and each keyframe).
   *
   * @example
   * ```ts
   * socket.write(ts.header());
   * ```
   */
  header(): Uint8Array {
    const out = new Uint8Array(2 * TS_PACKET_SIZE);
    this.#writePsi(out, 0);
    return out;
  }

  #writePsi(out: Uint8Array, p: number): number {
    p = writeSectionPacket(out, p, 0, this.#patCc, this.#pat);
    this.#patCc = (this.#patCc + 1) & 0x0f;
    p = writeSectionPacket(out, p, PMT_PID, this.#pmtCc, this.#pmt);
    this.#pmtCc = (this.#pmtCc + 1) & 0x0f;
    return p;
  }

  /**
   * Muxes one frame of track `index`; returns its TS packets (with PAT/PMT before keyframes), or
   * undefined when the frame is dropped (video before the first keyframe, audio before the video
   * starts).
   *
   * @throws {RangeError} for an unknown track index.
   * @example
   * ```ts
   * const packets = ts.push(1, aacFrame);
   * ```
   */
  push(index: number, frame: Frame): Uint8Array | undefined {
    const t = this.#tracks[index];
    if (!t) {
      throw new RangeError(
        `Cannot push to MPEG-TS track ${index}: the muxer has ${this.#tracks.length} tracks`,
      );
    }
    if (!this.#started) {
      if (this.#hasVideo && !(t.video && frame.keyframe)) {
        this.dropped++;
        return undefined;
      }
      this.#started = true;
      this.#origin = frame.timestamp / t.timeline.clockRate;
    }
    if (!t.started) {
      if (t.video && !frame.keyframe) {
        this.dropped++;
        return undefined;
      }
      if (this.#shared) {
        const offset = Math.round((frame.timestamp / t.timeline.clockRate - this.#origin) * 90000);
        // Clocks that only look shared (RTP tracks, each with its own random base) put this track
        // hours from the others: start it where the output has got to instead (as the MP4 writers).
        if (Math.abs(offset - this.#reached90) > MAX_SHARED_SKEW_SECONDS * 90000) {
          t.offset = this.#reached90;
        } else if (offset < 0) {
          this.dropped++;
          return undefined;
        } else {
          t.offset = offset;
        }
      }
      t.started = true;
    }
    const segs = this.#segments;
    segs.length = 0;
    segs.push(EMPTY); // PES header placeholder
    if (t.video) {
      if (!this.#videoSegments(t, frame, segs)) {
        this.dropped++;
        return undefined;
      }
    } else if (t.asc) {
      if (frame.data.length + 7 > 0x1fff) {
        this.dropped++;
        return undefined;
      }
      const adts = new Uint8Array(7);
      writeAdtsHeader(adts, 0, t.asc, frame.data.length);
      segs.push(adts, frame.data);
    } else {
      segs.push(opusControlHeader(frame.data.length), frame.data);
    }

    const ticks = t.timeline.next(frame.timestamp);
    const dts90 = TS_OFFSET + t.offset + Math.round(ticks * t.scale);
    const cts90 = frame.cts ? Math.round(frame.cts * t.scale) : 0;
    const pts90 = dts90 + cts90;
    if (dts90 - TS_OFFSET > this.#reached90) this.#reached90 = dts90 - TS_OFFSET;
    const withDts = cts90 !== 0;
    const header = new Uint8Array(withDts ? 19 : 14);
    let esLen = 0;
    for (let i = 1; i < segs.length; i++) esLen += segs[i].length;
    header[2] = 1;
    header[3] = t.streamId;
    const pesLen = header.length - 6 + esLen;
    // Video may use 0 (unbounded); audio must give the length.
    const lenField = t.video || pesLen > 0xffff ? 0 : pesLen;
    header[4] = lenField >> 8;
    header[5] = lenField & 0xff;
    header[6] = 0x84; // '10', data_alignment_indicator
    header[7] = withDts ? 0xc0 : 0x80;
    header[8] = withDts ? 10 : 5;
    writePesTimestamp(header, 9, withDts ? 0b0011 : 0b0010, pts90 % 0x200000000);
    if (withDts) writePesTimestamp(header, 14, 0b0001, dts90 % 0x200000000);
    segs[0] = header;

    const psi = frame.keyframe && t.video || (!this.#hasVideo && dts90 - t.lastPsiDts >= this.#psiInterval);
    if (psi) t.lastPsiDts = dts90;
    const isPcr = index === this.#pcrTrack;
    const pcr = isPcr ? Math.max(0, dts90 - PCR_DELAY) : -1;
    const total = header.length + esLen;
    const first = 184 - (isPcr ? 8 : t.video && frame.keyframe ? 2 : 0);
    const packets = total <= first ? 1 : 1 + Math.ceil((total - first) / 184);
    const out = new Uint8Array((packets + (psi ? 2 : 0)) * TS_PACKET_SIZE);
    let p = psi ? this.#writePsi(out, 0) : 0;
    p = this.#writePes(out, p, t, segs, total, pcr, t.video && frame.keyframe);
    return p === out.length ? out : out.subarray(0, p);
  }

  /** Fills `segs` with the Annex-B access unit; false when the AVCC data is malformed or empty. */
  #videoSegments(t: TrackState, frame: Frame, segs: Uint8Array[]): boolean {
    const h264 = t.name === "H264";
    segs.push(h264 ? AUD_H264 : AUD_H265);
    const d = frame.data;
    const firstNal = segs.length;
    let hasParams = false;
    let delimited = false;
    let p = 0;
    while (p < d.length) {
      if (p + 4 > d.length) return false;
      const len = ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;
      const end = p + 4 + len;
      if (end > d.length || len === 0) return false;
      const nal = d.subarray(p + 4, end);
      const type = h264 ? nal[0] & 0x1f : (nal[0] >> 1) & 0x3f;
      if (h264 ? type === 9 : type === 35) {
        delimited = true;
        p = end;
        continue; // our own AUD is already first
      }
      if (h264 ? type === 7 || type === 8 : type >= 32 && type <= 34) {
        hasParams = true;
        t.params!.learn(nal);
      }
      segs.push(START_CODE, nal);
      p = end;
    }
    if (frame.keyframe && !hasParams) {
      // Decoders joining at this keyframe need the parameter sets in-band.
      const extra: Uint8Array[] = [];
      for (const nal of t.params!.list()) extra.push(START_CODE, nal);
      if (extra.length) segs.splice(firstNal, 0, ...extra);
    }
    // An access unit of its delimiter alone still goes out: it ends the one before for parsers that
    // wait for the next to start (the last frame of a held source, lib/protocol/http/ts_consumer.ts).
    return segs.length > firstNal || delimited;
  }

  #writePes(
    out: Uint8Array,
    p: number,
    t: TrackState,
    segs: Uint8Array[],
    total: number,
    pcr: number,
    randomAccess: boolean,
  ): number {
    let seg = 0;
    let segPos = 0;
    let remaining = total;
    let firstPacket = true;
    while (remaining > 0) {
      const start = p;
      out[p] = TS_SYNC_BYTE;
      out[p + 1] = (firstPacket ? 0x40 : 0) | (t.pid >> 8);
      out[p + 2] = t.pid & 0xff;
      // Adaptation field content for this packet (PCR / random access on the first packet).
      let afData = 0;
      if (firstPacket && pcr >= 0) afData = 7; // flags + 6-byte PCR
      else if (firstPacket && randomAccess) afData = 1; // flags only
      const afMin = afData ? 1 + afData : 0;
      let payload = Math.min(remaining, 184 - afMin);
      const afLen = 184 - payload; // bytes taken by the adaptation field incl. its length byte
      out[p + 3] = (afLen > 0 ? 0x30 : 0x10) | t.cc;
      t.cc = (t.cc + 1) & 0x0f;
      p += 4;
      if (afLen > 0) {
        out[p] = afLen - 1;
        if (afLen > 1) {
          let flags = 0;
          if (firstPacket && randomAccess) flags |= 0x40;
          if (firstPacket && pcr >= 0) flags |= 0x10;
          out[p + 1] = flags;
          let q = p + 2;
          if (firstPacket && pcr >= 0) {
            writePcr(out, q, pcr);
            q += 6;
          }
          out.fill(0xff, q, p + afLen);
        }
        p += afLen;
      }
      // Copy `payload` bytes from the segments.
      while (payload > 0) {
        const s = segs[seg];
        const n = Math.min(payload, s.length - segPos);
        out.set(s.subarray(segPos, segPos + n), p);
        p += n;
        payload -= n;
        remaining -= n;
        segPos += n;
        if (segPos === s.length) {
          seg++;
          segPos = 0;
        }
      }
      firstPacket = false;
      if (p - start !== TS_PACKET_SIZE) throw new Error(`internal: TS packet of ${p - start} bytes`);
    }
    return p;
  }
}

/** PCR = base(33) at 90 kHz, 6 reserved bits, extension(9) = 0. */
function writePcr(out: Uint8Array, p: number, base: number): void {
  base %= 0x200000000;
  const hi = Math.floor(base / 2); // top 32 bits of the 33
  out[p] = (hi >>> 24) & 0xff;
  out[p + 1] = (hi >>> 16) & 0xff;
  out[p + 2] = (hi >>> 8) & 0xff;
  out[p + 3] = hi & 0xff;
  out[p + 4] = ((base & 1) << 7) | 0x7e;
  out[p + 5] = 0;
}

/** One PSI section in one packet: pointer_field 0, the section, 0xFF stuffing. */
function writeSectionPacket(
  out: Uint8Array,
  p: number,
  pid: number,
  cc: number,
  section: Uint8Array,
): number {
  out[p] = TS_SYNC_BYTE;
  out[p + 1] = 0x40 | (pid >> 8);
  out[p + 2] = pid & 0xff;
  out[p + 3] = 0x10 | cc;
  out[p + 4] = 0; // pointer_field
  out.set(section, p + 5);
  out.fill(0xff, p + 5 + section.length, p + TS_PACKET_SIZE);
  return p + TS_PACKET_SIZE;
}

/**
 * opus_control_header (Opus in MPEG-TS, ETSI TS 102 366 style, section 6.1): 11-bit prefix 0x3FF,
 * no trims, no extension, then the AU size as a run of 0xFF bytes plus a final byte.
 */
function opusControlHeader(size: number): Uint8Array {
  const ff = Math.floor(size / 255);
  const out = new Uint8Array(2 + ff + 1);
  out[0] = 0x7f;
  out[1] = 0xe0;
  out.fill(0xff, 2, 2 + ff);
  out[2 + ff] = size % 255;
  return out;
}
