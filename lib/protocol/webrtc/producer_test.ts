import { describe, expect, test } from "bun:test";
import { parseSdp } from "../../core/media.ts";
import { chooseIngestTracks, pickIngestCodec, WebRtcIngestCodecError, WebRtcProducer } from "./producer.ts";

// A browser's sendonly offer (trimmed): VP8 first, two H.264 payload types, Opus and G.711.
const OFFER = [
  "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103", "c=IN IP4 0.0.0.0", "a=mid:0", "a=sendonly",
  "a=rtpmap:96 VP8/90000", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
  "a=rtpmap:102 H264/90000", "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f",
  "a=rtpmap:103 H264/90000", "a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8", "c=IN IP4 0.0.0.0", "a=mid:1", "a=sendrecv",
  "a=rtpmap:111 opus/48000/2", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "",
].join("\r\n");

describe("chooseIngestTracks", () => {
  test("takes H.264 with packetization-mode 1 over VP8 and mode 0, and Opus over G.711", () => {
    const { tracks, offered } = chooseIngestTracks(parseSdp(OFFER));
    expect(tracks.map((t) => [t.mid, t.codec.name, t.codec.payloadType])).toEqual([["0", "H264", 103], ["1", "OPUS", 111]]);
    expect(tracks.every((t) => t.media.direction === "recvonly")).toBe(true);
    expect(offered).toContain("video:VP8/90000");
    expect(offered.some((c) => c.startsWith("video:RTX"))).toBe(false);
  });

  test("sections the peer only receives in are not ingest", () => {
    const { tracks } = chooseIngestTracks(parseSdp(OFFER.replace("a=sendonly", "a=recvonly")));
    expect(tracks.map((t) => t.codec.name)).toEqual(["OPUS"]);
  });

  test("PCMA before PCMU; H.265 when there is no H.264", () => {
    expect(pickIngestCodec("audio", [{ name: "PCMU", clockRate: 8000 }, { name: "PCMA", clockRate: 8000 }])?.name).toBe("PCMA");
    expect(pickIngestCodec("video", [{ name: "VP9", clockRate: 90000 }, { name: "H265", clockRate: 90000 }])?.name).toBe("H265");
    expect(pickIngestCodec("video", [{ name: "VP8", clockRate: 90000 }])).toBeUndefined();
  });

  test("the codec error names what the peer sends and what strom takes", () => {
    const error = new WebRtcIngestCodecError('Publishing to stream "cam"', ["video:VP8/90000"]);
    expect(error.message).toContain("video:VP8/90000");
    expect(error.message).toContain("H264, H265, OPUS, PCMA, PCMU");
  });
});

describe("WebRtcProducer", () => {
  test("one receiver per track; an unknown track is a RangeError naming what the peer sends", async () => {
    const { tracks } = chooseIngestTracks(parseSdp(OFFER));
    let closed = 0;
    const producer = new WebRtcProducer(tracks, { close: () => void closed++ });
    const [video, audio] = producer.medias();
    expect(producer.track(video, video.codecs[0]).codec.name).toBe("H264");
    expect(producer.track(audio, audio.codecs[0]).codec.name).toBe("OPUS");
    expect(() => producer.track({ kind: "video", direction: "recvonly", codecs: [] }, { name: "VP8", clockRate: 90000 }))
      .toThrow(/sends video, recvonly, H264/);
    const ended = producer.start();
    await producer.stop();
    await ended;
    expect(closed).toBe(1);
    expect(producer.activeTimers).toBe(0);
    expect(producer.info().format).toBe("webrtc");
  });
});
