/**
 * One track of an MP4 being written: what the codec needs in the sample entry (learnt from the fmtp
 * or from in-band parameter sets), its MIME codec string, and the per-frame conversion to MP4
 * samples (G.711 / L16 become FLAC).
 *
 * @module
 */
import { type Codec, fmtpParam } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { aacCodecString, parseAudioSpecificConfig } from "../../codec/aac/config.ts";
import { parseAacFmtp } from "../../codec/aac/fmtp.ts";
import { decodeAlaw, decodeUlaw } from "../../codec/g711/companding.ts";
import { FlacEncoder } from "./flac_encoder.ts";
import type { BoxWriter } from "./mp4_box.ts";
import {
  writeAvc1Entry,
  writeFlacEntry,
  writeHvc1Entry,
  writeMp4aEntry,
  writeOpusEntry,
} from "./mp4_sample_entry.ts";
import { opusPacketDuration } from "../../codec/opus/toc.ts";
import { VideoParameterSets } from "./video_parameter_sets.ts";

/**
 * A codec the MP4 writers cannot carry.
 *
 * @example
 * ```ts
 * try { new Mp4Muxer([{ codec }]); } catch (e) { if (e instanceof Mp4CodecError) console.log(e.codec); }
 * ```
 */
export class Mp4CodecError extends Error {
  override name = "Mp4CodecError";
  readonly codec: string;
  constructor(codec: Codec, reason: string) {
    super(`Cannot put ${codec.name}/${codec.clockRate} in MP4: ${reason}`);
    this.codec = codec.name;
  }
}

const SUPPORTED = new Set(["H264", "H265", "MPEG4-GENERIC", "OPUS", "PCMA", "PCMU", "L16"]);

/**
 * Whether the MP4 writers can carry a codec (H.264, H.265, AAC, Opus; PCMA/PCMU/L16 as FLAC).
 *
 * @example
 * ```ts
 * mp4CanMux({ name: "PCMA", clockRate: 8000 }); // true (written as FLAC)
 * ```
 */
export function mp4CanMux(codec: Codec): boolean {
  return SUPPORTED.has(codec.name.toUpperCase());
}

/** Per-track options of the MP4 writers. */
export interface Mp4TrackOptions {
  codec: Codec;
  /** Display rotation written into the track header matrix (clockwise degrees). */
  rotate?: 0 | 90 | 180 | 270;
}

/** Sample flags (ISO/IEC 14496-12 8.8.3.1): sample_depends_on = 2 (I-frame). */
export const SAMPLE_FLAGS_SYNC = 0x02000000;
/** sample_depends_on = 1, sample_is_non_sync_sample = 1. */
export const SAMPLE_FLAGS_NON_SYNC = 0x01010000;

/**
 * The state of one track: codec configuration and sample conversion.
 *
 * @example
 * ```ts
 * const t = new Mp4Track(1, { codec: { name: "H264", clockRate: 90000, fmtp } });
 * t.observe(frame);
 * if (t.ready) t.writeSampleEntry(w);
 * ```
 */
export class Mp4Track {
  readonly id: number;
  readonly codec: Codec;
  readonly kind: "video" | "audio";
  readonly rotate: 0 | 90 | 180 | 270;
  /** Ticks per second of the track (the codec clock; FLAC at the PCM rate). */
  readonly timescale: number;
  channels = 0;
  sampleRate = 0;
  /** Frames whose conversion failed (bad G.711 size, malformed Opus), dropped. */
  errors = 0;

  #name: string;
  /** H.264/H.265 parameter sets (video tracks only). */
  readonly params: VideoParameterSets | undefined;
  #asc: Uint8Array | undefined;
  #aacFrameLength = 1024;
  #flac: FlacEncoder | undefined;
  #pcm: Int16Array | undefined;
  #mime = "";

