import { describe, expect, it } from "bun:test";
import { joinAvcc, splitAvcc } from "../../codec/annexb/avcc.ts";
import { parseJpegSize } from "../../codec/mjpeg/jpeg.ts";
import { loadDemoClip } from "../demo/clip.ts";
import { JpegEncodeError } from "./errors.ts";
import { encodeJpeg } from "./snapshot.ts";
import { MjpegTranscoder } from "./transcoder.ts";

const clip = loadDemoClip();
const codec = { name: "H264", clockRate: 90000, fmtp: clip.video.fmtp };
const key = { timestamp: 0, keyframe: true, data: clip.video.frames[0] };

describe("encodeJpeg (real ffmpeg)", () => {
  it("turns an H.264 keyframe into a JPEG of the stream's size, or resized and rotated", async () => {
    expect(parseJpegSize(await encodeJpeg(codec, key))).toEqual({ width: 640, height: 360 });
    expect(parseJpegSize(await encodeJpeg(codec, key, { width: 320, rotate: 90 }))).toEqual({ width: 180, height: 320 });
  }, 20_000);

  it("works from the fmtp's parameter sets when the keyframe has none in-band", async () => {
    const bare = joinAvcc([...splitAvcc(key.data)].filter((n) => (n[0] & 0x1f) !== 7 && (n[0] & 0x1f) !== 8));
    expect(parseJpegSize(await encodeJpeg(codec, { ...key, data: bare }))).toEqual({ width: 640, height: 360 });
  }, 20_000);

  it("returns a JPEG frame as is", async () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xd9]);
    expect(await encodeJpeg({ name: "JPEG", clockRate: 90000 }, { timestamp: 0, keyframe: true, data: jpeg })).toBe(jpeg);
  });

  it("says clearly when ffmpeg is missing or the codec cannot be snapshotted", async () => {
    const missing = await encodeJpeg(codec, key, { ffmpegBin: "strom-no-such-ffmpeg" }).catch((e) => e);
    expect(missing).toBeInstanceOf(JpegEncodeError);
    expect(missing.code).toBe("FfmpegMissing");
    expect(missing.message).toContain("ffmpeg.bin");
    const vp8 = await encodeJpeg({ name: "VP8", clockRate: 90000 }, key).catch((e) => e);
    expect(vp8.code).toBe("UnsupportedCodec");
  });

  it("gives up on an ffmpeg that takes longer than timeoutMs, saying so", async () => {
    // No ffmpeg starts, decodes and encodes in 1 ms.
    const error = await encodeJpeg(codec, key, { timeoutMs: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(JpegEncodeError);
    expect(error.code).toBe("Timeout");
    expect(error.message).toContain("longer than 1 ms");
  }, 20_000);

  it("reports ffmpeg's complaint when the data is not decodable", async () => {
    const junk = { timestamp: 0, keyframe: true, data: new Uint8Array([0, 0, 0, 3, 0x65, 1, 2]) };
    const error = await encodeJpeg({ name: "H264", clockRate: 90000 }, junk).catch((e) => e);
    expect(error).toBeInstanceOf(JpegEncodeError);
    expect(error.code).toBe("EncodeFailed");
  }, 20_000);
});

describe("MjpegTranscoder (real ffmpeg)", () => {
  it("makes one JPEG per H.264 frame and stops on close()", async () => {
    const jpegs: Uint8Array[] = [];
    const t = new MjpegTranscoder({ codec, width: 160, onJpeg: (j) => void jpegs.push(j) });
    try {
      for (let i = 0; i < 25; i++) {
        await t.write({ timestamp: i * 3600, keyframe: clip.video.keyframes[i], data: clip.video.frames[i] });
      }
      const deadline = Date.now() + 10_000;
      while (jpegs.length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(jpegs.length).toBeGreaterThanOrEqual(20);
      expect(parseJpegSize(jpegs[0])).toEqual({ width: 160, height: 90 });
    } finally {
      t.close();
    }
  }, 20_000);

  it("missing ffmpeg throws at once", () => {
    expect(() => new MjpegTranscoder({ codec, ffmpegBin: "strom-no-such-ffmpeg", onJpeg: () => {} })).toThrow(JpegEncodeError);
  });
});
