/**
 * Disabling a stream (privacy mode: a camera in a room where someone is home, a doorbell whose
 * stream must not be watched or recorded for a while). go2rtc has no such switch (its issues
 * #183 and #1866 ask for one); strom's:
 *
 * - `GET /api/disabled`: the disabled streams the user may see, `{name: {reason, since}}`;
 * - `PUT /api/disabled?src=<stream>[&reason=<text>]`: disables it: its viewers and publishers are
 *   disconnected, its sources stop, snapshots and every output refuse it (HTTP 503, RTSP 503, RTMP
 *   `NetStream.Play.Failed`), preload and recording pause;
 * - `DELETE /api/disabled?src=<stream>`: enables it again; preload and recording resume.
 *
 * Both changes are written back to the config file's `disabled:` section (when there is one), so a
 * restart keeps them. Enabling starts nothing the config file does not already allow: it only lets
 * the stream's configured sources be dialed again.
 *
 * @module
 */
import type { Hono } from "hono";
import type { StreamHub } from "../../lib/core/hub.ts";
import type { Logger } from "../../lib/core/log.ts";
import { mayRead, requestUser } from "../auth.ts";
import { deleteIn, setIn } from "../config/mod.ts";
import type { AppContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { streamOf } from "./output_common.ts";

/** Longest reason accepted, in characters (it is written to the config file and logged). */
const MAX_REASON = 200;

/** One disabled stream in `GET /api/disabled`. */
export interface DisabledInfo {
  reason: string;
  /** When it was disabled, RFC 3339. */
  since: string;
}

/**
 * Makes the hub's streams match a `disabled:` section: the streams named there are disabled (with
 * their reasons), every other stream is enabled. Names of streams that do not exist are returned
 * (the caller warns about them).
 *
 * @example
 * ```ts
 * const unknown = await applyDisabled(hub, { baby_room: "privacy" }, log);
 * ```
 */
export async function applyDisabled(
  hub: StreamHub,
  disabled: Record<string, string>,
  log: Logger,
): Promise<string[]> {
  const unknown: string[] = [];
  for (const [name, reason] of Object.entries(disabled)) {
    const stream = hub.get(name);
    if (!stream) {
      unknown.push(name);
      continue;
    }
    await stream.disable(reason ?? "");
  }
  for (const name of hub.names()) {
    if (!(name in disabled)) hub.get(name)?.enable();
  }
  if (unknown.length > 0) {
    log.warn(`disabled: ${unknown.map((n) => `"${n}"`).join(", ")} not configured under streams:; skipped`);
  }
  return unknown;
}

/**
 * Registers `GET`, `PUT` and `DELETE /api/disabled`.
 *
 * @example
 * ```ts
 * disabledRoutes(app, ctx);
 * // PUT /api/disabled?src=baby_room&reason=privacy -> { baby_room: { reason: "privacy", since: "..." } }
 * ```
 */
export function disabledRoutes(app: Hono, ctx: AppContext): void {
  const writeBack = async (name: string, reason: string | null) => {
    if (ctx.configFile) {
      await ctx.configFile.update((text) =>
        reason === null ? deleteIn(text, ["disabled", name]) : setIn(text, ["disabled", name], reason)
      );
    }
    const section = (ctx.config.disabled ??= {});
    if (reason === null) delete section[name];
    else section[name] = reason;
  };
  const infoOf = (name: string): DisabledInfo | undefined => {
    const d = ctx.hub.get(name)?.disabled;
    return d ? { reason: d.reason, since: new Date(d.since).toISOString() } : undefined;
  };

  app.get("/api/disabled", (c) => {
    const user = requestUser(c);
    const out: Record<string, DisabledInfo> = {};
    for (const name of ctx.hub.names()) {
      const info = infoOf(name);
      if (info && mayRead(user, name)) out[name] = info;
    }
    return c.json(out);
  });

  app.put("/api/disabled", async (c) => {
    // 400 without src=, 404 for an unknown stream, 403 for one the user may not read.
    const stream = streamOf(ctx, c.req.query("src"), requestUser(c));
    const reason = (c.req.query("reason") ?? "").trim();
    if (reason.length > MAX_REASON || hasControlCharacter(reason)) {
      throw new ApiError(
        400,
        `reason= must be at most ${MAX_REASON} characters without control characters (got ${reason.length}).`,
        "BadRequest",
      );
    }
    await writeBack(stream.name, reason);
    await stream.disable(reason);
    return c.json({ [stream.name]: infoOf(stream.name) });
  });

  app.delete("/api/disabled", async (c) => {
    const stream = streamOf(ctx, c.req.query("src"), requestUser(c));
    if (!stream.disabled) throw new ApiError(404, `Stream "${stream.name}" is not disabled.`, "NotFound");
    await writeBack(stream.name, null);
    stream.enable();
    return c.json({ enabled: stream.name });
  });
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
