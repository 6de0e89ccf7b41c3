/**
 * Combining validated config values: several sources merged in order (go2rtc's `-c a -c b`), then
 * the schema defaults filled in for every key no source set.
 *
 * @module
 */
import type { SchemaNode } from "./schema.ts";
import { setOwn } from "./validate.ts";

/**
 * Merges `over` onto `base`: maps merge key by key (recursively), everything else (lists, scalars)
 * replaces. Neither argument is changed.
 *
 * @example
 * ```ts
 * mergeConfigValues({ api: { listen: ":1984", origin: "*" } }, { api: { listen: ":80" } });
 * // { api: { listen: ":80", origin: "*" } }
 * ```
 */
export function mergeConfigValues(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) setOwn(out, k, v);
  for (const [k, v] of Object.entries(over)) setOwn(out, k, mergeConfigValues(out[k], v));
  return out;
}

/**
 * Returns `value` with the schema's defaults filled in: absent keys get their `default` (copied),
 * absent sections become objects of their own defaults, and entries of maps and lists of sections
 * get their defaults too. Keys without a default stay absent.
 *
 * @example
 * ```ts
 * applyDefaults(configSchema, { api: { origin: "*" } }); // api.listen is ":1984", rtsp.listen ":8554", ...
 * ```
 */
export function applyDefaults(schema: SchemaNode, value: unknown): unknown {
  if (value === undefined) {
    if (schema.default !== undefined) return structuredClone(schema.default);
    if (schema.kind === "object") return applyDefaults(schema, {});
    return undefined;
  }
  if (schema.kind === "object" && isPlainObject(value)) {
    // Keys in schema order (stable output for /api/config and docs), then extra keys as given.
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(schema.keys)) {
      const v = applyDefaults(child, Object.hasOwn(value, k) ? value[k] : undefined);
      if (v !== undefined) setOwn(out, k, v);
    }
    for (const [k, v] of Object.entries(value)) {
      if (Object.hasOwn(schema.keys, k)) continue;
      setOwn(out, k, schema.extra ? applyDefaults(schema.extra, v) : v);
    }
    return out;
  }
  if (schema.kind === "map" && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, applyDefaults(schema.values, v));
    return out;
  }
  if (schema.kind === "list" && Array.isArray(value)) {
    return value.map((item) => applyDefaults(schema.items, item));
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
