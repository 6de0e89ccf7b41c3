/**
 * `webrtc.jitter_buffer`: the playout-delay RTP header extension, answered under the id the peer
 * offered and carried by every video packet strom sends (werift viewers parse and decrypt them);
 * nothing of it without the setting or when the peer does not offer it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Stream } from "../../lib/core/stream.ts";
import { registerDemoSource } from "../../lib/protocol/demo/register.ts";
import { playoutDelayOf, WebRtcServer } from "../../lib/protocol/webrtc/mod.ts";
import { PLAYOUT_DELAY_URI } from "../../lib/protocol/webrtc/playout_delay.ts";
import { until, Viewer } from "./_peer.ts";

registerDemoSource();

// werift numbers the offered extensions itself (from 1): the id is read back from its offer.
const OFFERED = [{ id: 7, uri: PLAYOUT_DELAY_URI }];

describe("playout delay to werift peers", () => {
  let stream: Stream;
  let delayed: WebRtcServer;
  let plain: WebRtcServer;
  beforeAll(() => {
    stream = new Stream("demo", ["demo:"], { graceMs: 200 });
    const options = { ice: { bindAddress: "127.0.0.1" }, connectTimeoutMs: 5000, silenceTimeoutMs: 3000 };
    delayed = new WebRtcServer({ ...options, playoutDelay: playoutDelayOf(0.25) });
    plain = new WebRtcServer(options);
  });
  afterAll(async () => {
    await delayed.close();
    await plain.close();
    await stream.close();
  });

  async function play(server: WebRtcServer, viewer: Viewer): Promise<{ offer: string; answer: string }> {
    const offer = await viewer.offer();
    const session = await server.play(stream, offer);
    await viewer.accept(session.answer);
    await until("60 video packets", () => viewer.packets.video >= 60, 15_000);
    return { offer, answer: session.answer };
  }

  test("every video packet carries 250 ms as min and max under the offered id, resent ones too", async () => {
    // The audio section (the demo's AAC has nothing a peer takes here) gets no extension either.
    const viewer = new Viewer({ videoExtensions: OFFERED });
    // Lose one packet in 15 (10 at most) the first time it arrives: strom sends it again on NACK.
    const receiver = viewer.video.receiver as unknown as {
      handleRtpBySsrc: (packet: { header: { sequenceNumber: number } }, ext?: unknown) => void;
    };
    const original = receiver.handleRtpBySsrc;
    const dropped = new Set<number>();
    const resent = new Set<number>();
    let arrivals = 0;
    receiver.handleRtpBySsrc = (packet, ext) => {
      const seq = packet.header.sequenceNumber;
      if (dropped.has(seq)) resent.add(seq);
      else if (++arrivals > 30 && arrivals % 15 === 0 && dropped.size < 10) return void dropped.add(seq);
      original.call(receiver, packet, ext);
    };
    try {
      const { offer, answer } = await play(delayed, viewer);
      await until("dropped packets sent again", () => dropped.size >= 10 && resent.size >= 8, 15_000);
      const id = Number(new RegExp(`a=extmap:(\\d+) ${PLAYOUT_DELAY_URI}`).exec(offer)?.[1]);
      expect(id).toBeGreaterThan(0);
      const lines = answer.split(/\r?\n/);
      const video = lines.slice(
        lines.findIndex((l) => l.startsWith("m=video")),
        lines.findIndex((l) => l.startsWith("m=audio")),
      );
      expect(video).toContain(`a=extmap:${id} ${PLAYOUT_DELAY_URI}`);
      expect(answer.match(/playout-delay/g)?.length).toBe(1);
      // 25 units of 10 ms, twice, in 12 bits each: 0x019 0x019.
      for (const extensions of viewer.videoExtensions) {
        expect(extensions.map((e) => [e.id, ...e.payload])).toEqual([[id, 0x01, 0x90, 0x19]]);
      }
      // The packets decrypted and parsed: the frames are whole (a keyframe and markers arrived).
      expect(viewer.keyframeSince(0)).toBe(true);
      expect(viewer.videoLog.some((p) => p.marker)).toBe(true);
    } finally {
      await viewer.close();
    }
  }, 30_000);

  test("a peer that does not offer the extension gets none", async () => {
    const viewer = new Viewer({ audio: false });
    try {
      const { answer } = await play(delayed, viewer);
      expect(answer).not.toContain("playout-delay");
      expect(viewer.videoExtensions.every((e) => e.length === 0)).toBe(true);
    } finally {
      await viewer.close();
    }
  }, 30_000);

  test("without webrtc.jitter_buffer the offer's extension is not answered", async () => {
    const viewer = new Viewer({ audio: false, videoExtensions: OFFERED });
    try {
      const { answer } = await play(plain, viewer);
      expect(answer).not.toContain("playout-delay");
      expect(viewer.videoExtensions.every((e) => e.length === 0)).toBe(true);
    } finally {
      await viewer.close();
    }
  }, 30_000);
});
