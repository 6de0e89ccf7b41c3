/**
 * FLV muxer for `/api/stream.flv` and RTMP publishing: FLV header, `onMetaData`, sequence headers
 * (AVCDecoderConfigurationRecord / AudioSpecificConfig) and one tag per frame.
 *
 * Codecs: H.264 (codec id 7), H.265 as enhanced-RTMP `hvc1` (or legacy codec id 12 on request),
 * AAC, PCMA, PCMU. Timestamps are milliseconds from the first frame; video tags carry the
 * composition time offset.
 *
 * @module
 */
import { concatBytes } from "../../core/bytes.ts";
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { type AudioSpecificConfig, parseAudioSpecificConfig } from "../../codec/aac/config.ts";
import { parseAacFmtp } from "../../codec/aac/fmtp.ts";
import { MAX_SHARED_SKEW_SECONDS, MediaTimeline } from "../mp4/media_timeline.ts";
import { VideoParameterSets } from "../mp4/video_parameter_sets.ts";
import { Amf0EcmaArray, type Amf0Value, encodeAmf0 } from "./amf0.ts";
import {
  allocFlvTag,
  buildFlvTag,
  FLV_TAG_HEADER_SIZE,
  FlvExVideoPacket,
  flvFileHeader,
  FlvSoundFormat,
  FlvTagType,
  FlvVideoCodec,
} from "./flv_tag.ts";

/**
 * A codec the FLV muxer cannot carry, or AAC without its config.
 *
 * @example
 * ```ts
 * try { new FlvMuxer([{ codec }]); } catch (e) { if (e instanceof FlvCodecError) console.log(e.codec); }
 * ```
 */
export class FlvCodecError extends Error {
  override name = "FlvCodecError";
  readonly codec: string;
  constructor(codec: Codec, reason: string) {
    super(`Cannot put ${codec.name}/${codec.clockRate} in FLV: ${reason}`);
    this.codec = codec.name;
  }
}

/**
 * Which codecs the FLV muxer carries.
 *
 * @example
 * ```ts
 * flvCanMux({ name: "H264", clockRate: 90000 }); // true
 * ```
 */
export function flvCanMux(codec: Codec): boolean {
  return ["H264", "H265", "MPEG4-GENERIC", "PCMA", "PCMU"].includes(codec.name.toUpperCase());
}

/** Options of the {@link FlvMuxer}. */
export interface FlvMuxerOptions {
  /** H.265 signalling: `enhanced` (E-RTMP FourCC `hvc1`, default) or `legacy` (codec id 12). */
  hevc?: "enhanced" | "legacy";
  /** See `Mp4MuxerOptions.timeBase`. Default `track`. */
  timeBase?: "track" | "shared";
  /** Write the FLV file header before the first tag. Default true (false for RTMP). */
  fileHeader?: boolean;
}

interface TrackState {
  codec: Codec;
  name: string;
  video: boolean;
  params?: VideoParameterSets;
  asc?: AudioSpecificConfig;
  ascBytes?: Uint8Array;
  /** Audio tag first byte. */
  audioFlags: number;
  timeline: MediaTimeline;
  offsetMs: number;
  started: boolean;
  /** Parameter set version sent in the last sequence header (-1 = none yet). */
  sentVersion: number;
}

const FOURCC_HVC1 = [0x68, 0x76, 0x63, 0x31];

/**
 * FLV muxer. The first returned chunk starts with the FLV header, `onMetaData` and the sequence
 * headers; a video sequence header is repeated whenever the SPS/PPS change.
 *
 * @example
 * ```ts
 * const flv = new FlvMuxer([{ codec: h264 }, { codec: aac }]);
 * const bytes = flv.push(0, frame);
 * if (bytes) socket.write(bytes);
 * ```
 */
export class FlvMuxer {
  /** Frames dropped (before the first keyframe with known parameter sets, or malformed). */
  dropped = 0;
  readonly #tracks: TrackState[];
  readonly #legacyHevc: boolean;
  readonly #shared: boolean;
  readonly #fileHeader: boolean;
  readonly #hasVideo: boolean;
  #started = false;
  #origin = 0;
  /** The latest tag time written, in ms (where a track that joins by arrival starts). */
  #reachedMs = 0;
  /**
   * With the `shared` time base: tracks whose first timestamp was too far from the others' to
   * share their clock (RTP tracks with their own random bases); they were placed by arrival.
   */
  unsharedTracks = 0;

