/**
 * Checks one parsed YAML document against the schema and turns it into a plain, normalized value
 * (durations in seconds, sizes in bytes, stream sources as lists). It walks the YAML node tree, not
 * the JS value, so every error and warning can name the line and column it came from.
 *
 * The result is *partial*: keys a source does not set stay absent, so several sources can be merged
 * key by key before defaults are applied (`merge.ts`).
 *
 * @module
 */
import { isAlias, isMap, isPair, isScalar, isSeq } from "yaml";
import type { Document, Node as YamlNode, YAMLMap } from "yaml";
import { ConfigError, configWarning } from "./errors.ts";
import type { ConfigWarning } from "./errors.ts";
import { GO2RTC_ONLY_SECTIONS, SEED_KEY_HINTS } from "./schema.ts";
import type { ListNode, ObjectNode, SchemaNode, StringNode } from "./schema.ts";
import { parseBytes, parseDuration } from "./units.ts";

// The value parsers live in units.ts (the alert conditions use them too); kept importable from here.
export { parseBytes, parseDuration };

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/**
 * What validation needs to know about the source being checked, and where it reports.
 *
 * @example
 * ```ts
 * const ctx: ValidationContext = { file: "strom.yaml", doc, position: (o) => lines.position(o),
 *   warnings: [], secrets: [] };
 * ```
 */
export interface ValidationContext {
  /** Label used in messages: a file path or `<inline #2>`. */
  file: string;
  /** The document the nodes belong to (aliases resolve against it). */
  doc: Document;
  /** Maps a text offset (a node's `range[0]`) to a position; `undefined` when it has none (synthetic nodes). */
  position(offset: number | undefined): Position | undefined;
  warnings: ConfigWarning[];
  /** Values of keys marked `secret` are added here. */
  secrets: string[];
}

/**
 * Validates a whole document against the root schema and returns the partial config it sets.
 * Throws `ConfigError` for a wrong type or value; pushes warnings for unknown keys.
 *
 * @example
 * ```ts
 * const partial = validateDocument(doc, configSchema, ctx); // { api: { listen: ":1984" } }
 * ```
 */
export function validateDocument(
  doc: Document,
  root: ObjectNode,
  ctx: ValidationContext,
): Record<string, unknown> {
  const contents = doc.contents as YamlNode | null;
  if (contents == null || (isScalar(contents) && contents.value == null)) return {};
  const node = deref(contents, ctx);
  if (!isMap(node)) {
    const at = ctx.position(node?.range?.[0]) ?? { line: 1, column: 1 };
    throw new ConfigError({
      file: ctx.file,
      ...at,
      reason: `the config must be a map of sections (api:, streams:, ...), got ${describeNode(node)}`,
    });
  }
  return checkObject(root, node, "", { line: 1, column: 1 }, ctx);
}

