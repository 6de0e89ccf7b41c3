/**
 * The web UI: `/` serves `index.html`, `/<file>` the other pages, scripts and styles, from the
 * files embedded in `server/web/assets.ts` or, when `api.static_dir` is set, from that folder.
 * Unknown names fall through to later routes (modules may add pages such as `/metrics`).
 *
 * @module
 */
import type { Context, Hono, Next } from "hono";
import { fileExists, readFile } from "../../lib/runtime/fs.ts";
import type { AppContext } from "../context.ts";
import { WEB_ASSETS } from "../web/assets.ts";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  json: "application/json",
  png: "image/png",
  jpg: "image/jpeg",
  ico: "image/x-icon",
  webmanifest: "application/manifest+json",
  txt: "text/plain; charset=utf-8",
};

/** A safe relative file name: no `..`, no absolute path, no backslashes or NUL. */
function safeName(path: string): string | undefined {
  let name: string;
  try {
    name = decodeURIComponent(path.replace(/^\/+/, ""));
  } catch {
    return undefined;
  }
  if (!name) return "index.html";
  if (name.includes("\0") || name.includes("\\") || name.split("/").some((p) => p === ".." || p === "." || p === "")) {
    return undefined;
  }
  return name;
}

/**
 * Registers the web UI routes.
 *
 * @example
 * ```ts
 * webRoutes(app, ctx); // GET / -> index.html, GET /stream.html?src=camera1
 * ```
 */
export function webRoutes(app: Hono, ctx: AppContext): void {
  const staticDir = (ctx.config.api?.static_dir ?? "").replace(/\/+$/, "");
  const serve = async (c: Context, next: Next) => {
    const rel = c.req.param("file") ?? "";
    const name = safeName(rel);
    const ext = name?.split(".").pop()?.toLowerCase() ?? "";
    const type = TYPES[ext];
    if (!name || !type || name.startsWith("api/")) return await next();
    if (staticDir) {
      const path = `${staticDir}/${name}`;
      if (await fileExists(path)) {
        return new Response(await readFile(path) as Uint8Array<ArrayBuffer>, {
          headers: { "Content-Type": type, "Cache-Control": "no-cache" },
        });
      }
    }
    const asset = WEB_ASSETS[name];
    // Browsers ask for a favicon on every page; answer "none" instead of a logged 404.
    if (!asset && name === "favicon.ico") return c.body(null, 204);
    if (!asset) return await next();
    return c.body(asset.body, 200, { "Content-Type": asset.type, "Cache-Control": "no-cache" });
  };
  app.get("/", serve);
  app.get("/:file{.+\\.[A-Za-z0-9]+}", serve);
}