  constructor(tracks: readonly { codec: Codec }[], options: FlvMuxerOptions = {}) {
    if (!tracks.length) throw new RangeError("Cannot create an FLV muxer without tracks");
    this.#legacyHevc = options.hevc === "legacy";
    this.#shared = options.timeBase === "shared";
    this.#fileHeader = options.fileHeader ?? true;
    this.#tracks = tracks.map((t) => makeTrack(t.codec));
    this.#hasVideo = this.#tracks.some((t) => t.video);
  }

  /**
   * The `onMetaData` script tag body (AMF0), also usable as RTMP `@setDataFrame` payload.
   *
   * @example
   * ```ts
   * const meta = flv.metadata(); // encodeAmf0(["onMetaData", {...}])
   * ```
   */
  metadata(): Uint8Array {
    const meta: { [key: string]: Amf0Value } = { duration: 0, encoder: "strom" };
    for (const t of this.#tracks) {
      if (t.video) {
        // E-RTMP puts the FourCC, as a number, where a legacy codec id would be.
        meta.videocodecid = t.name === "H264"
          ? FlvVideoCodec.AVC
          : this.#legacyHevc
          ? FlvVideoCodec.HEVC
          : 0x68766331;
        if (t.params?.width) {
          meta.width = t.params.width;
          meta.height = t.params.height;
        }
      } else {
        meta.audiocodecid = t.audioFlags >> 4;
        meta.audiosamplerate = t.asc?.sampleRate ?? (t.codec.clockRate || 8000);
        meta.stereo = (t.asc?.channels ?? t.codec.channels ?? 1) > 1;
      }
    }
    return encodeAmf0(["onMetaData", new Amf0EcmaArray(meta)]);
  }

