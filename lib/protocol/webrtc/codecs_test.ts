import { describe, expect, test } from "bun:test";
import type { Codec } from "../../core/codec.ts";
import { parseSdp } from "../../core/media.ts";
import { describeOffered, h264ProfileOf, offeredMedias, pickPeerCodec } from "./codecs.ts";

const h264 = (pt: number, fmtp: string): Codec => ({ name: "H264", clockRate: 90000, payloadType: pt, fmtp });

// Chrome's H.264 payload types, in its order.
const CHROME_H264 = [
  h264(102, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"),
  h264(104, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f"),
  h264(106, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
  h264(108, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"),
  h264(112, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f"),
  h264(127, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"),
];

describe("pickPeerCodec", () => {
  test("H.264 High goes to the peer's High payload type with packetization-mode 1", () => {
    const got = pickPeerCodec({ name: "H264", clockRate: 90000, fmtp: "profile-level-id=640028" }, CHROME_H264);
    expect(got?.payloadType).toBe(112);
  });

  test("H.264 Main goes to Main; Constrained Baseline to the first Baseline-family mode 1", () => {
    expect(pickPeerCodec({ name: "H264", clockRate: 90000, fmtp: "profile-level-id=4d401f" }, CHROME_H264)
      ?.payloadType).toBe(127);
    expect(pickPeerCodec({ name: "H264", clockRate: 90000, fmtp: "profile-level-id=42c01e" }, CHROME_H264)
      ?.payloadType).toBe(102);
  });

  test("the profile comes from sprop-parameter-sets when profile-level-id is missing", () => {
    // SPS of a High 4:2:0 stream (profile_idc 100).
    const codec: Codec = { name: "H264", clockRate: 90000, fmtp: "packetization-mode=1;sprop-parameter-sets=Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=,aOvjyyLA" };
    expect(h264ProfileOf(codec)).toBe(100);
    expect(pickPeerCodec(codec, CHROME_H264)?.payloadType).toBe(112);
  });

  test("packetization-mode 0 only when nothing else is offered", () => {
    const only0 = [CHROME_H264[1]];
    expect(pickPeerCodec({ name: "H264", clockRate: 90000 }, only0)?.payloadType).toBe(104);
  });

  test("audio by name, rate and channels; no match gives undefined", () => {
    const offered: Codec[] = [
      { name: "OPUS", clockRate: 48000, channels: 2, payloadType: 111 },
      { name: "PCMU", clockRate: 8000, payloadType: 0 },
      { name: "PCMA", clockRate: 8000, payloadType: 8 },
    ];
    expect(pickPeerCodec({ name: "PCMA", clockRate: 8000 }, offered)?.payloadType).toBe(8);
    expect(pickPeerCodec({ name: "OPUS", clockRate: 48000, channels: 2 }, offered)?.payloadType).toBe(111);
    expect(pickPeerCodec({ name: "PCMA", clockRate: 16000 }, offered)).toBeUndefined();
    expect(pickPeerCodec({ name: "H265", clockRate: 90000 }, CHROME_H264)).toBeUndefined();
  });
});

describe("offeredMedias", () => {
  const offer = [
    "v=0",
    "o=- 1 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102",
    "a=mid:0",
    "a=recvonly",
    "a=rtpmap:96 VP8/90000",
    "a=rtpmap:97 rtx/90000",
    "a=fmtp:97 apt=96",
    "a=rtpmap:102 H264/90000",
    "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
    "a=mid:1",
    "a=sendrecv",
    "a=rtpmap:111 opus/48000/2",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    "a=mid:2",
    "a=sendonly",
    "a=rtpmap:111 opus/48000/2",
    "",
  ].join("\r\n");

  test("receiving sections become sendonly medias with the codecs strom can send", () => {
    const sections = offeredMedias(parseSdp(offer));
    expect(sections.map((s) => s.mid)).toEqual(["0", "1"]); // mid 2 only sends (a microphone)
    expect(sections[0].media).toMatchObject({ kind: "video", direction: "sendonly", id: "0" });
    expect(sections[0].media.codecs.map((c) => c.payloadType)).toEqual([102]);
    expect(sections[1].media.codecs.map((c) => c.name)).toEqual(["OPUS", "PCMU"]);
    expect(describeOffered(sections)).toEqual([
      "video:VP8/90000",
      "video:H264/90000",
      "audio:OPUS/48000/2",
      "audio:PCMU/8000",
    ]);
  });
});