/**
 * Sets an own property, so a stream or user named `__proto__` cannot reach the prototype.
 *
 * @example
 * ```ts
 * setOwn(streams, "__proto__", ["rtsp://x"]);
 * ```
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// --- walking ------------------------------------------------------------------------------------

type Value = unknown; // `undefined` means "not set by this source"

function check(schema: SchemaNode, raw: unknown, path: string, at: Position, ctx: ValidationContext): Value {
  const node = deref(raw, ctx);
  if (isNull(node)) return nullValue(schema);
  switch (schema.kind) {
    case "string":
      return checkString(schema, node, path, at, ctx);
    case "number": {
      const v = scalarValue(node);
      if (typeof v !== "number" || !Number.isFinite(v)) fail(schema, node, path, at, ctx);
      if (schema.integer && !Number.isInteger(v)) fail(schema, node, path, at, ctx);
      if ((schema.min !== undefined && v < schema.min) || (schema.max !== undefined && v > schema.max)) {
        const range = schema.max === undefined
          ? `at least ${schema.min}`
          : `from ${schema.min ?? "-∞"} to ${schema.max}`;
        throw error(ctx, at, path, `"${path}" must be ${expected(schema)} ${range}, got ${v}`);
      }
      return v;
    }
    case "boolean": {
      const v = scalarValue(node);
      if (typeof v !== "boolean") {
        const hint = typeof v === "string" && /^(yes|no|on|off|y|n)$/i.test(v)
          ? " (YAML 1.2: use true or false)"
          : "";
        throw error(ctx, at, path, `"${path}" must be true or false, got ${describeNode(node)}${hint}`);
      }
      return v;
    }
    case "enum": {
      const v = scalarValue(node);
      if (typeof v !== "string") fail(schema, node, path, at, ctx);
      const lower = v.toLowerCase();
      const hit = schema.values.find((x) => x.toLowerCase() === lower) ??
        Object.entries(schema.aliases ?? {}).find(([k]) => k.toLowerCase() === lower)?.[1];
      if (hit === undefined) {
        const near = closest(v, schema.values);
        throw error(
          ctx,
          at,
          path,
          `"${path}" must be one of ${schema.values.join(", ")}, got "${v}"${
            near ? ` (did you mean "${near}"?)` : ""
          }`,
        );
      }
      return hit;
    }
    case "duration": {
      const v = scalarValue(node);
      const seconds = typeof v === "number" ? v : typeof v === "string" ? parseDuration(v) : undefined;
      if (seconds === undefined || !(seconds >= 0)) fail(schema, node, path, at, ctx);
      return seconds;
    }
    case "bytes": {
      const v = scalarValue(node);
      const n = typeof v === "number" ? v : typeof v === "string" ? parseBytes(v) : undefined;
      if (n === undefined || !(n >= 0)) fail(schema, node, path, at, ctx);
      return Math.round(n);
    }
    case "list":
      return checkList(schema, node, path, at, ctx);
    case "object":
      if (isSeq(node) && schema.fromList) return fromList(schema.fromList, node, path, at, ctx);
      if (!isMap(node)) fail(schema, node, path, at, ctx);
      return checkObject(schema, node, path, at, ctx);
    case "map": {
      if (!isMap(node)) fail(schema, node, path, at, ctx);
      const out: Record<string, unknown> = {};
      for (const e of entries(node, path, at, ctx)) {
        const childPath = join(path, e.key);
        const v = check(schema.values, e.value, childPath, ctx.position(e.keyNode.range?.[0]) ?? at, ctx);
        if (v !== undefined) setOwn(out, e.key, v);
      }
      return out;
    }
    case "sources":
      return checkSources(node, path, at, ctx);
  }
}

function checkString(
  schema: StringNode,
  node: YamlNode,
  path: string,
  at: Position,
  ctx: ValidationContext,
): string {
  const v = scalarValue(node);
  let s: string;
  if (typeof v === "string") s = v;
  else if (schema.coerce && (typeof v === "number" || typeof v === "boolean") && isScalar(node)) {
    // Keep what the user wrote: `password: 0123` is "0123", not "123".
    s = typeof node.source === "string" && node.source !== "" ? node.source : String(v);
  } else fail(schema, node, path, at, ctx);
  const problem = schema.format ? checkFormat(schema.format, s) : s !== "" && schema.check ? schema.check(s) : undefined;
  if (problem) throw error(ctx, at, path, `"${path}" must be ${problem}, got "${s}"`);
  if (schema.secret && s !== "") ctx.secrets.push(s);
  return s;
}

function checkList(
  schema: ListNode,
  node: YamlNode,
  path: string,
  at: Position,
  ctx: ValidationContext,
): unknown[] {
  if (!isSeq(node)) {
    if (schema.acceptSingle && !isMap(node)) {
      return [check(schema.items, node, `${path}[0]`, at, ctx)];
    }
    fail(schema, node, path, at, ctx);
  }
  const out: unknown[] = [];
  node.items.forEach((item, i) => {
    const itemPath = `${path}[${i}]`;
    const itemAt = ctx.position((item as YamlNode | null)?.range?.[0]) ?? at;
    const resolved = deref(item, ctx);
    if (isNull(resolved)) {
      throw error(
        ctx,
        itemAt,
        itemPath,
        `"${itemPath}" must be ${expected(schema.items)}, got an empty entry`,
      );
    }
    out.push(check(schema.items, resolved, itemPath, itemAt, ctx));
  });
  return out;
}

function fromList(
  convert: NonNullable<ObjectNode["fromList"]>,
  node: YamlNode,
  path: string,
  at: Position,
  ctx: ValidationContext,
): Record<string, unknown> {
  const items = checkList({ kind: "list", description: "", items: { kind: "string", description: "" } }, node, path, at, ctx);
  const { value, notes } = convert(items as string[]);
  for (const note of notes) ctx.warnings.push(configWarning("list-form", ctx.file, at.line, path, note));
  return value;
}

function checkObject(
  schema: ObjectNode,
  node: YAMLMap,
  path: string,
  at: Position,
  ctx: ValidationContext,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const moved: [string, unknown][] = [];
  for (const e of entries(node, path, at, ctx)) {
    const childPath = join(path, e.key);
    const keyAt = ctx.position(e.keyNode.range?.[0]) ?? at;
    const child = Object.hasOwn(schema.keys, e.key) ? schema.keys[e.key] : schema.extra;
    if (!child) {
      warnUnknown(schema, e.key, childPath, keyAt, ctx, path === "");
      continue;
    }
    const v = check(child, e.value, childPath, keyAt, ctx);
    if (child.movedTo) {
      if (v !== undefined) moved.push([child.movedTo, v]);
      continue;
    }
    if (v !== undefined) setOwn(out, e.key, v);
    if (child.notImplemented && isSet(v)) {
      ctx.warnings.push(configWarning(
        "not-implemented",
        ctx.file,
        keyAt.line,
        childPath,
        `"${childPath}" is accepted but not implemented yet, so it has no effect: ${child.notImplemented}`,
      ));
    }
  }
  // Moved keys land in their section unless it sets them itself (the section's own key wins).
  for (const [to, v] of moved) {
    const parts = to.split(".");
    let target = out;
    for (const part of parts.slice(0, -1)) {
      if (!isRecord(target[part])) setOwn(target, part, {});
      target = target[part] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1];
    if (target[last] === undefined) setOwn(target, last, v);
  }
  for (const [key, child] of Object.entries(schema.keys)) {
    if (child.required && out[key] === undefined) {
      const where = ctx.position(node.range?.[0]) ?? at;
      throw error(ctx, where, join(path, key), `"${path}" needs "${key}" (${child.description})`);
    }
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The `{url: ...}` form of a stream. */
const STREAM_OBJECT: ObjectNode = {
  kind: "object",
  description: "A stream in object form.",
  keys: {
    url: {
      kind: "list",
      items: { kind: "string", description: "A source URL." },
      acceptSingle: true,
      required: true,
      description: "source URL or list of URLs",
    },
  },
};

