/**
 * G.711 A-law and µ-law companding (ITU-T G.711): 8-bit codes <-> 16-bit linear PCM, table driven.
 *
 * The tables are built once at load from the reference algorithm (the CCITT/Sun g711.c logic):
 * decoding is one lookup per sample; encoding indexes by the top 13 (A-law) or 14 (µ-law) bits of
 * the sample, which is all the precision the companded code has.
 *
 * @module
 */

const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const ULAW_BIAS = 0x84;
const ULAW_CLIP = 8159;

function segment(value: number, ends: number[]): number {
  for (let i = 0; i < ends.length; i++) if (value <= ends[i]) return i;
  return ends.length;
}

/** A-law code for a 13-bit linear value (sample >> 3). */
function alawFrom13(pcm: number): number {
  let mask: number;
  if (pcm >= 0) {
    mask = 0xd5; // sign bit set, even bits inverted (G.711 A-law transmits with alternate bits inverted)
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = segment(pcm, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (pcm >> 1) & 0x0f : (pcm >> seg) & 0x0f;
  return aval ^ mask;
}

/** µ-law code for a 14-bit linear value (sample >> 2). */
function ulawFrom14(pcm: number): number {
  let mask: number;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7f;
  } else {
    mask = 0xff;
  }
  if (pcm > ULAW_CLIP) pcm = ULAW_CLIP;
  pcm += ULAW_BIAS >> 2;
  const seg = segment(pcm, SEG_UEND);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0f)) ^ mask;
}

function alawDecodeRef(code: number): number {
  code ^= 0x55;
  let t = (code & 0x0f) << 4;
  const seg = (code & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return code & 0x80 ? t : -t;
}

function ulawDecodeRef(code: number): number {
  code = ~code & 0xff;
  let t = ((code & 0x0f) << 3) + ULAW_BIAS;
  t <<= (code & 0x70) >> 4;
  return code & 0x80 ? ULAW_BIAS - t : t - ULAW_BIAS;
}

const ALAW_DECODE = new Int16Array(256);
const ULAW_DECODE = new Int16Array(256);
for (let i = 0; i < 256; i++) {
  ALAW_DECODE[i] = alawDecodeRef(i);
  ULAW_DECODE[i] = ulawDecodeRef(i);
}
/** Indexed by (sample >> 3) & 0x1fff. */
const ALAW_ENCODE = new Uint8Array(8192);
for (let i = 0; i < 8192; i++) ALAW_ENCODE[i] = alawFrom13((i << 19) >> 19);
/** Indexed by (sample >> 2) & 0x3fff. */
const ULAW_ENCODE = new Uint8Array(16384);
for (let i = 0; i < 16384; i++) ULAW_ENCODE[i] = ulawFrom14((i << 18) >> 18);

/**
 * One A-law code to a 16-bit linear sample.
 *
 * @example
 * ```ts
 * alawToLinear(0xd5); // 8
 * ```
 */
export function alawToLinear(code: number): number {
  return ALAW_DECODE[code & 0xff];
}

/**
 * One 16-bit linear sample to an A-law code.
 *
 * @example
 * ```ts
 * linearToAlaw(0); // 0xd5
 * ```
 */
export function linearToAlaw(sample: number): number {
  return ALAW_ENCODE[(sample >> 3) & 0x1fff];
}

/**
 * One µ-law code to a 16-bit linear sample.
 *
 * @example
 * ```ts
 * ulawToLinear(0xff); // 0
 * ```
 */
export function ulawToLinear(code: number): number {
  return ULAW_DECODE[code & 0xff];
}

/**
 * One 16-bit linear sample to a µ-law code.
 *
 * @example
 * ```ts
 * linearToUlaw(0); // 0xff
 * ```
 */
export function linearToUlaw(sample: number): number {
  return ULAW_ENCODE[(sample >> 2) & 0x3fff];
}

/**
 * Decodes A-law bytes (a PCMA payload) to samples, into `out` when given (must be long enough).
 *
 * @example
 * ```ts
 * const pcm = decodeAlaw(frame.data);
 * ```
 */
export function decodeAlaw(codes: Uint8Array, out: Int16Array = new Int16Array(codes.length)): Int16Array {
  for (let i = 0; i < codes.length; i++) out[i] = ALAW_DECODE[codes[i]];
  return out.length === codes.length ? out : out.subarray(0, codes.length);
}

/**
 * Encodes samples to A-law bytes (a PCMA payload).
 *
 * @example
 * ```ts
 * const payload = encodeAlaw(new Int16Array([0, 1000, -1000]));
 * ```
 */
export function encodeAlaw(
  samples: Int16Array,
  out: Uint8Array = new Uint8Array(samples.length),
): Uint8Array {
  for (let i = 0; i < samples.length; i++) out[i] = ALAW_ENCODE[(samples[i] >> 3) & 0x1fff];
  return out.length === samples.length ? out : out.subarray(0, samples.length);
}

/**
 * Decodes µ-law bytes (a PCMU payload) to samples.
 *
 * @example
 * ```ts
 * const pcm = decodeUlaw(frame.data);
 * ```
 */
export function decodeUlaw(codes: Uint8Array, out: Int16Array = new Int16Array(codes.length)): Int16Array {
  for (let i = 0; i < codes.length; i++) out[i] = ULAW_DECODE[codes[i]];
  return out.length === codes.length ? out : out.subarray(0, codes.length);
}

/**
 * Encodes samples to µ-law bytes (a PCMU payload).
 *
 * @example
 * ```ts
 * const payload = encodeUlaw(samples);
 * ```
 */
export function encodeUlaw(
  samples: Int16Array,
  out: Uint8Array = new Uint8Array(samples.length),
): Uint8Array {
  for (let i = 0; i < samples.length; i++) out[i] = ULAW_ENCODE[(samples[i] >> 2) & 0x3fff];
  return out.length === samples.length ? out : out.subarray(0, samples.length);
}
