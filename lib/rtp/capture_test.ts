import { describe, expect, it } from "bun:test";
import { readRtpCapture, RtpCaptureError, writeRtpCapture } from "./capture.ts";
import { loadFixture } from "../../tests/_support/fixtures.ts";

describe("RTP capture container", () => {
  it("round-trips datagrams", () => {
    const datagrams = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(1500).fill(7)];
    const bytes = writeRtpCapture(datagrams);
    expect(bytes.length).toBe(3 * 2 + 3 + 1500);
    expect(readRtpCapture(bytes)).toEqual(datagrams);
  });

  it("reads the ffmpeg fixture and rewrites it byte for byte", async () => {
    const bytes = await loadFixture(new URL("./testdata/ffmpeg_pcma_rtcp.rtp", import.meta.url));
    const datagrams = readRtpCapture(bytes);
    expect(datagrams.length).toBeGreaterThan(100);
    expect(writeRtpCapture(datagrams)).toEqual(bytes);
  });

  it("reports a truncated record with its offset", () => {
    const bytes = writeRtpCapture([new Uint8Array([1, 2]), new Uint8Array([3, 4, 5])]);
    try {
      readRtpCapture(bytes.subarray(0, bytes.length - 1));
      throw new Error("expected an error");
    } catch (e) {
      expect(e).toBeInstanceOf(RtpCaptureError);
      expect((e as RtpCaptureError).offset).toBe(4);
    }
  });
});
