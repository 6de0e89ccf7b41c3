import { describe, expect, it } from "bun:test";
import { BitReader, BitstreamError } from "./bit_reader.ts";
import { BitWriter } from "./_bit_writer.ts";
import { skipVuiHead } from "./vui.ts";

describe("skipVuiHead", () => {
  it("skips every present field (Extended_SAR, colour description, chroma location)", () => {
    const w = new BitWriter()
      .flag(true).u(8, 255).u(16, 4).u(16, 3) // aspect_ratio_idc = Extended_SAR, sar 4:3
      .flag(true).flag(false) // overscan
      .flag(true).u(3, 5).flag(true).flag(true).u(8, 1).u(8, 1).u(8, 1) // video signal + colour
      .flag(true).ue(2).ue(3) // chroma sample locations
      .u(8, 0xa5); // the first codec-specific bits
    const r = new BitReader(w.rbsp(), "test VUI");
    skipVuiHead(r);
    expect(r.u(8, "marker")).toBe(0xa5);
  });

  it("reads only the presence flags when nothing is present, and a short SAR code", () => {
    const w = new BitWriter().flag(true).u(8, 1).flag(false).flag(false).flag(false).u(8, 0x3c);
    const r = new BitReader(w.rbsp(), "test VUI");
    skipVuiHead(r);
    expect(r.u(8, "marker")).toBe(0x3c);
  });

  it("throws BitstreamError naming the field when the bits run out", () => {
    const r = new BitReader(new Uint8Array([0xff]), "test VUI"); // aspect ratio present, idc cut short
    expect(() => skipVuiHead(r)).toThrow(BitstreamError);
    const again = new BitReader(new Uint8Array([0xff]), "test VUI");
    expect(() => skipVuiHead(again)).toThrow(/aspect_ratio_idc/);
  });
});
