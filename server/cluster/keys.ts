/**
 * Stream and node names as JetStream KV keys. KV keys allow only `[-/_=.a-zA-Z0-9]`, and `.` splits
 * subject tokens, so every other byte of the UTF-8 name is written as `=XX` (hex): `front door` ->
 * `front=20door`. The mapping is one-to-one, so two names never share a key.
 *
 * @module
 */

const SAFE = /^[A-Za-z0-9_-]$/;

/**
 * Encodes a name as a KV key.
 *
 * @example
 * ```ts
 * kvKey("front door"); // "front=20door"
 * ```
 */
export function kvKey(name: string): string {
  let out = "";
  for (const ch of name) {
    if (SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const b of new TextEncoder().encode(ch)) out += `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Decodes a key made by {@link kvKey}.
 *
 * @example
 * ```ts
 * nameOfKey("front=20door"); // "front door"
 * ```
 */
export function nameOfKey(key: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < key.length; i++) {
    if (key[i] === "=" && /^[0-9A-F]{2}$/i.test(key.slice(i + 1, i + 3))) {
      bytes.push(parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...new TextEncoder().encode(key[i]));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
