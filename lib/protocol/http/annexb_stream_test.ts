import { describe, expect, it } from "bun:test";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { ffprobeJson } from "../../../tests/_support/ffmpeg.ts";
import { hasTool } from "../../../tests/_support/process.ts";
import { type AnnexbAccessUnit, AnnexbSplitter, detectAnnexb } from "./annexb_stream.ts";

const hasFfprobe = await hasTool("ffprobe");

async function split(codec: "H264" | "H265", file: URL, chunk: number) {
  const data = await loadFixture(file);
  const units: AnnexbAccessUnit[] = [];
  const splitter = new AnnexbSplitter(codec, (au) => units.push(au));
  for (let p = 0; p < data.length; p += chunk) splitter.push(data.subarray(p, p + chunk));
  splitter.flush();
  return { data, units, splitter };
}

/** Walks AVCC length prefixes; returns the NAL unit types. */
function nalTypes(au: Uint8Array, h265: boolean): number[] {
  const out: number[] = [];
  let p = 0;
  while (p < au.length) {
    const len = (au[p] << 24) | (au[p + 1] << 16) | (au[p + 2] << 8) | au[p + 3];
    out.push(h265 ? (au[p + 4] >> 1) & 0x3f : au[p + 4] & 0x1f);
    p += 4 + len;
  }
  expect(p).toBe(au.length);
  return out;
}

describe("detectAnnexb", () => {
  it("tells H.264 from H.265 by the first NAL unit header", async () => {
    const h264 = await loadFixture(
      new URL("../../codec/h264/testdata/ffmpeg_h264_640x360.h264", import.meta.url),
    );
    const h265 = await loadFixture(
      new URL("../../codec/h265/testdata/ffmpeg_h265_640x360.hevc", import.meta.url),
    );
    expect(detectAnnexb(h264.subarray(0, 16))).toBe("H264");
    expect(detectAnnexb(h265.subarray(0, 16))).toBe("H265");
    expect(detectAnnexb(new Uint8Array([0, 0, 1, 0x46, 0x01, 0x10]))).toBe("H265"); // AUD
    expect(detectAnnexb(new Uint8Array([0, 0, 0, 1, 0x09, 0xf0]))).toBe("H264"); // AUD
    expect(detectAnnexb(new Uint8Array([0, 0, 0, 1, 0xe7, 0]))).toBeUndefined(); // forbidden bit
    expect(detectAnnexb(new TextEncoder().encode("<html>"))).toBeUndefined();
  });
});

describe("AnnexbSplitter", () => {
  for (
    const [codec, path, ext] of [
      ["H264", "../../codec/h264/testdata/ffmpeg_h264_640x360.h264", "h264"],
      ["H265", "../../codec/h265/testdata/ffmpeg_h265_640x360.hevc", "hevc"],
    ] as const
  ) {
    it.skipIf(!hasFfprobe)(
      `${codec}: as many access units and keyframes as ffprobe finds, in any chunking`,
      async () => {
        const url = new URL(path, import.meta.url);
        const { data, units, splitter } = await split(codec, url, 1000);
        const { json } = await ffprobeJson(data, [
          "-f",
          ext,
          "-show_entries",
          "packet=flags",
          "-select_streams",
          "v",
        ]);
        const packets = json.packets as { flags: string }[];
        expect(units.length).toBe(packets.length);
        expect(units.map((u) => u.keyframe)).toEqual(packets.map((p) => p.flags.startsWith("K")));
        expect(splitter.codec?.name).toBe(codec);
        expect(splitter.codec?.fmtp).toContain(codec === "H264" ? "sprop-parameter-sets=" : "sprop-vps=");
        // Delimiters dropped; parameter sets stay in front of the keyframe.
        const first = nalTypes(units[0].data, codec === "H265");
        expect(first).toContain(codec === "H264" ? 7 : 32);
        expect(first).not.toContain(codec === "H264" ? 9 : 35);
        // The same units whatever the chunk size, down to a byte at a time.
        const bytewise = await split(codec, url, 1);
        expect(bytewise.units.map((u) => u.data.length)).toEqual(units.map((u) => u.data.length));
      },
    );
  }

  it("drops a NAL unit larger than the limit and recovers at the next one", async () => {
    const units: AnnexbAccessUnit[] = [];
    const s = new AnnexbSplitter("H264", (au) => units.push(au), 1000);
    const h264 = await loadFixture(
      new URL("../../codec/h264/testdata/ffmpeg_h264_640x360.h264", import.meta.url),
    );
    s.push(new Uint8Array([0, 0, 0, 1, 0x06, ...new Uint8Array(5000).fill(7)]));
    s.push(h264);
    s.flush();
    expect(s.errors).toBeGreaterThanOrEqual(1);
    expect(units.length).toBeGreaterThan(0);
  });
});
