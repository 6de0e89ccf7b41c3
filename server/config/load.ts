/**
 * Loading the config from go2rtc-style `-c` sources:
 *
 * ```
 * sources ──▶ classify ──▶ read files ──▶ collect env: ──▶ ${VAR} substitution ──▶ parse YAML
 *   "strom.yaml"   file                  (all sources)    (each source)           │
 *   "{api: ...}"   inline                                                         ▼
 *   "log.level=debug"  dotted                            validate each (errors/warnings with file:line)
 *                                                                                 │
 *                          StromConfig ◀── defaults ◀── merge in order (maps merge, lists replace)
 * ```
 *
 * The first *file* source is the writable path (API changes are written back there), even when it
 * does not exist yet; inline and dotted sources are never written. With no sources at all the
 * embedded default config is used and nothing is writable.
 *
 * @module
 */
import { Pair, Scalar, YAMLMap } from "yaml";
import type { Document, Node as YamlNode } from "yaml";
import { DEFAULT_CONFIG_YAML } from "./default.ts";
import { ConfigError, configWarning } from "./errors.ts";
import type { ConfigWarning } from "./errors.ts";
import { applyDefaults, mergeConfigValues } from "./merge.ts";
import { configSchema } from "./schema.ts";
import { createVariableResolver, substituteVariables } from "./substitute.ts";
import type { StromConfig } from "./types.ts";
import { validateDocument } from "./validate.ts";
import type { Position } from "./validate.ts";
import { parseYaml } from "./yaml_parse.ts";

/**
 * File and environment access the loader needs (wired to `lib/runtime` by the server; tests inject
 * fakes). `readTextFile` should reject with an error whose `code` is `"ENOENT"` or whose `name` is
 * `"NotFound"` for a missing file.
 *
 * @example
 * ```ts
 * import { readTextFile, writeTextFile, getEnv } from "../../lib/runtime/mod.ts";
 * const io: ConfigIo = { readTextFile, writeTextFile, getEnv };
 * ```
 */
export interface ConfigIo {
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  getEnv(name: string): string | undefined;
}

/**
 * The loaded config.
 *
 * @example
 * ```ts
 * const { config, warnings, secrets, writablePath } = await loadConfig(["strom.yaml"], io);
 * ```
 */
export interface LoadedConfig {
  /** Every section present, defaults applied. */
  config: StromConfig;
  warnings: ConfigWarning[];
  /** Values to mask in logs and API output: substituted variables and keys marked secret (passwords). */
  secrets: string[];
  /** The first file source: where API changes are written back. Absent for inline-only or default configs. */
  writablePath?: string;
}

/** How a `-c` value is read. */
export type ConfigSourceKind = "file" | "inline" | "dotted";

/**
 * Tells a `-c` value's form apart the way go2rtc does: inline YAML/JSON starts with `{`; `a.b=value`
 * (at least one dot before the first `=`, no spaces in the key) is a single key; anything else is a
 * file path.
 *
 * @example
 * ```ts
 * classifySource("log.level=debug"); // "dotted"
 * classifySource("/etc/strom.yaml"); // "file"
 * ```
 */
export function classifySource(source: string): ConfigSourceKind {
  if (source.trimStart().startsWith("{")) return "inline";
  if (DOTTED.test(source)) return "dotted";
  return "file";
}

const DOTTED = /^([^=.\s/\\]+(?:\.[^=.\s]+)+)=/;

/**
 * Loads and merges config sources (see the module doc for the forms and the order).
 * Throws `ConfigError` for malformed YAML, a wrong type or value, or an unreadable file.
 *
 * @example
 * ```ts
 * const { config } = await loadConfig(["strom.yaml", "{log: {level: debug}}", "api.listen=:8080"], io);
 * config.api.listen; // ":8080"
 * ```
 */
