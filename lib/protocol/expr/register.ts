/**
 * The `expr:` scheme (go2rtc's `internal/expr`): the script's result is the real source URL,
 * which is then dialed through the registry like any other.
 *
 * ```yaml
 * streams:
 *   dahua_vto: |
 *     expr: let host = 'admin:password@192.168.1.123';
 *     fetch('http://' + host + '/cgi-bin/configManager.cgi?action=setConfig&Encode[0].MainFormat[0].Audio.Compression=G.711A').ok
 *       ? 'rtsp://' + host + '/cam/realmonitor?channel=1&subtype=0' : ''
 * ```
 *
 * @module
 */
import { SourceError } from "../../core/errors.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { registerRedirect } from "../../core/registry.ts";
import { ExprError, parseExpr } from "./parser.ts";
import { type ExprRunOptions, runExpr } from "./interpreter.ts";

/**
 * Runs an `expr:` URL's script and returns the source URL it computes.
 *
 * @throws {SourceError} naming the script's error (with its position), or a result that is not a
 *   non-empty string.
 * @example
 * ```ts
 * await resolveExpr(`expr:let ip = "10.0.0.5"; "rtsp://" + ip + "/1"`); // "rtsp://10.0.0.5/1"
 * ```
 */
export async function resolveExpr(url: string, options: ExprRunOptions = {}): Promise<string> {
  const script = url.replace(/^expr:/i, "");
  let result;
  try {
    result = await runExpr(parseExpr(script), options);
  } catch (error) {
    if (!(error instanceof ExprError)) throw error;
    const where = error.position >= 0 ? ` at ${lineCol(script, error.position)}` : "";
    throw new SourceError(url, `the expr: script failed${where}: ${error.message}`, { cause: error });
  }
  if (typeof result !== "string" || !result.trim()) {
    throw new SourceError(
      url,
      `the expr: script must end with a source URL (a non-empty string), but gave ${JSON.stringify(result)}`,
    );
  }
  return result.trim();
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  return `line ${line}, column ${pos - before.lastIndexOf("\n")}`;
}

/**
 * Registers `expr:` as a redirect: the script runs on each dial. Runs programs' logic from the
 * config, so the API refuses it (server/source_policy.ts). Nothing is registered at import time.
 *
 * @example
 * ```ts
 * registerExprSource({ log });
 * ```
 */
export function registerExprSource(options: { log?: Logger } = {}): void {
  const log = options.log ?? silentLogger;
  registerRedirect("expr", async (url) => {
    const next = await resolveExpr(url);
    log.debug("expr resolved", { scheme: next.split(":")[0] });
    return next;
  });
}
