/**
 * AAC-only streams reach WebRTC peers as Opus: the demo stream (H.264 + AAC) played to werift
 * peers through a WebRtcServer with OpusFeeds gets Opus RTP that ffmpeg decodes to sound, from one
 * ffmpeg shared by every peer, which ends after the last one left. Through the whole server: the
 * `webrtc.audio_transcode` switch, and the explicit recipe (`ffmpeg:cam#audio=opus` as a second
 * source) played over WHEP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { RTCPeerConnection, RTCRtpCodecParameters } from "werift";
import process from "node:process";
import { silentLogger } from "../../lib/core/log.ts";
import { Stream } from "../../lib/core/stream.ts";
import { TsMuxer } from "../../lib/format/mpegts/ts_muxer.ts";
import { registerDemoSource } from "../../lib/protocol/demo/register.ts";
import { OpusFeeds } from "../../lib/protocol/ffmpeg/opus_feed.ts";
import { WebRtcServer } from "../../lib/protocol/webrtc/mod.ts";
import { startServer } from "../../server/server.ts";
import { ffmpegDecode, hasEncoder } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { until, Viewer } from "./_peer.ts";

registerDemoSource();

const hasOpus = await hasEncoder("libopus").catch(() => false);

/** Opus packets a viewer received: RTP timestamp and payload. */
function collectOpus(viewer: Viewer): { ts: number; pt: number; ssrc: number; data: Uint8Array }[] {
  const got: { ts: number; pt: number; ssrc: number; data: Uint8Array }[] = [];
  viewer.audio!.onTrack.subscribe((track) =>
    track.onReceiveRtp.subscribe((rtp) => {
      const h = rtp.header;
      got.push({ ts: h.timestamp, pt: h.payloadType, ssrc: h.ssrc, data: new Uint8Array(rtp.payload) });
    })
  );
  return got;
}

/** Decodes received Opus packets with ffmpeg (muxed into MPEG-TS): seconds of sound and its RMS. */
async function decodeOpus(packets: { ts: number; data: Uint8Array }[]): Promise<{ seconds: number; rms: number }> {
  const muxer = new TsMuxer([{ codec: { name: "OPUS", clockRate: 48000, channels: 2 } }]);
  const parts: Uint8Array[] = [muxer.header()];
  const base = packets[0].ts;
  for (const p of packets) {
    const bytes = muxer.push(0, { timestamp: (p.ts - base) >>> 0, keyframe: true, data: p.data });
    if (bytes) parts.push(bytes.slice());
  }
  const ts = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    ts.set(p, off);
    off += p.length;
  }
  const out = await ffmpegDecode(ts, "ts", ["-f", "s16le", "-ac", "1", "-ar", "48000", "-"]);
  expect(out.code).toBe(0);
  const samples = new Int16Array(out.stdout.buffer, out.stdout.byteOffset, Math.floor(out.stdout.length / 2));
  let sum = 0;
  for (const s of samples) sum += s * s;
  return { seconds: samples.length / 48000, rms: Math.sqrt(sum / Math.max(1, samples.length)) };
}

/** The formats of a stream's consumers, sorted (`webrtc`, `opus-transcoder`, ...). */
function formatsOf(stream: Stream): string[] {
  return (stream.info().consumers as { format: string }[]).map((c) => c.format).sort();
}

function processAlive(pid: number | undefined): boolean {
  return pid !== undefined && existsSync(`/proc/${pid}`);
}