  /**
   * Muxes a frame of track `index`; returns the bytes to write or undefined when it is dropped.
   *
   * @throws {RangeError} for an unknown track index.
   * @example
   * ```ts
   * const bytes = flv.push(1, aacFrame);
   * ```
   */
  push(index: number, frame: Frame): Uint8Array | undefined {
    const t = this.#tracks[index];
    if (!t) {
      throw new RangeError(`Cannot push to FLV track ${index}: the muxer has ${this.#tracks.length} tracks`);
    }
    if (t.params && (frame.keyframe || !t.params.ready)) t.params.observe(frame.data);
    const parts: Uint8Array[] = [];
    if (!this.#started) {
      const videoReady = this.#tracks.every((s) => !s.params || s.params.ready);
      if (!videoReady || (this.#hasVideo && !(t.video && frame.keyframe))) {
        this.dropped++;
        return undefined;
      }
      this.#started = true;
      this.#origin = frame.timestamp / t.timeline.clockRate;
      if (this.#fileHeader) parts.push(flvFileHeader(this.#tracks.some((s) => !s.video), this.#hasVideo));
      parts.push(buildFlvTag(FlvTagType.SCRIPT, 0, [this.metadata()]));
      for (const s of this.#tracks) {
        if (s.ascBytes) {
          parts.push(buildFlvTag(FlvTagType.AUDIO, 0, [new Uint8Array([s.audioFlags, 0]), s.ascBytes]));
        }
      }
    }
    if (!t.started) {
      if (t.video && !frame.keyframe) {
        this.dropped++;
        return undefined;
      }
      if (this.#shared) {
        let offset = Math.round((frame.timestamp / t.timeline.clockRate - this.#origin) * 1000);
        if (Math.abs(offset - this.#reachedMs) > MAX_SHARED_SKEW_SECONDS * 1000) {
          // Not one clock after all (RTP tracks each start at a random base): by arrival.
          offset = this.#reachedMs;
          this.unsharedTracks++;
        } else if (offset < 0) {
          this.dropped++;
          return undefined;
        }
        t.offsetMs = offset;
      }
      t.started = true;
    }
    const ticks = t.timeline.next(frame.timestamp);
    const ms = t.offsetMs + Math.round((ticks * 1000) / t.timeline.clockRate);
    if (ms > this.#reachedMs) this.#reachedMs = ms;
    if (t.video) {
      const params = t.params!;
      if (params.version !== t.sentVersion && params.ready) {
        parts.push(this.#videoSequenceHeader(t, ms));
        t.sentVersion = params.version;
      }
      const cts = frame.cts ? Math.round((frame.cts * 1000) / t.timeline.clockRate) : 0;
      parts.push(this.#videoTag(t, frame, ms, cts));
    } else {
      parts.push(
        buildFlvTag(
          FlvTagType.AUDIO,
          ms,
          t.asc
            ? [new Uint8Array([t.audioFlags, 1]), frame.data]
            : [new Uint8Array([t.audioFlags]), frame.data],
        ),
      );
    }
    return parts.length === 1 ? parts[0] : concatBytes(parts);
  }

  #videoSequenceHeader(t: TrackState, ms: number): Uint8Array {
    const config = t.params!.decoderConfig();
    if (t.name === "H264" || this.#legacyHevc) {
      const codecId = t.name === "H264" ? FlvVideoCodec.AVC : FlvVideoCodec.HEVC;
      return buildFlvTag(FlvTagType.VIDEO, ms, [new Uint8Array([0x10 | codecId, 0, 0, 0, 0]), config]);
    }
    // E-RTMP: IsExHeader | FrameType key (1) | SequenceStart, FourCC.
    return buildFlvTag(FlvTagType.VIDEO, ms, [
      new Uint8Array([0x80 | 0x10 | FlvExVideoPacket.SEQUENCE_START, ...FOURCC_HVC1]),
      config,
    ]);
  }

  /** One video tag, built straight into its final buffer. */
  #videoTag(t: TrackState, frame: Frame, ms: number, cts: number): Uint8Array {
    const frameType = frame.keyframe ? 1 : 2;
    const enhanced = t.name === "H265" && !this.#legacyHevc;
    const headLen = enhanced ? (cts ? 8 : 5) : 5;
    const size = headLen + frame.data.length;
    const out = allocFlvTag(FlvTagType.VIDEO, size, ms);
    let p = FLV_TAG_HEADER_SIZE;
    if (enhanced) {
      out[p++] = 0x80 | (frameType << 4) |
        (cts ? FlvExVideoPacket.CODED_FRAMES : FlvExVideoPacket.CODED_FRAMES_X);
      out.set(FOURCC_HVC1, p);
      p += 4;
      if (cts) p = writeSi24(out, p, cts);
    } else {
      out[p++] = (frameType << 4) | (t.name === "H264" ? FlvVideoCodec.AVC : FlvVideoCodec.HEVC);
      out[p++] = 1; // NALU
      p = writeSi24(out, p, cts);
    }
    out.set(frame.data, p);
    return out;
  }
}

function writeSi24(out: Uint8Array, p: number, v: number): number {
  const u = v & 0xffffff;
  out[p] = (u >>> 16) & 0xff;
  out[p + 1] = (u >>> 8) & 0xff;
  out[p + 2] = u & 0xff;
  return p + 3;
}

function makeTrack(codec: Codec): TrackState {
  const name = codec.name.toUpperCase();
  const base = {
    codec,
    name,
    offsetMs: 0,
    started: false,
    sentVersion: -1,
    audioFlags: 0,
  };
  switch (name) {
    case "H264":
    case "H265":
      return {
        ...base,
        video: true,
        params: new VideoParameterSets(codec),
        timeline: new MediaTimeline({ clockRate: codec.clockRate || 90000 }),
      };
    case "MPEG4-GENERIC": {
      const config = parseAacFmtp(codec.fmtp).config;
      if (!config) throw new FlvCodecError(codec, "the fmtp has no AudioSpecificConfig (config=...)");
      let asc: AudioSpecificConfig;
      try {
        asc = parseAudioSpecificConfig(config);
      } catch (e) {
        throw new FlvCodecError(codec, (e as Error).message);
      }
      return {
        ...base,
        video: false,
        asc,
        ascBytes: config,
        // AAC: always "44 kHz, 16 bit, stereo" in the flags (the config has the truth).
        audioFlags: (FlvSoundFormat.AAC << 4) | 0x0f,
        timeline: new MediaTimeline({ clockRate: codec.clockRate || asc.sampleRate }),
      };
    }
    case "PCMA":
    case "PCMU": {
      if (codec.clockRate && codec.clockRate !== 8000) {
        throw new FlvCodecError(codec, "FLV carries G.711 at 8000 Hz only; resample first");
      }
      const format = name === "PCMA" ? FlvSoundFormat.PCMA : FlvSoundFormat.PCMU;
      // Rate bits 0 (G.711 is implicitly 8 kHz), 16-bit, mono/stereo.
      return {
        ...base,
        video: false,
        audioFlags: (format << 4) | 0x02 | ((codec.channels ?? 1) > 1 ? 1 : 0),
        timeline: new MediaTimeline({ clockRate: 8000 }),
      };
    }
    default:
      throw new FlvCodecError(codec, "supported are H264, H265, MPEG4-GENERIC (AAC), PCMA and PCMU");
  }
}
