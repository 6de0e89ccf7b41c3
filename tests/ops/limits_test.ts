// limits: connections overall, per IP and per stream over HTTP, WebSocket, RTSP and RTMP; header
// timeouts for half-open clients and idle timeouts for keep-alive ones; request body and WebSocket
// message sizes; refusals in /metrics.
import { afterAll, describe, expect, it } from "bun:test";
import type { RunningServer } from "../../server/server.ts";
import { freePort } from "../_support/net.ts";
import { hasTool, run } from "../_support/process.ts";
import { closeOf, openWebSocket, rawConnect, type RawClient, startTestServer, waitFor } from "./_support.ts";

const HALF_OPEN = 300;
const hasFfmpeg = await hasTool("ffmpeg");
// 1 s timeout plus checking intervals and slack for 300 sockets on a busy machine.
const CLOSE_BOUND_MS = 4_000;

describe("limits: connection counts", () => {
  const servers: RunningServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it("HTTP and WebSocket: a third connection from one IP gets 429 naming limits.max_connections_per_ip", async () => {
    const server = await startTestServer({ limits: { max_connections_per_ip: 2 }, metrics: { enabled: true } });
    servers.push(server);
    const base = server.urls[0];
    const ws1 = await openWebSocket(`${base.replace("http", "ws")}/api/ws`);
    const ws2 = await openWebSocket(`${base.replace("http", "ws")}/api/ws`);
    // The server may see the second socket open a moment after the client does.
    let refused = await fetch(`${base}/api/streams`);
    for (let i = 0; i < 40 && refused.status !== 429; i++) {
      await refused.body?.cancel();
      await new Promise((r) => setTimeout(r, 50));
      refused = await fetch(`${base}/api/streams`);
    }
    expect(refused.status).toBe(429);
    const body = await refused.json();
    expect(body.limit).toBe("max_connections_per_ip");
    expect(body.message).toContain("limits.max_connections_per_ip: 2");
    // The probes still answer: an orchestrator must see the server alive while it is full.
    expect((await fetch(`${base}/api/health/live`)).status).toBe(200);
    const closed = closeOf(ws1);
    ws1.close();
    await closed;
    await waitFor(async () => (await fetch(`${base}/api/streams`)).status === 200, 3000, "a slot freed");
    ws2.close();
    await waitFor(async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return /strom_limit_refusals_total\{protocol="http",limit="max_connections_per_ip"\} [1-9]/.test(text);
    }, 3000, "refusal counted in /metrics");
  });

  it("RTSP: over limits.max_connections the client gets 503 with its CSeq and the reason", async () => {
    const rtspPort = await freePort();
    const server = await startTestServer({
      rtsp: { listen: `127.0.0.1:${rtspPort}` },
      limits: { max_connections: 1 },
      streams: { cam: "demo:" },
    });
    servers.push(server);
    const first = await rawConnect(rtspPort, "OPTIONS rtsp://127.0.0.1/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n");
    await waitFor(() => first.text().includes("RTSP/1.0 200"), 3000, "first client answered");
    const second = await rawConnect(rtspPort, "OPTIONS rtsp://127.0.0.1/cam RTSP/1.0\r\nCSeq: 7\r\n\r\n");
    await waitFor(() => second.isClosed(), 3000, "second client closed");
    expect(second.text().slice(0, 12)).toBe("RTSP/1.0 503");
    expect(second.text()).toContain("CSeq: 7");
    expect(second.text()).toContain("limits.max_connections: 1");
    first.socket.destroy();
    await first.closed;
    // The slot is free again once the server saw the close (a moment after the client).
    let answer = "";
    await waitFor(async () => {
      const third = await rawConnect(rtspPort, "OPTIONS rtsp://127.0.0.1/cam RTSP/1.0\r\nCSeq: 2\r\n\r\n");
      await Promise.race([third.closed, new Promise((r) => setTimeout(r, 500))]);
      answer = third.text();
      third.socket.destroy();
      return answer.startsWith("RTSP/1.0 200");
    }, 4000, `a new client answered (last answer: ${answer.slice(0, 40)})`);
  });

  it("per stream: HTTP 503 and RTSP 453 once the stream has max_connections_per_stream viewers", async () => {
    const rtspPort = await freePort();
    const server = await startTestServer({
      rtsp: { listen: `127.0.0.1:${rtspPort}` },
      limits: { max_connections_per_stream: 1 },
      streams: { cam: "demo:" },
      // The preload consumer is the one viewer allowed.
      preload: { cam: "video" },
    });
    servers.push(server);
    await waitFor(() => (server.hub.get("cam")?.consumers().length ?? 0) === 1, 5000, "preload attached");
    const http = await fetch(`${server.urls[0]}/api/stream.mp4?src=cam`);
    expect(http.status).toBe(503);
    const body = await http.json();
    expect(body.limit).toBe("max_connections_per_stream");
    expect(body.message).toContain('Stream "cam" has 1 viewers');
    const rtsp = await rawConnect(
      rtspPort,
      `DESCRIBE rtsp://127.0.0.1:${rtspPort}/cam RTSP/1.0\r\nCSeq: 3\r\nAccept: application/sdp\r\n\r\n`,
    );
    await waitFor(() => rtsp.text().includes("\r\n\r\n"), 3000, "DESCRIBE answered");
    expect(rtsp.text().slice(0, 12)).toBe("RTSP/1.0 453");
    expect(rtsp.text()).toContain("limits.max_connections_per_stream: 1");
    rtsp.socket.destroy();
    expect(server.hub.get("cam")!.consumers().length).toBe(1);
  });

  it.skipIf(!hasFfmpeg)("per stream: an RTMP player (ffmpeg) of a full stream is refused", async () => {
    const rtmpPort = await freePort();
    const server = await startTestServer({
      rtmp: { listen: `127.0.0.1:${rtmpPort}` },
      limits: { max_connections_per_stream: 1 },
      streams: { cam: "demo:" },
      preload: { cam: "video" },
      metrics: { enabled: true },
    });
    servers.push(server);
    await waitFor(() => (server.hub.get("cam")?.consumers().length ?? 0) === 1, 5000, "preload attached");
    const player = await run("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-i", `rtmp://127.0.0.1:${rtmpPort}/cam`, "-t", "1", "-f", "null", "-"], 15_000);
    expect(player.code).not.toBe(0);
    expect(server.hub.get("cam")!.consumers().length).toBe(1);
    const metrics = await (await fetch(`${server.urls[0]}/metrics`)).text();
    expect(metrics).toContain('strom_limit_refusals_total{protocol="rtmp",limit="max_connections_per_stream"} 1');
  }, 30_000);
});