export async function loadConfig(sources: readonly string[], io: ConfigIo): Promise<LoadedConfig> {
  const warnings: ConfigWarning[] = [];
  const prepared: Prepared[] = [];
  let writablePath: string | undefined;

  if (sources.length === 0) {
    prepared.push({ label: "<default config>", text: DEFAULT_CONFIG_YAML, kind: "file" });
  }
  let inline = 0;
  for (const source of sources) {
    const kind = classifySource(source);
    if (kind === "file") {
      writablePath ??= source;
      const text = await readConfigFile(source, io, warnings, source === writablePath);
      prepared.push({ label: source, text, kind });
    } else if (kind === "inline") {
      prepared.push({ label: `<inline #${++inline}>`, text: source, kind });
    } else {
      const eq = source.indexOf("=");
      prepared.push({
        label: `<inline #${++inline}>`,
        text: source.slice(eq + 1),
        kind,
        keys: source.slice(0, eq).split("."),
        valueColumn: eq + 1,
      });
    }
  }

  const loaded = await loadPrepared(prepared, io, warnings);
  return writablePath === undefined ? loaded : { ...loaded, writablePath };
}

/**
 * Loads one config text as if it were the only file (no writable path). Used to check a config
 * before replacing the file (`POST /api/config`).
 *
 * @example
 * ```ts
 * const { warnings } = await loadConfigText(body, io, "strom.yaml"); // throws ConfigError when invalid
 * ```
 */
export function loadConfigText(text: string, io: ConfigIo, file = "strom.yaml"): Promise<LoadedConfig> {
  return loadPrepared([{ label: file, text, kind: "file" }], io, []);
}

// --- internals ----------------------------------------------------------------------------------

interface Prepared {
  label: string;
  text: string;
  kind: ConfigSourceKind;
  /** Dotted form: the key path, and the 0-based column where the value text starts in the argument. */
  keys?: string[];
  valueColumn?: number;
}

async function loadPrepared(
  prepared: Prepared[],
  io: ConfigIo,
  warnings: ConfigWarning[],
): Promise<LoadedConfig> {
  // env: sections of all sources (later wins) feed ${VAR} lookups in every source.
  const env: Record<string, string> = {};
  // The first parse of each source, kept for the real one when substitution leaves its text as it was.
  const parsed = new Map<Prepared, Document>();
  for (const p of prepared) Object.assign(env, rawEnvSection(p, parsed));
  const resolve = createVariableResolver({ env, getEnv: io.getEnv, readTextFile: io.readTextFile });

  const secrets = new Set<string>();
  let merged: unknown = {};
  for (const p of prepared) {
    const substituted = await substituteVariables(p.text, resolve, p.label);
    warnings.push(...substituted.warnings);
    for (const s of substituted.secrets) secrets.add(s);
    const ctxSecrets: string[] = [];
    const unchanged = substituted.text === p.text;
    const partial = parseAndValidate(
      { ...p, text: substituted.text },
      warnings,
      ctxSecrets,
      unchanged ? parsed.get(p) : undefined,
    );
    for (const s of ctxSecrets) secrets.add(s);
    merged = mergeConfigValues(merged, partial);
  }
  const config = applyDefaults(configSchema, merged) as StromConfig;
  return { config, warnings, secrets: [...secrets] };
}

