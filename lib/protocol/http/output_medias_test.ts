import { describe, expect, it } from "bun:test";
import { mp4Medias, outputMedias, TS_CODECS } from "./output_medias.ts";

const names = (medias: { kind: string; codecs: { name: string }[] }[]) => medias.map((m) => `${m.kind}:${m.codecs.map((c) => c.name).join(",")}`);

describe("output medias", () => {
  it("defaults to everything the output carries", () => {
    expect(names(outputMedias(new URLSearchParams(""), TS_CODECS))).toEqual(["video:H264,H265", "audio:MPEG4-GENERIC,OPUS"]);
  });

  it("keeps filters, expands wildcards to the supported list, keeps ALL", () => {
    expect(names(outputMedias(new URLSearchParams("video=h264"), TS_CODECS))).toEqual(["video:H264"]);
    expect(names(outputMedias(new URLSearchParams("video&audio=all"), TS_CODECS))).toEqual(["video:H264,H265", "audio:ALL"]);
    expect(names(outputMedias(new URLSearchParams("video=h265,mjpeg"), TS_CODECS))).toEqual(["video:H265"]);
  });

  it("keeps a filter of only uncarried codecs so the stream can name the mismatch", () => {
    expect(names(outputMedias(new URLSearchParams("video=mjpeg"), TS_CODECS))).toEqual(["video:JPEG"]);
  });

  it("mp4, mp4=flac, mp4=all", () => {
    expect(names(mp4Medias(new URLSearchParams("mp4")))).toEqual(["video:H264,H265", "audio:MPEG4-GENERIC"]);
    expect(names(mp4Medias(new URLSearchParams("mp4=flac")))).toEqual(["video:H264,H265", "audio:MPEG4-GENERIC,PCMA,PCMU,L16"]);
    expect(names(mp4Medias(new URLSearchParams("mp4=all")))).toEqual(["video:H264,H265", "audio:MPEG4-GENERIC,OPUS,PCMA,PCMU,L16"]);
    expect(names(mp4Medias(new URLSearchParams("mp4&video=h264")))).toEqual(["video:H264"]);
  });
});
