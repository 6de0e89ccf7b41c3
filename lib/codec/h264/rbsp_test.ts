import { describe, expect, it } from "bun:test";
import { nalToRbsp } from "./rbsp.ts";

describe("nalToRbsp", () => {
  it("removes every emulation prevention byte", () => {
    const nal = new Uint8Array([0x67, 0, 0, 3, 1, 0, 0, 3, 0, 0, 3, 3, 5]);
    expect([...nalToRbsp(nal)]).toEqual([0x67, 0, 0, 1, 0, 0, 0, 0, 3, 5]);
  });

  it("returns the input itself when there is nothing to remove", () => {
    const nal = new Uint8Array([0x67, 0, 3, 0, 1]);
    expect(nalToRbsp(nal)).toBe(nal);
  });

  it("keeps a 03 that follows only one zero", () => {
    expect([...nalToRbsp(new Uint8Array([0, 0, 3, 0, 3, 1]))]).toEqual([0, 0, 0, 3, 1]);
  });
});
