/**
 * Recordings API (the record module registers it):
 *
 * ```
 * GET    /api/record                       [{stream, origin, state, path, segments, error}]
 * POST   /api/record?src=<stream>          start recording now (admin); 200 with the status
 * DELETE /api/record?src=<stream>          stop recording (admin); 404 when it was not recorded
 * GET    /api/recordings?src=<stream>      [{start: RFC 3339, duration: seconds, bytes}], oldest first
 * GET    /api/recordings.mp4?src=<stream>&start=<RFC 3339>&duration=<seconds>
 *                                          one progressive MP4 from the keyframe at or before start
 * ```
 *
 * Listing and playback work for streams that are no longer configured, as long as their folder
 * is there. A viewer account sees only the streams its `streams` patterns allow.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { StreamNotFoundError } from "../../lib/core/errors.ts";
import { CutRangeError } from "../../lib/record/cut.ts";
import { requestUser as userOf } from "../auth.ts";
import type { AppContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import type { RecordManager } from "../modules/record.ts";
import { safeFolderName } from "../modules/record.ts";
import { attachment, streamAllowed } from "./output_common.ts";

/**
 * Longest cut one request may ask for, in seconds. The cut's sample tables are built in memory
 * (about 50 bytes per sample: 3 h of 25 fps video with AAC is some 40 MB).
 */
export const MAX_CUT_SECONDS = 3 * 3600;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 time (`2026-12-03T17:00:00Z`, `2026-12-03T18:00:00.5+01:00`).
 *
 * @throws {ApiError} 400 naming the parameter and the expected form.
 * @example
 * ```ts
 * parseRfc3339("start", "2026-12-03T17:00:00Z"); // 1796317200000
 * ```
 */
export function parseRfc3339(name: string, text: string | undefined): number {
  if (!text) {
    throw new ApiError(400, `Missing query parameter ${name}=: give an RFC 3339 time, e.g. ${name}=2026-12-03T17:00:00Z.`, "BadRequest");
  }
  const ms = RFC3339.test(text) ? Date.parse(text.replace(" ", "T")) : NaN;
  if (Number.isNaN(ms)) {
    throw new ApiError(400, `Invalid ${name}="${text}": give an RFC 3339 time such as 2026-12-03T17:00:00Z (URL-encode "+" as %2B).`, "BadRequest");
  }
  return ms;
}

/** The `src=` of a recordings request: present, a possible folder name, and allowed for the user. */
function recordingSrc(c: Context): string {
  const src = c.req.query("src");
  if (!src) throw new ApiError(400, "Missing query parameter src=: name the stream, e.g. ?src=camera1.", "BadRequest");
  if (!safeFolderName(src)) throw new ApiError(400, `Invalid src="${src}": not a stream name.`, "BadRequest");
  const user = userOf(c);
  if (user && !streamAllowed(user.streams, src)) {
    throw new ApiError(403, `User "${user.name}" may not access stream "${src}".`, "Forbidden");
  }
  return src;
}

function requireAdmin(c: Context): void {
  const user = userOf(c);
  if (user && user.role !== "admin") {
    throw new ApiError(403, `User "${user.name}" has the viewer role and cannot ${c.req.method} ${c.req.path}.`, "Forbidden");
  }
}

/**
 * Registers the recordings routes.
 *
 * @example
 * ```ts
 * recordingsRoutes(app, ctx, manager);
 * ```
 */
export function recordingsRoutes(app: Hono, ctx: AppContext, manager: RecordManager): void {
  app.get("/api/record", (c) => {
    const user = userOf(c);
    return c.json(manager.list().filter((r) => !user || streamAllowed(user.streams, r.stream)));
  });

  app.post("/api/record", (c) => {
    requireAdmin(c);
    const src = recordingSrc(c);
    if (!ctx.hub.get(src)) throw new StreamNotFoundError(src);
    return c.json(manager.start(src));
  });

  app.delete("/api/record", async (c) => {
    requireAdmin(c);
    const src = recordingSrc(c);
    if (!(await manager.stop(src))) {
      throw new ApiError(404, `Stream "${src}" is not being recorded.`, "NotFound");
    }
    return c.json({ stream: src, stopped: true });
  });

  app.get("/api/recordings", async (c) => {
    const src = recordingSrc(c);
    return c.json(await manager.catalog.summaries(manager.dirOf(src)));
  });

  app.get("/api/recordings.mp4", async (c) => {
    const src = recordingSrc(c);
    const fromMs = parseRfc3339("start", c.req.query("start"));
    const d = c.req.query("duration");
    if (!d) throw new ApiError(400, "Missing query parameter duration=: give seconds, e.g. duration=60.", "BadRequest");
    const seconds = /^\d+(\.\d+)?$/.test(d) ? Number(d) : NaN;
    if (!(seconds > 0) || seconds > MAX_CUT_SECONDS) {
      throw new ApiError(400, `Invalid duration="${d}": give seconds greater than 0 and at most ${MAX_CUT_SECONDS}.`, "BadRequest");
    }
    let cut;
    try {
      cut = await manager.catalog.cut(manager.dirOf(src), fromMs, fromMs + seconds * 1000);
    } catch (error) {
      if (error instanceof CutRangeError) throw new ApiError(404, `${error.message} of stream "${src}".`, "NotFound");
      throw error;
    }
    const name = `${src}_${new Date(cut.startMs).toISOString().replace(/[:]/g, "-")}.mp4`;
    const headers: Record<string, string> = {
      "Content-Type": "video/mp4",
      "Content-Length": String(cut.size),
      "Content-Disposition": c.req.query("download") !== undefined ? attachment(name) : `inline; filename="${name}"`,
      "Cache-Control": "no-store",
      "X-Recording-Start": new Date(cut.startMs).toISOString(),
    };
    if (cut.truncated) headers["X-Recording-Truncated"] = "codec parameters changed; the cut ends there";
    return new Response(c.req.method === "HEAD" ? null : cut.body(), { status: 200, headers });
  });
}
