/**
 * Source options written after `#` in a source URL: `ffmpeg:cam#video=h264#audio=opus#hardware`.
 *
 * @module
 */

/**
 * Source options by name, each with every value in order (`#video=h264#video=mjpeg` gives two). A
 * key without `=` has one empty value (`#hardware` -> `[""]`).
 */
export type HashParams = Map<string, string[]>;

/**
 * Parses the text after the first `#` of a source URL, split on `#`, as go2rtc does: values are not
 * URL-decoded, a key without `=` gets an empty value, keys repeat.
 *
 * @example
 * ```ts
 * parseHashParams("video=h264#video=copy#hardware").get("video"); // ["h264", "copy"]
 * ```
 */
export function parseHashParams(text: string): HashParams {
  const params: HashParams = new Map();
  if (!text) return params;
  for (const part of text.split("#")) {
    const eq = part.indexOf("=");
    const key = eq > 0 ? part.slice(0, eq) : part;
    const value = eq > 0 ? part.slice(eq + 1) : "";
    const values = params.get(key);
    if (values) values.push(value);
    else params.set(key, [value]);
  }
  return params;
}

/**
 * Splits a source URL into the part before the first `#` and its parsed options.
 *
 * @example
 * ```ts
 * splitHashParams("exec:ffmpeg -i x -f mjpeg -#killsignal=15");
 * // { base: "exec:ffmpeg -i x -f mjpeg -", params: Map { "killsignal" => ["15"] } }
 * ```
 */
export function splitHashParams(url: string): { base: string; params: HashParams } {
  const i = url.indexOf("#");
  if (i < 0) return { base: url, params: new Map() };
  return { base: url.slice(0, i), params: parseHashParams(url.slice(i + 1)) };
}
