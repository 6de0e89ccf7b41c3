/**
 * Keyframes requested upstream: a WebRTC viewer of a stream whose GOP cache has no keyframe (an
 * RTSP camera that only sends its IDR when asked) makes strom send the camera an RTCP PLI, and the
 * keyframe the camera answers with reaches the viewer. Once a keyframe is cached, a viewer's PLI is
 * answered from the cache and the camera is not asked again.
 *
 * The camera is a real RTSP peer on loopback (TCP interleaved), sending H.264 that ffmpeg encoded:
 * P-frames in a loop, and the IDR (with SPS and PPS) only after it gets a PLI on the RTCP channel.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Stream } from "../../lib/core/stream.ts";
import { registerRtspSources } from "../../lib/protocol/rtsp/producer.ts";
import { createPacketizer } from "../../lib/protocol/rtsp/pay.ts";
import { WebRtcServer } from "../../lib/protocol/webrtc/mod.ts";
import { annexbToAvcc, splitAnnexb } from "../../lib/codec/annexb/annexb.ts";
import { buildSpropParameterSets } from "../../lib/codec/h264/fmtp.ts";
import { serializeRtp } from "../../lib/rtp/packet.ts";
import { type TcpConn, tcpListen, type TcpListener } from "../../lib/runtime/mod.ts";
import { RtspHeaders } from "../../lib/protocol/rtsp/headers.ts";
import { interleavedFrame, RtspMessageParser, serializeResponse } from "../../lib/protocol/rtsp/message.ts";
import { parseTransport } from "../../lib/protocol/rtsp/transport.ts";
import { ffmpeg, hasEncoder } from "../_support/ffmpeg.ts";
import { hasTool } from "../_support/process.ts";
import { until, Viewer } from "./_peer.ts";

const hasX264 = await hasTool("ffmpeg") && await hasEncoder("libx264");
registerRtspSources();

/** ffmpeg's H.264 (one IDR, then P-frames) as access units in AVCC, plus SPS and PPS. */
async function encode(): Promise<{ sps: Uint8Array; pps: Uint8Array; idr: Uint8Array; p: Uint8Array[] }> {
  const res = await ffmpeg([
    "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "2",
    "-pix_fmt", "yuv420p", "-c:v", "libx264", "-profile:v", "baseline", "-g", "1000", "-bf", "0", "-x264-params", "slices=1",
    "-f", "h264", "pipe:1",
  ]);
  if (res.code !== 0) throw new Error(`ffmpeg failed: ${res.stderr}`);
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  const units: Uint8Array[][] = [];
  let pending: Uint8Array[] = [];
  for (const nal of splitAnnexb(res.stdout)) {
    const type = nal[0] & 0x1f;
    if (type === 7) sps = nal;
    else if (type === 8) pps = nal;
    if (type === 9 || type === 6) continue;
    pending.push(nal);
    if (type === 1 || type === 5) {
      units.push(pending);
      pending = [];
    }
  }
  const avcc = (nals: Uint8Array[]) => {
    const withCodes: number[] = [];
    for (const n of nals) withCodes.push(0, 0, 0, 1, ...n);
    return annexbToAvcc(new Uint8Array(withCodes));
  };
  return { sps: sps!, pps: pps!, idr: avcc(units[0]), p: units.slice(1).map(avcc) };
}

/** An RTSP camera that sends its keyframe only when asked (RTCP PLI), and counts the PLIs. */
class PliCamera {
  plis = 0;
  #listener: TcpListener | undefined;
  readonly #open = new Set<TcpConn>();
  readonly #timers = new Set<ReturnType<typeof setInterval>>();
  constructor(readonly video: Awaited<ReturnType<typeof encode>>) {}

  get url(): string {
    return `rtsp://127.0.0.1:${this.#listener!.addr.port}/cam`;
  }

  async start(): Promise<this> {
    this.#listener = await tcpListen({ hostname: "127.0.0.1", port: 0, onConnection: (c) => this.#serve(c) });
    return this;
  }

