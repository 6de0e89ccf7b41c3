/**
 * `GET /api/ws`: the WebSocket endpoint players use for MSE, WebRTC signalling, HLS and MJPEG
 * (`{"type": "...", "value": ...}` messages, as go2rtc). Only the message loop exists so far: every
 * message type answers `{"type":"error","value":"..."}` until the output modules register handlers.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { WSContext } from "hono/ws";
import { type RequestUser, requestUser } from "../auth.ts";
import type { AppContext } from "../context.ts";
import { maskSecrets } from "../errors.ts";

/** A `/api/ws` message from the player. */
export interface WsMessage {
  type: string;
  value?: unknown;
}

/**
 * Handles one message type on a connection. `send` writes a JSON message back.
 *
 * @example
 * ```ts
 * wsHandlers.set("ping", (_msg, conn) => conn.send({ type: "pong" }));
 * ```
 */
export type WsHandler = (message: WsMessage, conn: WsConnection) => void | Promise<void>;

/** One `/api/ws` connection as handlers see it. */
export interface WsConnection {
  /** The request's query (`src=`, `dst=`, `media=`...). */
  readonly query: URLSearchParams;
  send(message: WsMessage): void;
  sendBinary(data: Uint8Array<ArrayBuffer>): void;
  /** Bytes queued on the socket and not sent yet (0 when the runtime does not tell). */
  bufferedAmount(): number;
  /** The authenticated user, when auth is on (for per-stream access). */
  readonly user?: RequestUser;
  readonly remoteAddr?: string;
  readonly userAgent?: string;
  /** Called when the socket closes (handlers release consumers here). */
  onClose(fn: () => void): void;
  close(code?: number, reason?: string): void;
}

/** Message handlers by type; output modules register theirs here (e.g. `mse`, `webrtc/offer`). */
export type WsHandlers = Map<string, WsHandler>;

/**
 * Registers `GET /api/ws`, dispatching messages to `handlers`.
 *
 * @example
 * ```ts
 * wsRoutes(app, ctx, new Map([["ping", (_m, conn) => conn.send({ type: "pong" })]]));
 * ```
 */
export function wsRoutes(app: Hono, ctx: AppContext, handlers: WsHandlers = new Map()): void {
  const upgrade = ctx.upgradeWebSocket;
  if (!upgrade) {
    app.get("/api/ws", (c) =>
      c.json({ error: "UpgradeRequired", message: "WebSockets are not available on this server." }, 426));
    return;
  }
  const log = ctx.log.child({ module: "ws" });
  const maxMessage = ctx.config.limits?.max_ws_message ?? 0;
  app.get(
    "/api/ws",
    upgrade((c: Context) => {
      const query = new URL(c.req.url).searchParams;
      const closers: (() => void)[] = [];
      let socket: WSContext | undefined;
      const conn: WsConnection = {
        query,
        send: (message) => socket?.send(JSON.stringify(message)),
        sendBinary: (data) => socket?.send(data),
        bufferedAmount: () => socketBufferedAmount(socket),
        user: requestUser(c),
        remoteAddr: ctx.remoteAddress?.(c),
        userAgent: c.req.header("user-agent"),
        onClose: (fn) => void closers.push(fn),
        close: (code, reason) => socket?.close(code, reason),
      };
      return {
        onOpen(_evt: Event, ws: WSContext) {
          socket = ws;
          // An open WebSocket counts as a connection (limits:) until it closes.
          const ticket = ctx.limits?.admit("ws", conn.remoteAddr ?? "unknown");
          if (ticket && "limit" in ticket) {
            ws.close(1013, ticket.message.slice(0, 120));
            return;
          }
          if (ticket) closers.push(() => ticket.release());
        },
        onMessage(evt: MessageEvent, ws: WSContext) {
          socket = ws;
          const size = typeof evt.data === "string" ? evt.data.length : (evt.data as { byteLength?: number; size?: number })?.byteLength ?? (evt.data as { size?: number })?.size ?? 0;
          if (maxMessage > 0 && size > maxMessage) {
            ctx.limits?.count("ws", "max_ws_message");
            log.warn("ws message too large; closing", { bytes: size, limit: maxMessage, remote: conn.remoteAddr });
            ws.close(1009, `message of ${size} bytes is over limits.max_ws_message (${maxMessage})`.slice(0, 120));
            return;
          }
          if (typeof evt.data !== "string") {
            conn.send({ type: "error", value: "binary messages are not expected on /api/ws" });
            return;
          }
          let message: WsMessage;
          try {
            message = JSON.parse(evt.data);
            if (typeof message !== "object" || message === null || typeof message.type !== "string") {
              throw new SyntaxError('expected an object with a "type" string');
            }
          } catch (error) {
            conn.send({ type: "error", value: `Cannot parse message: ${(error as Error).message}` });
            return;
          }
          const handler = handlers.get(message.type);
          if (!handler) {
            conn.send({ type: "error", value: `unknown message type "${message.type}"` });
            return;
          }
          Promise.resolve()
            .then(() => handler(message, conn))
            .catch((error) => {
              log.warn("ws handler failed", { type: message.type, error });
              conn.send({ type: "error", value: maskSecrets((error as Error)?.message ?? String(error)) });
            });
        },
        onClose() {
          for (const fn of closers.splice(0)) {
            try {
              fn();
            } catch (error) {
              log.warn("ws close handler failed", { error });
            }
          }
        },
      };
    }),
  );
}

/** The unsent bytes of a runtime's socket: `ws` (Node) and Deno have `bufferedAmount`, Bun `getBufferedAmount()`. */
function socketBufferedAmount(socket: WSContext | undefined): number {
  const raw = socket?.raw as { bufferedAmount?: number; getBufferedAmount?: () => number } | undefined;
  if (!raw) return 0;
  if (typeof raw.bufferedAmount === "number") return raw.bufferedAmount;
  if (typeof raw.getBufferedAmount === "function") return raw.getBufferedAmount();
  return 0;
}
