import { describe, expect, it } from "bun:test";
import { jpegFfmpegArgs, jpegFilter, jpegPictureOptions } from "./ffmpeg_args.ts";

describe("JPEG ffmpeg arguments", () => {
  it("reads width/w, height/h and rotate, ignoring invalid values", () => {
    expect(jpegPictureOptions(new URLSearchParams("w=320&h=180&rotate=90"))).toEqual({ width: 320, height: 180, rotate: 90 });
    expect(jpegPictureOptions(new URLSearchParams("width=640&height=0&rotate=45"))).toEqual({ width: 640 });
    expect(jpegPictureOptions(new URLSearchParams("w=-5&h=abc"))).toEqual({});
  });

  it("builds the filter chain: scale keeps the aspect ratio, rotation by transpose", () => {
    expect(jpegFilter({})).toBeUndefined();
    expect(jpegFilter({ width: 320 })).toBe("scale=320:-1");
    expect(jpegFilter({ height: 90, rotate: 270 })).toBe("scale=-1:90,transpose=2");
    expect(jpegFilter({ rotate: 180 })).toBe("hflip,vflip");
    expect(jpegFilter({ width: 10, height: 20, rotate: 90 })).toBe("scale=10:20,transpose=1");
  });

  it("one-shot snapshots read one frame; streaming decodes without buffering", () => {
    const shot = jpegFfmpegArgs("hevc", { width: 100 }, { frames: 1 });
    expect(shot.join(" ")).toContain("-f hevc -i - -an -frames:v 1 -vf scale=100:-1");
    expect(shot.slice(-3)).toEqual(["-f", "mjpeg", "-"]);
    const live = jpegFfmpegArgs("h264", {}).join(" ");
    expect(live).toContain("-analyzeduration 1");
    expect(live).toContain("-fps_mode passthrough");
    expect(live).not.toContain("-frames:v");
  });
});
