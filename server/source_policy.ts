/**
 * What the network may ask for: the rule that nothing reachable over the network starts a program
 * or passes raw arguments to one unless the config file allows it.
 *
 * A source "runs a program" when its scheme is `exec:`, `echo:` or `expr:`, or when it is an
 * `ffmpeg:` source whose text would reach ffmpeg's command line verbatim instead of through a
 * template: `#raw=`, `#input=`, `#drawtext=` and `#filter_complex=` that do not name a template,
 * `#video=`/`#audio=` values that are neither `copy` nor a template, malformed numeric options
 * (`#width=1,movie=...` would splice a filter into the graph), and inputs that are local files,
 * devices or lavfi graphs rather than a network URL or another stream (each input of a mosaic). The API and every later protocol refuse such a
 * source with 403 unless `api.allow_exec_sources: true` is in the config file; the config file itself
 * may hold them (it is written by whoever runs the server).
 *
 * Keys that decide which programs run or which files are read and written are protected the same
 * way: `POST /api/config` may not change them (see {@link PROTECTED_CONFIG_KEYS}).
 *
 * @module
 */
import { schemeOf } from "../lib/core/registry.ts";
import { parseHashParams } from "../lib/protocol/exec/params.ts";
import { ffmpegTemplates, tourSeconds } from "../lib/protocol/ffmpeg/mod.ts";

/** The config key that lets the API add program-running sources (off by default). */
export const ALLOW_EXEC_KEY = "api.allow_exec_sources";

/** Schemes whose sources run a command given in the URL (go2rtc marks these insecure). */
export const PROGRAM_SCHEMES: ReadonlySet<string> = new Set(["exec", "echo", "expr"]);

/**
 * Config keys the API may not change unless {@link ALLOW_EXEC_KEY} is on: they choose the programs
 * strom runs and their arguments (`ffmpeg`, `exec`), or files strom reads or writes anywhere on the
 * host (`api.static_dir` serves a folder, `log.output: file:<path>` writes one, recordings write a
 * folder), or commands run on events (`hooks.on_<event>[].command`; `*` in a key matches every
 * key or list item there). The allow key itself is one of them.
 */
export const PROTECTED_CONFIG_KEYS: readonly string[] = [
  ALLOW_EXEC_KEY,
  "exec",
  "ffmpeg",
  "api.static_dir",
  "api.tls_cert",
  "api.tls_key",
  "api.unix_listen",
  "log.output",
  "record.path",
  "record.dir",
  "hooks.*.*.command",
];

/** What the policy needs to know from the running server. */
export interface SourcePolicy {
  /** `api.allow_exec_sources` from the config file. */
  allowExec: boolean;
  /** ffmpeg templates (built-in and configured), to tell a template name from raw arguments. */
  templates: Readonly<Record<string, string>>;
  /** Whether a name is one of our streams (`ffmpeg:<stream>` reads it over our RTSP server). */
  hasStream: (name: string) => boolean;
}

/**
 * A source or config change the network may not make. Answered with 403; the message names the
 * key that would allow it.
 *
 * @example
 * ```ts
 * try { assertNetworkSources(["exec:touch x"], policy, "PUT /api/streams"); }
 * catch (e) { if (e instanceof SourceForbiddenError) console.log(e.status, e.key); } // 403 "api.allow_exec_sources"
 * ```
 */
export class SourceForbiddenError extends Error {
  override name = "SourceForbiddenError";
  /** HTTP status the API answers with. */
  readonly status = 403;
  /** The refused source URL (or config key, for a protected key). */
  readonly source: string;
  /** Why it is refused: what would run or be passed. */
  readonly reason: string;
  /** The config key that allows it. */
  readonly key: string = ALLOW_EXEC_KEY;
  constructor(source: string, reason: string, where: string) {
    super(
      `${where}: refused "${source}": ${reason}. Sources and settings that run programs or pass raw ` +
        `arguments to them can only come from the config file on the server; to allow them through the ` +
        `API too, set "${ALLOW_EXEC_KEY}: true" there (under api:) and restart.`,
    );
    this.source = source;
    this.reason = reason;
  }
}