describe("limits: half-open clients are closed within limits.connection_timeout", () => {
  const servers: RunningServer[] = [];
  const clients: RawClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.socket.destroy();
    for (const s of servers) await s.close();
  });

  async function halfOpen(port: number, partial: string): Promise<number> {
    const started = Date.now();
    const batch: RawClient[] = [];
    for (let i = 0; i < HALF_OPEN; i++) batch.push(await rawConnect(port, partial));
    clients.push(...batch);
    await waitFor(() => batch.every((c) => c.isClosed()), CLOSE_BOUND_MS, `${HALF_OPEN} half-open clients closed`);
    return Date.now() - started;
  }

  it(`HTTP: ${HALF_OPEN} clients that send half a request`, async () => {
    const server = await startTestServer({ limits: { connection_timeout: "1s" } });
    servers.push(server);
    const port = Number(new URL(server.urls[0]).port);
    await halfOpen(port, "GET /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ");
    // Whole requests still work.
    expect((await fetch(`${server.urls[0]}/api/health`)).status).toBe(200);
  }, 30_000);

  it("HTTP: a keep-alive client that sends no second request is closed after limits.idle_timeout", async () => {
    const server = await startTestServer({ limits: { idle_timeout: "1s" } });
    servers.push(server);
    const port = Number(new URL(server.urls[0]).port);
    const idle = await rawConnect(port, "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    clients.push(idle);
    await waitFor(() => idle.text().startsWith("HTTP/1.1 200"), 3000, "the first request answered");
    const answered = Date.now();
    await waitFor(() => idle.isClosed(), CLOSE_BOUND_MS, "idle keep-alive connection closed");
    // Kept open for the timeout, not closed after the answer.
    expect(Date.now() - answered).toBeGreaterThanOrEqual(800);
  }, 30_000);

  it(`RTSP: ${HALF_OPEN} clients that send half a request`, async () => {
    const rtspPort = await freePort();
    const server = await startTestServer({
      rtsp: { listen: `127.0.0.1:${rtspPort}` },
      limits: { connection_timeout: "1s" },
      streams: { cam: "demo:" },
    });
    servers.push(server);
    await halfOpen(rtspPort, "OPTIONS rtsp://127.0.0.1/cam RTSP/1.0\r\nCSeq: 1\r\n");
    const whole = await rawConnect(rtspPort, "OPTIONS rtsp://127.0.0.1/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n");
    await waitFor(() => whole.text().includes("RTSP/1.0 200"), 3000, "a whole request answered");
    whole.socket.destroy();
  }, 30_000);
});

describe("limits: sizes", () => {
  let server: RunningServer;
  afterAll(async () => {
    await server?.close();
  });

  it("a request body over limits.max_body_size gets 413 naming the key, with or without Content-Length", async () => {
    server = await startTestServer({ limits: { max_body_size: 1000 } });
    const big = "a".repeat(5000);
    const res = await fetch(`${server.urls[0]}/api/streams?src=x&name=y`, { method: "PUT", body: big });
    expect(res.status).toBe(413);
    expect((await res.json()).message).toContain("limits.max_body_size");
    const chunked = await fetch(`${server.urls[0]}/api/streams?src=x&name=y`, {
      method: "PUT",
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(big));
          c.close();
        },
      }),
      // @ts-ignore: needed by Node's fetch for a stream body
      duplex: "half",
    });
    expect(chunked.status).toBe(413);
    await chunked.body?.cancel();
  });

  it("a WebSocket message over limits.max_ws_message closes the socket with 1009", async () => {
    const small = await startTestServer({ limits: { max_ws_message: 1000 } });
    try {
      const ws = await openWebSocket(`${small.urls[0].replace("http", "ws")}/api/ws`);
      const closed = closeOf(ws);
      ws.send(JSON.stringify({ type: "x", value: "a".repeat(5000) }));
      const { code, reason } = await closed;
      expect(code).toBe(1009);
      expect(reason).toContain("limits.max_ws_message");
    } finally {
      await small.close();
    }
  });
});
