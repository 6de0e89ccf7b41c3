/**
 * strom's WebRTC playback against a real werift peer on loopback: the demo stream (H.264 + AAC) is
 * answered with the peer's H.264 payload type, starts at once from the GOP cache, answers PLI with
 * a keyframe, and every way a session ends leaves no consumer, session or timer behind. Bad offers
 * fail with errors that say what was wrong.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RTCRtpCodecParameters } from "werift";
import { Stream } from "../../lib/core/stream.ts";
import { registerDemoSource } from "../../lib/protocol/demo/register.ts";
import {
  WebRtcCodecError,
  WebRtcOfferError,
  WebRtcPeerLimitError,
  WebRtcServer,
} from "../../lib/protocol/webrtc/mod.ts";
import { until, Viewer } from "./_peer.ts";

registerDemoSource();

describe("WebRTC playback to a werift peer", () => {
  let stream: Stream;
  let server: WebRtcServer;
  beforeAll(() => {
    stream = new Stream("demo", ["demo:"], { graceMs: 200 });
    server = new WebRtcServer({ ice: { bindAddress: "127.0.0.1" }, connectTimeoutMs: 1500, silenceTimeoutMs: 3000 });
  });
  afterAll(async () => {
    await server.close();
    await stream.close();
  });

  test("plays H.264 with the peer's matching payload type, keyframe first, PLI answered", async () => {
    const viewer = new Viewer();
    try {
      const offer = await viewer.offer();
      const session = await server.play(stream, offer);
      // The demo clip is Constrained Baseline: the peer's 42e01f payload type (106) is chosen.
      expect(session.answer).toContain("a=rtpmap:106 H264/90000");
      expect(session.answer).not.toContain("a=rtpmap:102 H264");
      expect(session.answer).toContain("profile-level-id=42e01f");
      // AAC cannot go over WebRTC: the audio section is answered inactive.
      expect(session.answer).toMatch(/m=audio[\s\S]*a=inactive/);
      expect(session.answer).toMatch(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
      await viewer.accept(session.answer);
      await until("video packets", () => viewer.packets.video > 50, 10_000);
      // Instant start: the very first packet is the keyframe's parameter sets (STAP-A or SPS).
      expect([24, 7]).toContain(viewer.videoLog[0].nal);
      expect(viewer.videoLog.every((p) => p.pt === 106)).toBe(true);
      expect(stream.consumers().length).toBe(1);

      const track = session.consumer.tracks[0];
      const before = viewer.videoLog.length;
      await viewer.sendPli();
      await until("the PLI to reach strom", () => track.keyframeRequests > 0, 5_000);
      await until("a keyframe after the PLI", () => viewer.keyframeSince(before), 5_000);
      // Timestamps never step back, even with the GOP sent again.
      const ts = viewer.videoLog.map((p) => p.ts);
      for (let i = 1; i < ts.length; i++) expect(((ts[i] - ts[i - 1]) | 0) >= 0).toBe(true);
    } finally {
      await viewer.close();
    }
    await until("the session to end", () => server.sessions.size === 0, 6_000);
    await until("the consumer to leave", () => stream.consumers().length === 0, 2_000);
    expect(server.activeTimers).toBe(0);
  }, 30_000);

  test("a peer that vanishes without closing is cleaned up within seconds", async () => {
    const viewer = new Viewer();
    const offer = await viewer.offer();
    const session = await server.play(stream, offer);
    await viewer.accept(session.answer);
    await until("video packets", () => viewer.packets.video > 10, 10_000);
    // Kill the peer's sockets without DTLS close_notify: strom hears nothing any more.
    for (const t of viewer.pc.iceTransports) await t.connection.close().catch(() => {});
    const gone = performance.now();
    await until("the silent session to end", () => server.sessions.size === 0, 8_000);
    expect(performance.now() - gone).toBeLessThan(6_000);
    expect(session.peer.closeReason).toMatch(/silent|failed|disconnected|remote-closed/);
    await until("the consumer to leave", () => stream.consumers().length === 0, 2_000);
    expect(server.activeTimers).toBe(0);
    await viewer.close();
  }, 30_000);

  test("ICE that never connects ends the session after the connect timeout", async () => {
    const viewer = new Viewer();
    const offer = await viewer.offer();
    // The peer never gets the answer, so it never answers strom's connectivity checks... and its
    // own checks never start. Close its sockets so nothing can reach strom either.
    await viewer.close();
    const session = await server.play(stream, offer);
    expect(server.sessions.size).toBe(1);
    await until("the ICE timeout", () => server.sessions.size === 0, 5_000);
    expect(session.peer.closeReason).toBe("ice-timeout");
    await until("the consumer to leave", () => stream.consumers().length === 0, 2_000);
    expect(server.activeTimers).toBe(0);
  }, 20_000);

  test("malformed offers fail with a WebRtcOfferError that says what is wrong", async () => {
    await expect(server.play(stream, "hello")).rejects.toThrow(WebRtcOfferError);
    await expect(server.play(stream, "hello")).rejects.toThrow(/must start with "v=0"/);
    await expect(server.play(stream, "")).rejects.toThrow(/empty/);
    const noIce = "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n" +
      "a=rtpmap:96 H264/90000\r\na=recvonly\r\na=mid:0\r\n";
    await expect(server.play(stream, noIce)).rejects.toThrow(/ICE credentials/);
    const badLine = "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\nthis is not sdp\r\n";
    await expect(server.play(stream, badLine)).rejects.toThrow(/line 3/);
    expect(server.sessions.size).toBe(0);
    // Refused offers do not count against the peer limit.
    expect(server.size).toBe(0);
    expect(stream.consumers().length).toBe(0);
  });

  test("no common codec: the error names what the source has and what the peer offered", async () => {
    const viewer = new Viewer({
      video: [new RTCRtpCodecParameters({ mimeType: "video/VP8", clockRate: 90000, payloadType: 96 })],
    });
    try {
      const offer = await viewer.offer();
      let error: unknown;
      try {
        await server.play(stream, offer);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(WebRtcCodecError);
      const e = error as WebRtcCodecError;
      expect(e.sourceCodecs).toContain("video:H264/90000");
      expect(e.peerCodecs).toContain("video:VP8/90000");
      expect(e.peerCodecs).toContain("audio:OPUS/48000/2");
      expect(e.message).toContain("MPEG4-GENERIC");
      expect(e.message).toContain("VP8");
      expect(e.message).toContain("ffmpeg:demo#video=h264#audio=opus");
    } finally {
      await viewer.close();
    }
    expect(server.sessions.size).toBe(0);
    await until("no consumer", () => stream.consumers().length === 0, 2_000);
  });
});

describe("many WebRTC peers at once", () => {
  test("up to the limit play; the next is refused; all clean up", async () => {
    const stream = new Stream("demo", ["demo:"], { graceMs: 100 });
    const server = new WebRtcServer({ ice: { bindAddress: "127.0.0.1" }, maxPeers: 4, connectTimeoutMs: 5000, silenceTimeoutMs: 3000 });
    const viewers = Array.from({ length: 4 }, () => new Viewer({ audio: false }));
    try {
      const offers = await Promise.all(viewers.map((v) => v.offer()));
      const sessions = await Promise.all(offers.map((o) => server.play(stream, o)));
      await Promise.all(sessions.map((s, i) => viewers[i].accept(s.answer)));
      const extra = new Viewer({ audio: false });
      await expect(server.play(stream, await extra.offer())).rejects.toThrow(WebRtcPeerLimitError);
      await extra.close();
      await until("every peer to get video", () => viewers.every((v) => v.packets.video > 20), 15_000);
      expect(stream.consumers().length).toBe(4);
    } finally {
      await Promise.all(viewers.map((v) => v.close()));
    }
    await until("every session to end", () => server.sessions.size === 0, 8_000);
    expect(server.activeTimers).toBe(0);
    await until("no consumer", () => stream.consumers().length === 0, 2_000);
    await server.close();
    await stream.close();
  }, 40_000);
});
