import { describe, expect, it } from "bun:test";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { describeBody, detectStreamFormat } from "./stream_format.ts";

const text = (s: string) => new TextEncoder().encode(s);

describe("detectStreamFormat", () => {
  it("tells real FLV and MPEG-TS files by their magic bytes, whatever the Content-Type", async () => {
    const flv = await loadFixture(new URL("../../format/flv/testdata/ffmpeg_h264_aac.flv", import.meta.url));
    const ts = await loadFixture(
      new URL("../../format/mpegts/testdata/ffmpeg_h264_aac.mpegts", import.meta.url),
    );
    expect(detectStreamFormat("video/x-flv", flv.subarray(0, 64))).toBe("flv");
    expect(detectStreamFormat("text/plain", flv.subarray(0, 64))).toBe("flv");
    expect(detectStreamFormat("application/octet-stream", ts.subarray(0, 400))).toBe("mpegts");
    // One packet is not enough to be sure: the next sync byte must be there too.
    expect(detectStreamFormat("video/mp2t", ts.subarray(0, 100))).toBe("more");
  });

  it("JPEG: a snapshot with image/jpeg or a known length, else a raw JPEG stream", () => {
    const soi = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);
    expect(detectStreamFormat("image/jpeg", soi)).toBe("jpeg");
    expect(detectStreamFormat("", soi, { single: true })).toBe("jpeg");
    expect(detectStreamFormat("application/octet-stream", soi)).toBe("mjpeg");
  });

  it("multipart MJPEG by its delimiter line, HLS by #EXTM3U", () => {
    const part = text("--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: 10\r\n\r\n");
    expect(detectStreamFormat("multipart/x-mixed-replace; boundary=myboundary", part)).toBe("multipart");
    expect(detectStreamFormat("text/plain", part)).toBe("multipart");
    expect(detectStreamFormat("\r\n", text("\r\n--b\r\n"), {})).toBe("multipart");
    expect(detectStreamFormat("application/vnd.apple.mpegurl", text("#EXTM3U\n#EXT-X-VERSION:3\n"))).toBe(
      "hls",
    );
    expect(detectStreamFormat("text/plain", text("#EXTM3U\n"))).toBe("hls");
  });

  it("ADTS AAC by its syncword; MP3 (layer bits set) is not taken for it", () => {
    // AAC-LC 44.1 kHz mono, frame length 0x100.
    const adts = new Uint8Array([0xff, 0xf1, 0x50, 0x40, 0x20, 0x1f, 0xfc]);
    expect(detectStreamFormat("audio/aac", adts)).toBe("adts");
    expect(detectStreamFormat("", new Uint8Array([0xff, 0xfb, 0x90, 0x64, 0, 0, 0]))).toBeUndefined();
  });

  it("raw H.264 and H.265 Annex-B by their first NAL unit", () => {
    expect(detectStreamFormat("", new Uint8Array([0, 0, 0, 1, 0x67, 0x64, 0, 0x1f]))).toBe("h264");
    expect(detectStreamFormat("", new Uint8Array([0, 0, 0, 1, 0x40, 0x01, 0x0c, 0x01]))).toBe("h265");
  });

  it("HTML, JSON and empty bodies are not media", () => {
    expect(detectStreamFormat("text/html", text("<!DOCTYPE html><html>"))).toBeUndefined();
    expect(detectStreamFormat("application/json", text('{"error":"no"}'))).toBeUndefined();
    expect(detectStreamFormat("", new Uint8Array(0), { ended: true })).toBeUndefined();
    expect(detectStreamFormat("", new Uint8Array(2))).toBe("more");
  });
});

describe("describeBody", () => {
  it("quotes printable bytes and shows others as hex", () => {
    expect(describeBody("text/html", text("<html>"))).toBe('Content-Type "text/html", first bytes "<html>"');
    expect(describeBody(undefined, new Uint8Array([0, 1, 0xff]))).toBe(
      "Content-Type (none), first bytes 00 01 ff",
    );
    expect(describeBody("", new Uint8Array(0))).toBe("Content-Type (none), first bytes (empty body)");
  });
});
