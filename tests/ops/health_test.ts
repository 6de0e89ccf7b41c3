// /api/health reports each stream; a preloaded stream that is down makes it "degraded"; the
// liveness and readiness probes answer without credentials.
import { afterAll, describe, expect, it } from "bun:test";
import type { RunningServer } from "../../server/server.ts";
import { freePort } from "../_support/net.ts";
import { startTestServer, waitFor } from "./_support.ts";

describe("health", () => {
  const servers: RunningServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it("a preloaded stream that is down makes /api/health degraded; a running one is online", async () => {
    const deadPort = await freePort(); // nothing listens there
    const server = await startTestServer({
      streams: { up: "demo:", down: `rtsp://127.0.0.1:${deadPort}/cam`, idle: "demo:" },
      preload: { up: "video", down: "video" },
    });
    servers.push(server);
    let body: Record<string, any> = {};
    await waitFor(async () => {
      body = await (await fetch(`${server.urls[0]}/api/health`)).json();
      return body.stream_states?.up?.state === "online";
    }, 5000, "preloaded demo stream online");
    expect(body.status).toBe("degraded");
    expect(body.streams).toBe(3);
    expect(body.streams_down).toBe(1);
    expect(body.stream_states.down.state).toBe("down");
    expect(body.stream_states.down.expected).toEqual(["preload"]);
    expect(body.stream_states.idle.state).toBe("idle");
  });

  it("all preloaded streams online: ok", async () => {
    const server = await startTestServer({ streams: { up: "demo:" }, preload: { up: "video" } });
    servers.push(server);
    await waitFor(async () => (await (await fetch(`${server.urls[0]}/api/health`)).json()).status === "ok", 5000, "ok");
  });

  it("live and ready answer 200 without credentials while the API needs them; ready is 503 once stopping", async () => {
    const server = await startTestServer({
      api: { listen: "127.0.0.1:0", username: "admin", password: "secret", local_auth: true },
    });
    const base = server.urls[0];
    expect((await fetch(`${base}/api/streams`)).status).toBe(401);
    expect((await fetch(`${base}/api/health/live`)).status).toBe(200);
    const ready = await fetch(`${base}/api/health/ready`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).status).toBe("ready");
    const closing = server.close();
    // Between the signal and the listener closing, readiness already says "stop sending".
    const during = await fetch(`${base}/api/health/ready`).then((r) => r.status, () => 503);
    expect(during).toBe(503);
    await closing;
  });
});
