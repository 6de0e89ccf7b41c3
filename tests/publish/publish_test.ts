// publish: strom pushes a stream to other servers, with real peers: ffmpeg as an RTMP server
// (`ffmpeg -listen 1 -f flv -i rtmp://...`), and a second strom over RTSP (ANNOUNCE/RECORD); ffprobe
// checks what arrived. A destination that is down is retried with backoff and shown with its error
// in /api/streams until it comes up.
import { afterAll, afterEach, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { getEnv } from "../../lib/runtime/env.ts";
import { removeFile } from "../../lib/runtime/fs.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { ffmpegBackground, waitListening } from "../rtmp/_helpers.ts";

const hasFfmpeg = (await hasTool("ffmpeg")) && (await hasTool("ffprobe"));
const dir = getEnv("TMPDIR") ?? "/tmp";

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const servers: RunningServer[] = [];
const files: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(async () => {
  for (const f of files) await removeFile(f).catch(() => {});
});

async function serve(config: Record<string, unknown>): Promise<RunningServer> {
  const server = await startServer({
    configSources: [JSON.stringify({ api: { listen: "127.0.0.1:0" }, rtsp: { listen: "" }, ...config })],
    log: silentLogger,
    handleSignals: false,
  });
  servers.push(server);
  return server;
}

/** ffmpeg as an RTMP server that records 3 s of what is published to it into an FLV file. */
async function rtmpRecorder(port: number): Promise<{ file: string; child: ReturnType<typeof ffmpegBackground> }> {
  const file = `${dir}/strom-publish-${port}-${Date.now()}.flv`;
  files.push(file);
  const child = ffmpegBackground([
    "-listen", "1", "-timeout", "20", "-f", "flv", "-i", `rtmp://127.0.0.1:${port}/live/x`,
    "-c", "copy", "-t", "3", "-y", file,
  ]);
  await waitListening(port);
  return { file, child };
}

/** The publish entries of a stream's consumers in /api/streams. */
async function publishEntries(server: RunningServer, stream: string): Promise<Record<string, unknown>[]> {
  const info = await fetch(`${server.urls[0]}/api/streams?src=${stream}`).then((r) => r.json());
  return (info.consumers as Record<string, unknown>[]).filter((c) => "state" in c);
}

describe.skipIf(!hasFfmpeg)("publish: (needs ffmpeg and ffprobe)", () => {
  it("pushes the demo stream to ffmpeg listening as an RTMP server, from the config at start", async () => {
    const port = await freePort();
    const { file, child } = await rtmpRecorder(port);
    const server = await serve({
      streams: { demo: "demo:" },
      publish: { demo: `rtmp://127.0.0.1:${port}/live/x` },
    });
    await waitUntil("strom to publish", async () => (await publishEntries(server, "demo"))[0]?.state === "publishing", 15_000);
    const status = await Promise.race([child.exited, new Promise((r) => setTimeout(() => r("timeout"), 20_000))]);
    expect(status === "timeout" ? `ffmpeg still running: ${child.log()}` : "exited").toBe("exited");
    const probe = await ffprobe(file);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
    expect(Number(probe.format?.duration)).toBeGreaterThan(2);
  }, 45_000);

  it("pushes to a second strom over RTSP through POST /api/streams, and DELETE stops it", async () => {
    const rtspPort = await freePort();
    const b = await serve({ rtsp: { listen: `127.0.0.1:${rtspPort}` }, streams: { incoming: null } });
    const a = await serve({ streams: { demo: "demo:" } });
    const dst = `rtsp://127.0.0.1:${rtspPort}/incoming`;
    const res = await fetch(`${a.urls[0]}/api/streams?src=demo&dst=${encodeURIComponent(dst)}`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: "publishing", url: dst, origin: "api", format: "rtsp/push" });
    const probe = await ffprobe(`rtsp://127.0.0.1:${rtspPort}/incoming`, ["-rtsp_transport", "tcp"], 20_000);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
    expect(probe.streams.find((s) => s.codec_type === "video")).toMatchObject({ width: 640, height: 360 });

    const del = await fetch(`${a.urls[0]}/api/streams?src=demo&dst=${encodeURIComponent(dst)}`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(await publishEntries(a, "demo")).toEqual([]);
    // Deleting a published stream stops its publishes too.
    const again = await fetch(`${a.urls[0]}/api/streams?src=demo&dst=${encodeURIComponent(dst)}`, { method: "POST" });
    expect(again.status).toBe(200);
    expect((await fetch(`${a.urls[0]}/api/streams?src=demo`, { method: "DELETE" })).status).toBe(200);
    const gone = await fetch(`${a.urls[0]}/api/streams?src=demo&dst=${encodeURIComponent(dst)}`, { method: "DELETE" });
    expect(gone.status).toBe(404);
    // B sees its publisher leave.
    await waitUntil("the publisher to leave strom B", async () => {
      const info = await fetch(`${b.urls[0]}/api/streams?src=incoming`).then((r) => r.json());
      return !info.producers.some((p: { connection?: unknown }) => p.connection);
    }, 10_000);
  }, 45_000);

  it("pauses a push while its stream is disabled (privacy mode) and resumes it once enabled", async () => {
    const rtspPort = await freePort();
    const b = await serve({ rtsp: { listen: `127.0.0.1:${rtspPort}` }, streams: { incoming: null } });
    const dst = `rtsp://127.0.0.1:${rtspPort}/incoming`;
    const a = await serve({ streams: { demo: "demo:" }, publish: { demo: dst } });
    const bHasPublisher = async () => {
      const info = await fetch(`${b.urls[0]}/api/streams?src=incoming`).then((r) => r.json());
      return info.producers.some((p: { connection?: unknown }) => p.connection);
    };
    const state = async () => (await publishEntries(a, "demo"))[0]?.state;
    await waitUntil("strom to publish", async () => (await state()) === "publishing", 15_000);
    await waitUntil("strom B to get the publisher", bHasPublisher, 10_000);

    expect((await fetch(`${a.urls[0]}/api/disabled?src=demo`, { method: "PUT" })).status).toBe(200);
    await waitUntil("the publisher to leave strom B", async () => !(await bHasPublisher()), 10_000);
    await waitUntil("the push to wait", async () => (await state()) === "waiting", 5000);
    expect(String((await publishEntries(a, "demo"))[0].error)).toContain('Stream "demo" is disabled');
    // A new push of a disabled stream is refused at once.
    const other = encodeURIComponent(`rtsp://127.0.0.1:${rtspPort}/other`);
    const refused = await fetch(`${a.urls[0]}/api/streams?src=demo&dst=${other}`, { method: "POST" });
    expect(refused.status).toBe(503);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await bHasPublisher()).toBe(false);

    expect((await fetch(`${a.urls[0]}/api/disabled?src=demo`, { method: "DELETE" })).status).toBe(200);
    await waitUntil("the push to resume", async () => (await state()) === "publishing", 10_000);
    await waitUntil("strom B to get the publisher back", bHasPublisher, 10_000);
  }, 60_000);

  it("retries a destination that is down with backoff, shows the error, and publishes once it is up", async () => {
    const port = await freePort();
    const server = await serve({
      streams: { demo: "demo:" },
      publish: { demo: `rtmp://127.0.0.1:${port}/live/x` },
    });
    await waitUntil("a second failed attempt", async () => {
      const [entry] = await publishEntries(server, "demo");
      return (entry?.attempts as number) >= 2 && entry?.state === "waiting";
    }, 10_000);
    const [down] = await publishEntries(server, "demo");
    // The stream key ("x") is shown as *** like a password.
    expect(down).toMatchObject({ state: "waiting", url: `rtmp://127.0.0.1:${port}/live/***`, origin: "config" });
    expect(String(down.error)).toMatch(/refused|ECONNREFUSED/i);
    expect(typeof down.retryAt).toBe("string");

    const { file, child } = await rtmpRecorder(port);
    await waitUntil("the retry to publish", async () => (await publishEntries(server, "demo"))[0]?.state === "publishing", 40_000);
    const status = await Promise.race([child.exited, new Promise((r) => setTimeout(() => r("timeout"), 20_000))]);
    expect(status === "timeout" ? `ffmpeg still running: ${child.log()}` : "exited").toBe("exited");
    const probe = await ffprobe(file);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
  }, 90_000);
});