  #serve(conn: TcpConn): void {
    this.#open.add(conn);
    const parser = new RtspMessageParser();
    const enc = new TextEncoder();
    let channel = 0;
    let wantKeyframe = false;
    conn.read((chunk) => {
      parser.push(chunk);
      for (let ev = parser.next(); ev; ev = parser.next()) {
        if (ev.type === "interleaved") {
          // RTCP on the channel after the video's: a PSFB (206) with FMT 1 is a PLI.
          const d = ev.data;
          if (ev.channel === channel + 1 && d.length >= 12 && d[1] === 206 && (d[0] & 0x1f) === 1) {
            this.plis++;
            wantKeyframe = true;
          }
          continue;
        }
        if (ev.type !== "request") continue;
        const req = ev.request;
        const headers = new RtspHeaders({ CSeq: req.headers.get("CSeq") ?? "0" });
        let body = "";
        if (req.method === "OPTIONS") headers.set("Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN");
        else if (req.method === "DESCRIBE") {
          headers.set("Content-Base", `${this.url}/`);
          headers.set("Content-Type", "application/sdp");
          const sprop = buildSpropParameterSets([this.video.sps, this.video.pps]);
          body = [
            "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=PLI camera", "t=0 0", "a=control:*",
            "m=video 0 RTP/AVP 96", "a=rtpmap:96 H264/90000",
            `a=fmtp:96 packetization-mode=1;profile-level-id=42c01e;sprop-parameter-sets=${sprop}`,
            "a=recvonly", "a=control:video", "",
          ].join("\r\n");
        } else if (req.method === "SETUP") {
          const t = parseTransport(req.headers.get("Transport") ?? "")[0];
          channel = t?.interleaved?.[0] ?? 0;
          headers.set("Session", "PLI;timeout=60");
          headers.set("Transport", `RTP/AVP/TCP;unicast;interleaved=${channel}-${channel + 1}`);
        } else if (req.method === "PLAY") {
          const pay = createPacketizer({ name: "H264", clockRate: 90000, payloadType: 96 }, "video", 1200);
          let seq = 0;
          let frame = 0;
          const timer = setInterval(() => {
            const data = wantKeyframe ? this.video.idr : this.video.p[frame++ % this.video.p.length];
            const keyframe = wantKeyframe;
            wantKeyframe = false;
            const ts = frame * 3600;
            for (const pkt of pay.packetize({ timestamp: ts, keyframe, data })) {
              const rtp = serializeRtp({ ...pkt, payloadType: 96, sequenceNumber: seq++ & 0xffff, timestamp: ts, ssrc: 0xbeef });
              conn.write(interleavedFrame(channel, rtp));
            }
          }, 40);
          this.#timers.add(timer);
          conn.closed.then(() => clearInterval(timer));
        }
        conn.write(serializeResponse({ status: 200, reason: "OK", headers, body: enc.encode(body) }));
      }
    }, () => this.#open.delete(conn));
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    for (const c of this.#open) c.destroy();
    await this.#listener?.close();
  }
}

describe("keyframes requested upstream (RTCP PLI to an RTSP camera)", () => {
  let camera: PliCamera | undefined;
  let stream: Stream | undefined;
  let server: WebRtcServer | undefined;
  let viewer: Viewer | undefined;
  afterEach(async () => {
    await viewer?.close();
    await server?.close();
    await stream?.close();
    await camera?.close();
    viewer = undefined;
    server = undefined;
    stream = undefined;
    camera = undefined;
  });

  test.skipIf(!hasX264)("a viewer with no cached keyframe gets the camera's IDR after strom sends it a PLI (needs ffmpeg with libx264)", async () => {
    camera = await new PliCamera(await encode()).start();
    stream = new Stream("cam", [camera.url], { graceMs: 200 });
    server = new WebRtcServer({ ice: { bindAddress: "127.0.0.1" }, connectTimeoutMs: 5000 });
    viewer = new Viewer({ audio: false });
    const session = await server.play(stream, await viewer.offer());
    await viewer.accept(session.answer);
    await until("the viewer to connect", () => session.peer.state === "connected", 10_000);
    // No keyframe anywhere until the camera is asked: the PLI goes out and the IDR comes back.
    await until("a PLI at the camera", () => camera!.plis > 0, 5_000);
    await until("the keyframe at the viewer", () => viewer!.keyframeSince(0), 5_000);
    expect(viewer.videoLog.length).toBeGreaterThan(0);
    // The first packet the viewer got is the keyframe (strom drops P-frames before it).
    expect([24, 7, 5]).toContain(viewer.videoLog[0].nal);
    await until("P-frames after it", () => viewer!.videoLog.some((p) => p.nal === 1), 5_000);

    // Now the GOP cache has the keyframe: the viewer's PLI is served from it, the camera is not asked.
    const plis = camera.plis;
    const before = viewer.videoLog.length;
    await new Promise((r) => setTimeout(r, 600)); // past the per-track 500 ms request limit
    await viewer.sendPli();
    const track = session.consumer.tracks[0];
    await until("the PLI at strom", () => track.keyframeRequests > 0, 5_000);
    await until("a keyframe from the cache", () => viewer!.keyframeSince(before), 5_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(camera.plis).toBe(plis);
  }, 30_000);
});