/** Stream sources: `url`, `[url, ...]`, empty (push-only), or `{url: url | [url, ...]}`. */
function checkSources(node: YamlNode, path: string, at: Position, ctx: ValidationContext): string[] {
  const reason = "a source URL, a list of URLs, {url: ...}, or empty for a push-only stream";
  if (isScalar(node)) {
    if (typeof node.value === "string") return [node.value];
    throw error(ctx, at, path, `"${path}" must be ${reason}, got ${describeNode(node)}`);
  }
  if (isSeq(node)) {
    return node.items.flatMap((item, i) => {
      const v = deref(item, ctx);
      const itemPath = `${path}[${i}]`;
      if (isScalar(v) && typeof v.value === "string") return [v.value];
      const itemAt = ctx.position((item as YamlNode | null)?.range?.[0]) ?? at;
      if (isMap(v)) return sourcePool(v, itemPath, itemAt, ctx);
      throw error(ctx, itemAt, itemPath, `"${itemPath}" must be a source URL string, got ${describeNode(v)}`);
    });
  }
  if (isMap(node)) return checkObject(STREAM_OBJECT, node, path, at, ctx).url as string[];
  throw error(ctx, at, path, `"${path}" must be ${reason}, got ${describeNode(node)}`);
}

/** The go2rtc seed article's pool of sources inside a stream's list: `{name, urls: [...], strategy}`. */
const SOURCE_POOL: ObjectNode = {
  kind: "object",
  description: "A pool of sources in a stream's list.",
  keys: {
    urls: { kind: "list", items: { kind: "string", description: "A source URL." }, acceptSingle: true, description: "source URLs" },
    url: { kind: "list", items: { kind: "string", description: "A source URL." }, acceptSingle: true, description: "source URLs" },
    name: { kind: "string", description: "a label", coerce: true },
    strategy: { kind: "string", description: "how to choose among the URLs" },
  },
};

