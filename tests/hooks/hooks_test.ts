// Event hooks (issue 11): a real server runs real commands (they write their STROM_* environment
// to files) and calls a real webhook receiver (node:http on 127.0.0.1) for stream ready, viewer
// connect/disconnect and recording segments; a hook that hangs is killed at its timeout while a
// viewer (ffprobe) reads frames without waiting for it.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createLogger, type LogRecord } from "../../lib/core/log.ts";
import { startServer } from "../../server/server.ts";
import { hooksModule } from "../../server/modules/hooks.ts";
import { createRecordModule } from "../../server/modules/record.ts";
import { rtspModule } from "../../server/modules/rtsp.ts";
import { ffmpeg, ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { waitFor } from "../outputs/_server.ts";

const hasFf = await hasTool("ffprobe");
const hasSh = await hasTool("sh");

interface Received {
  event: string;
  stream: string;
  time: string;
  source?: string;
  connection?: { id: number; format: string; protocol?: string; remote_addr?: string };
  segment?: { path: string; start: string; duration: number };
}

/** A webhook receiver: collects JSON bodies and the Authorization header. */
async function startReceiver(): Promise<{ url: string; bodies: Received[]; auth: string[]; close(): Promise<void> }> {
  const bodies: Received[] = [];
  const auth: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      auth.push(String(req.headers.authorization ?? ""));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    auth,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The env files the command hooks wrote: `<event>.<pid>` -> variables. */
function envFiles(dir: string): { event: string; env: Record<string, string> }[] {
  return readdirSync(dir).filter((f) => f.startsWith("env.")).map((f) => {
    const env: Record<string, string> = {};
    for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
      const i = line.indexOf("=");
      if (line.startsWith("STROM_") && i > 0) env[line.slice(0, i)] = line.slice(i + 1);
    }
    return { event: env.STROM_EVENT, env };
  });
}

describe.skipIf(!hasFf || !hasSh)("hooks on a real server", () => {
  let dir: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let server: Awaited<ReturnType<typeof startServer>>;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "strom-hooks-"));
    receiver = await startReceiver();
    // Writes the hook's environment atomically (complete files only) under a unique name.
    const write = { command: `sh -c 'env > ${dir}/tmp.$$ && mv ${dir}/tmp.$$ ${dir}/env.$STROM_EVENT.$$'` };
    const hook = { ...write, url: receiver.url, headers: { Authorization: "Bearer hook-token" } };
    server = await startServer({
      configSources: [JSON.stringify({
        streams: { cam: "demo:", idle: "demo:" },
        record: { dir: join(dir, "rec"), segment: "1s", streams: ["cam"] },
        hooks: {
          // One at a time: the webhook receiver sees events in the order they happened.
          max_running: 1,
          on_ready: [hook],
          on_read: [{ ...hook, streams: ["cam"] }],
          on_unread: [hook],
          on_segment_complete: [hook],
          on_not_ready: [{ url: receiver.url }],
        },
      })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: createLogger({ level: "error", write: () => {} }),
      modules: [hooksModule, createRecordModule({ checkMs: 300, retryMs: 500, sync: false })],
    });
    base = server.urls[0];
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a command hook gets the event in STROM_* variables: stream ready, viewer connect, segment complete", async () => {
    // The recording makes the stream ready and is its first reader; it completes segments.
    await waitFor("a segment_complete hook", () => envFiles(dir).some((f) => f.event === "segment_complete"), 20_000);
    // A viewer over HTTP.
    const probe = await ffprobe(`${base}/api/stream.ts?src=cam`, ["-count_frames", "-read_intervals", "%+1"]);
    expect(probe.streams.some((s) => s.codec_type === "video")).toBe(true);
    await waitFor("the viewer's unread hook", () => envFiles(dir).some((f) => f.event === "unread"), 15_000);

    const files = envFiles(dir);
    const ready = files.find((f) => f.event === "ready")!.env;
    expect(ready).toMatchObject({ STROM_EVENT: "ready", STROM_STREAM: "cam", STROM_PATH: "cam", STROM_SOURCE: "demo:" });
    expect(Date.parse(ready.STROM_TIME)).toBeGreaterThan(Date.now() - 60_000);

    const reads = files.filter((f) => f.event === "read").map((f) => f.env);
    const viewer = reads.find((e) => e.STROM_CONN_PROTOCOL === "http")!;
    expect(viewer).toMatchObject({ STROM_STREAM: "cam" });
    expect(viewer.STROM_REMOTE_ADDR).toMatch(/^\[?(::ffff:)?127\.0\.0\.1\]?(:\d+)?$/);
    const unread = files.find((f) => f.event === "unread" && f.env.STROM_CONN_ID === viewer.STROM_CONN_ID);
    expect(unread).toBeDefined();

    const seg = files.find((f) => f.event === "segment_complete")!.env;
    expect(seg.STROM_STREAM).toBe("cam");
    expect(seg.STROM_SEGMENT_PATH.startsWith(join(dir, "rec", "cam"))).toBe(true);
    expect(Number(seg.STROM_SEGMENT_DURATION)).toBeGreaterThan(0.5);
    expect(Date.parse(seg.STROM_SEGMENT_START)).toBeGreaterThan(Date.now() - 60_000);
    // The segment the hook names is a file ffprobe plays.
    const segProbe = await ffprobe(seg.STROM_SEGMENT_PATH);
    expect(segProbe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);

    // The `streams:` filter: no read hook fired for the other stream, and it never became ready.
    expect(files.some((f) => f.env.STROM_STREAM === "idle")).toBe(false);
  }, 45_000);

  it("a webhook gets the same events as JSON, in the order they happened, with its headers", async () => {
    await waitFor("webhook calls", () => receiver.bodies.some((b) => b.event === "unread"), 15_000);
    const cam = receiver.bodies.filter((b) => b.stream === "cam");
    const order = cam.map((b) => b.event);
    // ready comes first (the recording started the source), then the recorder's read.
    expect(order[0]).toBe("ready");
    expect(order[1]).toBe("read");
    expect(cam[1].connection!.id).toBeGreaterThan(0);
    const viewerRead = cam.find((b) => b.event === "read" && b.connection?.protocol === "http")!;
    const viewerUnread = cam.findIndex((b) => b.event === "unread" && b.connection?.id === viewerRead.connection!.id);
    expect(viewerUnread).toBeGreaterThan(cam.indexOf(viewerRead));
    const seg = cam.find((b) => b.event === "segment_complete")!;
    expect(seg.segment!.path.endsWith(".mp4")).toBe(true);
    expect(seg.segment!.duration).toBeGreaterThan(0.5);
    expect(new Date(seg.time).toISOString()).toBe(seg.time);
    expect(receiver.auth.every((a) => a === "Bearer hook-token" || a === "")).toBe(true);
    expect(receiver.auth).toContain("Bearer hook-token");
  }, 20_000);

  it("a stream that stops gets not_ready", async () => {
    const n = receiver.bodies.length;
    await fetch(`${base}/api/record?src=cam`, { method: "DELETE" });
    // The source stops after the grace period once nothing reads it.
    await waitFor("not_ready", () => receiver.bodies.slice(n).some((b) => b.event === "not_ready"), 20_000);
    const order = receiver.bodies.slice(n).map((b) => b.event);
    expect(order.indexOf("unread")).toBeLessThan(order.indexOf("not_ready"));
  }, 25_000);
});

