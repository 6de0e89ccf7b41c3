/**
 * Audio-only pipes of `exec:`/`ffmpeg:` commands, as go2rtc's `magic` reads them: WAV (`-f wav -`:
 * G.711 A-law/mu-law or 16-bit little-endian PCM, go2rtc's `output/wav`) and ADTS AAC (`-f adts -`,
 * go2rtc's `output/aac`). Each is a pure processor: `push(chunk)` calls `onFrame` synchronously;
 * `codec` is known once the header (WAV) or the first frame (ADTS) was read.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { adtsToAudioSpecificConfig, AdtsSplitter } from "../../codec/aac/adts.ts";
import { buildAacFmtp } from "../../codec/aac/fmtp.ts";

/** A reader of one audio pipe format. */
export interface AudioPipeReader {
  /** The codec, once known. */
  readonly codec: Codec | undefined;
  /** Feeds bytes; frames go to `onFrame`. */
  push(chunk: Uint8Array): void;
  /** Called for every frame (set before pushing media). */
  onFrame: ((frame: Frame) => void) | undefined;
}

/**
 * A malformed WAV header.
 *
 * @example
 * ```ts
 * try { new WavReader().push(bytes); } catch (e) { if (e instanceof WavFormatError) console.log(e.message); }
 * ```
 */
export class WavFormatError extends SyntaxError {
  override name = "WavFormatError";
}

// Longest header accepted before the "data" chunk (ffmpeg writes ~80 bytes with a LIST chunk).
const MAX_HEADER = 64 * 1024;
// Frame length: 20 ms, as RTP audio.
const FRAME_MS = 20;

function ascii(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

/**
 * Reads a WAV stream of PCMA, PCMU or 16-bit PCM (as `PCML`, little-endian) into 20 ms frames with
 * timestamps counting samples. The data chunk's size is ignored (a pipe cannot fill it in).
 *
 * @example
 * ```ts
 * const wav = new WavReader();
 * wav.onFrame = (f) => receiver.push(f);
 * for await (const chunk of stdout) wav.push(chunk);
 * ```
 */
export class WavReader implements AudioPipeReader {
  codec: Codec | undefined;
  onFrame: ((frame: Frame) => void) | undefined;
  #head: Uint8Array | undefined = new Uint8Array(0);
  #frameBytes = 0;
  #blockAlign = 1;
  #pending = new Uint8Array(0);
  #samples = 0;

  push(chunk: Uint8Array): void {
    if (this.#head) {
      const head = new Uint8Array(this.#head.length + chunk.length);
      head.set(this.#head);
      head.set(chunk, this.#head.length);
      const data = this.#parseHeader(head);
      if (data < 0) {
        if (head.length > MAX_HEADER) throw new WavFormatError(`no WAV "data" chunk in the first ${MAX_HEADER} bytes`);
        this.#head = head;
        return;
      }
      this.#head = undefined;
      chunk = head.subarray(data);
    }
    let buf = chunk;
    if (this.#pending.length) {
      buf = new Uint8Array(this.#pending.length + chunk.length);
      buf.set(this.#pending);
      buf.set(chunk, this.#pending.length);
    }
    let p = 0;
    while (buf.length - p >= this.#frameBytes) {
      const data = buf.slice(p, p + this.#frameBytes);
      p += this.#frameBytes;
      this.onFrame?.({ timestamp: this.#samples >>> 0, keyframe: true, data });
      this.#samples += this.#frameBytes / this.#blockAlign;
    }
    this.#pending = buf.slice(p);
  }

  // Offset of the sample data, or -1 when more bytes are needed.
  #parseHeader(b: Uint8Array): number {
    if (b.length < 12) return -1;
    if (ascii(b, 0) !== "RIFF" || ascii(b, 8) !== "WAVE") throw new WavFormatError("not a RIFF/WAVE stream");
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    let p = 12;
    while (p + 8 <= b.length) {
      const id = ascii(b, p);
      const size = v.getUint32(p + 4, true);
      if (id === "data") {
        if (!this.codec) throw new WavFormatError('WAV "data" before "fmt "');
        return p + 8;
      }
      if (p + 8 + size > b.length) return -1;
      if (id === "fmt ") {
        if (size < 16) throw new WavFormatError(`WAV "fmt " chunk of ${size} bytes`);
        const format = v.getUint16(p + 8, true);
        const channels = v.getUint16(p + 10, true);
        const rate = v.getUint32(p + 12, true);
        const bits = v.getUint16(p + 22, true);
        const name = format === 6 ? "PCMA" : format === 7 ? "PCMU" : format === 1 && bits === 16 ? "PCML" : "";
        if (!name || !channels || !rate) {
          throw new WavFormatError(
            `WAV format ${format} with ${bits} bits is not G.711 or 16-bit PCM (use -c:a pcm_alaw, pcm_mulaw or pcm_s16le)`,
          );
        }
        this.codec = { name, clockRate: rate, channels };
        this.#blockAlign = (bits / 8) * channels;
        this.#frameBytes = Math.max(1, Math.round((rate * FRAME_MS) / 1000)) * this.#blockAlign;
      }
      p += 8 + size + (size & 1);
    }
    return -1;
  }
}

/**
 * Reads ADTS AAC into raw access units, 1024 samples apart.
 *
 * @example
 * ```ts
 * const aac = new AdtsReader();
 * aac.onFrame = (f) => receiver.push(f);
 * aac.push(chunk);
 * aac.codec; // { name: "MPEG4-GENERIC", clockRate: 16000, channels: 1, fmtp: "...config=1408" }
 * ```
 */
export class AdtsReader implements AudioPipeReader {
  codec: Codec | undefined;
  onFrame: ((frame: Frame) => void) | undefined;
  #samples = 0;
  readonly #splitter = new AdtsSplitter((f) => {
    if (!this.codec) {
      this.codec = {
        name: "MPEG4-GENERIC",
        clockRate: f.header.sampleRate,
        channels: f.header.channelConfiguration === 7 ? 8 : f.header.channelConfiguration,
        fmtp: buildAacFmtp(adtsToAudioSpecificConfig(f.header)),
      };
    }
    this.onFrame?.({ timestamp: this.#samples >>> 0, keyframe: true, data: f.data.slice() });
    this.#samples += 1024;
  });

  push(chunk: Uint8Array): void {
    this.#splitter.push(chunk);
  }
}
