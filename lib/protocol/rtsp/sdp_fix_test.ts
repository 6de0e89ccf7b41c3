import { describe, expect, it } from "bun:test";
import { addMissingRtpmaps, parseCameraSdp } from "./sdp_fix.ts";

describe("parseCameraSdp", () => {
  it("guesses encodings for dynamic payload types without rtpmap", () => {
    const sdp = parseCameraSdp([
      "v=0",
      "m=video 0 RTP/AVP 96",
      "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0IAH5WoFAFuQA==,aM48gA==",
      "a=control:trackID=1",
      "m=video 0 RTP/AVP 97",
      "a=fmtp:97 sprop-vps=QAEMAf//;sprop-sps=QgEBAWAA;sprop-pps=RAHA",
      "a=control:trackID=2",
      "m=audio 0 RTP/AVP 98",
      "a=fmtp:98 streamtype=5;profile-level-id=15;mode=AAC-hbr;config=1408;sizelength=13",
      "a=control:trackID=3",
    ].join("\n"));
    expect(sdp.medias.map((m) => `${m.codecs[0].name}/${m.codecs[0].clockRate}`)).toEqual([
      "H264/90000",
      "H265/90000",
      "MPEG4-GENERIC/16000",
    ]);
    expect(sdp.medias[0].codecs[0].fmtp).toContain("sprop-parameter-sets");
  });

  it("fixes clock rates and duplicate controls", () => {
    const sdp = parseCameraSdp([
      "v=0",
      "m=video 0 RTP/AVP 96",
      "a=rtpmap:96 H264/8000",
      "a=control:track1",
      "m=audio 0 RTP/AVP 97",
      "a=rtpmap:97 opus/48000",
      "a=control:track1",
    ].join("\r\n"));
    expect(sdp.medias[0].codecs[0].clockRate).toBe(90000);
    expect(sdp.medias[1].codecs[0]).toMatchObject({ name: "OPUS", clockRate: 48000, channels: 2 });
    expect(sdp.medias.map((m) => m.id)).toEqual(["track1", "trackID=1"]);
  });

  it("copies an H.264 fmtp written under another media", () => {
    const sdp = parseCameraSdp([
      "v=0",
      "m=video 0 RTP/AVP 96",
      "a=rtpmap:96 H264/90000",
      "m=audio 0 RTP/AVP 8 96",
      "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0IAH5WoFAFuQA==,aM48gA==",
    ].join("\r\n"));
    expect(sdp.medias[0].codecs[0].fmtp).toContain("sprop-parameter-sets=Z0IA");
  });

  it("leaves complete SDPs alone", () => {
    const text = "v=0\r\nm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n";
    expect(addMissingRtpmaps(text)).toBe(text);
  });
});