describe.skipIf(!hasFf || !hasSh)("a hook that hangs", () => {
  it("does not delay a viewer and is killed at its timeout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strom-hooks-slow-"));
    const records: LogRecord[] = [];
    const server = await startServer({
      configSources: [JSON.stringify({
        streams: { cam: "demo:" },
        hooks: {
          timeout: "1s",
          max_running: 1,
          // Writes its pid, then sleeps far past the timeout (exec: the pid is sleep's own).
          on_ready: [{ command: `sh -c 'echo $$ > ${dir}/pid; exec sleep 60'` }],
          on_read: [{ command: "sleep 60" }],
        },
      })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: createLogger({ level: "debug", write: (_line, record) => records.push(record) }),
      modules: [hooksModule],
    });
    try {
      const t0 = Date.now();
      const probe = await ffprobe(`${server.urls[0]}/api/stream.ts?src=cam`, ["-count_frames", "-read_intervals", "%+2"], 15_000);
      const took = Date.now() - t0;
      const video = probe.streams.find((s) => s.codec_type === "video")!;
      expect(Number(video.nb_read_frames)).toBeGreaterThanOrEqual(20);
      // Two seconds of media read well before any hook could have finished (they sleep 60 s).
      expect(took).toBeLessThan(10_000);

      await waitFor("the timeout warning", () => records.some((r) => r.msg.includes("killed after its timeout")), 10_000);
      const pid = Number(readFileSync(join(dir, "pid"), "utf8").trim());
      await waitFor("the hung hook to be gone", () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 5_000);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe.skipIf(!hasFf)("publish and source error hooks", () => {
  it("ffmpeg publishing over RTSP fires publish, ready, unpublish, not_ready; a dead source fires source_error", async () => {
    const receiver = await startReceiver();
    const rtspPort = await freePort();
    const server = await startServer({
      configSources: [JSON.stringify({
        rtsp: { listen: `127.0.0.1:${rtspPort}` },
        streams: { live: [], dead: "rtsp://127.0.0.1:1/nothing" },
        hooks: {
          max_running: 1,
          on_publish: [{ url: receiver.url }],
          on_unpublish: [{ url: receiver.url }],
          on_ready: [{ url: receiver.url, streams: ["live"] }],
          on_not_ready: [{ url: receiver.url, streams: ["live"] }],
          on_source_error: [{ url: receiver.url }],
        },
      })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: createLogger({ level: "error", write: () => {} }),
      modules: [hooksModule, rtspModule],
    });
    try {
      const pub = await ffmpeg([
        "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-t", "2",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-pix_fmt", "yuv420p",
        "-f", "rtsp", "-rtsp_transport", "tcp", `rtsp://127.0.0.1:${rtspPort}/live`,
      ], 20_000);
      expect(pub.code).toBe(0);
      await waitFor("unpublish and not_ready", () => receiver.bodies.filter((b) => b.stream === "live").length >= 4, 10_000);
      const live = receiver.bodies.filter((b) => b.stream === "live");
      expect(live.map((b) => b.event)).toEqual(["publish", "ready", "unpublish", "not_ready"]);
      expect(live[0].connection).toMatchObject({ format: "rtsp" });
      expect(live[0].connection!.remote_addr).toMatch(/127\.0\.0\.1/);
      expect(live[0].connection!.id).toBe(live[2].connection!.id);

      // A viewer of the dead stream gets an error; the hook gets the source and the reason.
      const res = await fetch(`${server.urls[0]}/api/stream.ts?src=dead`);
      await res.body?.cancel();
      expect(res.status).toBeGreaterThanOrEqual(400);
      await waitFor("source_error", () => receiver.bodies.some((b) => b.event === "source_error"), 10_000);
      const err = receiver.bodies.find((b) => b.event === "source_error")! as Received & { error: string };
      expect(err).toMatchObject({ stream: "dead", source: "rtsp://127.0.0.1:1/nothing" });
      expect(err.error).toMatch(/127\.0\.0\.1:1/);
    } finally {
      await server.close();
      await receiver.close();
    }
  }, 40_000);
});
