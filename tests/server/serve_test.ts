// The real server on the current runtime: HTTP over a socket, the WebSocket upgrade, clean shutdown.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { runtimeName } from "../../lib/runtime/env.ts";
import type { Module } from "../../server/modules/mod.ts";
import { type RunningServer, startServer } from "../../server/server.ts";

/** A WebSocket client on every runtime (Node 20 has no global WebSocket; the `ws` package is there). */
async function openWebSocket(url: string): Promise<WebSocket> {
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

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no WebSocket message within 3 s")), 3000);
    ws.onmessage = (e) => (clearTimeout(timer), resolve(String(e.data)));
  });
}

describe(`strom server on ${runtimeName()}`, () => {
  let server: RunningServer;
  let moduleCloses = 0;
  // A module as features will add them: a route, a /api/ws message type, a close hook.
  const pingModule: Module = {
    name: "ping",
    init(ctx, app) {
      ctx.wsHandlers.set("ping", (message, conn) => conn.send({ type: "pong", value: message.value }));
      app.get("/api/ping", (c) => c.text("pong"));
      return Promise.resolve({ close: () => Promise.resolve(void moduleCloses++) });
    },
  };
  beforeAll(async () => {
    server = await startServer({
      configSources: ['{streams: {demo: "demo:"}}'],
      listen: "127.0.0.1:0",
      log: silentLogger,
      handleSignals: false,
      modules: [pingModule],
    });
  });
  afterAll(async () => {
    await server?.close();
    expect(moduleCloses).toBe(1);
  });

  it("binds port 0 to a real port and reports its URL", () => {
    expect(server.httpAddr?.port).toBeGreaterThan(0);
    expect(server.urls).toEqual([`http://127.0.0.1:${server.httpAddr!.port}`]);
  });

  it("answers GET /api/health over HTTP", async () => {
    const res = await fetch(`${server.urls[0]}/api/health`, { signal: AbortSignal.timeout(3000) });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.status).toBe("ok");
    expect(body.streams).toBe(1);
  });

  it("lists the configured stream", async () => {
    const res = await fetch(`${server.urls[0]}/api/streams`, { signal: AbortSignal.timeout(3000) });
    expect(Object.keys(await res.json())).toEqual(["demo"]);
  });

  it("upgrades /api/ws and answers unknown message types with an error", async () => {
    const ws = await openWebSocket(`${server.urls[0].replace("http", "ws")}/api/ws?src=demo`);
    try {
      let reply = nextMessage(ws);
      ws.send(JSON.stringify({ type: "no-such-type" }));
      expect(JSON.parse(await reply)).toEqual({ type: "error", value: 'unknown message type "no-such-type"' });
      reply = nextMessage(ws);
      ws.send("{oops");
      const parsed = JSON.parse(await reply);
      expect(parsed.type).toBe("error");
      expect(parsed.value).toContain("Cannot parse message");
    } finally {
      ws.close();
    }
  });

  it("serves module routes and /api/ws message handlers", async () => {
    const res = await fetch(`${server.urls[0]}/api/ping`, { signal: AbortSignal.timeout(3000) });
    expect(await res.text()).toBe("pong");
    const ws = await openWebSocket(`${server.urls[0].replace("http", "ws")}/api/ws`);
    try {
      const reply = nextMessage(ws);
      ws.send(JSON.stringify({ type: "ping", value: 7 }));
      expect(JSON.parse(await reply)).toEqual({ type: "pong", value: 7 });
    } finally {
      ws.close();
    }
  });

  it("closes while a WebSocket is open, exactly once", async () => {
    const other = await startServer({
      configSources: ['{"rtsp": {"listen": "127.0.0.1:0"}}'],
      listen: "127.0.0.1:0",
      log: silentLogger,
      handleSignals: false,
    });
    const ws = await openWebSocket(`${other.urls[0].replace("http", "ws")}/api/ws`);
    const closedByServer = new Promise<void>((resolve) => (ws.onclose = () => resolve()));
    const started = Date.now();
    await Promise.all([other.close(), other.close()]);
    await other.closed;
    expect(Date.now() - started).toBeLessThan(3000);
    await Promise.race([closedByServer, new Promise((r) => setTimeout(r, 2000))]);
    const refused = await fetch(`${other.urls[0]}/api/health`, { signal: AbortSignal.timeout(2000) }).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  });
});
