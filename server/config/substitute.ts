/**
 * `${VAR}` and `${VAR:default}` substitution in config text, done before YAML parsing (as go2rtc
 * does), so a variable can stand for any part of a value: `rtsp://admin:${CAM_PASS}@10.0.0.5/1`.
 *
 * Lookup order (first hit wins):
 * 1. the config's own `env:` section (`env: {CAM_PASS: secret}`), whose values may use `${...}` too;
 * 2. the file `$CREDENTIALS_DIRECTORY/<VAR>` (systemd `LoadCredential=`), one trailing newline removed;
 * 3. the process environment.
 * Then the `:default` part, if any. A variable that is still unresolved is left as written and
 * produces a warning (unless it sits in a comment). Resolved values (not defaults, which are in the file anyway) are returned as
 * secrets so logs and API output can mask them.
 *
 * Substitution is textual: a value containing YAML syntax (`: `, `#`, quotes) needs quoting around
 * the `${...}` in the file, e.g. `password: "${PASS}"`.
 *
 * @module
 */
import { configWarning } from "./errors.ts";
import type { ConfigWarning } from "./errors.ts";

/** `${NAME}` or `${NAME:default}`; the default runs to the first `}`. */
export const VARIABLE_PATTERN: RegExp = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

/** Where a variable's value came from. */
export type VariableOrigin = "env-section" | "credentials" | "environment";

/** A resolved variable. */
export interface ResolvedVariable {
  value: string;
  from: VariableOrigin;
}

/** Looks a variable up; `undefined` when no source has it. */
export type VariableResolver = (name: string) => Promise<ResolvedVariable | undefined>;

/** What the resolver reads from. */
export interface VariableResolverOptions {
  /** The merged `env:` sections of the config sources, values as written. */
  env?: Record<string, string>;
  /** Process environment lookup (also used to find `CREDENTIALS_DIRECTORY`). */
  getEnv(name: string): string | undefined;
  /** Reads a credentials file; without it the credentials directory is skipped. */
  readTextFile?(path: string): Promise<string>;
}

/**
 * Creates a resolver following the lookup order above. Results are cached per name.
 *
 * @example
 * ```ts
 * const resolve = createVariableResolver({ env: { PASS: "x" }, getEnv: (n) => process.env[n] });
 * await resolve("PASS"); // { value: "x", from: "env-section" }
 * ```
 */
export function createVariableResolver(o: VariableResolverOptions): VariableResolver {
  const cache = new Map<string, Promise<ResolvedVariable | undefined>>();
  const resolving = new Set<string>();
  const credentialsDir = o.getEnv("CREDENTIALS_DIRECTORY");

  const lookup = async (name: string): Promise<ResolvedVariable | undefined> => {
    if (o.env && Object.hasOwn(o.env, name)) {
      // env: values may refer to other variables; a cycle leaves the inner reference as written.
      resolving.add(name);
      try {
        const inner = await substituteVariables(
          o.env[name],
          (n) => (resolving.has(n) ? Promise.resolve(undefined) : resolve(n)),
        );
        return { value: inner.text, from: "env-section" };
      } finally {
        resolving.delete(name);
      }
    }
    if (credentialsDir && o.readTextFile) {
      const path = `${credentialsDir.replace(/\/+$/, "")}/${name}`;
      const text = await o.readTextFile(path).then((t) => t, () => undefined);
      if (text !== undefined) return { value: text.replace(/\r?\n$/, ""), from: "credentials" };
    }
    const value = o.getEnv(name);
    if (value !== undefined) return { value, from: "environment" };
    return undefined;
  };

  const resolve: VariableResolver = (name) => {
    let hit = cache.get(name);
    if (!hit) {
      hit = lookup(name);
      cache.set(name, hit);
    }
    return hit;
  };
  return resolve;
}

/** The result of `substituteVariables`. */
export interface SubstitutionResult {
  text: string;
  /** Values that came from env:, credentials or the environment (deduplicated, non-empty). */
  secrets: string[];
  /** One per unresolved `${VAR}` without a default, with its line. */
  warnings: ConfigWarning[];
}

/**
 * Replaces every `${VAR}` / `${VAR:default}` in `text`.
 *
 * @example
 * ```ts
 * const r = await substituteVariables("password: ${PASS:admin}", resolve, "strom.yaml");
 * r.text; // "password: admin" when PASS is not set anywhere
 * ```
 */
export async function substituteVariables(
  text: string,
  resolve: VariableResolver,
  file = "<text>",
): Promise<SubstitutionResult> {
  const matches = [...text.matchAll(VARIABLE_PATTERN)];
  if (matches.length === 0) return { text, secrets: [], warnings: [] };
  const values = new Map<string, ResolvedVariable | undefined>();
  for (const m of matches) {
    if (!values.has(m[1])) values.set(m[1], await resolve(m[1]));
  }
  const secrets = new Set<string>();
  const warnings: ConfigWarning[] = [];
  let out = "";
  let last = 0;
  for (const m of matches) {
    const [whole, name, fallback] = m;
    const index = m.index;
    const found = values.get(name);
    let replacement: string;
    if (found) {
      replacement = found.value;
      if (found.value !== "") secrets.add(found.value);
    } else if (fallback !== undefined) {
      replacement = fallback;
    } else {
      replacement = whole;
      if (!inComment(text, index)) {
        warnings.push(configWarning(
          "unresolved-variable",
          file,
          lineOf(text, index),
          "",
          `variable \${${name}} is not set (not in env:, $CREDENTIALS_DIRECTORY or the environment); left as-is. ` +
            `Set it, or give a default: \${${name}:value}`,
        ));
      }
    }
    out += text.slice(last, index) + replacement;
    last = index + whole.length;
  }
  out += text.slice(last);
  return { text: out, secrets: [...secrets], warnings };
}

/**
 * Whether `index` sits in a YAML comment (`#` at line start or after whitespace, outside quotes on
 * that line). Commented-out lines are substituted too (harmless) but do not warn.
 */
function inComment(text: string, index: number): boolean {
  let quote = "";
  for (let i = text.lastIndexOf("\n", index - 1) + 1; i < index; i++) {
    const c = text[i];
    if (quote) {
      if (quote === '"' && c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || text[i - 1] === " " || text[i - 1] === "\t" || text[i - 1] === "\n")) {
      return true;
    }
  }
  return false;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}
