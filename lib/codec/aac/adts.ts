/**
 * ADTS, the self-framing AAC transport (ISO/IEC 13818-7 6.2, ISO/IEC 14496-3 1.A.2.2): a 7-byte
 * header (9 with CRC) before each frame. Used by `.aac` files/streams, MPEG-TS and some cameras.
 *
 * ```text
 * AAAAAAAA AAAABCCD EEFFFFGH HHIJKLMM MMMMMMMM MMMOOOOO OOOOOOPP [QQQQQQQQ QQQQQQQQ]
 * A syncword 0xFFF       B MPEG version (0 = MPEG-4)   C layer (0)   D protection_absent
 * E profile (objectType - 1)   F samplingFrequencyIndex   G private   H channelConfiguration
 * I..L original/home/copyright bits   M frame length including header (13 bits)
 * O buffer fullness (0x7FF = VBR)   P raw data blocks - 1   Q CRC when D = 0
 * ```
 *
 * @module
 */
import { AAC_SAMPLE_RATES, type AudioSpecificConfig, buildAudioSpecificConfig } from "./config.ts";

/** Size of an ADTS header without CRC. */
export const ADTS_HEADER_SIZE = 7;

/**
 * A decoded ADTS header.
 *
 * @example
 * ```ts
 * const h = parseAdtsHeader(bytes);
 * const au = bytes.subarray(h.headerLength, h.frameLength);
 * ```
 */
export interface AdtsHeader {
  /** audioObjectType (profile + 1): 2 = AAC-LC. */
  objectType: number;
  sampleRateIndex: number;
  sampleRate: number;
  channelConfiguration: number;
  /** Whole frame size in bytes, header included. */
  frameLength: number;
  /** 7, or 9 when a CRC follows. */
  headerLength: number;
  /** Raw data blocks (access units) in the frame, 1..4. */
  rawDataBlocks: number;
}

/** Bytes that are not a valid ADTS header. */
export class AdtsParseError extends RangeError {
  override name = "AdtsParseError";
  readonly offset: number;
  constructor(offset: number, reason: string) {
    super(`Cannot parse ADTS header at byte ${offset}: ${reason}`);
    this.offset = offset;
  }
}

/**
 * Whether an ADTS syncword (12 ones, layer 0) starts at `offset`.
 *
 * @example
 * ```ts
 * if (isAdts(payload)) payload = payload.subarray(ADTS_HEADER_SIZE);
 * ```
 */
export function isAdts(bytes: Uint8Array, offset = 0): boolean {
  return bytes.length >= offset + ADTS_HEADER_SIZE && bytes[offset] === 0xff &&
    (bytes[offset + 1] & 0xf6) === 0xf0;
}

/**
 * Decodes the ADTS header at `offset`. Throws {@link AdtsParseError} when it is not one.
 *
 * @example
 * ```ts
 * parseAdtsHeader(new Uint8Array([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc])).sampleRate; // 44100
 * ```
 */
export function parseAdtsHeader(bytes: Uint8Array, offset = 0): AdtsHeader {
  if (bytes.length < offset + ADTS_HEADER_SIZE) {
    throw new AdtsParseError(offset, `needs ${ADTS_HEADER_SIZE} bytes, ${bytes.length - offset} left`);
  }
  if (!isAdts(bytes, offset)) throw new AdtsParseError(offset, "no 0xFFF syncword with layer 0");
  const b2 = bytes[offset + 2];
  const b3 = bytes[offset + 3];
  const sampleRateIndex = (b2 >> 2) & 0x0f;
  const sampleRate = AAC_SAMPLE_RATES[sampleRateIndex];
  if (sampleRate === undefined) {
    throw new AdtsParseError(offset, `reserved samplingFrequencyIndex ${sampleRateIndex}`);
  }
  const headerLength = bytes[offset + 1] & 0x01 ? 7 : 9;
  const frameLength = ((b3 & 0x03) << 11) | (bytes[offset + 4] << 3) | (bytes[offset + 5] >> 5);
  if (frameLength < headerLength) {
    throw new AdtsParseError(
      offset,
      `frame length ${frameLength} is shorter than the ${headerLength}-byte header`,
    );
  }
  return {
    objectType: (b2 >> 6) + 1,
    sampleRateIndex,
    sampleRate,
    channelConfiguration: ((b2 & 0x01) << 2) | (b3 >> 6),
    frameLength,
    headerLength,
    rawDataBlocks: (bytes[offset + 6] & 0x03) + 1,
  };
}

/**
 * Writes a 7-byte ADTS header (no CRC, one raw data block, VBR) for an access unit of
 * `payloadLength` bytes. Returns the bytes written (7).
 *
 * @example
 * ```ts
 * const out = new Uint8Array(7 + au.length);
 * writeAdtsHeader(out, 0, asc, au.length); out.set(au, 7);
 * ```
 */
