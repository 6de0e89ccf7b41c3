/**
 * Opus identification header, as `OpusHead` for Ogg/WebM (RFC 7845 section 5.1, little-endian) and
 * as the `dOps` box body for MP4 ("Encapsulation of Opus in ISO Base Media File Format", big-endian).
 *
 * ```text
 * OpusHead: "OpusHead" | version=1 | channels | pre-skip u16le | input rate u32le | gain s16le |
 *           mapping family | [stream count | coupled count | channel mapping x channels]
 * dOps:     version=0 | channels | pre-skip u16be | input rate u32be | gain s16be |
 *           mapping family | [stream count | coupled count | channel mapping x channels]
 * ```
 *
 * @module
 */

/** Channel mapping for family 1 or 255 (more than two channels). */
export interface OpusChannelMapping {
  streamCount: number;
  coupledCount: number;
  /** One entry per output channel. */
  mapping: number[];
}

/**
 * The fields of an Opus identification header.
 *
 * @example
 * ```ts
 * const head: OpusHeadFields = { channels: 2, preSkip: 312, inputSampleRate: 48000 };
 * ```
 */
export interface OpusHeadFields {
  channels: number;
  /** Samples at 48 kHz to drop from the decoder's output at the start (default 312, libopus' usual). */
  preSkip?: number;
  /** Original input rate, informational (default 48000). */
  inputSampleRate?: number;
  /** Output gain in Q7.8 dB (default 0). */
  outputGain?: number;
  /** 0 for mono/stereo (default when channels <= 2), 1 for Vorbis order surround, 255 for none. */
  mappingFamily?: number;
  /** Required when `mappingFamily` is not 0. */
  channelMapping?: OpusChannelMapping;
}

/** An Opus header that cannot be parsed or built. */
export class OpusHeadError extends RangeError {
  override name = "OpusHeadError";
  constructor(reason: string) {
    super(`Cannot handle OpusHead: ${reason}`);
  }
}

function body(h: OpusHeadFields, little: boolean, version: number): Uint8Array {
  const family = h.mappingFamily ?? (h.channels <= 2 ? 0 : 1);
  if (h.channels < 1 || h.channels > 255) {
    throw new OpusHeadError(`channel count ${h.channels} is out of 1..255`);
  }
  if (family === 0 && h.channels > 2) {
    throw new OpusHeadError(`mapping family 0 allows 1 or 2 channels, got ${h.channels}`);
  }
  if (family !== 0 && !h.channelMapping) {
    throw new OpusHeadError(
      `mapping family ${family} needs channelMapping (stream count, coupled count, mapping)`,
    );
  }
  if (h.channelMapping && h.channelMapping.mapping.length !== h.channels) {
    throw new OpusHeadError(
      `channel mapping has ${h.channelMapping.mapping.length} entries for ${h.channels} channels`,
    );
  }
  const extra = family !== 0 ? 2 + h.channels : 0;
  const out = new Uint8Array(11 + extra);
  const view = new DataView(out.buffer);
  out[0] = version;
  out[1] = h.channels;
  view.setUint16(2, h.preSkip ?? 312, little);
  view.setUint32(4, h.inputSampleRate ?? 48000, little);
  view.setInt16(8, h.outputGain ?? 0, little);
  out[10] = family;
  if (family !== 0 && h.channelMapping) {
    out[11] = h.channelMapping.streamCount;
    out[12] = h.channelMapping.coupledCount;
    out.set(h.channelMapping.mapping, 13);
  }
  return out;
}

/**
 * Builds an `OpusHead` packet (Ogg, WebM `CodecPrivate`).
 *
 * @example
 * ```ts
 * const codecPrivate = buildOpusHead({ channels: 2 }); // 19 bytes starting "OpusHead"
 * ```
 */
export function buildOpusHead(h: OpusHeadFields): Uint8Array {
  const b = body(h, true, 1);
  const out = new Uint8Array(8 + b.length);
  out.set([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64]); // "OpusHead"
  out.set(b, 8);
  return out;
}

/**
 * Builds the body of an MP4 `dOps` box (without the 8-byte box header).
 *
 * @example
 * ```ts
 * const dops = buildOpusDops({ channels: 2 }); // 11 bytes
 * ```
 */
export function buildOpusDops(h: OpusHeadFields): Uint8Array {
  return body(h, false, 0);
}

/**
 * Parses an `OpusHead` packet. Throws {@link OpusHeadError} when the magic or lengths are wrong.
 *
 * @example
 * ```ts
 * parseOpusHead(codecPrivate).channels; // 2
 * ```
 */
export function parseOpusHead(bytes: Uint8Array): Required<Omit<OpusHeadFields, "channelMapping">> & {
  channelMapping?: OpusChannelMapping;
} {
  if (bytes.length < 19) throw new OpusHeadError(`needs at least 19 bytes, got ${bytes.length}`);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== "OpusHead") throw new OpusHeadError(`magic is "${magic}", expected "OpusHead"`);
  if (bytes[8] >> 4 !== 0) throw new OpusHeadError(`unsupported version ${bytes[8]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const channels = bytes[9];
  const mappingFamily = bytes[18];
  const out: ReturnType<typeof parseOpusHead> = {
    channels,
    preSkip: view.getUint16(10, true),
    inputSampleRate: view.getUint32(12, true),
    outputGain: view.getInt16(16, true),
    mappingFamily,
  };
  if (mappingFamily !== 0) {
    if (bytes.length < 21 + channels) {
      throw new OpusHeadError(`channel mapping table needs ${21 + channels} bytes`);
    }
    out.channelMapping = {
      streamCount: bytes[19],
      coupledCount: bytes[20],
      mapping: Array.from(bytes.subarray(21, 21 + channels)),
    };
  }
  return out;
}
