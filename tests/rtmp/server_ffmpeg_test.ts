/**
 * strom's RTMP server against real ffmpeg/ffprobe peers: ffmpeg publishes H.264+AAC (as OBS does,
 * also with an app and a stream key), ffprobe reads it back over RTMP and over strom's RTSP server,
 * strom's own RTMP client relays it, and wrong stream names are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { StreamHub } from "../../lib/core/hub.ts";
import { registerRtmpSources } from "../../lib/protocol/rtmp/producer.ts";
import { RtmpServer } from "../../lib/protocol/rtmp/server.ts";
import { registerRtspSources } from "../../lib/protocol/rtsp/producer.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { ffmpeg, ffprobe, hasEncoder } from "../_support/ffmpeg.ts";
import { H264_AAC_CAMERA, hasPublisher, publishRtmp, publishRtmpAndWait, waitFor } from "./_helpers.ts";

const haveX264 = await hasEncoder("libx264");

describe.skipIf(!haveX264)(
  haveX264 ? "rtmp server with ffmpeg peers" : "rtmp server with ffmpeg peers (skipped: ffmpeg lacks libx264)",
  () => {
    let hub: StreamHub;
    let rtmp: RtmpServer;
    let rtsp: RtspServer;
    let base = "";
    let rtspBase = "";
    let publisher: ReturnType<typeof publishRtmp> | undefined;

    beforeAll(async () => {
      registerRtmpSources();
      registerRtspSources();
      hub = new StreamHub({ graceMs: 500, reconnectDelaysMs: [300] });
      hub.set("cam", []);
      hub.set("obs", []);
      rtmp = await RtmpServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      rtsp = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      base = `rtmp://127.0.0.1:${rtmp.addr.port}`;
      rtspBase = `rtsp://127.0.0.1:${rtsp.addr.port}`;
      hub.set("relay", [`${base}/cam`]);
      publisher = await publishRtmpAndWait(hub, "cam", `${base}/cam`, H264_AAC_CAMERA);
    });

    afterAll(async () => {
      publisher?.kill("SIGKILL");
      await publisher?.exited;
      await rtmp?.close();
      await rtsp?.close();
      await hub?.close();
    });

    it("takes ffmpeg's H.264+AAC publish as the stream's source", () => {
      const info = hub.get("cam")!.info() as unknown as { producers: { connection?: { medias?: string[] } }[] };
      const medias = info.producers.flatMap((p) => p.connection?.medias ?? []).join(" | ");
      expect(medias).toContain("H264");
      expect(medias).toContain("MPEG4-GENERIC");
    });

    it("serves the published stream to ffprobe over RTMP", async () => {
      const probe = await ffprobe(`${base}/cam`, [], 15_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      expect(probe.streams.find((s) => s.codec_type === "video")?.width).toBe(320);
    }, 20_000);

    it("serves the published stream to ffprobe over RTSP", async () => {
      const probe = await ffprobe(`${rtspBase}/cam`, ["-rtsp_transport", "tcp"], 15_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
    }, 20_000);

    it("is decoded by ffmpeg over RTMP without errors", async () => {
      const res = await ffmpeg(["-i", `${base}/cam`, "-frames:v", "30", "-f", "null", "-"], 20_000);
      expect(res.code).toBe(0);
      expect(res.stderr.trim()).toBe("");
    }, 25_000);

    it("relays through strom's RTMP client (rtmp:// source) to an RTSP reader", async () => {
      const probe = await ffprobe(`${rtspBase}/relay`, ["-rtsp_transport", "tcp"], 15_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      const res = await ffmpeg(
        ["-rtsp_transport", "tcp", "-i", `${rtspBase}/relay`, "-frames:v", "20", "-f", "null", "-"],
        20_000,
      );
      expect(res.code).toBe(0);
    }, 40_000);

    it("takes an OBS-style publish: server URL with an app, stream key naming the stream", async () => {
      const child = await publishRtmpAndWait(hub, "obs", `${base}/live/obs`, H264_AAC_CAMERA);
      try {
        const probe = await ffprobe(`${base}/live/obs`, [], 15_000);
        expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      } finally {
        child.kill("SIGKILL");
        await child.exited;
      }
      await waitFor("the obs publisher to leave", () => !hasPublisher(hub, "obs"));
    }, 30_000);

    it("refuses a publish to a stream that does not exist, with ffmpeg failing", async () => {
      const res = await ffmpeg(["-re", ...H264_AAC_CAMERA, "-t", "2", "-f", "flv", `${base}/live/nope`], 15_000);
      expect(res.code).not.toBe(0);
      expect(hub.get("nope")).toBeUndefined();
    }, 20_000);

    it("refuses to play a stream that does not exist", async () => {
      await expect(ffprobe(`${base}/nope`, [], 10_000)).rejects.toThrow();
    }, 15_000);
  },
);
