/**
 * go2rtc's `GET /api/ffmpeg/hardware` and `GET /api/ffmpeg/devices`: the hardware encoders that work
 * here and the capture devices ffmpeg can read, as sources for the *Add* page
 * (`{sources: [{name, url, info}]}`). Each runs the configured ffmpeg (with fixed arguments, once per
 * binary; later requests get the kept answer), so, as everything else that starts a program on a
 * request, they answer 403 unless the config file sets `api.allow_exec_sources: true`. Admins only
 * (server/auth.ts).
 *
 * @module
 */
import type { Hono } from "hono";
import type { AppContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { deviceCatalog, hardwareProber } from "../ffmpeg_probes.ts";
import { ALLOW_EXEC_KEY } from "../source_policy.ts";
import { ffmpegBin } from "../sources.ts";

function assertAllowed(ctx: AppContext, what: string): void {
  if (ctx.config.api?.allow_exec_sources === true) return;
  throw new ApiError(
    403,
    `GET ${what} runs ffmpeg on the server to find out, and programs only start on an API request ` +
      `when the config file allows it: set "${ALLOW_EXEC_KEY}: true" there (under api:) and restart.`,
    "Forbidden",
  );
}

/**
 * Registers `GET /api/ffmpeg/hardware` and `GET /api/ffmpeg/devices`.
 *
 * @example
 * ```ts
 * ffmpegRoutes(app, ctx); // GET /api/ffmpeg/hardware -> {sources: [{name: "OK", url: "ffmpeg:...#video=h264#hardware=vaapi"}, ...]}
 * ```
 */
export function ffmpegRoutes(app: Hono, ctx: AppContext): void {
  app.get("/api/ffmpeg/hardware", async (c) => {
    assertAllowed(ctx, "/api/ffmpeg/hardware");
    const results = await hardwareProber(ffmpegBin(), ctx.log.child({ module: "ffmpeg" })).probeAll();
    return c.json({
      sources: results.map((r) => ({
        name: r.ok ? "OK" : "ERROR",
        url: `ffmpeg:...#video=${r.codec}#hardware=${r.engine}`,
        info: r.ok ? r.encoder : `${r.encoder}: ${r.reason}`,
      })),
    });
  });
  app.get("/api/ffmpeg/devices", async (c) => {
    assertAllowed(ctx, "/api/ffmpeg/devices");
    const { sources } = await deviceCatalog(ffmpegBin());
    return c.json({ sources });
  });
}
