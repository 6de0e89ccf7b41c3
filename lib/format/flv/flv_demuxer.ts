/**
 * FLV demuxer: an FLV byte stream (HTTP-FLV, a file, ffmpeg `-f flv -`) to frames. The tag-body
 * half, {@link FlvDemuxer.pushTag}, also takes RTMP audio/video/data message payloads, which have
 * the same layout.
 *
 * - Video: H.264 (codec id 7), legacy HEVC (codec id 12) and enhanced-RTMP `avc1`/`hvc1`; the
 *   sequence header fills the codec fmtp; NAL length prefixes are normalised to 4 bytes (AVCC).
 * - Audio: AAC (sequence header -> config), PCMA, PCMU.
 * - Script data: `onMetaData` decoded with AMF0 into {@link FlvDemuxer.metadata}.
 *
 * Never throws out of `push`: malformed tags are counted in `errors` and skipped; after a broken
 * tag header the demuxer scans for the next plausible tag. Buffers are bounded by `maxTagBytes`.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { parseAudioSpecificConfig } from "../../codec/aac/config.ts";
import { buildAacFmtp } from "../../codec/aac/fmtp.ts";
import { buildH264Fmtp } from "../../codec/h264/fmtp.ts";
import { buildH265Fmtp } from "../../codec/h265/fmtp.ts";
import { parseAvcDecoderConfig } from "../mp4/avc_decoder_config.ts";
import { parseHevcDecoderConfig } from "../mp4/hevc_decoder_config.ts";
import { type Amf0Value, decodeAmf0 } from "./amf0.ts";
import {
  FLV_TAG_HEADER_SIZE,
  FlvExVideoPacket,
  FlvSoundFormat,
  FlvTagType,
  FlvVideoCodec,
} from "./flv_tag.ts";

/** A track found in the FLV. */
export interface FlvTrack {
  kind: "video" | "audio";
  /** The codec; for H.264/H.265/AAC complete once the sequence header was seen ({@link ready}). */
  codec: Codec;
  ready: boolean;
}

/** A frame out of the demuxer. */
export interface FlvDemuxedFrame {
  track: FlvTrack;
  frame: Frame;
}

/** Options of the {@link FlvDemuxer}. */
export interface FlvDemuxerOptions {
  /** Expect the 9-byte FLV header (and PreviousTagSize0) first. Default true. */
  fileHeader?: boolean;
  /** Largest tag accepted. Default 16 MiB. */
  maxTagBytes?: number;
}

/** FLV tag types we parse; anything else in a tag header means we lost sync. */
const TAG_TYPES = new Set<number>([FlvTagType.AUDIO, FlvTagType.VIDEO, FlvTagType.SCRIPT]);

/**
 * FLV demuxer.
 *
 * @example
 * ```ts
 * const flv = new FlvDemuxer();
 * for await (const chunk of body) {
 *   for (const { track, frame } of flv.push(chunk)) (track.kind === "video" ? video : audio).push(frame);
 * }
 * ```
 */
export class FlvDemuxer {
  /** Malformed tags, lost sync, unsupported codecs: counted, never thrown. */
  errors = 0;
  /** Frames dropped because their track's sequence header was not seen yet. */
  dropped = 0;
  /** Tags read. */
  tags = 0;
  /** The last `onMetaData` object. */
  metadata: { [key: string]: Amf0Value } | undefined;
  /** What the FLV header announced (both true without a header). */
  announced = { audio: true, video: true };
  video: FlvTrack | undefined;
  audio: FlvTrack | undefined;
  /** Increments whenever a track appears or its codec changes. */
  tracksVersion = 0;

  readonly #maxTag: number;
  #needHeader: boolean;
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  #inSync = true;
  #nalLength = 4;
  #aacFrame = 1024;
  #lastAudioTs = -1;
  #out: FlvDemuxedFrame[] = [];

  constructor(options: FlvDemuxerOptions = {}) {
    this.#needHeader = options.fileHeader ?? true;
    this.#maxTag = options.maxTagBytes ?? 16 * 1024 * 1024;
  }

