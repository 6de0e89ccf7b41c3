/**
 * The contract of a server module: a feature (RTSP server, WebRTC, HLS, recording...) that reads its
 * config section, registers schemes and routes, and starts listeners.
 *
 * @module
 */
import type { Hono } from "hono";
import type { AppContext } from "../context.ts";
import type { WsHandlers } from "../routes/ws.ts";

/** What a module gets at start: the app context plus the `/api/ws` message handlers to extend. */
export interface ModuleContext extends AppContext {
  /** `/api/ws` handlers by message type (`mse`, `webrtc/offer`, ...). */
  wsHandlers: WsHandlers;
}

/** What a started module hands back so the server can stop it. */
export interface ModuleHandle {
  /** Stops listeners and sessions. Called once, in reverse start order. */
  close(): Promise<void>;
  /** Re-reads the TLS certificate and serves it to new connections (SIGHUP). */
  reloadTls?(): Promise<void>;
  /**
   * Called once the HTTP API listens, with the addresses it is bound to (the real port when
   * `api.listen` asked for 0), for modules that announce the API's address.
   */
  apiListening?(api: ApiAddresses): Promise<void>;
}

/** Where the HTTP API listens; a side is absent when it is off. */
export interface ApiAddresses {
  http?: { hostname: string; port: number };
  https?: { hostname: string; port: number };
}

/**
 * A server module.
 *
 * @example
 * ```ts
 * export const rtspModule: Module = {
 *   name: "rtsp",
 *   async init(ctx, app) {
 *     if (!ctx.config.rtsp.listen) return;
 *     const server = await startRtspServer(ctx.hub, ctx.config.rtsp);
 *     return { close: () => server.close() };
 *   },
 * };
 * ```
 */
export interface Module {
  /** Name used in logs and in `app.modules` (start only the listed modules). */
  readonly name: string;
  /** Reads config, registers routes on `app`, starts listeners. Returns a handle when there is something to stop. */
  init(ctx: ModuleContext, app: Hono): Promise<ModuleHandle | void>;
}