async function readConfigFile(
  path: string,
  io: ConfigIo,
  warnings: ConfigWarning[],
  writable: boolean,
): Promise<string> {
  try {
    return await io.readTextFile(path);
  } catch (e) {
    if (!isNotFound(e)) {
      throw new ConfigError({
        file: path,
        reason: `cannot read the config file: ${
          (e as Error)?.message ?? e
        }. Check the path and its permissions.`,
        cause: e,
      });
    }
    warnings.push(configWarning(
      "missing-file",
      path,
      0,
      "",
      writable
        ? "file not found; starting without it (it is created on the first change made through the API)"
        : "file not found; ignored",
    ));
    return "";
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { code?: unknown; name?: unknown } | null;
  return err?.code === "ENOENT" || err?.name === "NotFound" || err?.code === "NotFound";
}

const PARSE_OPTIONS = { merge: true } as const;

/**
 * The `env:` section as written (before substitution), best effort: malformed text yields nothing
 * here. A text that cannot hold an `env` key (no "env" in it, and no backslash that could escape one)
 * is not parsed; one that is parsed leaves its document in `parsed`.
 */
function rawEnvSection(p: Prepared, parsed: Map<Prepared, Document>): Record<string, string> {
  const out: Record<string, string> = {};
  if (p.kind === "dotted") {
    if (p.keys?.length === 2 && p.keys[0] === "env") out[p.keys[1]] = p.text;
    return out;
  }
  if (!/env|\\/i.test(p.text)) return out;
  const doc = parseYaml(p.text, PARSE_OPTIONS);
  parsed.set(p, doc);
  if (doc.errors.length) return out;
  let env: unknown;
  try {
    env = (doc.toJS() as { env?: unknown } | null)?.env;
  } catch {
    // Found by fuzzing: an unresolved or excessive alias throws a ReferenceError from yaml's toJS;
    // parseAndValidate reports the document's problems with their position.
    return out;
  }
  if (env && typeof env === "object" && !Array.isArray(env)) {
    for (const [k, v] of Object.entries(env)) {
      if (v !== null && typeof v !== "object") out[k] = String(v);
    }
  }
  return out;
}

function parseAndValidate(
  p: Prepared,
  warnings: ConfigWarning[],
  secrets: string[],
  parsed?: Document,
): Record<string, unknown> {
  const lines = lineStarts(p.text);
  const shift = p.valueColumn ?? 0;
  const position = (offset: number | undefined): Position | undefined => {
    if (offset === undefined) return undefined;
    // Dotted form: synthetic keys carry negative offsets (before the value in the argument).
    if (offset < 0) return { line: 1, column: shift + offset + 1 };
    const pos = positionAt(lines, offset);
    return pos.line === 1 ? { line: 1, column: pos.column + shift } : pos;
  };

  let doc = parsed ?? parseYaml(p.text, PARSE_OPTIONS);
  if (doc.errors.length && p.kind === "dotted") {
    // `streams.cam=rtsp://x #y: z` is meant literally; go on with the raw string.
    doc = parseYaml("", PARSE_OPTIONS);
    doc.contents = new Scalar(p.text) as unknown as typeof doc.contents;
  }
  if (doc.errors.length) {
    const e = doc.errors[0];
    const at = position(e.pos[0]) ?? { line: 0, column: 0 };
    throw new ConfigError({
      file: p.label,
      ...at,
      reason: `cannot parse YAML: ${e.message}${yamlHint(e.code)}`,
      cause: e,
    });
  }
  for (const w of doc.warnings) {
    const at = position(w.pos[0]);
    warnings.push(configWarning("yaml", p.label, at?.line ?? 0, "", w.message));
  }
  if (p.kind === "dotted") wrapDotted(doc, p.keys ?? [], shift);
  return validateDocument(doc, configSchema, { file: p.label, doc, position, warnings, secrets });
}

/** Turns the parsed value of `a.b=value` into the document `{a: {b: value}}`, keys positioned in the argument. */
function wrapDotted(doc: Document, keys: string[], valueColumn: number): void {
  let node = doc.contents as YamlNode | null;
  let keyEnd = valueColumn - 1; // the "=" ends the last key
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = new Scalar(keys[i]);
    const start = keyEnd - keys[i].length;
    // Offsets relative to the value start; `position` maps negative ones onto the argument's columns.
    key.range = [start - valueColumn, keyEnd - valueColumn, keyEnd - valueColumn];
    const map = new YAMLMap();
    map.items.push(new Pair(key, node));
    node = map;
    keyEnd = start - 1; // skip the "."
  }
  doc.contents = node as typeof doc.contents;
}

function yamlHint(code: string): string {
  switch (code) {
    case "BLOCK_AS_IMPLICIT_KEY":
      return ' (quote values that contain ": " or end with ":", e.g. "demo:")';
    case "DUPLICATE_KEY":
      return " (remove or rename one of them)";
    case "TAB_AS_INDENT":
      return " (indent with spaces)";
    case "MISSING_CHAR":
      return " (close the quote or bracket)";
    default:
      return "";
  }
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

function positionAt(starts: number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}
