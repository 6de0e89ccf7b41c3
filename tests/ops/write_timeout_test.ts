// limits.write_timeout at the socket level (lib/runtime tcpListen, used by RTSP and RTMP) and on the
// HTTP adapter (streamed responses: MP4, MPEG-TS, MJPEG...): a viewer that stops reading is dropped
// after the timeout, a viewer that reads goes on receiving.
import { afterAll, describe, expect, it } from "bun:test";
import * as net from "node:net";
import { Hono } from "hono";
import { tcpListen, type TcpConn, type TcpListener } from "../../lib/runtime/mod.ts";
import { type HttpServer, loadServeAdapter } from "../../server/serve/mod.ts";
import { waitFor } from "./_support.ts";

const TIMEOUT_MS = 500;

describe("write timeout", () => {
  let listener: TcpListener | undefined;
  const clients: net.Socket[] = [];
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await listener?.close();
  });

  it("drops the viewer that stopped reading, keeps the one that reads", async () => {
    const chunk = new Uint8Array(64 * 1024);
    const ended: { conn: TcpConn; error?: unknown; at: number }[] = [];
    let stop = false;
    listener = await tcpListen({
      hostname: "127.0.0.1",
      port: 0,
      writeTimeoutMs: TIMEOUT_MS,
      onConnection: (conn) => {
        (async () => {
          try {
            while (!stop) {
              if (!conn.write(chunk)) await conn.drained();
              else await new Promise((r) => setTimeout(r, 1));
            }
            conn.close();
          } catch (error) {
            ended.push({ conn, error, at: Date.now() });
          }
        })();
      },
    });
    const connect = () =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: "127.0.0.1", port: listener!.addr.port }, () => resolve(s));
        s.on("error", () => {});
        s.once("error", reject);
        clients.push(s);
      });
    let readerBytes = 0;
    const reader = await connect();
    reader.on("data", (d: Uint8Array) => (readerBytes += d.length));
    const stalled = await connect();
    stalled.pause(); // takes nothing: its receive buffer and the server's send buffer fill up
    const start = Date.now();
    // The server drops it: its writer's drained() rejects once the socket is destroyed.
    await waitFor(() => ended.length === 1, 20_000, "stalled viewer dropped");
    expect(Date.now() - start).toBeGreaterThanOrEqual(TIMEOUT_MS);
    // The client sees the connection end once it reads again.
    const stalledClosed = new Promise((r) => stalled.once("close", r));
    stalled.on("data", () => {});
    stalled.resume();
    await waitFor(() => stalled.destroyed, 5000, "stalled client sees the end");
    await stalledClosed;
    // The reader is unaffected and still receiving.
    const before = readerBytes;
    await waitFor(() => readerBytes > before + 1_000_000, 5000, "reader still receiving");
    expect(reader.destroyed).toBe(false);
    stop = true;
  }, 40_000);
});

describe("write timeout over HTTP", () => {
  let server: HttpServer | undefined;
  const clients: net.Socket[] = [];
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });

  it("drops the HTTP viewer that stopped reading, keeps the one that reads", async () => {
    const chunk = new Uint8Array(64 * 1024);
    const cancelled: number[] = [];
    let streams = 0;
    const app = new Hono();
    // An endless stream, as /api/stream.mp4 is for a live camera.
    app.get("/live", () => {
      const id = streams++;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull: (c) => c.enqueue(chunk),
          cancel: () => void cancelled.push(id),
        }, { highWaterMark: 0 }),
        { headers: { "content-type": "application/octet-stream" } },
      );
    });
    server = await (await loadServeAdapter()).serve(app, {
      hostname: "127.0.0.1",
      port: 0,
      timeouts: { writeMs: TIMEOUT_MS },
    });
    const view = (onData?: (d: Uint8Array) => void) =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: "127.0.0.1", port: server!.addr.port }, () => {
          s.write("GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
          resolve(s);
        });
        s.on("error", () => {});
        s.once("error", reject);
        if (onData) s.on("data", onData);
        clients.push(s);
      });
    let readerBytes = 0;
    const reader = await view((d) => (readerBytes += d.length));
    await waitFor(() => streams === 1, 5000, "reader's stream started");
    const stalled = await view();
    stalled.pause(); // takes nothing
    const start = Date.now();
    // The server drops it and ends its stream (the source would lose this viewer).
    await waitFor(() => cancelled.includes(1), 20_000, "stalled viewer's stream cancelled");
    expect(Date.now() - start).toBeGreaterThanOrEqual(TIMEOUT_MS);
    // The client sees the connection end once it reads again.
    stalled.on("data", () => {});
    stalled.resume();
    await waitFor(() => stalled.destroyed, 10_000, "stalled client sees the end");
    const before = readerBytes;
    await waitFor(() => readerBytes > before + 1_000_000, 5000, "reader still receiving");
    expect(cancelled).not.toContain(0);
    expect(reader.destroyed).toBe(false);
  }, 40_000);
});
