/**
 * go2rtc's `POST /api/restart` and `POST /api/exit?code=N`. Restart first loads the config files
 * again and answers 400 naming the file, line and key when they would not start (the server runs
 * on); otherwise it stops the server as SIGTERM
 * does (viewers are closed, recordings finish their segment) and starts it again from the config
 * files, so everything a saved config changed takes effect (go2rtc's config page saves with
 * `POST /api/config`, then restarts). Exit stops it and ends the process with `code` (default 0),
 * for a supervisor that restarts it. Both answer before stopping. Admins only: viewers may not
 * `POST` to management paths (server/auth.ts).
 *
 * @module
 */
import type { Hono } from "hono";
import type { AppContext, StopRequest } from "../context.ts";
import { ApiError } from "../errors.ts";

/** Highest exit code accepted: what a process can report (codes above 125 mean signals to shells). */
const MAX_EXIT_CODE = 125;

/**
 * Registers `POST /api/restart` and `POST /api/exit`.
 *
 * @example
 * ```ts
 * restartRoutes(app, ctx); // then: curl -X POST http://127.0.0.1:1984/api/restart
 * ```
 */
export function restartRoutes(app: Hono, ctx: AppContext): void {
  const stop = (request: StopRequest) => {
    if (!ctx.requestStop) {
      throw new ApiError(
        501,
        "This server cannot restart or exit by itself: it was not started by strom serve (startServer).",
        "NotImplemented",
      );
    }
    ctx.requestStop(request);
  };

  app.post("/api/restart", async (c) => {
    // A config file edited by hand that no longer loads would end the process at the restart,
    // with the web UI that could fix it: refuse, naming what is wrong, and keep running.
    await ctx.checkRestart?.();
    stop({ restart: true, code: 0 });
    return c.json({ restarting: true });
  });

  app.post("/api/exit", (c) => {
    const text = c.req.query("code") ?? "0";
    const code = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
    if (!(code <= MAX_EXIT_CODE)) {
      throw new ApiError(
        400,
        `code=${text} is not an exit code: give a whole number from 0 to ${MAX_EXIT_CODE}.`,
        "BadRequest",
      );
    }
    stop({ restart: false, code });
    return c.json({ exiting: true, code });
  });
}
