import { describe, expect, it } from "bun:test";
import { hasTool } from "../../../tests/_support/process.ts";
import { buildFfmpegArgs } from "./args.ts";
import { listDevices, parseV4l2Formats } from "./devices.ts";
import { runProbe } from "./run_probe.ts";
import { ffmpegTemplates } from "./templates.ts";

const hasFf = await hasTool("ffmpeg");

// What `ffmpeg -hide_banner -f v4l2 -list_formats all -i /dev/video0` prints for a UVC webcam.
const UVC = [
  "[video4linux2,v4l2 @ 0x55d0c8a0e100] Compressed:       mjpeg :          Motion-JPEG : 640x480 1280x720 1920x1080",
  "[video4linux2,v4l2 @ 0x55d0c8a0e100] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 1280x720",
  "/dev/video0: Immediate exit requested",
].join("\n");

describe("capture devices", () => {
  it("turns ffmpeg's v4l2 format list into sources: compressed formats copied, raw ones encoded", () => {
    expect(parseV4l2Formats(UVC, "/dev/video0")).toEqual([
      {
        name: "Motion-JPEG | 640x480 1280x720 1920x1080",
        info: "/dev/video0",
        url: "ffmpeg:device?video=/dev/video0&input_format=mjpeg&video_size=640x480",
      },
      {
        name: "YUYV 4:2:2 | 640x480 1280x720",
        info: "/dev/video0",
        url: "ffmpeg:device?video=/dev/video0&input_format=yuyv422&video_size=640x480#video=h264#hardware",
      },
    ]);
    expect(parseV4l2Formats("/dev/video1: Inappropriate ioctl for device\n", "/dev/video1")).toEqual([]);
    // A device with a stepwise size range (v4l2loopback, HDMI grabbers): no size in the URL.
    const stepwise =
      "[video4linux2,v4l2 @ 0x1] Raw       :     yuv420p :     Planar YUV 4:2:0 : {32-4096, 2}x{32-2304, 2}";
    expect(parseV4l2Formats(stepwise, "/dev/video2")).toEqual([{
      name: "Planar YUV 4:2:0 | {32-4096, 2}x{32-2304, 2}",
      info: "/dev/video2",
      url: "ffmpeg:device?video=/dev/video2&input_format=yuv420p#video=h264#hardware",
    }]);
  });

  it("counts devices for device?video=<index>, skipping nodes with no formats", async () => {
    const { sources, list } = await listDevices({
      bin: "ffmpeg",
      platform: "linux",
      devNames: () => Promise.resolve(["null", "video10", "video1", "video0", "videox"]),
      run: (_bin, args) => {
        const node = args[args.indexOf("-i") + 1];
        const output = node === "/dev/video0" || node === "/dev/video10"
          ? UVC
          : `${node}: Inappropriate ioctl\n`;
        return Promise.resolve({ ok: false, output, reason: "exit code 1" });
      },
    });
    expect(list).toEqual({ video: ["/dev/video0", "/dev/video10"], audio: [] });
    expect(sources.map((s) => s.info)).toEqual([
      "/dev/video0",
      "/dev/video0",
      "/dev/video10",
      "/dev/video10",
    ]);
    const cmd = buildFfmpegArgs("ffmpeg:device?video=1&input_format=mjpeg#video=copy", {
      templates: ffmpegTemplates({}),
      devices: list,
    });
    expect(cmd.commandLine).toContain("-f v4l2 -input_format mjpeg -i /dev/video10");
  });

  it.skipIf(!hasFf)("asks the real ffmpeg: a missing node and no sound card list nothing", async () => {
    const { sources, list } = await listDevices({
      bin: "ffmpeg",
      run: runProbe,
      platform: "linux",
      devNames: () => Promise.resolve(["video97"]),
    });
    // ALSA's default device may exist on a desktop; /dev/video97 does not exist anywhere we test.
    expect(list.video).toEqual([]);
    expect(sources.every((s) => s.info === "default")).toBe(true);
  }, 30_000);
});
