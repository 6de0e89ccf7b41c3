import { describe, expect, it } from "bun:test";
import { matchMedia, type Media, parseMediaQuery, parseSdp, SdpError, toSdp } from "./media.ts";

describe("media", () => {
  it("turns go2rtc queries into consumer medias", () => {
    const medias = parseMediaQuery(new URLSearchParams("video=h264,h265&audio=aac&audio=opus"));
    expect(medias.map((m) => [m.kind, m.direction, m.codecs.map((c) => c.name)])).toEqual([
      ["video", "sendonly", ["H264", "H265"]],
      ["audio", "sendonly", ["MPEG4-GENERIC"]],
      ["audio", "sendonly", ["OPUS"]],
    ]);
    const dflt = parseMediaQuery(new URLSearchParams(""));
    expect(dflt.map((m) => `${m.kind}:${m.codecs[0].name}`)).toEqual(["video:ANY", "audio:ANY"]);
    const mic = parseMediaQuery(new URLSearchParams("video&microphone"));
    expect(mic.at(-1)).toMatchObject({ kind: "audio", direction: "recvonly" });
  });

  it("matches opposite directions and prefers the local codec order", () => {
    const camera: Media = {
      kind: "video",
      direction: "recvonly",
      codecs: [{ name: "H265", clockRate: 90000 }, { name: "H264", clockRate: 90000 }],
    };
    const viewer: Media = {
      kind: "video",
      direction: "sendonly",
      codecs: [{ name: "H264", clockRate: 90000 }, { name: "H265", clockRate: 90000 }],
    };
    expect(matchMedia(camera, viewer)?.local.name).toBe("H265");
    expect(matchMedia(camera, { ...viewer, direction: "recvonly" })).toBeUndefined();
    expect(matchMedia(camera, { ...viewer, kind: "audio" })).toBeUndefined();
  });

  it("round-trips medias through SDP", () => {
    const medias: Media[] = [
      {
        kind: "video",
        direction: "sendonly",
        codecs: [{ name: "H264", clockRate: 90000, payloadType: 96, fmtp: "packetization-mode=1" }],
        id: "trackID=0",
      },
      {
        kind: "audio",
        direction: "recvonly",
        codecs: [{ name: "OPUS", clockRate: 48000, channels: 2, payloadType: 111 }, {
          name: "PCMA",
          clockRate: 8000,
          channels: 1,
          payloadType: 8,
        }],
        id: "trackID=1",
      },
    ];
    const parsed = parseSdp(toSdp(medias)).medias;
    expect(parsed.map(({ kind, direction, codecs, id }) => ({ kind, direction, codecs, id }))).toEqual(
      medias,
    );
  });

  it("tolerates camera quirks: LF line ends, blank lines, static payloads, fmtp before rtpmap", () => {
    const sdp = [
      "v=0",
      "",
      's=Session streamed by "nessyMediaServer"',
      "m=video 0 RTP/AVP 96",
      "a=fmtp:96 packetization-mode=1",
      "a=rtpmap:96 H264/90000",
      "a=control:track1 ",
      "m=audio 0 RTP/AVP 0",
      "a=control:track2",
      "m=application 0 RTP/AVP 107",
      "a=rtpmap:107 vnd.onvif.metadata/90000",
    ].join("\n");
    const parsed = parseSdp(sdp);
    expect(parsed.medias).toHaveLength(2);
    expect(parsed.medias[0].codecs[0]).toMatchObject({ name: "H264", fmtp: "packetization-mode=1" });
    expect(parsed.medias[0].id).toBe("track1");
    expect(parsed.medias[1].codecs[0]).toMatchObject({ name: "PCMU", clockRate: 8000 });
  });

  it("names the line of a broken SDP", () => {
    expect(() => parseSdp("v=0\r\ns=x\r\nbroken line\r\n")).toThrow(SdpError);
    expect(() => parseSdp("v=0\r\ns=x\r\nbroken line\r\n")).toThrow("Cannot parse SDP line 3");
  });
});
