/**
 * `/api/config`: `GET` returns the config file's YAML text; `POST` replaces it after checking it
 * with the config loader (400 with `file:line:column` when it is invalid) and the source policy (403
 * when it would add a program-running source or change a protected key, see
 * `server/source_policy.ts`), and writes it atomically.
 * Both answer 410 when the server runs without a config file (defaults or inline `-c` only).
 *
 * The streams of a replaced config take effect at once (added, changed and removed streams); other
 * sections after a restart (`POST /api/restart`, server/routes/restart.ts).
 *
 * @module
 */
import type { Hono } from "hono";
import { loadConfigText } from "../config/mod.ts";
import type { AppContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { runtimeIo } from "../load.ts";
import { assertNetworkConfigChange, serverSourcePolicy } from "../source_policy.ts";
import { checkStreamSchemes } from "../sources.ts";
import { applyDisabled } from "./disabled.ts";

/**
 * Largest config body accepted: about 4,000 streams. A config is text typed by people; the YAML
 * loader also refuses more than 100,000 tokens or 64 levels of nesting (server/config/yaml_parse.ts),
 * so no body holds the event loop for more than about half a second.
 */
export const MAX_CONFIG_BYTES = 512 * 1024;

/**
 * Registers `GET` and `POST /api/config`.
 *
 * @example
 * ```ts
 * configRoutes(app, ctx);
 * ```
 */
export function configRoutes(app: Hono, ctx: AppContext): void {
  const requireFile = () => {
    if (!ctx.configFile) {
      throw new ApiError(
        410,
        "The server runs without a config file (defaults or inline -c only); start it with -c <file> to edit the config here.",
        "NoConfigFile",
      );
    }
    return ctx.configFile;
  };

  app.get("/api/config", async (c) => {
    const file = requireFile();
    // The file as written (passwords included): this endpoint exists to edit it, and a masked
    // copy posted back would overwrite the passwords.
    return c.body(await file.read(), 200, { "Content-Type": "application/yaml; charset=utf-8" });
  });

  app.post("/api/config", async (c) => {
    const file = requireFile();
    const text = await c.req.text();
    if (text.length > MAX_CONFIG_BYTES) {
      throw new ApiError(413, `Config too large: ${text.length} bytes, at most ${MAX_CONFIG_BYTES}.`, "PayloadTooLarge");
    }
    const io = ctx.configIo ?? runtimeIo;
    const loaded = await loadConfigText(text, io, file.path);
    // The whole new config is checked against the one it replaces before anything is written: a
    // refused body leaves the file and the running streams untouched.
    const current = await loadConfigText(await file.read(), io, file.path);
    const newStreams = loaded.config.streams ?? {};
    assertNetworkConfigChange(
      current.config as unknown as Record<string, unknown>,
      loaded.config as unknown as Record<string, unknown>,
      serverSourcePolicy(ctx, Object.keys(newStreams)),
      "POST /api/config",
    );
    const schemeWarnings = checkStreamSchemes(newStreams);
    await file.replace(text);
    applyStreams(ctx, newStreams);
    // Privacy mode follows the new text at once too (it starts nothing: see routes/disabled.ts).
    await applyDisabled(ctx.hub, loaded.config.disabled ?? {}, ctx.log);
    ctx.config.disabled = { ...(loaded.config.disabled ?? {}) };
    const warnings = [...loaded.warnings.map((w) => w.message), ...schemeWarnings];
    ctx.log.info("config replaced through the API", { path: file.path, warnings: warnings.length });
    return c.json({ ok: true, path: file.path, warnings });
  });
}

/** Applies a new `streams:` section to the running hub: adds and updates streams, deletes removed ones. */
function applyStreams(ctx: AppContext, streams: Record<string, string[]>): void {
  const before = new Set(Object.keys(ctx.config.streams ?? {}));
  for (const [name, sources] of Object.entries(streams)) {
    const current = ctx.hub.get(name)?.sources;
    if (!current || current.join("\n") !== sources.join("\n")) ctx.hub.set(name, sources);
    before.delete(name);
  }
  // Only streams that came from the config go away; ones created through the API were written to
  // the file too, so they are in `streams` when the new text keeps them.
  for (const name of before) ctx.hub.delete(name);
  ctx.config.streams = { ...streams };
}

