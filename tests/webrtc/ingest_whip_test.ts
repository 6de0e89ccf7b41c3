/**
 * WHIP ingest (`POST /api/webrtc?dst=`) on a real server with werift as the publishing peer: real
 * H.264 from ffmpeg (RTP) goes over WebRTC into strom, and ffprobe reads it back over RTSP and
 * decodes frames. strom asks the publisher for keyframes (PLI) until the first one arrives;
 * DELETE on the Location ends the publish. Bad offers, no common codec and a user without the
 * publish permission get clear errors, with no session left behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RTCRtpCodecParameters } from "werift";
import type { StreamHub } from "../../lib/core/hub.ts";
import { silentLogger } from "../../lib/core/log.ts";
import { rtspModule } from "../../server/modules/rtsp.ts";
import { webrtcModule } from "../../server/modules/webrtc.ts";
import { startServer } from "../../server/server.ts";
import { ffprobe, hasEncoder } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { Publisher } from "./ingest_peer.ts";
import { until } from "./_peer.ts";

const hasFfmpeg = (await hasTool("ffmpeg")) && (await hasTool("ffprobe")) && (await hasEncoder("libx264"));

let base = "";
let rtspPort = 0;
let hub: StreamHub;
let close: () => Promise<void>;

const admin = { Authorization: `Basic ${btoa("admin:s3cret")}` };
const kiosk = { Authorization: `Basic ${btoa("kiosk:view")}` };

beforeAll(async () => {
  rtspPort = await freePort();
  const s = await startServer({
    configSources: [JSON.stringify({
      api: {
        local_auth: true,
        username: "admin",
        password: "s3cret",
        auth: { users: { kiosk: { password: "view", role: "viewer" } } },
      },
      streams: { cam: [], other: [] },
      rtsp: { listen: `127.0.0.1:${rtspPort}` },
      webrtc: { listen: "127.0.0.1:0" },
    })],
    listen: "127.0.0.1:0",
    handleSignals: false,
    log: silentLogger,
    modules: [rtspModule, webrtcModule],
  });
  base = s.urls[0];
  hub = s.hub;
  close = () => s.close();
}, 30_000);

afterAll(async () => {
  await close?.();
}, 30_000);

const producers = (name: string) => hub.get(name)?.info().producers?.length ?? 0;

function post(dst: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${base}/api/webrtc?dst=${dst}`, {
    method: "POST",
    headers: { ...admin, "Content-Type": "application/sdp", ...headers },
    body,
  });
}

describe("WHIP ingest: POST /api/webrtc?dst=", () => {
  test.skipIf(!hasFfmpeg)("werift publishes ffmpeg's H.264; ffprobe decodes it over RTSP; DELETE ends it", async () => {
    const publisher = new Publisher();
    try {
      const res = await post("cam", await publisher.offer());
      const answer = await res.text();
      expect(res.status).toBe(201);
      expect(res.headers.get("content-type")).toContain("application/sdp");
      const location = res.headers.get("location") ?? "";
      expect(location).toMatch(/^webrtc\?id=[0-9a-f-]+$/);
      // VP8 came first in the offer; strom takes H.264 and answers recvonly.
      expect(answer).toContain("a=rtpmap:102 H264/90000");
      expect(answer).not.toContain("VP8");
      expect(answer).toContain("a=recvonly");
      expect(answer).toMatch(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
      await publisher.accept(answer);
      await until("the publisher to join the stream", () => producers("cam") === 1, 10_000);
      // Nothing sent yet: strom keeps asking for a keyframe.
      await until("a PLI from strom", () => publisher.plis > 0, 5_000);
      await publisher.startMedia(20);

      const probe = await ffprobe(
        `rtsp://kiosk:view@127.0.0.1:${rtspPort}/cam`,
        ["-rtsp_transport", "tcp", "-count_frames", "-read_intervals", "%+3", "-select_streams", "v"],
        25_000,
      ).catch((error) => {
        throw new Error(`${error.message}\nffmpeg publisher: ${publisher.log()}`);
      });
      const video = probe.streams.find((s) => s.codec_type === "video");
      expect(video?.codec_name).toBe("h264");
      expect(video?.width).toBe(320);
      expect(video?.height).toBe(240);
      expect(Number(video?.nb_read_frames)).toBeGreaterThan(20);

      const info = hub.get("cam")!.info().producers as { connection?: { format?: string; protocol?: string; bytesIn?: number } }[];
      expect(info[0].connection?.format).toBe("webrtc");
      expect(info[0].connection?.protocol).toBe("whip");
      expect(info[0].connection?.bytesIn).toBeGreaterThan(10_000);

      // A viewer's DELETE is refused; the publisher's (admin) ends it.
      const refused = await fetch(`${base}/api/${location}`, { method: "DELETE", headers: kiosk });
      expect(refused.status).toBe(403);
      const deleted = await fetch(`${base}/api/${location}`, { method: "DELETE", headers: admin });
      expect(deleted.status).toBe(200);
      await until("the publisher to leave the stream", () => producers("cam") === 0, 5_000);
      const again = await fetch(`${base}/api/${location}`, { method: "DELETE", headers: admin });
      expect(again.status).toBe(404);
      await again.body?.cancel();
    } finally {
      await publisher.close();
    }
  }, 60_000);

  test("JSON {type, sdp} as go2rtc: 201 and {type: answer, sdp}; the session ends when the peer closes", async () => {
    const publisher = new Publisher();
    try {
      const res = await fetch(`${base}/api/webrtc?dst=other`, {
        method: "POST",
        headers: { ...admin, "Content-Type": "application/json" },
        body: JSON.stringify({ type: "offer", sdp: await publisher.offer() }),
      });
      expect(res.status).toBe(201);
      expect(res.headers.get("location")).toMatch(/^webrtc\?id=/);
      const body = await res.json();
      expect(body.type).toBe("answer");
      await publisher.accept(body.sdp);
      await until("the publisher to join the stream", () => producers("other") === 1, 10_000);
    } finally {
      await publisher.close();
    }
    await until("the publisher to leave once the peer is gone", () => producers("other") === 0, 15_000);
  }, 30_000);

  test("a viewer without the publish permission gets 403, no credentials 401", async () => {
    const publisher = new Publisher();
    try {
      const offer = await publisher.offer();
      const viewer = await post("cam", offer, kiosk);
      expect(viewer.status).toBe(403);
      expect((await viewer.json()).message).toContain('may not publish to stream "cam"');
      const anonymous = await fetch(`${base}/api/webrtc?dst=cam`, {
        method: "POST",
        headers: { "Content-Type": "application/sdp" },
        body: offer,
      });
      expect(anonymous.status).toBe(401);
      await anonymous.body?.cancel();
      expect(producers("cam")).toBe(0);
    } finally {
      await publisher.close();
    }
  });

  test("bad SDP is 400 saying what is wrong; an unknown stream is 404", async () => {
    const bad = await post("cam", "hello");
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toContain('must start with "v=0"');
    const noIce = "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n" +
      "a=rtpmap:102 H264/90000\r\na=sendonly\r\na=mid:0\r\n";
    const res = await post("cam", noIce);
    expect(res.status).toBe(400);
    expect((await res.json()).message).toContain("ICE credentials");
    const missing = await post("nosuchcam", noIce);
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
  });

  test("no common codec is 415, naming what the peer sends and what strom takes", async () => {
    const publisher = new Publisher({
      video: [new RTCRtpCodecParameters({ mimeType: "video/VP8", clockRate: 90000, payloadType: 96 })],
    });
    try {
      const res = await post("cam", await publisher.offer());
      expect(res.status).toBe(415);
      const body = await res.json();
      expect(body.error).toBe("WebRtcIngestCodecError");
      expect(body.message).toContain("video:VP8/90000");
      expect(body.message).toContain("H264");
      expect(producers("cam")).toBe(0);
    } finally {
      await publisher.close();
    }
  });
});