function sourcePool(node: YAMLMap, path: string, at: Position, ctx: ValidationContext): string[] {
  const pool = checkObject(SOURCE_POOL, node, path, at, ctx) as { urls?: string[]; url?: string[]; strategy?: string };
  const urls = [...(pool.urls ?? []), ...(pool.url ?? [])];
  if (urls.length === 0) throw error(ctx, at, path, `"${path}" needs "urls": the source URLs of the pool`);
  if (pool.strategy !== undefined) {
    ctx.warnings.push(configWarning(
      "not-implemented",
      ctx.file,
      at.line,
      `${path}.strategy`,
      `"${path}.strategy: ${pool.strategy}" has no effect: the pool's URLs are the stream's sources, tried in order, ` +
        "and each of video and audio comes from the first that has it (go2rtc's rule); list the usual one first",
    ));
  }
  return urls;
}

/** Whether a loaded value says something (not empty, not an empty list or map). */
function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

function warnUnknown(
  schema: ObjectNode,
  key: string,
  path: string,
  at: Position,
  ctx: ValidationContext,
  top: boolean,
) {
  if (top && GO2RTC_ONLY_SECTIONS.includes(key)) {
    ctx.warnings.push(configWarning(
      "unsupported-section",
      ctx.file,
      at.line,
      path,
      `section "${key}" is a go2rtc feature strom does not have; ignored`,
    ));
    return;
  }
  if (Object.hasOwn(SEED_KEY_HINTS, path)) {
    ctx.warnings.push(configWarning(
      "unknown-key",
      ctx.file,
      at.line,
      path,
      `"${path}" (from the go2rtc seed article) is not a strom key and has no effect: ${SEED_KEY_HINTS[path]}`,
    ));
    return;
  }
  const near = closest(key, Object.keys(schema.keys));
  ctx.warnings.push(configWarning(
    "unknown-key",
    ctx.file,
    at.line,
    path,
    `unknown key "${path}"${near ? ` (did you mean "${near}"?)` : ""}`,
  ));
}

// --- YAML node helpers --------------------------------------------------------------------------

interface Entry {
  key: string;
  keyNode: YamlNode;
  value: unknown;
}

/**
 * The pairs of a map as (name, node), with `<<` merge keys expanded: explicit keys win over merged
 * ones, and among merged maps the earlier one wins (YAML merge-key spec).
 */
function entries(map: YAMLMap, path: string, at: Position, ctx: ValidationContext): Entry[] {
  const explicit: Entry[] = [];
  const merged: Entry[] = [];
  for (const pair of map.items) {
    if (!isPair(pair)) continue;
    const keyNode = deref(pair.key, ctx) as YamlNode | undefined;
    if (isScalar(keyNode) && (typeof keyNode.value === "symbol" || keyNode.value === "<<")) {
      const source = deref(pair.value, ctx);
      const maps = isSeq(source) ? source.items.map((i) => deref(i, ctx)) : [source];
      for (const m of maps) {
        if (isMap(m)) merged.push(...entries(m, path, at, ctx));
        else {
          const where = ctx.position(keyNode.range?.[0]) ?? at;
          throw error(
            ctx,
            where,
            path,
            `"<<" merge key in "${path || "(root)"}" must refer to a map, got ${describeNode(m)}`,
          );
        }
      }
      continue;
    }
    if (!isScalar(keyNode) || keyNode.value == null) {
      const where = ctx.position((pair.key as YamlNode | null)?.range?.[0] ?? map.range?.[0]) ?? at;
      throw error(
        ctx,
        where,
        path,
        `keys in "${path || "(root)"}" must be plain names, got ${describeNode(keyNode)}`,
      );
    }
    const v = keyNode.value;
    const key = typeof v === "string" ? v : typeof keyNode.source === "string" ? keyNode.source : String(v);
    explicit.push({ key, keyNode, value: pair.value });
  }
  const seen = new Set(explicit.map((e) => e.key));
  for (const e of merged) {
    if (seen.has(e.key)) continue;
    seen.add(e.key);
    explicit.push(e);
  }
  return explicit;
}

function deref(node: unknown, ctx: ValidationContext): YamlNode | null {
  if (isAlias(node)) return (node.resolve(ctx.doc) as YamlNode | undefined) ?? null;
  return (node ?? null) as YamlNode | null;
}

function isNull(node: YamlNode | null): node is null {
  return node == null || (isScalar(node) && node.value == null);
}

function scalarValue(node: YamlNode): unknown {
  return isScalar(node) ? node.value : node;
}

