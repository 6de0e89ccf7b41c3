// preload: keeps a camera connected without viewers, and waits for one that is down at start-up.
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/core/log.ts";
import { registerDemoSource } from "../../lib/protocol/demo/mod.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { startDemoCamera } from "../_support/demo_camera.ts";
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
    cleanup.push(await startDemoCamera(cameraPort));

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

  it("/api/preload lists, adds and stops preloads as go2rtc's, and writes them back to the config file", async () => {
    registerDemoSource();
    const dir = mkdtempSync(join(tmpdir(), "strom-preload-"));
    cleanup.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    const file = join(dir, "strom.yaml");
    writeFileSync(
      file,
      [
        "# my cameras",
        'api: { listen: "127.0.0.1:0" }',
        'rtsp: { listen: "" }',
        "streams:",
        '  door: "demo:" # the front door',
        '  yard: "demo:"',
        "",
      ].join("\n"),
    );
    const server = await startServer({ configSources: [file], log: silentLogger, handleSignals: false });
    cleanup.push(() => server.close());
    const api = (path: string, method = "GET") => fetch(`${server.urls[0]}${path}`, { method });
    const consumers = async (name: string) =>
      ((await (await api(`/api/streams?src=${name}`)).json()).consumers as { format: string }[]).map((c) => c.format);
    const until = async (name: string, want: string[]) => {
      const deadline = Date.now() + 5000;
      while (JSON.stringify(await consumers(name)) !== JSON.stringify(want) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      return await consumers(name);
    };

    expect(await (await api("/api/preload")).json()).toEqual({});

    // PUT: the stream's source starts with no viewer, and the config file gets the entry.
    let res = await api("/api/preload?src=door&video", "PUT");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ door: "video" });
    expect(await until("door", ["preload"])).toEqual(["preload"]);
    expect(await (await api("/api/preload")).json()).toEqual({ door: "video" });
    let yaml = readFileSync(file, "utf8");
    expect(yaml).toContain("# my cameras");
    expect(yaml).toContain('door: "demo:" # the front door');
    expect(yaml).toMatch(/preload:\s*\n\s+door: video/);

    // PUT again replaces the query (one preload per stream); no query means video&audio.
    res = await api("/api/preload?src=door", "PUT");
    expect(await res.json()).toEqual({ door: "video&audio" });
    expect(await until("door", ["preload"])).toEqual(["preload"]);

    // Unknown stream, missing src, nothing to stop: clear errors, nothing written.
    res = await api("/api/preload?src=nope&video", "PUT");
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("nope");
    expect((await api("/api/preload", "PUT")).status).toBe(400);
    res = await api("/api/preload?src=yard", "DELETE");
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("not preloaded");
    expect(readFileSync(file, "utf8")).not.toContain("nope");

    // DELETE: the source stops with its last consumer, the entry leaves the file.
    res = await api("/api/preload?src=door", "DELETE");
    expect(res.status).toBe(200);
    expect(await until("door", [])).toEqual([]);
    expect(await (await api("/api/preload")).json()).toEqual({});
    yaml = readFileSync(file, "utf8");
    expect(yaml).not.toMatch(/preload:[\s\S]*door/);
    expect(yaml).toContain('door: "demo:" # the front door');

    // Deleting a preloaded stream takes its preload along, in memory and in the file.
    expect((await api("/api/preload?src=yard&video", "PUT")).status).toBe(200);
    expect(readFileSync(file, "utf8")).toMatch(/preload:[\s\S]*yard: video/);
    expect((await api("/api/streams?src=yard", "DELETE")).status).toBe(200);
    expect(await (await api("/api/preload")).json()).toEqual({});
    expect(readFileSync(file, "utf8")).not.toContain("yard");
  }, 20_000);
});