// Network inputs ffmpeg may read when the API asks (anything else is a file, device or lavfi graph).
const NETWORK_INPUTS = new Set(["rtsp", "rtsps", "rtmp", "rtmps", "http", "https"]);
// Options whose value is a number or a fixed word, not free text.
const NUMERIC = /^-?\d{1,6}$/;
const BITRATE = /^\d{1,9}(\.\d{1,3})?[kKmMgG]?$/;
const WORD = /^[A-Za-z0-9_/-]{0,32}$/;
const QUERY = /^[A-Za-z0-9_=&.,%-]*$/;

/**
 * Why a source would run a program or pass raw arguments to one, or `undefined` when it would not.
 *
 * @example
 * ```ts
 * sourceRisk("ffmpeg:cam#video=h264", policy);               // undefined (a template)
 * sourceRisk("ffmpeg:cam#raw=-f image2 /tmp/x.jpg", policy); // 'ffmpeg option "#raw=..." ...'
 * sourceRisk("exec:touch x", policy);                        // 'the "exec:" scheme runs a command ...'
 * ```
 */
export function sourceRisk(url: string, policy: SourcePolicy): string | undefined {
  const scheme = schemeOf(url);
  if (PROGRAM_SCHEMES.has(scheme)) return `the "${scheme}:" scheme runs a command on the server`;
  if (scheme !== "ffmpeg") return undefined;

  const body = url.trim().slice(url.trim().indexOf(":") + 1);
  // Whitespace or quotes would split into extra ffmpeg arguments.
  if (/[\s"'`\\]/.test(body)) return "whitespace or quotes in an ffmpeg: source become extra ffmpeg arguments";
  const hash = body.indexOf("#");
  const input = hash >= 0 ? body.slice(0, hash) : body;
  const params = parseHashParams(hash >= 0 ? body.slice(hash + 1) : "");

  // A mosaic (`ffmpeg:cam1,cam2`) reads each of its inputs: every one must be a stream or network URL.
  for (const part of input.includes(",") ? input.split(",") : [input]) {
    const inputScheme = part.indexOf("://") > 0 ? part.slice(0, part.indexOf("://")).toLowerCase() : "";
    if (inputScheme) {
      if (!NETWORK_INPUTS.has(inputScheme)) {
        return `ffmpeg input "${inputScheme}://" is not a network URL (allowed: ${[...NETWORK_INPUTS].join(", ")})`;
      }
    } else if (!policy.hasStream(part)) {
      return `ffmpeg input "${part}" is a local file, device or generated input, not a stream or network URL`;
    }
  }

  const isTemplate = (value: string) => Object.hasOwn(policy.templates, value) && value !== "";
  for (const [key, values] of params) {
    for (const value of values) {
      const bad = (why: string) => `ffmpeg option "#${key}=${value}" ${why}`;
      switch (key) {
        case "raw":
        case "input":
        case "drawtext":
        case "filter_complex":
          if (!isTemplate(value)) return bad("is passed to ffmpeg verbatim (only a template name is allowed)");
          break;
        case "video":
          if (value !== "copy" && !isTemplate(value)) return bad("is not copy or a codec template, so it would be passed verbatim");
          break;
        case "audio":
          if (value !== "copy" && value !== "auto" && !isTemplate(value)) {
            return bad("is not copy, auto or a codec template, so it would be passed verbatim");
          }
          break;
        case "width":
        case "height":
        case "timeout":
          if (!NUMERIC.test(value)) return bad("must be a whole number");
          break;
        case "rotate":
          if (!["90", "180", "270", "-90"].includes(value)) return bad("must be 90, 180, 270 or -90");
          break;
        case "bitrate":
          if (!BITRATE.test(value)) return bad('must be a bit rate such as "2M" or "800k"');
          break;
        case "hardware":
          if (!WORD.test(value)) return bad("must be an engine name such as vaapi or cuda");
          break;
        case "query":
          if (!QUERY.test(value)) return bad('must be a query such as "video=h264"');
          break;
        case "tour":
          if (tourSeconds(value) === undefined) return bad("must be a duration such as 10 or 1m");
          break;
      }
    }
  }
  return undefined;
}

/**
 * Throws when the network may not set these sources (see the module doc); a no-op when the config
 * file allows program-running sources.
 *
 * @throws {SourceForbiddenError} for the first source that would run a program or pass raw args.
 * @example
 * ```ts
 * assertNetworkSources(c.req.queries("src") ?? [], ctx.sourcePolicy(), "PUT /api/streams");
 * ```
 */
export function assertNetworkSources(sources: readonly string[], policy: SourcePolicy, where: string): void {
  if (policy.allowExec) return;
  for (const src of sources) {
    const risk = sourceRisk(src, policy);
    if (risk) throw new SourceForbiddenError(src, risk, where);
  }
}

/**
 * Throws when a config posted through the API would add or change a program-running source or a
 * protected key compared with the config it replaces. Sources that are already in the current config,
 * unchanged under the same stream, may stay (so the config editor can save a file that holds them).
 *
 * @throws {SourceForbiddenError} naming the first stream source or key that would change.
 * @example
 * ```ts
 * assertNetworkConfigChange(current.config, next.config, policy, "POST /api/config");
 * ```
 */
export function assertNetworkConfigChange(
  current: Record<string, unknown>,
  next: Record<string, unknown>,
  policy: SourcePolicy,
  where: string,
): void {
  if (policy.allowExec) return;
  for (const key of PROTECTED_CONFIG_KEYS) {
    const before = JSON.stringify(valuesAt(current, key));
    const after = JSON.stringify(valuesAt(next, key));
    if (before !== after) {
      throw new SourceForbiddenError(
        key,
        `"${key}" decides which programs run or which files are read or written, so it cannot be changed through the API`,
        where,
      );
    }
  }
  const currentStreams = (current.streams ?? {}) as Record<string, readonly string[]>;
  const nextStreams = (next.streams ?? {}) as Record<string, readonly string[]>;
  for (const [name, sources] of Object.entries(nextStreams)) {
    const kept = new Set(currentStreams[name] ?? []);
    for (const src of sources) {
      if (kept.has(src)) continue;
      const risk = sourceRisk(src, policy);
      if (risk) throw new SourceForbiddenError(src, risk, `${where} streams.${name}`);
    }
  }
}

/**
 * The values at a dotted path (`api.static_dir`), where `*` stands for every key of a section or
 * item of a list (`hooks.*.*.command`); absent values are left out.
 */
function valuesAt(root: Record<string, unknown>, path: string): unknown[] {
  let nodes: unknown[] = [root];
  for (const part of path.split(".")) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (!node || typeof node !== "object") continue;
      const children = part === "*" ? Object.values(node) : [(node as Record<string, unknown>)[part]];
      for (const child of children) if (child !== undefined && child !== null) next.push(child);
    }
    nodes = next;
  }
  return nodes;
}

/**
 * The policy of a running server: its config's allow key and ffmpeg templates, its hub's streams.
 *
 * @example
 * ```ts
 * assertNetworkSources(sources, serverSourcePolicy(ctx), "PUT /api/streams");
 * ```
 */
export function serverSourcePolicy(
  ctx: { config: { api?: { allow_exec_sources?: boolean }; ffmpeg?: unknown }; hub: { get(name: string): unknown } },
  extraStreams: readonly string[] = [],
): SourcePolicy {
  const extra = new Set(extraStreams);
  return {
    allowExec: ctx.config.api?.allow_exec_sources === true,
    templates: ffmpegTemplates((ctx.config.ffmpeg ?? {}) as Record<string, unknown>),
    hasStream: (name) => extra.has(name) || ctx.hub.get(name) !== undefined,
  };
}
