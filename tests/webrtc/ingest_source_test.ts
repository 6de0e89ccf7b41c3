/**
 * The `webrtc:` source between two real strom servers: the first serves the demo stream over
 * WebRTC, the second pulls it through WHEP (`webrtc:http://.../api/webrtc?src=demo`) and through
 * the WebSocket signalling (`webrtc:ws://.../api/ws?src=demo`), and ffprobe decodes the video from
 * the second over RTSP. The source starts no program, so the API may add it; a server that refuses
 * or does not exist fails the dial with its reason; viewers leaving end the upstream session.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger, silentLogger } from "../../lib/core/log.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import { rtspModule } from "../../server/modules/rtsp.ts";
import { webrtcModule } from "../../server/modules/webrtc.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { until } from "./_peer.ts";

const hasFfprobe = await hasTool("ffprobe");

let upstream: RunningServer;
let downstream: RunningServer;
let rtspPort = 0;
let up = "";
let hub: StreamHub;
/** A WHEP endpoint that only redirects (307) to the upstream server, as a load balancer does; what it was asked. */
let redirector: Server;
const redirected: string[] = [];

beforeAll(async () => {
  redirector = createServer((req, res) => {
    redirected.push(`${req.method} ${req.url}`);
    res.writeHead(307, { Location: `${up}${req.url}` }).end();
  });
  await new Promise<void>((resolve) => redirector.listen(0, "127.0.0.1", resolve));
  const redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
  upstream = await startServer({
    // Per-peer ICE ports upstream (listen ""), so this file covers that mode; the shared port
    // (webrtc.listen, the default) is covered by ice_mux_test.ts, signalling_test.ts and WHIP ingest.
    // (An early shared-port version failed about one WHEP pull in three: werift started DTLS on a
    // different pair than the peer nominated when the peer checked from two sockets; the mux now
    // carries one peer address per session, and this file passed 4 of 4 runs on the shared port.)
    configSources: [JSON.stringify({ streams: { demo: "demo:" }, webrtc: { listen: "", filters: { loopback: true } } })],
    listen: "127.0.0.1:0",
    handleSignals: false,
    log: process.env.INGEST_DEBUG ? createLogger({ level: "debug" }) : silentLogger,
    modules: [webrtcModule],
  });
  up = upstream.urls[0];
  rtspPort = await freePort();
  downstream = await startServer({
    configSources: [JSON.stringify({
      streams: {
        whep: `webrtc:${up}/api/webrtc?src=demo`,
        viaws: `webrtc:${up.replace("http", "ws")}/api/ws?src=demo`,
        refused: `webrtc:${up}/api/webrtc?src=nosuchstream`,
        redirected: `webrtc:${redirectorUrl}/api/webrtc?src=demo`,
      },
      rtsp: { listen: `127.0.0.1:${rtspPort}` },
      webrtc: { listen: "127.0.0.1:0" },
    })],
    listen: "127.0.0.1:0",
    handleSignals: false,
    log: process.env.INGEST_DEBUG ? createLogger({ level: "debug" }) : silentLogger,
    modules: [rtspModule, webrtcModule],
  });
  hub = upstream.hub;
}, 30_000);

afterAll(async () => {
  await downstream?.close();
  await upstream?.close();
  redirector?.close();
}, 30_000);

const upstreamViewers = () => hub.get("demo")?.consumers().length ?? 0;

async function probe(name: string) {
  return await ffprobe(
    `rtsp://127.0.0.1:${rtspPort}/${name}`,
    ["-rtsp_transport", "tcp", "-count_frames", "-read_intervals", "%+2", "-select_streams", "v"],
    25_000,
  );
}

describe("webrtc: source from another strom", () => {
  test.skipIf(!hasFfprobe)("WHEP: ffprobe decodes the pulled video; the upstream session ends with the viewers", async () => {
    const result = await probe("whep");
    const video = result.streams.find((s) => s.codec_type === "video");
    expect(video?.codec_name).toBe("h264");
    expect(Number(video?.nb_read_frames)).toBeGreaterThan(10);
    const info = downstream.hub.get("whep")!.info().producers as { connection?: { format?: string; protocol?: string } }[];
    expect(info[0].connection?.format).toBe("webrtc");
    expect(info[0].connection?.protocol).toBe("whep");
    // Nobody watches any more: the source stops (grace period), DELETE ends the upstream session.
    await until("the upstream viewer to leave", () => upstreamViewers() === 0, 20_000);
  }, 60_000);

  test.skipIf(!hasFfprobe)("WHEP through a 307 (a load balancer): the session's relative Location is taken from where the answer came from", async () => {
    const result = await probe("redirected");
    expect(Number(result.streams.find((s) => s.codec_type === "video")?.nb_read_frames)).toBeGreaterThan(10);
    // The DELETE went to the upstream server that answered (not the redirector), so the session ends at once.
    await until("the upstream viewer to leave", () => upstreamViewers() === 0, 8_000);
    expect(redirected).toEqual(["POST /api/webrtc?src=demo"]);
  }, 60_000);

  test.skipIf(!hasFfprobe)("WebSocket signalling (/api/ws?src=): ffprobe decodes the pulled video", async () => {
    const result = await probe("viaws");
    const video = result.streams.find((s) => s.codec_type === "video");
    expect(video?.codec_name).toBe("h264");
    expect(Number(video?.nb_read_frames)).toBeGreaterThan(10);
    await until("the upstream viewer to leave", () => upstreamViewers() === 0, 20_000);
  }, 60_000);

  test("the API may add a webrtc: source (it runs no program)", async () => {
    const base = downstream.urls[0];
    const src = encodeURIComponent(`webrtc:${up}/api/webrtc?src=demo`);
    const res = await fetch(`${base}/api/streams?name=added&src=${src}`, { method: "PUT" });
    expect(res.status).toBeLessThan(300);
    await res.body?.cancel();
    expect(downstream.hub.get("added")?.sources[0]).toMatch(/^webrtc:http/);
  });

  test("a stream the other server does not have: the dial fails with the server's answer", async () => {
    const res = await fetch(`${downstream.urls[0]}/api/frame.mp4?src=refused`);
    const text = await res.text();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(text).toContain("the WHEP server answered 404");
  }, 30_000);
});