  /** The tracks seen so far. */
  get tracks(): FlvTrack[] {
    const out: FlvTrack[] = [];
    if (this.video) out.push(this.video);
    if (this.audio) out.push(this.audio);
    return out;
  }

  /**
   * Whether every announced track (by the header flags, or by `onMetaData` codec ids when present)
   * has its codec configuration.
   */
  get ready(): boolean {
    if (this.#needHeader) return false;
    const meta = this.metadata;
    const wantVideo = meta ? meta.videocodecid !== undefined : this.announced.video;
    const wantAudio = meta ? meta.audiocodecid !== undefined : this.announced.audio;
    if (wantVideo && !this.video?.ready) return false;
    if (wantAudio && !this.audio?.ready) return false;
    return !!(this.video || this.audio);
  }

  /**
   * Feeds bytes; returns the frames completed by them. Never throws on bad input.
   *
   * @example
   * ```ts
   * const frames = flv.push(chunk);
   * ```
   */
  push(chunk: Uint8Array): FlvDemuxedFrame[] {
    const out: FlvDemuxedFrame[] = [];
    this.#out = out;
    this.#append(chunk);
    const buf = this.#buf;
    if (this.#needHeader) {
      if (this.#end - this.#start < 13) return out;
      const s = this.#start;
      if (buf[s] !== 0x46 || buf[s + 1] !== 0x4c || buf[s + 2] !== 0x56) {
        // Not an FLV header: treat the input as bare tags.
        this.errors++;
      } else {
        const flags = buf[s + 4];
        this.announced = { audio: (flags & 4) !== 0, video: (flags & 1) !== 0 };
        const size = ((buf[s + 5] << 24) | (buf[s + 6] << 16) | (buf[s + 7] << 8) | buf[s + 8]) >>> 0;
        this.#start += Math.min(Math.max(size, 9), 1024) + 4;
      }
      this.#needHeader = false;
    }
    for (;;) {
      const avail = this.#end - this.#start;
      if (avail < FLV_TAG_HEADER_SIZE) break;
      const s = this.#start;
      const type = buf[s] & 0x1f;
      const size = (buf[s + 1] << 16) | (buf[s + 2] << 8) | buf[s + 3];
      const plausible = TAG_TYPES.has(type) && (buf[s] & 0x20) === 0 && size <= this.#maxTag &&
        buf[s + 8] === 0 && buf[s + 9] === 0 && buf[s + 10] === 0;
      if (!plausible) {
        if (this.#inSync) this.errors++;
        this.#inSync = false;
        this.#start++;
        continue;
      }
      if (avail < FLV_TAG_HEADER_SIZE + size + 4) break;
      const prev = ((buf[s + 11 + size] << 24) | (buf[s + 12 + size] << 16) | (buf[s + 13 + size] << 8) |
        buf[s + 14 + size]) >>> 0;
      if (!this.#inSync && prev !== FLV_TAG_HEADER_SIZE + size) {
        // While resynchronising, demand a matching PreviousTagSize before trusting a header.
        this.#start++;
        continue;
      }
      this.#inSync = true;
      const ts = ((buf[s + 7] << 24) | (buf[s + 4] << 16) | (buf[s + 5] << 8) | buf[s + 6]) >>> 0;
      this.#start = s + FLV_TAG_HEADER_SIZE + size + 4;
      this.#tag(type, ts, buf.subarray(s + FLV_TAG_HEADER_SIZE, s + FLV_TAG_HEADER_SIZE + size));
    }
    return out;
  }

  /**
   * Parses one tag body (or RTMP message payload): `type` 8 audio, 9 video, 18 script data;
   * `timestamp` in ms. The body is copied where kept.
   *
   * @example
   * ```ts
   * // RTMP: message type 9 with its timestamp
   * const frames = flv.pushTag(9, message.timestamp, message.payload);
   * ```
   */
  pushTag(type: number, timestamp: number, body: Uint8Array): FlvDemuxedFrame[] {
    const out: FlvDemuxedFrame[] = [];
    this.#out = out;
    this.#tag(type, timestamp, body);
    return out;
  }

  #append(chunk: Uint8Array): void {
    const used = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buf.length) {
      if (used + chunk.length <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        let size = this.#buf.length * 2;
        while (size < used + chunk.length) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#start = 0;
      this.#end = used;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  #tag(type: number, ts: number, body: Uint8Array): void {
    this.tags++;
    try {
      if (type === FlvTagType.VIDEO) this.#videoTag(ts, body);
      else if (type === FlvTagType.AUDIO) this.#audioTag(ts, body);
      else if (type === FlvTagType.SCRIPT) this.#scriptTag(body);
    } catch {
      this.errors++;
    }
  }

  #scriptTag(body: Uint8Array): void {
    const values = decodeAmf0(body);
    // "onMetaData" directly, or "@setDataFrame", "onMetaData", {...} from RTMP publishers.
    for (let i = 0; i + 1 < values.length; i++) {
      const v = values[i + 1];
      if (
        values[i] === "onMetaData" && v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)
      ) {
        this.metadata = v as { [key: string]: Amf0Value };
        return;
      }
    }
  }

  #videoTag(ts: number, body: Uint8Array): void {
    if (body.length < 1) return;
    const b0 = body[0];
    let frameType: number;
    let packetType: number;
    let codec: "H264" | "H265";
    let p: number;
    let cts = 0;
    if (b0 & 0x80) {
      // Enhanced RTMP: IsExHeader | FrameType(3) | PacketType(4) | FourCC.
      if (body.length < 5) throw new RangeError("short enhanced video header");
      frameType = (b0 >> 4) & 7;
      packetType = b0 & 0x0f;
      const fourcc = String.fromCharCode(body[1], body[2], body[3], body[4]);
      if (fourcc === "hvc1") codec = "H265";
      else if (fourcc === "avc1") codec = "H264";
      else {
        this.errors++; // av01, vp09: not supported
        return;
      }
      p = 5;
      if (packetType === FlvExVideoPacket.CODED_FRAMES) {
        if (body.length < 8) throw new RangeError("short enhanced video header");
        cts = si24(body, 5);
        p = 8;
      } else if (packetType === FlvExVideoPacket.CODED_FRAMES_X) {
        packetType = FlvExVideoPacket.CODED_FRAMES;
      } else if (packetType !== FlvExVideoPacket.SEQUENCE_START) {
        return; // sequence end, metadata
      }
    } else {
      frameType = b0 >> 4;
      const codecId = b0 & 0x0f;
      if (codecId === FlvVideoCodec.AVC) codec = "H264";
      else if (codecId === FlvVideoCodec.HEVC) codec = "H265";
      else {
        this.errors++;
        return;
      }
      if (body.length < 5) throw new RangeError("short AVC video header");
      packetType = body[1]; // 0 sequence header, 1 NALU, 2 end of sequence
      cts = si24(body, 2);
      p = 5;
      if (packetType > 1) return;
    }
    if (frameType === 5) return; // video info / command frame
    if (packetType === FlvExVideoPacket.SEQUENCE_START) {
      this.#videoConfig(codec, body.subarray(p));
      return;
    }
    const track = this.video;
    if (!track || !track.ready || track.codec.name !== codec) {
      this.dropped++;
      return;
    }
    const data = this.#nalLength === 4 ? body.slice(p) : toAvcc(body.subarray(p), this.#nalLength);
    if (!data.length) return;
    const frame: Frame = { timestamp: ts * 90, keyframe: frameType === 1, data };
    if (cts) frame.cts = cts * 90;
    this.#out.push({ track, frame });
  }

