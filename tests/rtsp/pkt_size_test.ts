/**
 * go2rtc's `pkt_size`: `rtsp.pkt_size` in the config (RtspServer `packetSize`) and `?pkt_size=N` on
 * a viewer's URL re-packetize the camera's frames so no RTP packet is larger than N bytes; without
 * it the camera's own packets are forwarded. ffmpeg publishes (its packets are ~1400 bytes) and
 * ffmpeg plays the re-packetized stream back.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { StreamHub } from "../../lib/core/hub.ts";
import { RtspClient, RtspError } from "../../lib/protocol/rtsp/client.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { hasEncoder } from "../_support/ffmpeg.ts";
import { decodeRtsp, LAVFI_AUDIO, publish, publishAndWait } from "./_helpers.ts";

const haveX264 = await hasEncoder("libx264");

/** Plays `url` with strom's client for about `ms` and returns the sizes of the video RTP packets. */
async function videoPacketSizes(url: string, ms: number): Promise<number[]> {
  const client = new RtspClient(url);
  const sizes: number[] = [];
  try {
    await client.connect();
    const { sdp } = await client.describe();
    const video = sdp.medias.find((m) => m.kind === "video");
    if (!video) throw new Error("no video in the SDP");
    const channel = await client.setup(video);
    client.onRtp = (ch, pkt) => {
      // Header (12 bytes, no CSRC or extension from strom) + payload + padding.
      if (ch === channel) sizes.push(12 + pkt.payload.length + (pkt.padding ?? 0));
    };
    await client.play();
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    client.close();
  }
  return sizes;
}

describe.skipIf(!haveX264)(
  haveX264 ? "rtsp pkt_size" : "rtsp pkt_size (skipped: ffmpeg lacks libx264)",
  () => {
    let hub: StreamHub;
    let server: RtspServer;
    let small: RtspServer;
    let base = "";
    let publisher: ReturnType<typeof publish>;

    beforeAll(async () => {
      hub = new StreamHub({ graceMs: 500 });
      hub.set("cam", []);
      server = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      small = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 }, packetSize: 500 });
      base = `rtsp://127.0.0.1:${server.addr.port}`;
      // Big frames, so ffmpeg's own packets are full size (~1400 bytes).
      publisher = await publishAndWait(hub, "cam", `${base}/cam`, [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25,noise=alls=20:allf=t",
        ...LAVFI_AUDIO,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "25",
        "-c:a",
        "aac",
      ]);
    });

    afterAll(async () => {
      publisher?.kill("SIGKILL");
      await publisher?.exited;
      await small?.close();
      await server?.close();
      await hub?.close();
    });

    it("forwards the publisher's own packets when pkt_size is not set", async () => {
      const sizes = await videoPacketSizes(`${base}/cam`, 1500);
      expect(sizes.length).toBeGreaterThan(20);
      expect(Math.max(...sizes)).toBeGreaterThan(1000);
    }, 15_000);

    it("re-packetizes at ?pkt_size=N and ffmpeg decodes the result", async () => {
      const sizes = await videoPacketSizes(`${base}/cam?pkt_size=300`, 1500);
      expect(sizes.length).toBeGreaterThan(20);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(300);
      const res = await decodeRtsp(`${base}/cam?pkt_size=300`, 10);
      expect(res.stderr).not.toMatch(/error|corrupt|missing/i);
      expect(res.code).toBe(0);
    }, 30_000);

    it("applies the server-wide packetSize (rtsp.pkt_size), and the URL overrides it", async () => {
      const url = `rtsp://127.0.0.1:${small.addr.port}/cam`;
      const sizes = await videoPacketSizes(url, 1500);
      expect(sizes.length).toBeGreaterThan(20);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(500);
      const bigger = await videoPacketSizes(`${url}?pkt_size=1000`, 1500);
      expect(Math.max(...bigger)).toBeGreaterThan(500);
      expect(Math.max(...bigger)).toBeLessThanOrEqual(1000);
      const res = await decodeRtsp(url, 10);
      expect(res.code).toBe(0);
    }, 30_000);

    it("answers 400 naming the value when ?pkt_size= is out of range", async () => {
      for (const bad of ["12", "abc", "70000"]) {
        const client = new RtspClient(`${base}/cam?pkt_size=${bad}`);
        await client.connect();
        try {
          await client.describe();
          throw new Error(`DESCRIBE with pkt_size=${bad} should have failed`);
        } catch (error) {
          expect(error).toBeInstanceOf(RtspError);
          expect((error as RtspError).status).toBe(400);
        } finally {
          client.close();
        }
      }
    }, 15_000);
  },
);
