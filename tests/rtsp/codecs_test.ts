/**
 * RTSP publish and read-back of other codecs (H.265 + Opus, MJPEG, PCMA), a reader that stops
 * reading a high-bitrate stream, and a relay reader that survives a publisher restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { StreamHub } from "../../lib/core/hub.ts";
import { tcpConnect } from "../../lib/runtime/mod.ts";
import { RtspClient } from "../../lib/protocol/rtsp/client.ts";
import { registerRtspSources } from "../../lib/protocol/rtsp/producer.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { ffprobe, hasEncoder } from "../_support/ffmpeg.ts";
import {
  decodeRtsp,
  hasPublisher,
  LAVFI_AUDIO,
  LAVFI_VIDEO,
  publish,
  publishAndWait,
  sleep,
  waitFor,
} from "./_helpers.ts";

const haveX265 = await hasEncoder("libx265");
const haveOpus = await hasEncoder("libopus");
const haveX264 = await hasEncoder("libx264");
// RFC 2435 carries only the standard Huffman tables: ffmpeg's RTP muxer needs `-huffman 0`.
const MJPEG_ARGS = ["-c:v", "mjpeg", "-q:v", "1", "-huffman", "0", "-pix_fmt", "yuvj420p"];

describe("rtsp publish and read-back of more codecs", () => {
  let hub: StreamHub;
  let server: RtspServer;
  let base = "";
  const children: ReturnType<typeof publish>[] = [];

  async function publishTo(name: string, args: string[]): Promise<ReturnType<typeof publish>> {
    const child = await publishAndWait(hub, name, `${base}/${name}`, args);
    children.push(child);
    return child;
  }

  beforeAll(async () => {
    registerRtspSources();
    hub = new StreamHub({ graceMs: 300, reconnectDelaysMs: [300] });
    for (const name of ["hevc", "mjpeg", "pcma", "restart"]) hub.set(name, []);
    server = await RtspServer.listen({
      hub,
      listen: { hostname: "127.0.0.1", port: 0 },
      maxBufferedBytes: 256 * 1024,
      sessionTimeoutMs: 2_000,
    });
    base = `rtsp://127.0.0.1:${server.addr.port}`;
    hub.set("mjpeg_relay", [`${base}/mjpeg`]);
    hub.set("restart_relay", [`${base}/restart#timeout=8`]);
  });

  afterAll(async () => {
    for (const c of children) c.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    await server?.close();
    await hub?.close();
    // The rtsp schemes stay registered: other test files in this process (Bun) dial them too.
  });

  it.skipIf(!haveX265 || !haveOpus)(
    "publishes and serves H.265 + Opus (skipped without libx265/libopus)",
    async () => {
      await publishTo("hevc", [
        ...LAVFI_VIDEO,
        ...LAVFI_AUDIO,
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-x265-params",
        "log-level=error:keyint=25",
        "-c:a",
        "libopus",
        "-b:a",
        "32k",
      ]);
      const probe = await ffprobe(`${base}/hevc`, ["-rtsp_transport", "tcp"], 10_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["hevc", "opus"]);
      const res = await decodeRtsp(`${base}/hevc`, 10);
      expect(res.code).toBe(0);
    },
    25_000,
  );

  it("publishes and serves MJPEG, also through a relay (JPEG depacketizer)", async () => {
    await publishTo("mjpeg", [
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=1280x720:rate=25",
      ...MJPEG_ARGS,
    ]);
    const probe = await ffprobe(`${base}/mjpeg`, ["-rtsp_transport", "tcp"], 10_000);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(["mjpeg"]);
    const relay = await ffprobe(`${base}/mjpeg_relay`, ["-rtsp_transport", "udp"], 10_000);
    expect(relay.streams.map((s) => s.codec_name)).toEqual(["mjpeg"]);
    expect(relay.streams[0].width).toBe(1280);
  }, 25_000);

  it("publishes and serves PCMA (static payload type 8)", async () => {
    await publishTo("pcma", [...LAVFI_AUDIO, "-c:a", "pcm_alaw", "-ar", "8000", "-ac", "1"]);
    const client = new RtspClient(`${base}/pcma`);
    await client.connect();
    const { sdp } = await client.describe();
    client.close();
    expect(sdp.medias[0].codecs[0]).toMatchObject({ name: "PCMA", clockRate: 8000, payloadType: 8 });
    const probe = await ffprobe(`${base}/pcma`, ["-rtsp_transport", "tcp"], 10_000);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(["pcm_alaw"]);
  }, 20_000);

  it("does not stall a reader when another stops reading a high-bitrate stream", async () => {
    if (!hasPublisher(hub, "mjpeg")) {
      await publishTo("mjpeg", [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1280x720:rate=25",
        ...MJPEG_ARGS,
      ]);
    }
    const url = `${base}/mjpeg`;
    const conn = await tcpConnect({ hostname: "127.0.0.1", port: server.addr.port });
    const enc = new TextEncoder();
    conn.write(enc.encode(`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 1\r\n\r\n`));
    conn.write(
      enc.encode(
        `SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n`,
      ),
    );
    await waitFor(
      "the stalled viewer's SETUP",
      () => [...server.sessions].some((s) => s.consumer?.tracks[0]?.transport),
      5_000,
    );
    const stalled = [...server.sessions].find((s) => s.consumer?.tracks[0]?.transport)!;
    conn.write(enc.encode(`PLAY ${url} RTSP/1.0\r\nCSeq: 3\r\nSession: ${stalled.id}\r\n\r\n`));
    try {
      await sleep(1000); // let its buffers fill (the bounded-queue logic itself is unit-tested in consumer_test.ts)
      const started = Date.now();
      const res = await decodeRtsp(url, 25);
      expect(res.code).toBe(0);
      expect(Date.now() - started).toBeLessThan(8_000);
      // The stalled viewer's socket stays bounded: its frames wait or drop instead of piling up.
      expect(stalled.conn.bufferedAmount).toBeLessThan(256 * 1024 + 4 * 1024 * 1024);
    } finally {
      conn.destroy();
    }
    await waitFor("the stalled session to be released", () => stalled.released, 5_000);
  }, 30_000);

  it.skipIf(!haveX264)("a relay reader resumes after the publisher restarts", async () => {
    const args = [
      ...LAVFI_VIDEO,
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-tune",
      "zerolatency",
      "-g",
      "10",
    ];
    const first = await publishTo("restart", args);
    const reader = new RtspClient(`${base}/restart_relay`);
    await reader.connect();
    const { sdp } = await reader.describe();
    const channel = await reader.setup(sdp.medias[0]);
    let packets = 0;
    reader.onRtp = (ch) => {
      if (ch === channel) packets++;
    };
    await reader.play();
    try {
      await waitFor("packets through the relay", () => packets > 20, 10_000);
      first.kill("SIGKILL");
      await first.exited;
      await waitFor("the publisher to be gone", () => !hasPublisher(hub, "restart"), 5_000);
      await sleep(300);
      const before = packets;
      await publishTo("restart", args);
      await waitFor("packets after the restart", () => packets > before + 60, 15_000);
    } finally {
      await reader.teardown();
    }
  }, 40_000);
});
