/**
 * Byte-level mutations of a seed input, in the spirit of AFL's havoc stage: bit flips, interesting
 * values (0, -1, 0x7f.., 0x80..) written as 8/16/32-bit big- and little-endian integers (length
 * fields are where parsers go wrong), range deletes, inserts, duplications, truncation and splicing
 * with another seed. Deterministic for a given {@link Prng}.
 *
 * @module
 */
import type { Prng } from "./prng.ts";

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x40, 0x20];
const INTERESTING_32 = [0, 1, 0xff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x0100_0000, 0x00ff_ffff, 65536];

/** Largest input a mutation produces (keeps runs fast; the parsers' limits are far smaller anyway). */
export const MAX_INPUT = 256 * 1024;

/**
 * Returns a mutated copy of `seed` (1 to 8 stacked mutations); `others` feed splicing.
 *
 * @example
 * ```ts
 * const input = mutate(new Prng(1), seed, corpus);
 * ```
 */
export function mutate(rng: Prng, seed: Uint8Array, others: readonly Uint8Array[]): Uint8Array {
  let buf: Uint8Array = seed.slice();
  const rounds = 1 + rng.int(8);
  for (let r = 0; r < rounds; r++) buf = mutateOnce(rng, buf, others);
  return buf.length > MAX_INPUT ? buf.subarray(0, MAX_INPUT) : buf;
}

function mutateOnce(rng: Prng, buf: Uint8Array, others: readonly Uint8Array[]): Uint8Array {
  const n = buf.length;
  const at = () => rng.int(Math.max(1, n));
  switch (rng.int(12)) {
    case 0: { // flip a bit
      if (!n) return rng.bytes(1 + rng.int(16));
      const i = at();
      buf[i] ^= 1 << rng.int(8);
      return buf;
    }
    case 1: { // random byte
      if (!n) return rng.bytes(1 + rng.int(16));
      buf[at()] = rng.u32() & 0xff;
      return buf;
    }
    case 2: { // interesting byte
      if (!n) return buf;
      buf[at()] = rng.pick(INTERESTING_8);
      return buf;
    }
    case 3:
    case 4: { // interesting 16/32-bit value, either byte order
      const width = rng.chance(0.5) ? 2 : 4;
      if (n < width) return buf;
      const i = rng.int(n - width + 1);
      const v = rng.chance(0.3) ? rng.u32() : rng.pick(INTERESTING_32);
      const little = rng.chance(0.3);
      for (let k = 0; k < width; k++) {
        const shift = 8 * (little ? k : width - 1 - k);
        buf[i + k] = width === 2 ? ((v & 0xffff) >>> shift) & 0xff : (v >>> shift) & 0xff;
      }
      return buf;
    }
    case 5: { // delete a range
      if (n < 2) return buf;
      const i = at();
      const len = 1 + rng.int(Math.min(n - i, 64));
      const out = new Uint8Array(n - len);
      out.set(buf.subarray(0, i));
      out.set(buf.subarray(i + len), i);
      return out;
    }
    case 6: { // insert random bytes
      const i = rng.int(n + 1);
      const ins = rng.bytes(1 + rng.int(32));
      const out = new Uint8Array(n + ins.length);
      out.set(buf.subarray(0, i));
      out.set(ins, i);
      out.set(buf.subarray(i), i + ins.length);
      return out;
    }
    case 7: { // duplicate a range
      if (!n) return buf;
      const i = at();
      const len = 1 + rng.int(Math.min(n - i, 256));
      const out = new Uint8Array(n + len);
      out.set(buf.subarray(0, i + len));
      out.set(buf.subarray(i, i + len), i + len);
      out.set(buf.subarray(i + len), i + 2 * len);
      return out;
    }
    case 8: // truncate
      return n ? buf.subarray(0, rng.int(n)) : buf;
    case 9: { // splice with another seed
      if (!others.length) return buf;
      const other = rng.pick(others);
      if (!other.length) return buf;
      const i = rng.int(n + 1);
      const j = rng.int(other.length);
      const len = 1 + rng.int(Math.min(other.length - j, 4096));
      const out = new Uint8Array(i + len);
      out.set(buf.subarray(0, i));
      out.set(other.subarray(j, j + len), i);
      return out;
    }
    case 10: { // overwrite a range with one byte value
      if (!n) return buf;
      const i = at();
      buf.fill(rng.pick(INTERESTING_8), i, i + 1 + rng.int(Math.min(n - i, 16)));
      return buf;
    }
    default: { // swap two bytes
      if (n < 2) return buf;
      const i = at();
      const j = at();
      const t = buf[i];
      buf[i] = buf[j];
      buf[j] = t;
      return buf;
    }
  }
}

/**
 * Splits an input into chunks of random sizes (streaming parsers must cope with any split).
 *
 * @example
 * ```ts
 * for (const chunk of randomChunks(rng, input)) parser.push(chunk);
 * ```
 */
export function randomChunks(rng: Prng, input: Uint8Array): Uint8Array[] {
  if (rng.chance(0.3)) return [input];
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < input.length) {
    const len = 1 + (rng.chance(0.5) ? rng.int(16) : rng.int(4096));
    out.push(input.subarray(p, p + len));
    p += len;
  }
  return out;
}
