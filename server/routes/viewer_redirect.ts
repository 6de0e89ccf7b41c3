/**
 * `cluster.load_balancer` for HTTP viewers: a new viewer of a live stream over plain HTTP (MP4,
 * HLS, MPEG-TS, FLV, MJPEG, AAC, a JPEG or MP4 frame) may be sent to another node of the cluster with
 * `307 Temporary Redirect`, its query kept and `cluster_hop=1` added so that node serves it. So is a
 * WHEP offer (`POST /api/webrtc?src=`): WHEP clients follow a 307 with the same body (the WHEP
 * specification asks them to, for load balancing), and the session's `Location` is then on that
 * node. WebSocket and HLS session requests are never redirected (their state lives on the node);
 * WebRTC over `/api/ws` is balanced by the signalling itself (routes/webrtc_remote.ts).
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { mayRead, requestUser } from "../auth.ts";
import type { AppContext } from "../context.ts";

/** The viewer paths that may be redirected (relative to `api.base_path`). */
const VIEWER_PATHS = new Set([
  "/api/stream.mp4",
  "/api/stream.m3u8",
  "/api/stream.ts",
  "/api/stream.flv",
  "/api/stream.mjpeg",
  "/api/stream.aac",
  "/api/frame.jpeg",
  "/api/frame.mp4",
]);

/**
 * The middleware; it asks `ctx.viewerRedirect` (set by the cluster module) on each viewer request.
 * Runs after auth: a client that may not watch the stream is left to the route's 401/403.
 *
 * @example
 * ```ts
 * app.use("*", viewerRedirectMiddleware(ctx, basePath));
 * // GET /api/stream.mp4?src=cam -> 307 Location: http://10.0.0.3:1984/api/stream.mp4?src=cam&cluster_hop=1
 * // POST /api/webrtc?src=cam (WHEP) -> 307 Location: http://10.0.0.3:1984/api/webrtc?src=cam&cluster_hop=1
 * ```
 */
export function viewerRedirectMiddleware(ctx: AppContext, basePath: string): MiddlewareHandler {
  return async (c, next) => {
    const redirect = ctx.viewerRedirect?.http;
    if (!redirect) return await next();
    const path = basePath && c.req.path.startsWith(basePath) ? c.req.path.slice(basePath.length) : c.req.path;
    const read = (c.req.method === "GET" || c.req.method === "HEAD") && VIEWER_PATHS.has(path);
    const whep = c.req.method === "POST" && path === "/api/webrtc";
    if (!read && !whep) return await next();
    const url = new URL(c.req.url);
    const src = url.searchParams.get("src");
    if (!src || url.searchParams.has("cluster_hop") || !ctx.hub.get(src) || !mayRead(requestUser(c), src)) return await next();
    const base = redirect(src, ctx.remoteAddress?.(c));
    if (!base) return await next();
    url.searchParams.set("cluster_hop", "1");
    c.header("Cache-Control", "no-store");
    return c.redirect(`${base.replace(/\/+$/, "")}${c.req.path}?${url.searchParams}`, 307);
  };
}
