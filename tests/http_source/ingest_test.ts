/**
 * HTTP ingest as go2rtc: ffmpeg pushes FLV, MPEG-TS and MJPEG with `-method POST` into
 * `/api/stream.flv|ts|mjpeg?dst=` (and the sniffing `/api/stream?dst=`); ffprobe decodes what
 * strom serves from the stream meanwhile. Bad pushes get clear 4xx answers.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { type ChildProcess, spawn } from "../../lib/runtime/process.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { hasEncoder } from "../_support/ffmpeg.ts";
import { readAll, within } from "../_support/process.ts";
import { codecsOf, probeBytes, waitFor } from "../outputs/_server.ts";
import { H264_AAC, TEST_AV } from "./_peer.ts";

const haveX264 = await hasEncoder("libx264");

describe.skipIf(!haveX264)(haveX264 ? "http ingest" : "http ingest (skipped: ffmpeg lacks libx264)", () => {
  let server: RunningServer;
  let base = "";
  const pushers: ChildProcess[] = [];

  beforeAll(async () => {
    server = await startServer({
      configSources: [JSON.stringify({ streams: { flv: null, ts: null, mjpeg: null, auto: null } })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
      modules: [],
    });
    base = server.urls[0];
  }, 20_000);

  afterAll(async () => {
    await Promise.all(pushers.map((p) => p[Symbol.asyncDispose]()));
    await server?.close();
  }, 20_000);

  /** Starts `ffmpeg ... -method POST <url>` for `seconds` of live test media. */
  function push(
    args: string[],
    path: string,
    seconds = 8,
  ): { child: ChildProcess; stderr: Promise<Uint8Array> } {
    const child = spawn("ffmpeg", [
      "-hide_banner",
      "-nostdin",
      "-v",
      "error",
      ...args,
      "-t",
      String(seconds),
      "-method",
      "POST",
      `${base}${path}`,
    ], { stdout: "ignore", stderr: "pipe" });
    pushers.push(child);
    return { child, stderr: readAll(child.stderr) };
  }

  async function producerFormat(stream: string): Promise<string | undefined> {
    const info = await fetch(`${base}/api/streams?src=${stream}`).then((r) => r.json());
    return info.producers?.find((p: { connection?: { format: string } }) => p.connection)?.connection.format;
  }

  async function probeMp4(stream: string) {
    const res = await fetch(`${base}/api/stream.mp4?src=${stream}&duration=2`);
    expect(res.status).toBe(200);
    const probe = await probeBytes(new Uint8Array(await res.arrayBuffer()));
    expect(probe.stderr).toBe("");
    return codecsOf(probe);
  }

  async function finished(p: { child: ChildProcess; stderr: Promise<Uint8Array> }) {
    const status = await within(p.child.exited, 20_000, "the pushing ffmpeg to finish");
    const stderr = new TextDecoder().decode(await p.stderr);
    expect({ code: status.code, stderr }).toEqual({ code: 0, stderr: "" });
  }

  for (
    const [name, format, path] of [
      ["flv", "flv", "/api/stream.flv?dst=flv"],
      ["ts", "mpegts", "/api/stream.ts?dst=ts"],
      ["auto", "mpegts", "/api/stream?dst=auto"],
    ] as const
  ) {
    it(`ffmpeg -f ${format} -method POST ${path.split("?")[0]}: H.264 + AAC reach viewers`, async () => {
      const pusher = push([...TEST_AV, ...H264_AAC, "-f", format], path, 6);
      await waitFor(
        "the ingest to publish",
        async () => (await producerFormat(name)) === `ingest/${format}`,
        10_000,
      );
      const streams = await probeMp4(name);
      expect(streams.map((s) => s.codec).sort()).toEqual(["aac", "h264"]);
      expect(streams.find((s) => s.codec === "h264")!.frames).toBeGreaterThanOrEqual(10);
      expect(streams.find((s) => s.codec === "aac")!.frames).toBeGreaterThanOrEqual(40);
      await finished(pusher);
      // The publisher leaves with the upload.
      await waitFor("the ingest to leave", async () => (await producerFormat(name)) === undefined, 5_000);
    }, 30_000);
  }

  it("ffmpeg -f mjpeg -method POST /api/stream.mjpeg: JPEGs reach MJPEG viewers", async () => {
    const pusher = push(
      [
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=10",
        "-c:v",
        "mjpeg",
        "-q:v",
        "6",
        "-f",
        "mjpeg",
      ],
      "/api/stream.mjpeg?dst=mjpeg",
      6,
    );
    await waitFor(
      "the ingest to publish",
      async () => (await producerFormat("mjpeg")) === "ingest/mjpeg",
      10_000,
    );
    const res = await fetch(`${base}/api/stream.mjpeg?src=mjpeg&duration=2`);
    const [v] = codecsOf(await probeBytes(new Uint8Array(await res.arrayBuffer()), "mpjpeg"));
    expect(v).toMatchObject({ codec: "mjpeg", width: 320, height: 240 });
    expect(v.frames).toBeGreaterThanOrEqual(10);
    await finished(pusher);
  }, 30_000);

  it("a pusher killed mid-upload (kill -9) leaves the stream at once; the next push takes over", async () => {
    const first = push([...TEST_AV, ...H264_AAC, "-f", "flv"], "/api/stream.flv?dst=flv", 30);
    await waitFor(
      "the ingest to publish",
      async () => (await producerFormat("flv")) === "ingest/flv",
      10_000,
    );
    first.child.kill("SIGKILL");
    await waitFor(
      "the killed ingest to leave",
      async () => (await producerFormat("flv")) === undefined,
      5_000,
    );
    const second = push([...TEST_AV, ...H264_AAC, "-f", "flv"], "/api/stream.flv?dst=flv", 5);
    await waitFor(
      "the next ingest to publish",
      async () => (await producerFormat("flv")) === "ingest/flv",
      10_000,
    );
    const streams = await probeMp4("flv");
    expect(streams.map((s) => s.codec).sort()).toEqual(["aac", "h264"]);
    await finished(second);
  }, 30_000);

  it("answers 4xx for a missing or unknown dst and for a body of the wrong format", async () => {
    const post = (path: string, body: BodyInit, type = "application/octet-stream") =>
      fetch(`${base}${path}`, { method: "POST", body, headers: { "content-type": type } });
    const flvHeader = new Uint8Array([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);

    const missing = await post("/api/stream.flv", flvHeader);
    expect(missing.status).toBe(400);
    expect((await missing.json()).message).toContain("dst=");

    const unknown = await post("/api/stream.flv?dst=nope", flvHeader);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).message).toContain('"nope"');

    const wrong = await post("/api/stream.ts?dst=ts", flvHeader, "video/x-flv");
    expect(wrong.status).toBe(415);
    expect((await wrong.json()).message).toContain("takes MPEG-TS, but the body is FLV");

    const html = await post("/api/stream.flv?dst=flv", "<!DOCTYPE html><html></html>", "text/html");
    expect(html.status).toBe(415);
    const message = (await html.json()).message;
    expect(message).toContain('"text/html"');
    expect(message).toContain("<!DOCTYPE html>");

    // A real FLV header, then the upload ends before any track is complete.
    const truncated = await post("/api/stream.flv?dst=flv", flvHeader, "video/x-flv");
    expect(truncated.status).toBe(400);
    expect((await truncated.json()).message).toContain("ended before its tracks were complete");
  }, 20_000);
});
