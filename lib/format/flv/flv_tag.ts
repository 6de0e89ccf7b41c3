/**
 * FLV file structure (Adobe "Video File Format Specification" v10.1, Annex E; enhanced RTMP/FLV v1
 * for HEVC).
 *
 * ```text
 * header   'F' 'L' 'V' | version 1 | flags (4 = audio, 1 = video) | u32 header size = 9
 *          u32 PreviousTagSize0 = 0
 * tag      type (8 audio, 9 video, 18 script) | u24 data size | u24 timestamp (ms) | u8 timestamp
 *          bits 31..24 | u24 stream id = 0 | data | u32 PreviousTagSize = 11 + data size
 *
 * video data (legacy)    frameType(4) codecId(4) | AVCPacketType | SI24 composition time | payload
 * video data (enhanced)  1 frameType(3) packetType(4) | FourCC | [SI24 cts for CodedFrames] | payload
 * audio data             soundFormat(4) rate(2) size(1) type(1) | [AACPacketType] | payload
 * ```
 *
 * @module
 */

/**
 * FLV tag types.
 *
 * @example
 * ```ts
 * if (tag.type === FlvTagType.VIDEO) handleVideo(tag.body);
 * ```
 */
export const FlvTagType = { AUDIO: 8, VIDEO: 9, SCRIPT: 18 } as const;

/**
 * Legacy video codec ids. 12 is the widespread (non-Adobe) HEVC extension.
 *
 * @example
 * ```ts
 * const isAvc = (body[0] & 0x0f) === FlvVideoCodec.AVC;
 * ```
 */
export const FlvVideoCodec = { AVC: 7, HEVC: 12 } as const;

/**
 * Audio sound formats (the high nibble of an audio tag's first byte).
 *
 * @example
 * ```ts
 * const isAac = body[0] >> 4 === FlvSoundFormat.AAC;
 * ```
 */
export const FlvSoundFormat = { PCMA: 7, PCMU: 8, EX_HEADER: 9, AAC: 10 } as const;

/**
 * Enhanced RTMP video packet types (the low nibble when the IsExHeader bit is set).
 *
 * @example
 * ```ts
 * if ((body[0] & 0x0f) === FlvExVideoPacket.SEQUENCE_START) readHvcC(body.subarray(5));
 * ```
 */
export const FlvExVideoPacket = {
  SEQUENCE_START: 0,
  CODED_FRAMES: 1,
  SEQUENCE_END: 2,
  CODED_FRAMES_X: 3,
  METADATA: 4,
  MPEG2TS_SEQUENCE_START: 5,
} as const;

/** Bytes of a tag header. */
export const FLV_TAG_HEADER_SIZE = 11;

/**
 * The 13-byte file start: FLV header and PreviousTagSize0.
 *
 * @example
 * ```ts
 * socket.write(flvFileHeader(true, true));
 * ```
 */
export function flvFileHeader(audio: boolean, video: boolean): Uint8Array {
  return new Uint8Array([0x46, 0x4c, 0x56, 1, (audio ? 4 : 0) | (video ? 1 : 0), 0, 0, 0, 9, 0, 0, 0, 0]);
}

/**
 * Writes a tag header at `offset` (timestamp in ms, 32 bits split as FLV wants).
 *
 * @example
 * ```ts
 * writeFlvTagHeader(out, 0, FlvTagType.VIDEO, body.length, 40);
 * ```
 */
export function writeFlvTagHeader(
  out: Uint8Array,
  offset: number,
  type: number,
  size: number,
  timestamp: number,
): void {
  const ts = timestamp >>> 0;
  out[offset] = type;
  out[offset + 1] = (size >>> 16) & 0xff;
  out[offset + 2] = (size >>> 8) & 0xff;
  out[offset + 3] = size & 0xff;
  out[offset + 4] = (ts >>> 16) & 0xff;
  out[offset + 5] = (ts >>> 8) & 0xff;
  out[offset + 6] = ts & 0xff;
  out[offset + 7] = (ts >>> 24) & 0xff;
  out[offset + 8] = 0;
  out[offset + 9] = 0;
  out[offset + 10] = 0;
}

/**
 * A new tag buffer for a body of `size` bytes, with the tag header and the trailing PreviousTagSize
 * already written: the caller fills the body at `FLV_TAG_HEADER_SIZE` (one allocation per tag).
 *
 * @example
 * ```ts
 * const tag = allocFlvTag(FlvTagType.VIDEO, body.length, 40);
 * tag.set(body, FLV_TAG_HEADER_SIZE);
 * ```
 */
export function allocFlvTag(type: number, size: number, timestamp: number): Uint8Array {
  const total = FLV_TAG_HEADER_SIZE + size;
  const out = new Uint8Array(total + 4);
  writeFlvTagHeader(out, 0, type, size, timestamp);
  out[total] = total >>> 24;
  out[total + 1] = (total >>> 16) & 0xff;
  out[total + 2] = (total >>> 8) & 0xff;
  out[total + 3] = total & 0xff;
  return out;
}

/**
 * One complete tag (header, body parts, PreviousTagSize) in a new buffer.
 *
 * @example
 * ```ts
 * const tag = buildFlvTag(FlvTagType.AUDIO, 23, [new Uint8Array([0xaf, 1]), au]);
 * ```
 */
export function buildFlvTag(type: number, timestamp: number, parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = allocFlvTag(type, size, timestamp);
  let p = FLV_TAG_HEADER_SIZE;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** One tag read back by {@link readFlvTags}. */
export interface FlvTagView {
  type: number;
  /** Milliseconds (32 bits, the extended byte applied). */
  timestamp: number;
  /** The tag body (a view into the input). */
  body: Uint8Array;
}

/**
 * Splits complete FLV tags (as returned by `FlvMuxer.push` with `fileHeader: false`) into type,
 * timestamp and body: what an RTMP publisher sends as audio (8), video (9) and data (18) messages.
 *
 * @throws {RangeError} when a tag runs past the end of the input.
 * @example
 * ```ts
 * for (const tag of readFlvTags(flv.push(0, frame) ?? new Uint8Array())) rtmp.send(tag.type, tag.timestamp, tag.body);
 * ```
 */
export function readFlvTags(data: Uint8Array): FlvTagView[] {
  const out: FlvTagView[] = [];
  let p = 0;
  while (p < data.length) {
    if (p + FLV_TAG_HEADER_SIZE > data.length) {
      throw new RangeError(`Cannot read FLV tag at byte ${p}: header cut short`);
    }
    const size = (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
    const end = p + FLV_TAG_HEADER_SIZE + size;
    if (end + 4 > data.length) {
      throw new RangeError(`Cannot read FLV tag at byte ${p}: ${size}-byte body runs past the end`);
    }
    const timestamp = ((data[p + 7] << 24) | (data[p + 4] << 16) | (data[p + 5] << 8) | data[p + 6]) >>> 0;
    out.push({ type: data[p] & 0x1f, timestamp, body: data.subarray(p + FLV_TAG_HEADER_SIZE, end) });
    p = end + 4;
  }
  return out;
}