describe.skipIf(!hasOpus)("AAC to Opus for WebRTC peers (werift)", () => {
  let stream: Stream;
  let feeds: OpusFeeds;
  let server: WebRtcServer;
  beforeAll(() => {
    stream = new Stream("demo", ["demo:"], { graceMs: 200 });
    feeds = new OpusFeeds({ lingerMs: 300 });
    server = new WebRtcServer({
      ice: { bindAddress: "127.0.0.1" },
      connectTimeoutMs: 3000,
      silenceTimeoutMs: 3000,
      audioFallback: feeds,
    });
  });
  afterAll(async () => {
    await server.close();
    await feeds.close();
    await stream.close();
  });

  test("a peer of the demo stream gets Opus that decodes to sound, and ffmpeg ends after it left", async () => {
    const viewer = new Viewer();
    const opus = collectOpus(viewer);
    let pid: number | undefined;
    try {
      const session = await server.play(stream, await viewer.offer());
      expect(session.answer).toMatch(/a=rtpmap:111 opus\/48000\/2/);
      expect(session.answer).toMatch(/m=audio[\s\S]*a=sendonly/);
      await viewer.accept(session.answer);
      await until("2 s of Opus", () => opus.length >= 100, 25_000);
      expect(viewer.packets.video).toBeGreaterThan(10);
      expect(opus.every((p) => p.pt === 111)).toBe(true);
      // One consumer for the peer, one for the transcoder, with its ffmpeg running.
      expect(formatsOf(stream)).toEqual(["opus-transcoder", "webrtc"]);
      const feed = feeds.feedOf(stream)!;
      pid = feed.info().pid;
      expect(processAlive(pid)).toBe(true);
      const sound = await decodeOpus(opus);
      expect(sound.seconds).toBeGreaterThan(1.5);
      expect(sound.rms).toBeGreaterThan(100); // not silence
      // The sender reports account for the transcoder's delay (it is measured).
      expect(feed.latencyTicks()).toBeGreaterThan(0);
    } finally {
      await viewer.close();
    }
    await until("the session to end", () => server.sessions.size === 0, 8_000);
    await until("the feed to close after its linger", () => feeds.size === 0, 5_000);
    await until("ffmpeg to exit", () => !processAlive(pid), 5_000);
    await until("no consumer", () => stream.consumers().length === 0, 2_000);
  }, 50_000);

  test("two peers share one transcoder; it stays while one is left", async () => {
    const a = new Viewer();
    const b = new Viewer();
    const opusA = collectOpus(a);
    const opusB = collectOpus(b);
    let pid: number | undefined;
    try {
      const sa = await server.play(stream, await a.offer());
      await a.accept(sa.answer);
      const sb = await server.play(stream, await b.offer());
      await b.accept(sb.answer);
      await until("Opus at both", () => opusA.length > 25 && opusB.length > 25, 15_000);
      expect(feeds.size).toBe(1);
      const feed = feeds.feedOf(stream)!;
      pid = feed.info().pid;
      expect(feed.viewers).toBe(2);
      expect(formatsOf(stream)).toEqual(["opus-transcoder", "webrtc", "webrtc"]);
      await a.close();
      await until("the first session to end", () => server.sessions.size === 1, 8_000);
      expect(feed.viewers).toBe(1);
      const before = opusB.length;
      await new Promise((r) => setTimeout(r, 800)); // longer than the linger
      expect(feeds.feedOf(stream)).toBe(feed);
      expect(processAlive(pid)).toBe(true);
      expect(opusB.length).toBeGreaterThan(before + 10);
    } finally {
      await a.close();
      await b.close();
    }
    await until("both sessions to end", () => server.sessions.size === 0, 8_000);
    await until("the feed to close", () => feeds.size === 0, 5_000);
    await until("ffmpeg to exit", () => !processAlive(pid), 5_000);
  }, 50_000);

  test("a transcoder killed under its peer is started again and the peer's sound goes on", async () => {
    const viewer = new Viewer();
    const opus = collectOpus(viewer);
    let pid: number | undefined;
    try {
      const session = await server.play(stream, await viewer.offer());
      await viewer.accept(session.answer);
      await until("Opus", () => opus.length > 25, 15_000);
      const first = feeds.feedOf(stream)!;
      const killed = first.info().pid!;
      const video = viewer.packets.video;
      process.kill(killed, "SIGKILL");
      await until("a new transcoder", () => {
        const now = feeds.feedOf(stream);
        return !!now && now !== first && now.info().pid !== undefined;
      }, 10_000);
      const feed = feeds.feedOf(stream)!;
      pid = feed.info().pid;
      expect(pid).not.toBe(killed);
      expect(feed.viewers).toBe(1);
      const before = opus.length;
      await until("Opus from the new transcoder", () => opus.length > before + 25, 10_000);
      expect(viewer.packets.video).toBeGreaterThan(video);
      expect(formatsOf(stream)).toEqual(["opus-transcoder", "webrtc"]);
    } finally {
      await viewer.close();
    }
    await until("the session to end", () => server.sessions.size === 0, 8_000);
    await until("the feed to close", () => feeds.size === 0, 5_000);
    await until("ffmpeg to exit", () => !processAlive(pid), 5_000);
  }, 50_000);

  test("lip sync: the sender reports put audio and video of the same moment together", async () => {
    const viewer = new Viewer();
    const opus = collectOpus(viewer);
    // The latest sender report per SSRC: NTP seconds and RTP timestamp.
    const reports = new Map<number, { ntp: number; rtp: number }>();
    const onRtcp = (packet: unknown) => {
      const sr = packet as { type?: number; ssrc?: number; senderInfo?: { ntpTimestamp: bigint; rtpTimestamp: number } };
      if (sr.type !== 200 || !sr.senderInfo || sr.ssrc === undefined) return;
      const ntp = sr.senderInfo.ntpTimestamp;
      reports.set(sr.ssrc, { ntp: Number(ntp >> 32n) + Number(ntp & 0xffffffffn) / 2 ** 32, rtp: sr.senderInfo.rtpTimestamp });
    };
    viewer.video.receiver.onRtcp.subscribe(onRtcp);
    viewer.audio!.receiver.onRtcp.subscribe(onRtcp);
    try {
      const session = await server.play(stream, await viewer.offer());
      await viewer.accept(session.answer);
      await until("Opus", () => opus.length > 50, 15_000);
      // Past the transcoder's start-up, with fresh reports on both tracks.
      await new Promise((r) => setTimeout(r, 2500));
      reports.clear();
      await until("sender reports for audio and video", () => reports.has(opus.at(-1)!.ssrc) && reports.has(viewer.videoSsrc), 10_000);
      const video = session.consumer.tracks.find((t) => t.media.kind === "video")!;
      const audio = session.consumer.tracks.find((t) => t.media.kind === "audio")!;
      const v = reports.get(viewer.videoSsrc)!;
      const a = reports.get(opus.at(-1)!.ssrc)!;
      // The demo's moment of the video report (both demo tracks count from 0 together) ...
      const moment = ((v.rtp - video.timestampOffset) >>> 0) / 90000;
      // ... and when the audio report says that moment was captured.
      const audioRtp = (Math.round(moment * 48000) + audio.timestampOffset) >>> 0;
      const audioNtp = a.ntp + ((audioRtp - a.rtp) | 0) / 48000;
      const skewMs = (audioNtp - v.ntp) * 1000;
      // Lip sync holds within ITU-R BT.1359's detectability (+45 ms/-125 ms), with room for a busy machine.
      expect(Math.abs(skewMs)).toBeLessThan(100);
    } finally {
      await viewer.close();
    }
    await until("the session to end", () => server.sessions.size === 0, 8_000);
  }, 50_000);

  test("a peer that asks for audio only gets Opus too (nothing else in common)", async () => {
    const pc = new RTCPeerConnection({
      bundlePolicy: "max-bundle",
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ["127.0.0.1"],
      iceInterfaceAddresses: { udp4: "127.0.0.1" } as never,
      codecs: {
        audio: [new RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: 111 })],
      },
    });
    let packets = 0;
    pc.addTransceiver("audio", { direction: "recvonly" }).onTrack.subscribe((t) =>
      t.onReceiveRtp.subscribe(() => void packets++)
    );
    try {
      await pc.setLocalDescription(await pc.createOffer());
      const session = await server.play(stream, pc.localDescription!.sdp);
      expect(session.answer).toMatch(/a=rtpmap:111 opus\/48000\/2/);
      await pc.setRemoteDescription({ type: "answer", sdp: session.answer });
      await until("Opus", () => packets > 25, 15_000);
      expect(feeds.size).toBe(1);
    } finally {
      await pc.close();
    }
    await until("the session to end", () => server.sessions.size === 0, 8_000);
    await until("the feed to close", () => feeds.size === 0, 5_000);
  }, 30_000);

  test("without a working ffmpeg the peer still gets its video, without sound", async () => {
    const broken = new OpusFeeds({ ffmpegBin: "/nonexistent/ffmpeg", lingerMs: 100 });
    const plain = new WebRtcServer({ ice: { bindAddress: "127.0.0.1" }, connectTimeoutMs: 3000, audioFallback: broken });
    const viewer = new Viewer();
    try {
      const session = await plain.play(stream, await viewer.offer());
      expect(session.answer).toMatch(/m=audio[\s\S]*a=inactive/);
      await viewer.accept(session.answer);
      await until("video", () => viewer.packets.video > 20, 10_000);
      expect(viewer.packets.audio).toBe(0);
    } finally {
      await viewer.close();
      await plain.close();
      await broken.close();
    }
    await until("no consumer", () => stream.consumers().length === 0, 8_000);
  }, 30_000);
});

