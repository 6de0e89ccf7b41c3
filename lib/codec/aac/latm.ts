/**
 * AAC in LATM over RTP (`MP4A-LATM`, RFC 6416 section 6; LATM syntax in ISO/IEC 14496-3 1.7.3).
 *
 * Each RTP packet carries an AudioMuxElement (or a fragment of one, marker set on the last):
 *
 * ```text
 * AudioMuxElement(muxConfigPresent)            [cpresent=1 only: useSameStreamMux + StreamMuxConfig]
 *   for each of numSubFrames + 1 sub-frames:
 *     PayloadLengthInfo: 0xFF 0xFF .. 0xNN     (length = sum of the bytes; 255 means "more")
 *     PayloadMux: the raw access unit
 * ```
 *
 * The StreamMuxConfig usually arrives out of band as fmtp `config=` hex with `cpresent=0`. Supported:
 * audioMuxVersion 0 (and 1 with audioMuxVersionA 0), one program, one layer, all streams with the
 * same time framing, frameLengthType 0 (the layout every encoder we know writes).
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import type { Codec } from "../../core/codec.ts";
import { BitReader, BitReaderError } from "./_bits.ts";
import { aacFrameDuration, type AudioSpecificConfig, copyBits, readAudioSpecificConfig } from "./config.ts";
import { parseLatmFmtp } from "./fmtp.ts";

/**
 * A decoded StreamMuxConfig (single program, single layer).
 *
 * @example
 * ```ts
 * const smc = parseStreamMuxConfig(hexToBytes("400024203fc0"));
 * smc.audioSpecificConfig.sampleRate; // 44100
 * ```
 */
export interface StreamMuxConfig {
  audioMuxVersion: number;
  allStreamsSameTimeFraming: boolean;
  /** Sub-frames (access units) per AudioMuxElement, minus one. */
  numSubFrames: number;
  audioSpecificConfig: AudioSpecificConfig;
  /** The AudioSpecificConfig as standalone bytes (for MP4 `esds`, ADTS, SDP `config=`). */
  audioSpecificConfigBytes: Uint8Array;
  frameLengthType: number;
  otherDataPresent: boolean;
  /** Length of the other data in bits (audioMuxVersion 0 escape coding). */
  otherDataLenBits: number;
  crcCheckPresent: boolean;
}

/** A StreamMuxConfig or AudioMuxElement that cannot be decoded or is not supported. */
export class LatmError extends RangeError {
  override name = "LatmError";
  /** Bit offset where decoding stopped. */
  readonly bitOffset: number;
  constructor(bitOffset: number, reason: string) {
    super(`Cannot parse LATM at bit ${bitOffset}: ${reason}`);
    this.bitOffset = bitOffset;
  }
}

/** LatmGetValue() (ISO/IEC 14496-3 table 1.42). */
function latmGetValue(r: BitReader): number {
  const bytes = r.read(2);
  let v = 0;
  for (let i = 0; i <= bytes; i++) v = v * 256 + r.read(8);
  return v;
}

/**
 * Reads a StreamMuxConfig from a bit reader (in band, inside an AudioMuxElement, it is not aligned).
 * Throws {@link LatmError} for layouts other than single program / single layer.
 *
 * @example
 * ```ts
 * const smc = readStreamMuxConfig(new BitReader(bytes, 1));
 * ```
 */
