/**
 * ADTS stream writer for `/api/stream.aac`: each AAC access unit behind its 7-byte ADTS header
 * (built by lib/codec/aac/adts.ts), one allocation per frame.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { ADTS_HEADER_SIZE, writeAdtsHeader } from "../../codec/aac/adts.ts";
import {
  AAC_SAMPLE_RATES,
  type AudioSpecificConfig,
  parseAudioSpecificConfig,
} from "../../codec/aac/config.ts";
import { parseAacFmtp } from "../../codec/aac/fmtp.ts";

/**
 * The codec cannot be written as ADTS (not AAC, no config, or a config ADTS cannot express).
 *
 * @example
 * ```ts
 * try { new AdtsMuxer(codec); } catch (e) { if (e instanceof AdtsCodecError) console.log(e.codec); }
 * ```
 */
export class AdtsCodecError extends Error {
  override name = "AdtsCodecError";
  readonly codec: string;
  constructor(codec: Codec, reason: string) {
    super(`Cannot write ${codec.name}/${codec.clockRate} as ADTS: ${reason}`);
    this.codec = codec.name;
  }
}

/**
 * Wraps AAC frames in ADTS headers.
 *
 * @example
 * ```ts
 * const adts = new AdtsMuxer(codec);             // MPEG4-GENERIC with fmtp config=...
 * response.headers.set("Content-Type", adts.contentType);
 * socket.write(adts.push(frame));
 * ```
 */
export class AdtsMuxer {
  /** MIME type of the stream. */
  readonly contentType = "audio/aac";
  readonly config: AudioSpecificConfig;
  /** Frames too large for ADTS' 13-bit length (dropped). */
  dropped = 0;

  constructor(codec: Codec) {
    if (codec.name.toUpperCase() !== "MPEG4-GENERIC") {
      throw new AdtsCodecError(codec, "only AAC (MPEG4-GENERIC) is ADTS");
    }
    const bytes = parseAacFmtp(codec.fmtp).config;
    if (!bytes) throw new AdtsCodecError(codec, "the fmtp has no AudioSpecificConfig (config=...)");
    let config: AudioSpecificConfig;
    try {
      config = parseAudioSpecificConfig(bytes);
    } catch (e) {
      throw new AdtsCodecError(codec, (e as Error).message);
    }
    // ADTS has 2 bits for the profile (object types 1..4) and a 4-bit rate index.
    if (config.objectType < 1 || config.objectType > 4) {
      throw new AdtsCodecError(codec, `audio object type ${config.objectType} does not fit ADTS (1..4 only)`);
    }
    if (!AAC_SAMPLE_RATES.includes(config.sampleRate)) {
      throw new AdtsCodecError(codec, `${config.sampleRate} Hz has no ADTS sampling frequency index`);
    }
    if (config.channelConfiguration < 1 || config.channelConfiguration > 7) {
      throw new AdtsCodecError(
        codec,
        `channelConfiguration ${config.channelConfiguration} does not fit ADTS (1..7)`,
      );
    }
    this.config = config;
  }

  /**
   * One ADTS frame for the access unit, or undefined when it exceeds 8184 bytes.
   *
   * @example
   * ```ts
   * const bytes = adts.push(frame);
   * ```
   */
  push(frame: Frame): Uint8Array | undefined {
    const au = frame.data;
    if (au.length + ADTS_HEADER_SIZE > 0x1fff || au.length === 0) {
      this.dropped++;
      return undefined;
    }
    const out = new Uint8Array(ADTS_HEADER_SIZE + au.length);
    writeAdtsHeader(out, 0, this.config, au.length);
    out.set(au, ADTS_HEADER_SIZE);
    return out;
  }
}
