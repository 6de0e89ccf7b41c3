import { describe, expect, it } from "bun:test";
import { NalFramingError } from "./nal_framing_error.ts";

describe("NalFramingError", () => {
  it("is a SyntaxError with offset, size and a message saying what to check", () => {
    const e = new NalFramingError(12, 40, "length 5000 runs past the end");
    expect(e).toBeInstanceOf(SyntaxError);
    expect(e.name).toBe("NalFramingError");
    expect(e.offset).toBe(12);
    expect(e.size).toBe(40);
    expect(e.message).toBe(
      "Cannot read AVCC NAL unit at byte 12 of 40: length 5000 runs past the end; " +
        "the data is truncated or not length-prefixed (Annex-B start codes?)",
    );
  });
});
