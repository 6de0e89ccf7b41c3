/**
 * The `limits:` section on the HTTP API: connection limits (a request counts from its headers
 * until its response body ends, so a streaming viewer counts while it watches), the per-stream
 * viewer limit for output routes, and the request body size limit.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { StreamHub } from "../../lib/core/hub.ts";
import type { ConnectionLimits } from "./connection_limits.ts";

/** Options of {@link httpLimitsMiddleware}. */
export interface HttpLimitsOptions {
  limits: ConnectionLimits;
  hub: StreamHub;
  /** `limits.max_body_size` in bytes; 0 = unlimited. */
  maxBodySize: number;
  /** The peer IP of a request. */
  remoteAddress?: (c: Context) => string | undefined;
  /** `api.base_path`, stripped before matching route paths. */
  basePath?: string;
}

// Routes that attach a viewer to `?src=`: every media output, snapshots, WebRTC offers, /api/ws.
const VIEWER_ROUTE = /^\/api\/(stream\.|frame\.|webrtc|whep|ws$)/;
// Media pushed in (POST /api/stream, /api/stream.ts...): a long body by design.
const INGEST_ROUTE = /^\/api\/stream(\.[a-z0-9]+)?$/;

/**
 * The HTTP limits middleware.
 *
 * @example
 * ```ts
 * app.use("*", httpLimitsMiddleware({ limits, hub, maxBodySize: 1_000_000, remoteAddress }));
 * ```
 */
export function httpLimitsMiddleware(o: HttpLimitsOptions): MiddlewareHandler {
  const basePath = o.basePath ?? "";
  return async (c, next) => {
    const fullPath = c.req.path;
    const path = basePath && fullPath.startsWith(basePath) ? fullPath.slice(basePath.length) || "/" : fullPath;
    const ticket = o.limits.admit("http", o.remoteAddress?.(c) ?? "unknown");
    if ("limit" in ticket) {
      const status = ticket.limit === "max_connections_per_ip" ? 429 : 503;
      return c.json({ error: status === 429 ? "TooManyRequests" : "ServiceUnavailable", limit: ticket.limit, message: ticket.message }, status, {
        "Retry-After": "5",
      });
    }
    let released = false;
    const release = () => {
      if (!released) ticket.release();
      released = true;
    };
    // A WebSocket counts from its open to its close (routes/ws.ts), not as this request; on Bun it
    // opens before the upgrade request's handler returns.
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") release();
    try {
      const src = c.req.query("src");
      if (src && VIEWER_ROUTE.test(path)) {
        const stream = o.hub.get(src);
        const refused = stream ? o.limits.admitViewer("http", src, stream.consumers().length) : undefined;
        if (refused) {
          return c.json({ error: "ServiceUnavailable", limit: refused.limit, message: refused.message }, 503, {
            "Retry-After": "5",
          });
        }
      }
      if (o.maxBodySize > 0 && hasBody(c.req.method) && !INGEST_ROUTE.test(path)) {
        const tooLarge = await checkBody(c, o.maxBodySize);
        if (tooLarge) {
          o.limits.count("http", "max_body_size");
          return tooLarge;
        }
      }
      await next();
    } catch (error) {
      release();
      throw error;
    }
    const res = c.res;
    if (!res.body || released) {
      release();
      return;
    }
    // Streaming responses keep counting until their body ends or the client goes away.
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            release();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (error) {
          release();
          controller.error(error);
        }
      },
      cancel(reason) {
        release();
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
    const headers = new Headers(res.headers);
    c.res = undefined as unknown as Response;
    c.res = new Response(body, { status: res.status, statusText: res.statusText, headers });
  };
}

function hasBody(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH";
}

// 413 when Content-Length says too much; a body without a length is read up to the limit and
// handed on as the same bytes.
async function checkBody(c: Context, max: number): Promise<Response | undefined> {
  const tooLarge = (size: string) =>
    c.json({
      error: "PayloadTooLarge",
      limit: "max_body_size",
      message: `The request body is ${size}, more than the ${max} bytes allowed (limits.max_body_size).`,
    }, 413);
  const length = c.req.header("content-length");
  if (length !== undefined) {
    const n = Number(length);
    return Number.isFinite(n) && n > max ? tooLarge(`${n} bytes`) : undefined;
  }
  const raw = c.req.raw;
  if (!raw.body) return undefined;
  const reader = raw.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      return tooLarge(`over ${max} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  c.req.raw = new Request(raw, { body: bytes }) as typeof raw;
  return undefined;
}
