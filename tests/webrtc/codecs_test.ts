/**
 * H.265, Opus and G.711 over WebRTC to a werift peer: a source with those codecs (real ffmpeg-made
 * frames from the codec test data), a peer that offers them, and the packets that arrive carry the
 * peer's payload types and the right payloads (H.265 parameter sets and slices, one Opus packet per
 * frame, 20 ms of G.711 per packet).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { RTCRtpCodecParameters } from "werift";
import { MemoryProducer } from "../../lib/core/_testing.ts";
import type { Frame } from "../../lib/core/frame.ts";
import { registerSource, unregisterSource } from "../../lib/core/registry.ts";
import { Stream } from "../../lib/core/stream.ts";
import { h265AccessUnits } from "../../lib/codec/h265/_access_units.ts";
import { isH265Keyframe } from "../../lib/codec/h265/keyframe.ts";
import { parseRtp } from "../../lib/rtp/packet.ts";
import { readRtpCapture } from "../../lib/rtp/capture.ts";
import { WebRtcServer } from "../../lib/protocol/webrtc/mod.ts";
import { until, Viewer } from "./_peer.ts";

const testdata = (path: string) => new Uint8Array(readFileSync(new URL(`../../lib/codec/${path}`, import.meta.url)));

/** The 25-frame H.265 clip as AVCC frames (keyframe every 10). */
function h265Frames(): Frame[] {
  const frames = h265AccessUnits(testdata("h265/testdata/ffmpeg_h265_640x360.hevc"));
  expect(frames.filter((f) => isH265Keyframe(f.data)).length).toBe(3);
  return frames;
}

/** Opus packets of the ffmpeg capture, one per frame. */
function opusFrames(): Frame[] {
  return readRtpCapture(testdata("opus/testdata/ffmpeg_opus.rtp")).map((b) => {
    const p = parseRtp(b);
    return { timestamp: p.timestamp, keyframe: true, data: p.payload.slice() };
  });
}

/** A source pushing frames in a loop in real time until stopped. */
function playLoop(producer: MemoryProducer, kind: "video" | "audio", frames: Frame[], intervalMs: number, step: number) {
  let i = 0;
  let ts = 0;
  const timer = setInterval(() => {
    const f = frames[i % frames.length];
    producer.push(kind, { ...f, timestamp: ts });
    ts += step;
    i++;
  }, intervalMs);
  return () => clearInterval(timer);
}

const stops: (() => void)[] = [];
let schemeN = 0;
function source(producer: MemoryProducer): string {
  const name = `webrtccodec${schemeN++}`;
  registerSource(name, () => Promise.resolve(producer));
  stops.push(() => unregisterSource(name));
  return `${name}:`;
}

afterAll(() => {
  for (const stop of stops.splice(0)) stop();
});

describe("WebRTC codecs beyond H.264", () => {
  test("H.265 and PCMA: the peer's payload types, parameter sets before the first slice", async () => {
    const producer = new MemoryProducer([
      { kind: "video", direction: "recvonly", codecs: [{ name: "H265", clockRate: 90000, payloadType: 96 }] },
      { kind: "audio", direction: "recvonly", codecs: [{ name: "PCMA", clockRate: 8000, payloadType: 8 }] },
    ]);
    const stream = new Stream("cam265", [source(producer)], { graceMs: 100 });
    const server = new WebRtcServer({ ice: { bindAddress: "127.0.0.1" }, silenceTimeoutMs: 3000 });
    const stopVideo = playLoop(producer, "video", h265Frames(), 40, 3600);
    const pcma = new Uint8Array(160).fill(0xd5);
    const stopAudio = playLoop(producer, "audio", [{ timestamp: 0, keyframe: true, data: pcma }], 20, 160);
    const viewer = new Viewer({
      video: [
        new RTCRtpCodecParameters({ mimeType: "video/H264", clockRate: 90000, payloadType: 102 }),
        new RTCRtpCodecParameters({ mimeType: "video/H265", clockRate: 90000, payloadType: 49 }),
      ],
      audio: [
        new RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: 111 }),
        new RTCRtpCodecParameters({ mimeType: "audio/PCMA", clockRate: 8000, channels: 1, payloadType: 8 }),
      ],
    });
    const audio: { pt: number; size: number; ts: number }[] = [];
    viewer.audio!.onTrack.subscribe((t) =>
      t.onReceiveRtp.subscribe((r) => void audio.push({ pt: r.header.payloadType, size: r.payload.length, ts: r.header.timestamp }))
    );
    const h265Types: number[] = [];
    viewer.video.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((r) => void h265Types.push((r.payload[0] >> 1) & 0x3f)));
    try {
      const session = await server.play(stream, await viewer.offer());
      expect(session.answer).toContain("a=rtpmap:49 H265/90000");
      expect(session.answer).toContain("a=rtpmap:8 PCMA/8000");
      await viewer.accept(session.answer);
      await until("H.265 and PCMA packets", () => viewer.packets.video > 30 && audio.length > 20, 15_000).catch((e) => {
        throw new Error(`${e.message}: video ${viewer.packets.video}, audio ${audio.length}, tracks ${JSON.stringify(session.consumer.info())}`);
      });
      expect(viewer.videoLog.every((p) => p.pt === 49)).toBe(true);
      // VPS (32), or an aggregation packet (48) holding the parameter sets, comes first.
      expect([32, 48]).toContain(h265Types[0]);
      expect(h265Types.some((t) => t === 19 || t === 20 || t === 49)).toBe(true); // IDR slices or FUs
      expect(audio.every((a) => a.pt === 8 && a.size === 160)).toBe(true);
      expect((audio[1].ts - audio[0].ts) >>> 0).toBe(160);
    } finally {
      stopVideo();
      stopAudio();
      await viewer.close();
    }
    await until("the session to end", () => server.sessions.size === 0, 6_000);
    expect(server.activeTimers).toBe(0);
    await server.close();
    await stream.close();
  }, 30_000);

  test("Opus: one packet per frame with the peer's payload type; the video section is answered inactive", async () => {
    const producer = new MemoryProducer([
      { kind: "audio", direction: "recvonly", codecs: [{ name: "OPUS", clockRate: 48000, channels: 2, payloadType: 97 }] },
    ]);
    const stream = new Stream("mic", [source(producer)], { graceMs: 100 });
    const server = new WebRtcServer({ ice: { bindAddress: "127.0.0.1" }, silenceTimeoutMs: 3000 });
    const frames = opusFrames();
    const stop = playLoop(producer, "audio", frames, 20, 960);
    const viewer = new Viewer({
      audio: [new RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: 109 })],
    });
    const got: { pt: number; first: number }[] = [];
    viewer.audio!.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((r) => void got.push({ pt: r.header.payloadType, first: r.payload[0] })));
    try {
      const session = await server.play(stream, await viewer.offer());
      expect(session.answer).toMatch(/m=video \d+ [\s\S]*a=inactive/);
      expect(session.answer).toContain("a=rtpmap:109 opus/48000/2");
      await viewer.accept(session.answer);
      await until("Opus packets", () => got.length > 20, 15_000);
      expect(got.every((g) => g.pt === 109)).toBe(true);
      // Each packet is one of the capture's Opus packets (same TOC byte).
      const tocs = new Set(frames.map((f) => f.data[0]));
      expect(got.every((g) => tocs.has(g.first))).toBe(true);
      expect(viewer.packets.video).toBe(0);
    } finally {
      stop();
      await viewer.close();
    }
    await until("the session to end", () => server.sessions.size === 0, 6_000);
    await server.close();
    await stream.close();
  }, 30_000);
});
