/**
 * strom's own SRTP sender (lib/protocol/webrtc/fast_srtp.ts) with real peers: a werift viewer and
 * headless Chromium negotiate AES_CM_128_HMAC_SHA1_80 with strom, strom's transport sends through
 * its own sender, and the peers decrypt and decode what arrives (a packet that fails SRTP
 * authentication is dropped by the peer, so decoded frames mean every byte was right). A session
 * made with `srtp: "werift"` keeps werift's profiles (GCM first) and sender.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RTCDtlsTransport } from "werift";
import { Stream } from "../../lib/core/stream.ts";
import { registerDemoSource } from "../../lib/protocol/demo/register.ts";
import { WebRtcServer } from "../../lib/protocol/webrtc/mod.ts";
import { PeerSession } from "../../lib/protocol/webrtc/peer.ts";
import { selectedSrtpProfile, usesFastSrtp } from "../../lib/protocol/webrtc/fast_srtp.ts";
import { hasChromium, launchBrowser } from "../_support/browser.ts";
import { until, Viewer } from "./_peer.ts";

registerDemoSource();

function transportOf(peer: PeerSession): RTCDtlsTransport {
  return peer.transceivers()[0].dtlsTransport;
}

describe("strom's SRTP sender", () => {
  let stream: Stream;
  let server: WebRtcServer;
  const envBefore = process.env.STROM_WEBRTC_SRTP;
  beforeAll(() => {
    delete process.env.STROM_WEBRTC_SRTP; // the default: strom's sender
    stream = new Stream("demo", ["demo:"], { graceMs: 200 });
    server = new WebRtcServer({
      ice: { bindAddress: "127.0.0.1" },
      connectTimeoutMs: 8000,
      silenceTimeoutMs: 5000,
    });
  });
  afterAll(async () => {
    if (envBefore === undefined) delete process.env.STROM_WEBRTC_SRTP;
    else process.env.STROM_WEBRTC_SRTP = envBefore;
    await server.close();
    await stream.close();
  });

  test(
    "a werift viewer gets AES_CM_128_HMAC_SHA1_80 through strom's sender and decrypts the video",
    async () => {
      const viewer = new Viewer({ audio: false });
      try {
        const session = await server.play(stream, await viewer.offer());
        await viewer.accept(session.answer);
        await until(
          "video with a keyframe",
          () => viewer.packets.video > 100 && viewer.keyframeSince(0),
          15_000,
        );
        const transport = transportOf(session.peer);
        expect(selectedSrtpProfile(transport)).toBe("AES_CM_128_HMAC_SHA1_80");
        expect(selectedSrtpProfile(viewer.video.dtlsTransport)).toBe("AES_CM_128_HMAC_SHA1_80");
        expect(usesFastSrtp(transport)).toBe(true);
        // The track's RTP is written by strom, not werift's RTCRtpSender (direct_rtp.ts).
        expect(session.consumer.tracks[0].direct).toBeDefined();
        // werift's transport counters still count what is sent.
        expect(transport.packetsSent).toBeGreaterThanOrEqual(viewer.packets.video);
        // Sequence numbers arrive contiguous per SSRC (nothing dropped for a bad tag on loopback).
        const seqs = viewer.videoLog.map((p) => p.seq);
        let gaps = 0;
        for (let i = 1; i < seqs.length; i++) if (((seqs[i] - seqs[i - 1]) & 0xffff) !== 1) gaps++;
        expect(gaps).toBeLessThanOrEqual(2);
      } finally {
        await viewer.close();
      }
      await until("the session to end", () => server.sessions.size === 0, 8_000);
    },
    40_000,
  );

  test('srtp: "werift" keeps werift\'s profile choice (GCM) and its sender', async () => {
    const viewer = new Viewer({ audio: false });
    const peer = new PeerSession({ codecs: { video: [{ name: "H264", clockRate: 90000 }] }, srtp: "werift" });
    try {
      const answer = await peer.answer(await viewer.offer(), (t) => t.setDirection("sendonly"));
      await viewer.accept(answer);
      await until("DTLS connected", () => transportOf(peer).state === "connected", 10_000);
      expect(selectedSrtpProfile(transportOf(peer))).toBe("AEAD_AES_128_GCM");
      expect(usesFastSrtp(transportOf(peer))).toBe(false);
    } finally {
      peer.close();
      await viewer.close();
    }
  }, 30_000);

  test.skipIf(!hasChromium)(
    "Chromium negotiates AES_CM_128_HMAC_SHA1_80 and decodes the video (needs chromium)",
    async () => {
      const browser = await launchBrowser();
      const page = await browser.context.newPage();
      try {
        const offer = await page.evaluate(async () => {
          const pc = new RTCPeerConnection();
          (globalThis as unknown as { pc: RTCPeerConnection }).pc = pc;
          pc.addTransceiver("video", { direction: "recvonly" });
          const video = document.createElement("video");
          video.muted = true;
          video.autoplay = true;
          document.body.append(video);
          pc.ontrack = (e) => (video.srcObject = e.streams[0] ?? new MediaStream([e.track]));
          await pc.setLocalDescription(await pc.createOffer());
          await new Promise<void>((resolve) => {
            if (pc.iceGatheringState === "complete") return resolve();
            const timer = setTimeout(resolve, 3000);
            pc.onicegatheringstatechange = () => {
              if (pc.iceGatheringState === "complete") (clearTimeout(timer), resolve());
            };
          });
          return pc.localDescription!.sdp;
        });
        const session = await server.play(stream, offer);
        await page.evaluate(
          (sdp) =>
            (globalThis as unknown as { pc: RTCPeerConnection }).pc.setRemoteDescription({
              type: "answer",
              sdp,
            }),
          session.answer,
        );
        const stats = async () =>
          await page.evaluate(async () => {
            const out = { framesDecoded: 0, srtpCipher: "" };
            (await (globalThis as unknown as { pc: RTCPeerConnection }).pc.getStats()).forEach((s) => {
              if (s.type === "inbound-rtp" && s.kind === "video") {
                out.framesDecoded = s.framesDecoded ?? 0;
              }
              if (s.type === "transport") out.srtpCipher = s.srtpCipher ?? "";
            });
            return out;
          });
        let last = { framesDecoded: 0, srtpCipher: "" };
        const deadline = Date.now() + 20_000;
        while (last.framesDecoded < 20 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          last = await stats();
        }
        expect(last.framesDecoded).toBeGreaterThanOrEqual(20);
        // Chromium names it SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764's name).
        expect(last.srtpCipher).toMatch(/AES128_CM_HMAC_SHA1_80|AES_CM_128_HMAC_SHA1_80/);
        const transport = transportOf(session.peer);
        expect(selectedSrtpProfile(transport)).toBe("AES_CM_128_HMAC_SHA1_80");
        expect(usesFastSrtp(transport)).toBe(true);
      } finally {
        await page.close();
        await browser.close();
      }
      await until("the session to end", () => server.sessions.size === 0, 10_000);
    },
    60_000,
  );
});