/** What an explicitly empty key means for this schema node. */
function nullValue(schema: SchemaNode): Value {
  if (schema.kind === "sources") return [];
  if (schema.kind === "string" && schema.ifNull !== undefined) return schema.ifNull;
  return undefined;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

// --- messages -----------------------------------------------------------------------------------

function error(ctx: ValidationContext, at: Position, path: string, reason: string): ConfigError {
  return new ConfigError({ file: ctx.file, line: at.line, column: at.column, path, reason });
}

function fail(
  schema: SchemaNode,
  node: YamlNode | null,
  path: string,
  at: Position,
  ctx: ValidationContext,
): never {
  throw error(ctx, at, path, `"${path}" must be ${expected(schema)}, got ${describeNode(node)}`);
}

/**
 * What a schema node accepts, in words: `a string like ":1984"`, `an integer`, `true or false`.
 *
 * @example
 * ```ts
 * expected({ kind: "boolean", description: "" }); // "true or false"
 * ```
 */
export function expected(schema: SchemaNode): string {
  switch (schema.kind) {
    case "string":
      return schema.example !== undefined ? `a string like "${schema.example}"` : "a string";
    case "number":
      return schema.integer ? "an integer" : "a number";
    case "boolean":
      return "true or false";
    case "enum":
      return `one of ${schema.values.join(", ")}`;
    case "duration":
      return 'a duration like "30s", "5m", "7d" or a number of seconds';
    case "bytes":
      return 'a size like "16MB", "512KiB" or a number of bytes';
    case "list": {
      const items = plural(schema.items);
      return schema.acceptSingle ? `${article(schema.items)} or a list of ${items}` : `a list of ${items}`;
    }
    case "object":
      return "a section of key: value pairs";
    case "map":
      return `a map of ${schema.keyName}: value`;
    case "sources":
      return "a source URL, a list of URLs, or empty";
  }
}

function article(schema: SchemaNode): string {
  const s = expected(schema);
  return s.startsWith("a ") || s.startsWith("an ") ? s : `a ${s}`;
}

function plural(schema: SchemaNode): string {
  switch (schema.kind) {
    case "string":
      return "strings";
    case "number":
      return schema.integer ? "integers" : "numbers";
    case "enum":
      return `values (${schema.values.join(", ")})`;
    case "object":
      return "entries";
    default:
      return `${schema.kind} values`;
  }
}

/**
 * What a YAML node is, for "got ..." in messages: `a number`, `a list`, `the string "yes"`.
 *
 * @example
 * ```ts
 * describeNode(new Scalar(1984)); // "a number"
 * ```
 */
export function describeNode(node: unknown): string {
  if (node == null) return "an empty value";
  if (isMap(node)) return "a map";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const v = node.value;
    if (v == null) return "an empty value";
    if (typeof v === "number" || typeof v === "bigint") return "a number";
    if (typeof v === "boolean") return "a boolean";
    if (typeof v === "string") return `the string "${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
    return `a ${typeof v}`;
  }
  return "an unsupported value";
}

function checkFormat(format: NonNullable<StringNode["format"]>, s: string): string | undefined {
  if (s === "") return undefined;
  switch (format) {
    case "address":
      return ADDRESS.test(s) ? undefined : 'an address like ":1984" or "127.0.0.1:1984" (or "" to disable)';
    case "webrtc-address":
      return ADDRESS_PROTO.test(s)
        ? undefined
        : 'an address like ":8555", ":8555/tcp" or "" (random UDP ports)';
    case "url-path":
      return s.startsWith("/") ? undefined : 'a path starting with "/"';
    case "port-or-address":
      return /^\d{1,5}$/.test(s) || ADDRESS.test(s)
        ? undefined
        : 'a port like 9090, or an address like ":9090" or "127.0.0.1:9090" (or "" for none)';
  }
}

// host is a name, IPv4, or [IPv6]; the port is required.
const ADDRESS = /^(?:\[[0-9A-Fa-f:.%\w-]+\]|[\w.-]*):\d{1,5}$/;
const ADDRESS_PROTO = /^(?:\[[0-9A-Fa-f:.%\w-]+\]|[\w.-]*):\d{1,5}(?:\/(?:tcp|udp))?$/;

/**
 * The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
 *
 * @example
 * ```ts
 * closest("udpp", ["listen", "udp"]); // "udp"
 * ```
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(w.length / 3));
  return bestDistance <= limit && bestDistance < w.length ? best : undefined;
}

/** Levenshtein distance with one rolling row. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
