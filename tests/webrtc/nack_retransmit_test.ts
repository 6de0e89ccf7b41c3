/**
 * NACK: a werift viewer that loses some of strom's video packets (dropped on arrival, before its
 * RTP stack sees them) asks for them with RTCP NACK (RFC 4585 section 6.2.1), and strom sends them
 * again from the viewer's bounded packet history (werift's sender keeps the last 128 per track).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Stream } from "../../lib/core/stream.ts";
import { registerDemoSource } from "../../lib/protocol/demo/register.ts";
import { WebRtcServer } from "../../lib/protocol/webrtc/mod.ts";
import { until, Viewer } from "./_peer.ts";

registerDemoSource();

describe("NACK retransmissions to a werift peer", () => {
  let stream: Stream;
  let server: WebRtcServer;
  beforeAll(() => {
    stream = new Stream("demo", ["demo:"], { graceMs: 200 });
    server = new WebRtcServer({ ice: { bindAddress: "127.0.0.1" }, connectTimeoutMs: 5000, silenceTimeoutMs: 3000 });
  });
  afterAll(async () => {
    await server.close();
    await stream.close();
  });

  test("dropped video packets come back with the same sequence numbers and the frames complete", async () => {
    const viewer = new Viewer({ audio: false });
    try {
      const receiver = viewer.video.receiver as unknown as {
        handleRtpBySsrc: (packet: { header: { sequenceNumber: number } }, ext?: unknown) => void;
      };
      const original = receiver.handleRtpBySsrc;
      const seen = new Set<number>();
      const dropped = new Set<number>();
      const retransmitted = new Set<number>();
      let arrivals = 0;
      // Lose one packet in 15 (20 at most), the first time it arrives; let everything else through.
      receiver.handleRtpBySsrc = (packet, ext) => {
        const seq = packet.header.sequenceNumber;
        arrivals++;
        if (dropped.has(seq)) retransmitted.add(seq);
        else if (!seen.has(seq) && arrivals > 30 && arrivals % 15 === 0 && dropped.size < 20) {
          seen.add(seq);
          dropped.add(seq);
          return;
        }
        seen.add(seq);
        original(packet, ext);
      };
      const session = await server.play(stream, await viewer.offer());
      // NACK is negotiated for the video section.
      expect(session.answer).toMatch(/a=rtcp-fb:\d+ nack\r?\n/);
      await viewer.accept(session.answer);
      await until("20 packets dropped", () => dropped.size >= 20, 15_000);
      await until("the dropped packets sent again", () => retransmitted.size >= 18, 10_000);
      const rtp = session.consumer.tracks[0].rtp as unknown as { nackCount: number; retransmittedPacketsSent: number };
      expect(rtp.nackCount).toBeGreaterThan(0);
      expect(rtp.retransmittedPacketsSent).toBeGreaterThanOrEqual(retransmitted.size);
      // The viewer's log holds the retransmitted packets: every dropped sequence number is there,
      // so no frame is left with a hole.
      const logged = new Set(viewer.videoLog.map((p) => p.seq));
      const recovered = [...dropped].filter((s) => logged.has(s));
      expect(recovered.length).toBeGreaterThanOrEqual(18);
    } finally {
      await viewer.close();
    }
    await until("the session to end", () => server.sessions.size === 0, 8_000);
  }, 40_000);
});
