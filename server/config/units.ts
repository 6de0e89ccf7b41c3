/**
 * Durations and sizes as the config writes them: `"30s"`, `"1h30m"`, `"16MB"`, `"1.5GiB"`.
 *
 * @module
 */

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Parses `"30"`, `"30s"`, `"500ms"`, `"1h30m"`, `"7d"` into seconds; `undefined` when malformed.
 *
 * @example
 * ```ts
 * parseDuration("1m30s"); // 90
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;
  let total = 0;
  let end = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    end = m.index + m[0].length;
  }
  return end === s.length && end > 0 ? total : undefined;
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  tib: 1024 ** 4,
};

/**
 * Parses `"512"`, `"16MB"`, `"1.5GiB"` into bytes; `undefined` when malformed.
 *
 * @example
 * ```ts
 * parseBytes("2KiB"); // 2048
 * ```
 */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2].toLowerCase()];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}
