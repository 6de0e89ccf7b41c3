import { describe, expect, it } from "bun:test";
import { parseMseCodecs } from "./codecs.ts";

const names = (value: string) => parseMseCodecs(value).map((m) => `${m.kind}:${m.codecs.map((c) => c.name).join(",")}`);

describe("parseMseCodecs", () => {
  it("maps the player's list (what video-stream.js sends) to medias", () => {
    expect(names("avc1.640029,avc1.64002A,avc1.640033,avc1.4D401F,avc1.42E01E,hvc1.1.6.L153.B0,mp4a.40.2,mp4a.40.5,flac,opus"))
      .toEqual(["video:H264,H265", "audio:MPEG4-GENERIC,PCMA,PCMU,L16,OPUS"]);
  });

  it("keeps the browser's order and ignores unknown entries", () => {
    expect(names("hev1.1.6.L93.B0,avc1.42e01e,vp09.00.10.08")).toEqual(["video:H265,H264"]);
    expect(names("mp4a.40.2")).toEqual(["audio:MPEG4-GENERIC"]);
  });

  it("an empty list asks for H.264 + AAC", () => {
    expect(names("")).toEqual(["video:H264", "audio:MPEG4-GENERIC"]);
  });

  it("medias are sendonly (we send to the player)", () => {
    expect(parseMseCodecs("avc1.640029").every((m) => m.direction === "sendonly")).toBe(true);
  });
});
