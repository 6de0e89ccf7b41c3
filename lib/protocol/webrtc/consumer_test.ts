import { describe, expect, test } from "bun:test";
import { Receiver } from "../../core/fanout.ts";
import type { Media } from "../../core/media.ts";
import { WebRtcTrack } from "./consumer.ts";
import { WebRtcOfferError } from "./errors.ts";
import { WebRtcConsumer } from "./consumer.ts";
import { hasInBandSps, parameterSetPrefix } from "./parameter_sets.ts";

const video: Media = { kind: "video", direction: "sendonly", codecs: [{ name: "H264", clockRate: 90000 }], id: "0" };

function track(): WebRtcTrack {
  const codec = { name: "H264", clockRate: 90000 };
  return new WebRtcTrack("0", video, codec, { ...codec, payloadType: 102 }, new Receiver(video, codec), 1200);
}

describe("WebRtcTrack.mapTimestamp", () => {
  test("follows the source, never steps back on a GOP resent, re-anchors after a source jump", () => {
    const t = track();
    const a = t.mapTimestamp(1000);
    expect(t.mapTimestamp(4000)).toBe((a + 3000) >>> 0);
    expect(t.mapTimestamp(7000)).toBe((a + 6000) >>> 0);
    // The GOP again (older timestamps): one tick after the last output each.
    expect(t.mapTimestamp(1000)).toBe((a + 6001) >>> 0);
    expect(t.mapTimestamp(4000)).toBe((a + 6002) >>> 0);
    expect(t.mapTimestamp(7000)).toBe((a + 6003) >>> 0);
    // Live again: forward from where the output is.
    const live = t.mapTimestamp(10000);
    expect(((live - (a + 6003)) | 0) > 0).toBe(true);
    // A new source connection with an unrelated timeline continues one frame later.
    const next = t.mapTimestamp(2_000_000_000);
    expect((next - live) | 0).toBe(3600);
  });
});

describe("parameter sets", () => {
  test("the fmtp's SPS/PPS as AVCC; in-band SPS detected", () => {
    const prefix = parameterSetPrefix({
      name: "H264",
      clockRate: 90000,
      fmtp: "packetization-mode=1;sprop-parameter-sets=Z0LAHtkAoC/5YQAAAwABAAADADIPFi5I,aMuDyyA=",
    })!;
    expect(prefix[4] & 0x1f).toBe(7);
    expect(hasInBandSps("H264", prefix)).toBe(true);
    expect(hasInBandSps("H264", new Uint8Array([0, 0, 0, 2, 0x65, 0x88]))).toBe(false);
    expect(parameterSetPrefix({ name: "H264", clockRate: 90000 })).toBeUndefined();
  });
});

describe("WebRtcConsumer offer checks", () => {
  test("an offer without a receiving section or a microphone is refused with the reason", () => {
    const sendOnly = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:a\r\na=ice-pwd:b\r\n" +
      "a=fingerprint:sha-256 00\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=rtpmap:96 H264/90000\r\n";
    expect(() => new WebRtcConsumer({ offer: sendOnly })).toThrow(WebRtcOfferError);
    expect(() => new WebRtcConsumer({ offer: sendOnly })).toThrow(/recvonly/);
  });

  test("a microphone-only offer (audio sendonly on the peer's side) is a talker: one recvonly media", () => {
    const mic = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:a\r\na=ice-pwd:b\r\n" +
      "a=fingerprint:sha-256 00\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 8\r\na=mid:0\r\na=sendonly\r\n" +
      "a=rtpmap:111 opus/48000/2\r\na=rtpmap:8 PCMA/8000\r\n";
    const consumer = new WebRtcConsumer({ offer: mic });
    expect(consumer.medias().map((m) => `${m.kind}:${m.direction}:${m.codecs.map((c) => c.name).join("+")}`)).toEqual([
      "audio:recvonly:OPUS+PCMA",
    ]);
    const receiver = consumer.track(consumer.medias()[0], consumer.medias()[0].codecs[1]);
    expect(receiver.codec.name).toBe("PCMA");
    // The answer keeps the microphone's payload type.
    expect(consumer.restrictedOffer()).toMatch(/m=audio 9 UDP\/TLS\/RTP\/SAVPF 8\r\n/);
  });

  test("no DTLS fingerprint", () => {
    const offer = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:a\r\na=ice-pwd:b\r\n" +
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=recvonly\r\na=rtpmap:96 H264/90000\r\n";
    expect(() => new WebRtcConsumer({ offer })).toThrow(/fingerprint/);
  });
});
