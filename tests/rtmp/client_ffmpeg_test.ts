/**
 * strom's RTMP client against real peers: it plays from ffmpeg acting as an RTMP server
 * (`-listen 1`) as a source, publishes a stream to ffmpeg acting as an RTMP server (the sink side),
 * and carries H.265 as enhanced RTMP (`hvc1`) between strom's own client and server (ffmpeg 5.1
 * here cannot produce or read enhanced RTMP).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { StreamHub } from "../../lib/core/hub.ts";
import { RtmpClientProducer, registerRtmpSources } from "../../lib/protocol/rtmp/producer.ts";
import { RtmpPublish } from "../../lib/protocol/rtmp/publish.ts";
import { RtmpServer } from "../../lib/protocol/rtmp/server.ts";
import { registerRtspSources } from "../../lib/protocol/rtsp/producer.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ffmpeg, ffprobe, hasEncoder } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { publishAndWait } from "../rtsp/_helpers.ts";
import {
  ffmpegBackground,
  H264_AAC_CAMERA,
  LAVFI_AUDIO,
  LAVFI_VIDEO,
  publishRtmpAndWait,
  waitListening,
} from "./_helpers.ts";

const haveX264 = await hasEncoder("libx264");
const haveX265 = await hasEncoder("libx265");

const H265_AAC_CAMERA = [
  ...LAVFI_VIDEO,
  ...LAVFI_AUDIO,
  "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=25:bframes=0:log-level=error",
  "-c:a", "aac", "-b:a", "64k",
];

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe.skipIf(!haveX264)(
  haveX264 ? "rtmp client with ffmpeg peers" : "rtmp client with ffmpeg peers (skipped: ffmpeg lacks libx264)",
  () => {
    let hub: StreamHub;
    let rtmp: RtmpServer;
    let rtsp: RtspServer;
    let base = "";
    let rtspBase = "";
    const children: { kill: (s: "SIGKILL") => void; exited: Promise<unknown> }[] = [];
    const dir = mkdtempSync(join(tmpdir(), "strom-rtmp-"));

    beforeAll(async () => {
      registerRtmpSources();
      registerRtspSources();
      hub = new StreamHub({ graceMs: 3000, reconnectDelaysMs: [300] });
      hub.set("cam", []);
      hub.set("hevc", []);
      hub.set("hevc_in", []);
      rtmp = await RtmpServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      rtsp = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      base = `rtmp://127.0.0.1:${rtmp.addr.port}`;
      rtspBase = `rtsp://127.0.0.1:${rtsp.addr.port}`;
      hub.set("hevc_relay", [`${base}/hevc`]);
      children.push(await publishRtmpAndWait(hub, "cam", `${base}/cam`, H264_AAC_CAMERA));
    });

    afterAll(async () => {
      for (const c of children) c.kill("SIGKILL");
      await Promise.all(children.map((c) => c.exited));
      await rtmp?.close();
      await rtsp?.close();
      await hub?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("plays from ffmpeg as an RTMP server (rtmp:// source), relayed to an RTSP reader", async () => {
      const port = await freePort();
      const url = `rtmp://127.0.0.1:${port}/app/key`;
      const server = ffmpegBackground(["-re", ...H264_AAC_CAMERA, "-t", "30", "-f", "flv", "-listen", "1", url]);
      children.push(server);
      await waitListening(port);
      hub.set("pulled", [url]);
      const res = await ffmpeg(
        ["-rtsp_transport", "tcp", "-i", `${rtspBase}/pulled`, "-frames:v", "30", "-f", "null", "-"],
        25_000,
      );
      expect(res.code).toBe(0);
      const medias = hub.get("pulled")!.producers().flatMap((p) => p.medias().map((m) => m.codecs[0].name)).sort();
      expect(medias).toEqual(["H264", "MPEG4-GENERIC"]);
      expect(hub.get("pulled")!.producers()[0]).toBeInstanceOf(RtmpClientProducer);
    }, 40_000);

    it("publishes a stream to ffmpeg as an RTMP server; ffprobe decodes the recording", async () => {
      const port = await freePort();
      const url = `rtmp://127.0.0.1:${port}/live/streamkey`;
      const out = `${dir}/published.flv`;
      const receiver = ffmpegBackground(["-listen", "1", "-i", url, "-c", "copy", "-frames:v", "50", "-y", out]);
      children.push(receiver);
      await waitListening(port);
      const pub = await RtmpPublish.start(hub.get("cam")!, url);
      const status = await within(receiver.exited, 25_000, "ffmpeg receiving the publish");
      await pub.done.catch(() => {}); // ffmpeg hung up after 50 frames
      await pub.stop();
      expect(status.code).toBe(0);
      const probe = await ffprobe(out, ["-count_frames"], 15_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      const video = probe.streams.find((s) => s.codec_type === "video") as { nb_read_frames?: string; width?: number };
      expect(Number(video.nb_read_frames)).toBeGreaterThanOrEqual(45);
      expect(video.width).toBe(320);
    }, 40_000);

    it("a refused publish (wrong stream key) fails with the server's reason", async () => {
      const err = await RtmpPublish.start(hub.get("cam")!, `${base}/live/wrong-key`).catch((e) => e);
      expect(err).toBeInstanceOf(Error);
      expect(String(err.message)).toMatch(/NetStream\.Publish\.BadName/);
      expect(String(err.message)).toMatch(/"wrong-key"/);
    }, 15_000);

    it("asks the access hook: a publish without the right key is refused, with it accepted", async () => {
      hub.set("keyed", []);
      const guarded = await RtmpServer.listen({
        hub,
        listen: { hostname: "127.0.0.1", port: 0 },
        access: {
          check: (r) =>
            r.action === "read" || r.query.get("key") === "s3cret" ? { ok: true } : { ok: false, reason: "wrong stream key" },
        },
      });
      try {
        const guardedBase = `rtmp://127.0.0.1:${guarded.addr.port}`;
        const err = await RtmpPublish.start(hub.get("cam")!, `${guardedBase}/live/keyed?key=nope`).catch((e) => e);
        expect(String(err?.message)).toMatch(/NetStream\.Publish\.Unauthorized.*wrong stream key/);
        const pub = await RtmpPublish.start(hub.get("cam")!, `${guardedBase}/live/keyed?key=s3cret`);
        try {
          await within(
            (async () => {
              while (!hub.get("keyed")!.producers().length) await new Promise((r) => setTimeout(r, 50));
            })(),
            10_000,
            "the keyed publisher",
          );
          const probe = await ffprobe(`${guardedBase}/keyed`, [], 15_000);
          expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
        } finally {
          await pub.stop();
        }
      } finally {
        await guarded.close();
      }
    }, 30_000);

    it.skipIf(!haveX265)("carries H.265 as enhanced RTMP: strom's client plays it from strom's server", async () => {
      children.push(await publishAndWait(hub, "hevc", `${rtspBase}/hevc`, H265_AAC_CAMERA));
      const probe = await ffprobe(`${rtspBase}/hevc_relay`, ["-rtsp_transport", "tcp"], 20_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "hevc"]);
      const res = await ffmpeg(
        ["-rtsp_transport", "tcp", "-i", `${rtspBase}/hevc_relay`, "-frames:v", "20", "-f", "null", "-"],
        20_000,
      );
      expect(res.code).toBe(0);
    }, 40_000);

    it.skipIf(!haveX265)("carries H.265 as enhanced RTMP: strom publishes it to strom's server", async () => {
      await within(
        (async () => {
          while (!hub.get("hevc")!.producers().length) await new Promise((r) => setTimeout(r, 50));
        })(),
        15_000,
        "the hevc publisher",
      );
      const pub = await RtmpPublish.start(hub.get("hevc")!, `${base}/hevc_in`);
      try {
        const probe = await ffprobe(`${rtspBase}/hevc_in`, ["-rtsp_transport", "tcp"], 20_000);
        expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "hevc"]);
      } finally {
        await pub.stop();
      }
      await pub.done;
    }, 40_000);
  },
);
