/**
 * Base64 decoding on atob (no Buffer, so it runs in every runtime and in bundles).
 *
 * @module
 */

/** Decodes standard base64. */
export function base64ToBytes(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