  constructor(id: number, options: Mp4TrackOptions) {
    const codec = options.codec;
    this.id = id;
    this.codec = codec;
    this.rotate = options.rotate ?? 0;
    this.#name = codec.name.toUpperCase();
    if (!SUPPORTED.has(this.#name)) {
      throw new Mp4CodecError(
        codec,
        "supported are H264, H265, MPEG4-GENERIC (AAC), OPUS, PCMA, PCMU and L16",
      );
    }
    this.kind = this.#name === "H264" || this.#name === "H265" ? "video" : "audio";
    switch (this.#name) {
      case "H264":
      case "H265":
        this.timescale = codec.clockRate || 90000;
        this.params = new VideoParameterSets(codec);
        break;
      case "MPEG4-GENERIC": {
        const config = parseAacFmtp(codec.fmtp).config;
        if (!config) throw new Mp4CodecError(codec, "the fmtp has no AudioSpecificConfig (config=...)");
        let asc;
        try {
          asc = parseAudioSpecificConfig(config);
        } catch (e) {
          throw new Mp4CodecError(
            codec,
            `config=${fmtpParam(codec.fmtp, "config")} is invalid: ${(e as Error).message}`,
          );
        }
        this.#asc = config;
        this.sampleRate = asc.sampleRate;
        this.channels = asc.channels || codec.channels || 2;
        this.#aacFrameLength = asc.frameLength;
        this.timescale = codec.clockRate || asc.sampleRate;
        this.#mime = aacCodecString(asc);
        break;
      }
      case "OPUS":
        this.timescale = 48000;
        this.sampleRate = 48000;
        this.channels = codec.channels === 1 ? 1 : 2;
        this.#mime = "opus";
        break;
      default: {
        // PCMA, PCMU, L16: encoded to FLAC.
        this.sampleRate = codec.clockRate || 8000;
        this.timescale = this.sampleRate;
        this.channels = codec.channels || 1;
        this.#flac = new FlacEncoder({
          sampleRate: this.sampleRate,
          channels: this.channels,
          maxBlockSize: 65535,
        });
        this.#mime = "flac";
      }
    }
  }

  /** Whether the sample entry can be written (video: SPS and PPS known; audio: always). */
  get ready(): boolean {
    return this.params ? this.params.ready : true;
  }

  /** RFC 6381 codec string for this track (`avc1.64001f`, `hvc1.1.6.L93.B0`, `mp4a.40.2`, `opus`, `flac`). */
  get mimeCodec(): string {
    return this.params ? this.params.mimeCodec : this.#mime;
  }

  /** Picture width (video, once the SPS is known). */
  get width(): number {
    return this.params?.width ?? 0;
  }

  /** Picture height (video, once the SPS is known). */
  get height(): number {
    return this.params?.height ?? 0;
  }

  /** Bumped whenever the sample entry changes (new SPS/PPS): a new init segment is due. */
  get configVersion(): number {
    return this.params?.version ?? 0;
  }

  /** The written sample's codec name (FLAC for G.711). */
  get outputCodec(): string {
    return this.#flac ? "FLAC" : this.#name;
  }

  /**
   * Learns in-band parameter sets from a video frame (AVCC). Cheap for frames without them: only the
   * NAL headers are looked at.
   *
   * @example
   * ```ts
   * track.observe(frame);
   * ```
   */
  observe(frame: Frame): void {
    if (!this.params || (!frame.keyframe && this.params.ready)) return;
    this.params.observe(frame.data);
  }

  /**
   * Writes the `stsd` sample entry. Call only when {@link ready}.
   *
   * @example
   * ```ts
   * if (track.ready) track.writeSampleEntry(w);
   * ```
   */
  writeSampleEntry(w: BoxWriter): void {
    switch (this.#name) {
      case "H264":
        writeAvc1Entry(w, this.width, this.height, this.params!.decoderConfig());
        return;
      case "H265":
        writeHvc1Entry(w, this.width, this.height, this.params!.decoderConfig());
        return;
      case "MPEG4-GENERIC":
        writeMp4aEntry(w, this.channels, this.sampleRate, this.#asc);
        return;
      case "OPUS":
        writeOpusEntry(w, this.channels, 48000, 0);
        return;
      default:
        writeFlacEntry(w, this.channels, this.sampleRate, this.#flac!.streamInfo());
    }
  }

  /**
   * The bytes of the MP4 sample for a frame: the frame data itself, or a FLAC frame for G.711/L16.
   * Undefined when the frame cannot be converted (counted in `errors`).
   *
   * @example
   * ```ts
   * const bytes = track.sampleData(frame);
   * ```
   */
  sampleData(frame: Frame): Uint8Array | undefined {
    if (!this.#flac) return frame.data;
    const d = frame.data;
    const ch = this.channels;
    let count: number;
    if (this.#name === "L16") {
      count = d.length >> 1;
      if (count === 0 || count % ch) {
        this.errors++;
        return undefined;
      }
      const pcm = this.#scratch(count);
      for (let i = 0; i < count; i++) pcm[i] = (d[i * 2] << 24) >> 16 | d[i * 2 + 1];
    } else {
      count = d.length;
      if (count === 0 || count % ch) {
        this.errors++;
        return undefined;
      }
      if (this.#name === "PCMA") decodeAlaw(d, this.#scratch(count));
      else decodeUlaw(d, this.#scratch(count));
    }
    if (count / ch > this.#flac.maxBlockSize) {
      this.errors++;
      return undefined;
    }
    return this.#flac.encode(this.#pcm!.subarray(0, count));
  }

  #scratch(n: number): Int16Array {
    if (!this.#pcm || this.#pcm.length < n) this.#pcm = new Int16Array(Math.max(n, 1024));
    return this.#pcm;
  }

  /**
   * The duration of a frame in track ticks when the codec defines it (AAC 1024 samples, Opus from
   * the TOC, PCM from the byte count); undefined for video.
   *
   * @example
   * ```ts
   * track.knownDuration(aacFrame); // 1024
   * ```
   */
  knownDuration(frame: Frame): number | undefined {
    switch (this.#name) {
      case "MPEG4-GENERIC":
        return Math.round((this.#aacFrameLength * this.timescale) / this.sampleRate);
      case "OPUS":
        return opusPacketDuration(frame.data) || undefined;
      case "PCMA":
      case "PCMU":
        return frame.data.length / this.channels;
      case "L16":
        return frame.data.length / 2 / this.channels;
      default:
        return undefined;
    }
  }
}
