/**
 * AAC AudioSpecificConfig (ISO/IEC 14496-3 section 1.6.2.1): the two-plus bytes that describe an
 * AAC stream (object type, sample rate, channels, frame length). It travels as the `config=` hex of
 * an SDP fmtp line, inside MP4 `esds`, FLV sequence headers, and LATM StreamMuxConfig.
 *
 * ```text
 *  5 bits  audioObjectType          (31 = escape: 32 + next 6 bits)
 *  4 bits  samplingFrequencyIndex   (15 = escape: next 24 bits are the rate)
 *  4 bits  channelConfiguration
 *  [SBR/PS (type 5/29): 4-bit extension rate index, then the core audioObjectType again]
 *  GASpecificConfig: frameLengthFlag (1024/960 samples), dependsOnCoreCoder, extensionFlag ...
 * ```
 *
 * @module
 */
import { BitReader, BitReaderError, BitWriter } from "./_bits.ts";

/** Sample rates by samplingFrequencyIndex (ISO/IEC 14496-3 table 1.18). */
export const AAC_SAMPLE_RATES: readonly number[] = [
  96000,
  88200,
  64000,
  48000,
  44100,
  32000,
  24000,
  22050,
  16000,
  12000,
  11025,
  8000,
  7350,
];

/** Common audioObjectType values. */
export const AacObjectType = {
  MAIN: 1,
  LC: 2,
  SSR: 3,
  LTP: 4,
  SBR: 5,
  ER_LC: 17,
  LD: 23,
  PS: 29,
  ELD: 39,
} as const;

/**
 * A decoded AudioSpecificConfig.
 *
 * @example
 * ```ts
 * const asc = parseAudioSpecificConfig(new Uint8Array([0x12, 0x10]));
 * // { objectType: 2, sampleRate: 44100, sampleRateIndex: 4, channels: 2, channelConfiguration: 2, frameLength: 1024 }
 * ```
 */
export interface AudioSpecificConfig {
  /** Core audioObjectType (2 = AAC-LC), after any SBR/PS signalling. */
  objectType: number;
  /** Core sample rate in Hz (the rate the AAC frames are coded at). */
  sampleRate: number;
  /** Index into {@link AAC_SAMPLE_RATES}, or 15 when the rate was given explicitly. */
  sampleRateIndex: number;
  /** Output channel count (0 when a program_config_element defines them). */
  channels: number;
  /** The 4-bit channelConfiguration field. */
  channelConfiguration: number;
  /** PCM samples per access unit at `sampleRate`: 1024 or 960 (512/480 for LD and ELD). */
  frameLength: number;
  /** 5 (SBR, HE-AAC) or 29 (PS, HE-AACv2) when signalled explicitly. */
  extensionObjectType?: number;
  /** SBR output sample rate, when signalled. */
  extensionSampleRate?: number;
}

/** An AudioSpecificConfig that cannot be decoded. */
export class AacConfigError extends RangeError {
  override name = "AacConfigError";
  /** Bit offset where decoding failed. */
  readonly bitOffset: number;
  constructor(bitOffset: number, reason: string) {
    super(`Cannot parse AAC AudioSpecificConfig at bit ${bitOffset}: ${reason}`);
    this.bitOffset = bitOffset;
  }
}

/** channelConfiguration to channel count (ISO/IEC 14496-3 table 1.19 and amendments). */
function channelCount(cfg: number): number {
  if (cfg >= 1 && cfg <= 6) return cfg;
  switch (cfg) {
    case 7:
      return 8;
    case 11:
      return 7;
    case 12:
      return 8;
    case 13:
      return 24;
    case 14:
      return 8;
    default:
      return 0;
  }
}

function readObjectType(r: BitReader): number {
  const t = r.read(5);
  return t === 31 ? 32 + r.read(6) : t;
}

function readSampleRate(r: BitReader): { index: number; rate: number } {
  const index = r.read(4);
  if (index === 15) return { index, rate: r.read(24) };
  const rate = AAC_SAMPLE_RATES[index];
  if (rate === undefined) throw new AacConfigError(r.pos - 4, `reserved samplingFrequencyIndex ${index}`);
  return { index, rate };
}

/** Object types that carry a GASpecificConfig (ISO/IEC 14496-3 1.6.2.1). */
const GA_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);
/** Error-resilient object types, which end with an epConfig field. */
const ER_TYPES = new Set([17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 39]);

/**
 * Reads an AudioSpecificConfig from a bit reader, leaving it just after the config. Used directly by
 * the LATM StreamMuxConfig parser, where the config is not byte-aligned and its exact length matters.
 * A program_config_element (channelConfiguration 0) is not supported there.
 *
 * @example
 * ```ts
 * const asc = readAudioSpecificConfig(new BitReader(bytes, 15));
 * ```
 */
