// preload: keeps a camera connected without viewers, and waits for one that is down at start-up.
import { afterAll, describe, expect, it } from "bun:test";
import { StreamHub } from "../../lib/core/hub.ts";
import { silentLogger } from "../../lib/core/log.ts";
import { registerDemoSource } from "../../lib/protocol/demo/mod.ts";
import { RtspServer } from "../../lib/protocol/rtsp/mod.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { freePort } from "../_support/net.ts";

describe("preload", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("dials a camera that is down at start-up again until it answers, then keeps it running", async () => {
    const cameraPort = await freePort();
    const config = {
      api: { listen: "127.0.0.1:0" },
      rtsp: { listen: "127.0.0.1:0" },
      streams: { door: `rtsp://127.0.0.1:${cameraPort}/cam` },
      preload: { door: "video" },
    };
    const server: RunningServer = await startServer({
      configSources: [JSON.stringify(config)],
      log: silentLogger,
      handleSignals: false,
    });
    cleanup.push(() => server.close());
    const info = async () => (await fetch(`${server.urls[0]}/api/streams?src=door`)).json();
    await new Promise((r) => setTimeout(r, 300));
    expect((await info()).consumers).toHaveLength(0); // camera still down: nothing attached yet

    // The "camera" comes up: another RTSP server with the demo stream.
    registerDemoSource();
    const hub = new StreamHub();
    hub.set("cam", ["demo:"]);
    const camera = new RtspServer({ hub, listen: { hostname: "127.0.0.1", port: cameraPort } });
    await camera.listen();
    cleanup.push(async () => {
      await camera.close();
      await hub.close();
    });

    const deadline = Date.now() + 10_000;
    let stream = await info();
    while (!(stream.consumers.length === 1 && stream.producers[0]?.state === "running") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      stream = await info();
    }
    expect(stream.consumers[0]).toMatchObject({ format: "preload" });
    expect(stream.producers[0]).toMatchObject({ state: "running" });
    // Frames flow with no viewer at all.
    await new Promise((r) => setTimeout(r, 500));
    expect((await info()).producers[0].tracks[0].frames).toBeGreaterThan(0);
  }, 20_000);
});