  #videoConfig(codec: "H264" | "H265", config: Uint8Array): void {
    let fmtp: string;
    if (codec === "H264") {
      const c = parseAvcDecoderConfig(config);
      this.#nalLength = c.lengthSize;
      fmtp = buildH264Fmtp({ sps: c.sps[0], pps: c.pps[0] });
    } else {
      const c = parseHevcDecoderConfig(config);
      this.#nalLength = c.lengthSize;
      fmtp = buildH265Fmtp({ vps: c.vps[0], sps: c.sps[0], pps: c.pps[0] });
    }
    const prev = this.video;
    if (prev && prev.codec.name === codec && prev.codec.fmtp === fmtp) return;
    const codecObj: Codec = { name: codec, clockRate: 90000, fmtp };
    if (prev) {
      prev.codec = codecObj;
      prev.ready = true;
    } else {
      this.video = { kind: "video", codec: codecObj, ready: true };
    }
    this.tracksVersion++;
  }

  #audioTag(ts: number, body: Uint8Array): void {
    if (body.length < 1) return;
    const format = body[0] >> 4;
    if (format === FlvSoundFormat.AAC) {
      if (body.length < 2) throw new RangeError("short AAC header");
      if (body[1] === 0) {
        const config = body.slice(2);
        const asc = parseAudioSpecificConfig(config);
        this.#aacFrame = asc.frameLength;
        const fmtp = buildAacFmtp(config);
        if (this.audio?.codec.fmtp === fmtp) return;
        const codec: Codec = {
          name: "MPEG4-GENERIC",
          clockRate: asc.sampleRate,
          channels: asc.channels || 2,
          fmtp,
        };
        this.#setAudio(codec);
        return;
      }
      const track = this.audio;
      if (!track || !track.ready || track.codec.name !== "MPEG4-GENERIC") {
        this.dropped++;
        return;
      }
      // FLV keeps whole milliseconds; snap to the AAC frame grid when within half a frame.
      const rate = track.codec.clockRate;
      let t = Math.round((ts * rate) / 1000);
      const expected = this.#lastAudioTs + this.#aacFrame;
      if (this.#lastAudioTs >= 0 && Math.abs(t - expected) < this.#aacFrame / 2) t = expected;
      this.#lastAudioTs = t;
      this.#out.push({ track, frame: { timestamp: t, keyframe: true, data: body.slice(2) } });
      return;
    }
    if (format === FlvSoundFormat.PCMA || format === FlvSoundFormat.PCMU) {
      const name = format === FlvSoundFormat.PCMA ? "PCMA" : "PCMU";
      const channels = (body[0] & 1) + 1;
      if (!this.audio || this.audio.codec.name !== name || (this.audio.codec.channels ?? 1) !== channels) {
        const codec: Codec = { name, clockRate: 8000 };
        if (channels > 1) codec.channels = channels;
        this.#setAudio(codec);
      }
      this.#out.push({
        track: this.audio!,
        frame: { timestamp: ts * 8, keyframe: true, data: body.slice(1) },
      });
      return;
    }
    this.errors++; // MP3, Speex, enhanced audio...: not supported
  }

  #setAudio(codec: Codec): void {
    if (this.audio) {
      this.audio.codec = codec;
      this.audio.ready = true;
    } else {
      this.audio = { kind: "audio", codec, ready: true };
    }
    this.#lastAudioTs = -1;
    this.tracksVersion++;
  }
}

function si24(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8)) >> 8;
}

/** Rewrites 1/2/3-byte NAL length prefixes as 4-byte ones. */
function toAvcc(data: Uint8Array, lengthSize: number): Uint8Array {
  let count = 0;
  let size = 0;
  let p = 0;
  while (p + lengthSize <= data.length) {
    let len = 0;
    for (let i = 0; i < lengthSize; i++) len = len * 256 + data[p + i];
    p += lengthSize + len;
    if (p > data.length) break;
    count++;
    size += 4 + len;
  }
  const out = new Uint8Array(size);
  p = 0;
  let o = 0;
  for (let n = 0; n < count; n++) {
    let len = 0;
    for (let i = 0; i < lengthSize; i++) len = len * 256 + data[p + i];
    out[o] = len >>> 24;
    out[o + 1] = (len >>> 16) & 0xff;
    out[o + 2] = (len >>> 8) & 0xff;
    out[o + 3] = len & 0xff;
    out.set(data.subarray(p + lengthSize, p + lengthSize + len), o + 4);
    o += 4 + len;
    p += lengthSize + len;
  }
  return out;
}