export function readAudioSpecificConfig(r: BitReader): AudioSpecificConfig {
  try {
    let objectType = readObjectType(r);
    const { index, rate } = readSampleRate(r);
    const channelConfiguration = r.read(4);
    const asc: AudioSpecificConfig = {
      objectType,
      sampleRate: rate,
      sampleRateIndex: index,
      channels: channelCount(channelConfiguration),
      channelConfiguration,
      frameLength: 1024,
    };
    if (objectType === 5 || objectType === 29) {
      asc.extensionObjectType = objectType;
      asc.extensionSampleRate = readSampleRate(r).rate;
      objectType = readObjectType(r);
      asc.objectType = objectType;
      if (objectType === 22) r.skip(4); // extensionChannelConfiguration
    }
    if (GA_TYPES.has(objectType)) {
      // GASpecificConfig (ISO/IEC 14496-3 4.4.1).
      const frameLengthFlag = r.bool();
      asc.frameLength = objectType === 23 ? (frameLengthFlag ? 480 : 512) : (frameLengthFlag ? 960 : 1024);
      if (r.bool()) r.skip(14); // dependsOnCoreCoder -> coreCoderDelay
      const extensionFlag = r.bool();
      if (channelConfiguration === 0) {
        throw new AacConfigError(r.pos, "channelConfiguration 0 (program_config_element) is not supported");
      }
      if (objectType === 6 || objectType === 20) r.skip(3); // layerNr
      if (extensionFlag) {
        if (objectType === 22) r.skip(16); // numOfSubFrame, layer_length
        if (objectType === 17 || objectType === 19 || objectType === 20 || objectType === 23) r.skip(3);
        r.skip(1); // extensionFlag3
      }
    } else if (objectType === 39) {
      // ELDSpecificConfig starts with frameLengthFlag; its remaining fields are not needed here.
      asc.frameLength = r.bool() ? 480 : 512;
      return asc;
    }
    if (ER_TYPES.has(objectType)) {
      const epConfig = r.read(2);
      if (epConfig === 2 || epConfig === 3) {
        throw new AacConfigError(r.pos, `epConfig ${epConfig} (error protection) is not supported`);
      }
    }
    return asc;
  } catch (e) {
    if (e instanceof BitReaderError) throw new AacConfigError(e.bitOffset, "config ends early");
    throw e;
  }
}

/**
 * Decodes an AudioSpecificConfig (as found in fmtp `config=`, `esds`, or an FLV AAC sequence header).
 * Throws {@link AacConfigError} on truncated or reserved values.
 *
 * @example
 * ```ts
 * parseAudioSpecificConfig(hexToBytes("1190")).sampleRate; // 48000
 * ```
 */
export function parseAudioSpecificConfig(bytes: Uint8Array): AudioSpecificConfig {
  if (bytes.length < 2) throw new AacConfigError(0, `needs at least 2 bytes, got ${bytes.length}`);
  return readAudioSpecificConfig(new BitReader(bytes));
}

/**
 * Builds a plain AudioSpecificConfig (AAC-LC by default, no SBR signalling).
 *
 * @example
 * ```ts
 * buildAudioSpecificConfig({ sampleRate: 48000, channels: 2 }); // Uint8Array [0x11, 0x90]
 * ```
 */
export function buildAudioSpecificConfig(o: {
  objectType?: number;
  sampleRate: number;
  channels: number;
  frameLength?: number;
}): Uint8Array {
  const objectType = o.objectType ?? 2;
  const w = new BitWriter();
  if (objectType >= 31) {
    w.write(31, 5);
    w.write(objectType - 32, 6);
  } else {
    w.write(objectType, 5);
  }
  const index = AAC_SAMPLE_RATES.indexOf(o.sampleRate);
  if (index >= 0) {
    w.write(index, 4);
  } else {
    w.write(15, 4);
    w.write(o.sampleRate, 24);
  }
  const channelConfiguration = o.channels === 8 ? 7 : o.channels;
  if (channelConfiguration < 1 || channelConfiguration > 7) {
    throw new RangeError(`Cannot build AudioSpecificConfig for ${o.channels} channels (supported: 1-6, 8)`);
  }
  w.write(channelConfiguration, 4);
  if (GA_TYPES.has(objectType)) {
    const short = objectType === 23 ? o.frameLength === 480 : o.frameLength === 960;
    w.write(short ? 1 : 0, 1); // frameLengthFlag
    w.write(0, 1); // dependsOnCoreCoder
    w.write(0, 1); // extensionFlag
  }
  if (ER_TYPES.has(objectType)) w.write(0, 2); // epConfig
  return w.bytes();
}

/**
 * Duration of one access unit in units of `clockRate` (the RTP clock of the stream). Equals
 * `frameLength` when the clock is the core sample rate; HE-AAC streams often clock at the SBR output
 * rate, where one AU lasts twice as many ticks (2048 at 48 kHz for a 24 kHz core).
 *
 * @example
 * ```ts
 * aacFrameDuration(parseAudioSpecificConfig(config), codec.clockRate); // 1024
 * ```
 */
export function aacFrameDuration(config: AudioSpecificConfig, clockRate?: number): number {
  if (!clockRate || clockRate === config.sampleRate) return config.frameLength;
  return Math.round((config.frameLength * clockRate) / config.sampleRate);
}

/**
 * The RFC 6381 `codecs` string for MSE/HLS: `mp4a.40.<audioObjectType>`, using the signalled SBR/PS
 * type when present (HE-AAC is `mp4a.40.5`).
 *
 * @example
 * ```ts
 * aacCodecString(parseAudioSpecificConfig(config)); // "mp4a.40.2"
 * ```
 */
export function aacCodecString(config: AudioSpecificConfig | Uint8Array): string {
  const asc = config instanceof Uint8Array ? parseAudioSpecificConfig(config) : config;
  return `mp4a.40.${asc.extensionObjectType ?? asc.objectType}`;
}

/**
 * Copies `bitLength` bits starting at `bitOffset` into new bytes (zero-padded at the end), e.g. to
 * lift a non-aligned AudioSpecificConfig out of a StreamMuxConfig.
 *
 * @example
 * ```ts
 * const ascBytes = copyBits(streamMuxConfig, 15, 16);
 * ```
 */
export function copyBits(bytes: Uint8Array, bitOffset: number, bitLength: number): Uint8Array {
  const r = new BitReader(bytes, bitOffset, bitLength);
  const out = new Uint8Array((bitLength + 7) >> 3);
  for (let i = 0; i < out.length; i++) {
    const n = Math.min(8, r.left);
    out[i] = r.read(n) << (8 - n);
  }
  return out;
}