export function writeAdtsHeader(
  out: Uint8Array,
  offset: number,
  config: Pick<AudioSpecificConfig, "objectType" | "sampleRate" | "channelConfiguration">,
  payloadLength: number,
): number {
  const frameLength = payloadLength + ADTS_HEADER_SIZE;
  if (frameLength > 0x1fff) {
    throw new RangeError(`Cannot write ADTS header: frame of ${frameLength} bytes exceeds 8191`);
  }
  const index = AAC_SAMPLE_RATES.indexOf(config.sampleRate);
  if (index < 0) {
    throw new RangeError(`Cannot write ADTS header: ${config.sampleRate} Hz has no sampling frequency index`);
  }
  const profile = (config.objectType - 1) & 0x03;
  const ch = config.channelConfiguration & 0x07;
  out[offset] = 0xff;
  out[offset + 1] = 0xf1; // MPEG-4, layer 0, no CRC
  out[offset + 2] = (profile << 6) | (index << 2) | (ch >> 2);
  out[offset + 3] = ((ch & 0x03) << 6) | (frameLength >> 11);
  out[offset + 4] = (frameLength >> 3) & 0xff;
  out[offset + 5] = ((frameLength & 0x07) << 5) | 0x1f; // buffer fullness 0x7FF (VBR), high bits
  out[offset + 6] = 0xfc; // buffer fullness low bits, 1 raw data block
  return ADTS_HEADER_SIZE;
}

/**
 * Wraps one raw access unit in an ADTS frame (new buffer).
 *
 * @example
 * ```ts
 * const adts = buildAdtsFrame(asc, frame.data); // ready for a .aac file or MPEG-TS
 * ```
 */
export function buildAdtsFrame(
  config: Pick<AudioSpecificConfig, "objectType" | "sampleRate" | "channelConfiguration">,
  au: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(ADTS_HEADER_SIZE + au.length);
  writeAdtsHeader(out, 0, config, au.length);
  out.set(au, ADTS_HEADER_SIZE);
  return out;
}

/**
 * The AudioSpecificConfig equivalent of an ADTS header (for MP4/FLV/SDP).
 *
 * @example
 * ```ts
 * const config = adtsToAudioSpecificConfig(parseAdtsHeader(firstFrame)); // e.g. 0x12 0x10
 * ```
 */
export function adtsToAudioSpecificConfig(h: AdtsHeader): Uint8Array {
  return buildAudioSpecificConfig({
    objectType: h.objectType,
    sampleRate: h.sampleRate,
    channels: h.channelConfiguration === 7 ? 8 : h.channelConfiguration,
  });
}

/** One frame found by {@link AdtsSplitter}. */
export interface AdtsFrame {
  header: AdtsHeader;
  /** The raw access unit (after the header and CRC). */
  data: Uint8Array;
  /** The whole ADTS frame, header included. */
  bytes: Uint8Array;
}

/**
 * Splits an ADTS byte stream (arbitrary chunks, e.g. from a socket or ffmpeg's stdout) into frames.
 * A pure processor: `push(chunk)` calls `onFrame` synchronously for every complete frame. Garbage
 * between frames is skipped up to the next syncword and counted in `errors`; so are frames with
 * several raw data blocks, which cannot be split without decoding.
 *
 * Emitted views stay valid: the splitter never writes into a buffer it has handed out.
 *
 * @example
 * ```ts
 * const split = new AdtsSplitter((f) => receiver.push({ timestamp: (ts += 1024), keyframe: true, data: f.data }));
 * for await (const chunk of stdout) split.push(chunk);
 * ```
 */
export class AdtsSplitter {
  /** Resynchronisations and skipped frames. */
  errors = 0;
  /** Frames emitted. */
  frames = 0;
  readonly #onFrame: (frame: AdtsFrame) => void;
  #pending: Uint8Array | undefined;
  #inSync = true;

  constructor(onFrame: (frame: AdtsFrame) => void) {
    this.#onFrame = onFrame;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.#pending?.length ?? 0;
  }

  push(chunk: Uint8Array): void {
    let buf = chunk;
    if (this.#pending) {
      buf = new Uint8Array(this.#pending.length + chunk.length);
      buf.set(this.#pending);
      buf.set(chunk, this.#pending.length);
      this.#pending = undefined;
    }
    let p = 0;
    while (buf.length - p >= ADTS_HEADER_SIZE) {
      let header: AdtsHeader | undefined;
      if (isAdts(buf, p)) {
        try {
          header = parseAdtsHeader(buf, p);
        } catch {
          header = undefined;
        }
      }
      if (!header) {
        if (this.#inSync) this.errors++;
        this.#inSync = false;
        p++;
        continue;
      }
      if (buf.length - p < header.frameLength) break;
      this.#inSync = true;
      const bytes = buf.subarray(p, p + header.frameLength);
      p += header.frameLength;
      if (header.rawDataBlocks !== 1) {
        this.errors++;
        continue;
      }
      this.frames++;
      this.#onFrame({ header, data: bytes.subarray(header.headerLength), bytes });
    }
    if (p < buf.length) this.#pending = buf.slice(p);
  }
}