export function readStreamMuxConfig(r: BitReader): StreamMuxConfig {
  try {
    const audioMuxVersion = r.read(1);
    const audioMuxVersionA = audioMuxVersion ? r.read(1) : 0;
    if (audioMuxVersionA) throw new LatmError(r.pos, "audioMuxVersionA 1 is reserved");
    if (audioMuxVersion) latmGetValue(r); // taraBufferFullness
    const allStreamsSameTimeFraming = r.bool();
    const numSubFrames = r.read(6);
    const numProgram = r.read(4);
    if (numProgram !== 0) {
      throw new LatmError(r.pos - 4, `${numProgram + 1} programs (only one is supported)`);
    }
    const numLayer = r.read(3);
    if (numLayer !== 0) throw new LatmError(r.pos - 3, `${numLayer + 1} layers (only one is supported)`);
    let ascStart = r.pos;
    let audioSpecificConfig: AudioSpecificConfig;
    let ascBits: number;
    if (audioMuxVersion === 0) {
      audioSpecificConfig = readAudioSpecificConfig(r);
      ascBits = r.pos - ascStart;
    } else {
      ascBits = latmGetValue(r);
      ascStart = r.pos;
      audioSpecificConfig = readAudioSpecificConfig(r);
      r.pos = ascStart + ascBits; // skip fill bits
    }
    const frameLengthType = r.read(3);
    if (frameLengthType === 0) r.skip(8); // latmBufferFullness
    else if (frameLengthType === 1) r.skip(9);
    else if (frameLengthType === 3 || frameLengthType === 4 || frameLengthType === 5) r.skip(6);
    else if (frameLengthType === 6 || frameLengthType === 7) r.skip(1);
    const otherDataPresent = r.bool();
    let otherDataLenBits = 0;
    if (otherDataPresent) {
      if (audioMuxVersion) {
        otherDataLenBits = latmGetValue(r);
      } else {
        let esc: boolean;
        do {
          esc = r.bool();
          otherDataLenBits = otherDataLenBits * 256 + r.read(8);
        } while (esc);
      }
    }
    const crcCheckPresent = r.bool();
    if (crcCheckPresent) r.skip(8);
    return {
      audioMuxVersion,
      allStreamsSameTimeFraming,
      numSubFrames,
      audioSpecificConfig,
      audioSpecificConfigBytes: copyBits(r.bytes, ascStart, ascBits),
      frameLengthType,
      otherDataPresent,
      otherDataLenBits,
      crcCheckPresent,
    };
  } catch (e) {
    if (e instanceof BitReaderError) throw new LatmError(e.bitOffset, "StreamMuxConfig ends early");
    if (e instanceof LatmError) throw e;
    if (e instanceof RangeError) throw new LatmError(r.pos, e.message);
    throw e;
  }
}

/**
 * Decodes a StreamMuxConfig, e.g. the fmtp `config=` of an `MP4A-LATM` stream.
 *
 * @example
 * ```ts
 * parseStreamMuxConfig(hexToBytes("400024203fc0")).audioSpecificConfigBytes; // 12 10
 * ```
 */
export function parseStreamMuxConfig(bytes: Uint8Array): StreamMuxConfig {
  return readStreamMuxConfig(new BitReader(bytes));
}

/** Options of {@link LatmDepacketizer}. */
export interface LatmDepacketizerOptions {
  /** Receives each access unit, synchronously from `push()`. */
  onFrame: (frame: Frame) => void;
  /** The SDP fmtp line (`profile-level-id=..;cpresent=0;config=400024203fc0`). */
  fmtp?: string;
  /** RTP clock rate (SDP rtpmap); lets an HE-AAC stream clocked at its SBR rate step 2048 per AU. */
  clockRate?: number;
  /** Overrides the AU duration in clock ticks (from the config and `clockRate` by default). */
  frameLength?: number;
}

/**
 * RFC 6416 LATM depacketizer. Emits one {@link Frame} per access unit through the `onFrame` callback
 * given at construction (an AudioMuxElement can hold several sub-frames), timestamps stepping by the
 * frame length. Reassembles AudioMuxElements fragmented over packets (marker on the last). Never
 * throws on bad input: counts `errors` and skips.
 *
 * @example
 * ```ts
 * if (aacPayloadFormat(codec) === "latm") {
 *   const depay = new LatmDepacketizer({ fmtp: codec.fmtp, onFrame: (f) => receiver.push(f) });
 * }
 * ```
 */
export class LatmDepacketizer {
  errors = 0;
  /** Current StreamMuxConfig (from fmtp, or the latest in-band one). */
  streamMuxConfig: StreamMuxConfig | undefined;
  readonly #cpresent: boolean;
  readonly #frameLength: number | undefined;
  readonly #clockRate: number | undefined;
  readonly #onFrame: (frame: Frame) => void;
  #buf = new Uint8Array(2048);
  #len = 0;
  #ts = 0;
  #seq = 0;
  #packets: RtpPacket[] = [];
  #skipTs: number | undefined;
  /** Frames of the element being parsed, reused across packets. */
  readonly #out: Frame[] = [];

  constructor(opts: LatmDepacketizerOptions) {
    this.#onFrame = opts.onFrame;
    const fmtp = parseLatmFmtp(opts.fmtp);
    this.#cpresent = fmtp.cpresent;
    if (fmtp.config) {
      try {
        this.streamMuxConfig = parseStreamMuxConfig(fmtp.config);
      } catch {
        this.errors++;
      }
    }
    this.#frameLength = opts.frameLength;
    this.#clockRate = opts.clockRate;
  }

