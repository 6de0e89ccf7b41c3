/**
 * Base64 for parameter sets in SDP fmtp lines, on atob/btoa (no Buffer, so it runs anywhere).
 *
 * @module
 */

/** Encodes bytes as standard base64. */
export function bytesToBase64(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    s += String.fromCharCode(...data.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Decodes standard or URL-safe base64, with or without padding; throws SyntaxError when invalid. */
export function base64ToBytes(text: string): Uint8Array {
  let t = text.trim().replace(/-/g, "+").replace(/_/g, "/");
  while (t.length % 4) t += "=";
  let s: string;
  try {
    s = atob(t);
  } catch {
    throw new SyntaxError(`Cannot decode base64 "${text}": invalid characters`);
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