/** POSTs a werift offer as WHEP; returns the answer and a function that ends the session (DELETE). */
async function whep(base: string, src: string, offer: string): Promise<{ answer: string; end: () => Promise<void> }> {
  const res = await fetch(`${base}/api/webrtc?src=${encodeURIComponent(src)}`, {
    method: "POST",
    headers: { "Content-Type": "application/sdp" },
    body: offer,
  });
  const answer = await res.text();
  if (res.status !== 201) throw new Error(`WHEP answered ${res.status}: ${answer}`);
  const location = res.headers.get("location")!;
  return {
    answer,
    end: async () => void await (await fetch(`${base}/api/${location}`, { method: "DELETE" })).arrayBuffer(),
  };
}

describe.skipIf(!hasOpus)("AAC to Opus through the whole server", () => {
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let base = "";
  beforeAll(async () => {
    const rtsp = await freePort();
    server = await startServer({
      configSources: [JSON.stringify({
        api: { listen: "127.0.0.1:0" },
        rtsp: { listen: `127.0.0.1:${rtsp}` },
        webrtc: { listen: "127.0.0.1:0" },
        streams: {
          demo: "demo:",
          // The explicit recipe: Opus from an ffmpeg source reading the camera back over RTSP.
          cam: ["demo:", "ffmpeg:cam#audio=opus"],
        },
      })],
      log: silentLogger,
      handleSignals: false,
    });
    base = server.urls[0];
  }, 30_000);
  afterAll(async () => {
    await server?.close();
  }, 20_000);

  test("WHEP of the demo stream gets Opus from the automatic transcoder", async () => {
    const viewer = new Viewer();
    const opus = collectOpus(viewer);
    const session = await whep(base, "demo", await viewer.offer());
    try {
      await viewer.accept(session.answer);
      await until("Opus", () => opus.length >= 50, 15_000);
      expect(formatsOf(server!.hub.get("demo")!)).toEqual(["opus-transcoder", "webrtc"]);
      const sound = await decodeOpus(opus);
      expect(sound.rms).toBeGreaterThan(100);
    } finally {
      await session.end();
      await viewer.close();
    }
    await until("the transcoder to go", () => formatsOf(server!.hub.get("demo")!).length === 0, 10_000);
  }, 50_000);

  test("ffmpeg:cam#audio=opus as a second source: its Opus goes to the peer, no automatic transcoder", async () => {
    const viewer = new Viewer();
    const opus = collectOpus(viewer);
    const session = await whep(base, "cam", await viewer.offer());
    try {
      await viewer.accept(session.answer);
      await until("Opus from the ffmpeg source", () => opus.length >= 50, 25_000);
      expect(viewer.packets.video).toBeGreaterThan(10);
      expect(formatsOf(server!.hub.get("cam")!)).not.toContain("opus-transcoder");
      const sound = await decodeOpus(opus);
      expect(sound.seconds).toBeGreaterThan(0.8);
      expect(sound.rms).toBeGreaterThan(100);
    } finally {
      await session.end();
      await viewer.close();
    }
  }, 60_000);

  test("webrtc.audio_transcode: false answers the audio inactive and starts no ffmpeg", async () => {
    const off = await startServer({
      configSources: [JSON.stringify({
        api: { listen: "127.0.0.1:0" },
        rtsp: { listen: "" },
        webrtc: { listen: "127.0.0.1:0", audio_transcode: false },
        streams: { demo: "demo:" },
      })],
      log: silentLogger,
      handleSignals: false,
    });
    const viewer = new Viewer();
    const ends: (() => Promise<void>)[] = [];
    try {
      const { answer, end } = await whep(off.urls[0], "demo", await viewer.offer());
      ends.push(end);
      expect(answer).toMatch(/m=audio[\s\S]*a=inactive/);
      await viewer.accept(answer);
      await until("video", () => viewer.packets.video > 10, 10_000);
      expect(formatsOf(off.hub.get("demo")!)).toEqual(["webrtc"]);
    } finally {
      for (const end of ends) await end();
      await viewer.close();
      await off.close();
    }
  }, 30_000);
});
