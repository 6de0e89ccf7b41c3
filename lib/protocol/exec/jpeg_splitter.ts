/**
 * Splits a byte stream of concatenated JPEG images (ffmpeg `-f mjpeg -`) into single images.
 *
 * Scanning for the end marker alone would cut images that embed a thumbnail (an EXIF APP1 segment
 * holds a whole JPEG with its own SOI/EOI). So the splitter walks the marker segments by their
 * lengths (ITU-T T.81 B.1) and only searches for markers inside entropy-coded data, where a 0xFF
 * byte is always followed by 0x00 (stuffing) or a restart marker, except at a real marker:
 *
 * ```text
 * FFD8 | FFxx len(2) payload... | ... | FFDA len(2) header | entropy data (FF00, FFD0..D7) | FFD9
 *  SOI   segments (APPn, DQT, SOF, DHT...)                  SOS                               EOI
 * ```
 *
 * @module
 */

// Parser states: looking for SOI, at a marker between segments, inside entropy-coded data.
const SEEK = 0;
const SEGMENTS = 1;
const SCAN = 2;

/**
 * Incremental JPEG splitter. Feed chunks with {@link push}; each complete image is handed to the
 * callback as a fresh `Uint8Array` (a copy, since the internal buffer is reused). Bytes outside
 * SOI..EOI are skipped.
 *
 * @example
 * ```ts
 * const splitter = new JpegSplitter((jpeg) => receiver.push({ timestamp, keyframe: true, data: jpeg }));
 * for await (const chunk of stdout) splitter.push(chunk);
 * ```
 */
export class JpegSplitter {
  readonly #onImage: (jpeg: Uint8Array) => void;
  readonly #maxSize: number;
  #buf: Uint8Array;
  #len = 0;
  // Parse position and start of the current image within #buf.
  #pos = 0;
  #start = 0;
  #state = SEEK;
  /** Images emitted so far. */
  images = 0;
  /** Bytes skipped outside images, or dropped with an oversized image. */
  skipped = 0;

  /**
   * @param onImage receives each complete image.
   * @param maxSize an image growing past this many bytes is dropped (a stream that is not JPEG
   *   must not grow memory without bound). Default 32 MiB.
   */
  constructor(onImage: (jpeg: Uint8Array) => void, maxSize = 32 * 1024 * 1024) {
    this.#onImage = onImage;
    this.#maxSize = maxSize;
    this.#buf = new Uint8Array(256 * 1024);
  }

  /** Adds bytes; calls the callback for every image completed by them. */
  push(chunk: Uint8Array): void {
    this.#append(chunk);
    this.#parse();
    this.#compact();
  }

  #append(chunk: Uint8Array): void {
    if (this.#len + chunk.length > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < this.#len + chunk.length) size *= 2;
      const bigger = new Uint8Array(size);
      bigger.set(this.#buf.subarray(0, this.#len));
      this.#buf = bigger;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
  }

  // Drops consumed bytes so the buffer holds only the image in progress.
  #compact(): void {
    const keep = this.#state === SEEK ? this.#pos : this.#start;
    if (keep > 0) {
      this.#buf.copyWithin(0, keep, this.#len);
      this.#len -= keep;
      this.#pos -= keep;
      this.#start -= keep;
    }
    if (this.#state !== SEEK && this.#len > this.#maxSize) {
      // Not a JPEG we can finish: drop it and look for the next SOI.
      this.skipped += this.#len;
      this.#len = this.#pos = this.#start = 0;
      this.#state = SEEK;
    }
  }

  #emit(end: number): void {
    this.images++;
    const jpeg = this.#buf.slice(this.#start, end);
    this.#pos = end;
    this.#start = end;
    this.#state = SEEK;
    this.#onImage(jpeg);
  }

  #parse(): void {
    const b = this.#buf;
    const len = this.#len;
    for (;;) {
      if (this.#state === SEEK) {
        let i = this.#pos;
        while (i + 1 < len && !(b[i] === 0xff && b[i + 1] === 0xd8)) i++;
        if (i + 1 >= len) {
          // Keep a trailing 0xFF: it may start the next SOI.
          const keep = len > 0 && b[len - 1] === 0xff ? len - 1 : len;
          this.skipped += keep - this.#pos;
          this.#pos = keep;
          return;
        }
        this.skipped += i - this.#pos;
        this.#start = i;
        this.#pos = i + 2;
        this.#state = SEGMENTS;
      } else if (this.#state === SEGMENTS) {
        let p = this.#pos;
        if (p + 2 > len) return;
        if (b[p] !== 0xff) {
          // Broken segment chain: resynchronise on the next SOI.
          this.#state = SEEK;
          continue;
        }
        const marker = b[p + 1];
        if (marker === 0xff) {
          this.#pos = p + 1; // fill byte
          continue;
        }
        if (marker === 0xd9) {
          this.#emit(p + 2);
          continue;
        }
        if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
          this.#pos = p + 2; // markers without a length
          continue;
        }
        if (p + 4 > len) return;
        const segment = (b[p + 2] << 8) | b[p + 3];
        p += 2 + segment;
        if (p > len) return;
        this.#pos = p;
        if (marker === 0xda) this.#state = SCAN;
      } else {
        let i = this.#pos;
        for (;;) {
          while (i < len && b[i] !== 0xff) i++;
          if (i + 1 >= len) {
            this.#pos = i; // wait for the byte after 0xFF
            return;
          }
          const next = b[i + 1];
          if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
            i += next === 0xff ? 1 : 2;
            continue;
          }
          break;
        }
        if (b[i + 1] === 0xd9) {
          this.#emit(i + 2);
        } else {
          // Another segment (DHT, SOS of a progressive image...).
          this.#pos = i;
          this.#state = SEGMENTS;
        }
      }
    }
  }
}
