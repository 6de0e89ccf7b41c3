// Helpers for the ops tests: raw TCP clients, a WebSocket client on every runtime, a strom server.
import * as net from "node:net";
import { silentLogger } from "../../lib/core/log.ts";
import { type RunningServer, startServer } from "../../server/server.ts";

/** A WebSocket client on every runtime (Node 20 has no global WebSocket; the `ws` package is there). */
export async function openWebSocket(url: string): Promise<WebSocket> {
  const Ctor: typeof WebSocket = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket ??
    // @ts-ignore: the ws package ships no types; its client has the same event API.
    (await import("ws")).WebSocket;
  const ws = new Ctor(url);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("WebSocket did not open within 3 s")), 3000);
    ws.onopen = () => (clearTimeout(timer), resolve());
    ws.onerror = () => (clearTimeout(timer), reject(new Error("WebSocket failed to open")));
  });
  return ws;
}

/** Resolves with the close code and reason of `ws` (within `ms`). */
export function closeOf(ws: WebSocket, ms = 5000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`WebSocket not closed within ${ms} ms`)), ms);
    ws.onclose = (e) => (clearTimeout(timer), resolve({ code: e.code, reason: e.reason }));
  });
}

/** Starts a server on loopback ports from a config object. */
export function startTestServer(config: Record<string, unknown>): Promise<RunningServer> {
  return startServer({
    configSources: [JSON.stringify({ api: { listen: "127.0.0.1:0" }, rtsp: { listen: "" }, ...config })],
    log: silentLogger,
    handleSignals: false,
  });
}

/** A raw TCP client that records what it receives and when it was closed. */
export interface RawClient {
  socket: net.Socket;
  /** Everything received, as text. */
  text(): string;
  /** Resolves when the server closed (or reset) the connection. */
  closed: Promise<void>;
  isClosed(): boolean;
}

/** Connects to 127.0.0.1:`port` and sends `first` (if any). */
export function rawConnect(port: number, first?: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let received = "";
    let closed = false;
    const closedPromise = new Promise<void>((done) => socket.once("close", () => (closed = true, done())));
    socket.on("data", (d) => (received += d.toString("latin1")));
    socket.on("error", () => {});
    socket.once("connect", () => {
      if (first) socket.write(first);
      resolve({ socket, text: () => received, closed: closedPromise, isClosed: () => closed });
    });
    socket.once("error", reject);
  });
}

/** Waits until `check()` is true, polling every 50 ms, at most `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}