  /**
   * Builds a depacketizer for a negotiated codec (name `MP4A-LATM`).
   *
   * @example
   * ```ts
   * const depay = LatmDepacketizer.fromCodec(codec, (f) => receiver.push(f));
   * ```
   */
  static fromCodec(codec: Codec, onFrame: (frame: Frame) => void): LatmDepacketizer {
    return new LatmDepacketizer({ fmtp: codec.fmtp, clockRate: codec.clockRate, onFrame });
  }

  /** The AudioSpecificConfig of the stream, once known. */
  get config(): AudioSpecificConfig | undefined {
    return this.streamMuxConfig?.audioSpecificConfig;
  }

  push(pkt: RtpPacket): void {
    if (this.#skipTs !== undefined) {
      // Rest of an element whose earlier fragment was lost: all its fragments share a timestamp.
      if (pkt.timestamp === this.#skipTs) {
        if (pkt.marker) this.#skipTs = undefined;
        return;
      }
      this.#skipTs = undefined;
    }
    if (this.#len > 0) {
      const continues = pkt.timestamp === this.#ts && pkt.sequenceNumber === ((this.#seq + 1) & 0xffff);
      if (!continues) {
        const sameElement = pkt.timestamp === this.#ts;
        this.#drop();
        if (sameElement) {
          if (!pkt.marker) this.#skipTs = pkt.timestamp;
          return;
        }
      }
    }
    if (this.#len === 0 && pkt.marker) {
      this.#parse(pkt.payload, pkt.timestamp, [pkt]);
      return;
    }
    if (this.#len === 0) {
      this.#ts = pkt.timestamp;
      this.#packets = [];
    }
    if (this.#len + pkt.payload.length > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + pkt.payload.length));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(pkt.payload, this.#len);
    this.#len += pkt.payload.length;
    this.#seq = pkt.sequenceNumber;
    this.#packets.push(pkt);
    if (pkt.marker) {
      const data = this.#buf.slice(0, this.#len);
      const packets = this.#packets;
      this.#len = 0;
      this.#packets = [];
      this.#parse(data, this.#ts, packets);
    }
  }

  #drop(): void {
    this.errors++;
    this.#len = 0;
    this.#packets = [];
  }

  /**
   * Parses the AudioMuxElement(s) filling `data`. Frames are emitted only when the whole payload
   * parses, so a payload that is really the tail of a broken element yields nothing.
   */
  #parse(data: Uint8Array, timestamp: number, packets: RtpPacket[]): void {
    const r = new BitReader(data);
    const out = this.#out;
    out.length = 0;
    let index = 0;
    try {
      while (r.left >= 8) {
        if (this.#cpresent) {
          const useSameStreamMux = r.bool();
          if (!useSameStreamMux) this.streamMuxConfig = readStreamMuxConfig(r);
        }
        const smc = this.streamMuxConfig;
        if (!smc) {
          throw new LatmError(r.pos, "no StreamMuxConfig yet (fmtp config= missing and none in band)");
        }
        if (!smc.allStreamsSameTimeFraming || smc.frameLengthType !== 0) {
          throw new LatmError(
            r.pos,
            `frameLengthType ${smc.frameLengthType} / mixed time framing is not supported`,
          );
        }
        const frameLength = this.#frameLength ?? aacFrameDuration(smc.audioSpecificConfig, this.#clockRate);
        for (let i = 0; i <= smc.numSubFrames; i++) {
          // PayloadLengthInfo (1.7.3.2): bytes summed while each is 255.
          let len = 0;
          let b: number;
          do {
            b = r.read(8);
            len += b;
          } while (b === 255);
          if (len === 0) throw new LatmError(r.pos, "empty payload");
          if (r.left < len * 8) throw new LatmError(r.pos, `payload of ${len} bytes runs past the element`);
          const au = (r.pos & 7) === 0
            ? data.subarray(r.pos >> 3, (r.pos >> 3) + len)
            : copyBits(data, r.pos, len * 8);
          r.pos += len * 8;
          out.push({ timestamp: (timestamp + index * frameLength) >>> 0, keyframe: true, data: au });
          index++;
        }
        if (smc.otherDataPresent) r.skip(smc.otherDataLenBits);
        r.byteAlign();
      }
    } catch {
      this.errors++;
      out.length = 0;
      return;
    }
    // The packets are the frame's exact source only when they held a single AU.
    if (out.length === 1) out[0].packets = packets;
    for (const frame of out) this.#onFrame(frame);
    out.length = 0;
  }
}
