import { describe, expect, it } from "bun:test";
import type { EdgeRoutingConfig } from "../config/types.ts";
import { chooseCentral } from "./routing.ts";

const nearest: EdgeRoutingConfig = { strategy: "nearest", fallback: "round-robin" };

describe("chooseCentral (edge.routing)", () => {
  it("at start takes the fastest to answer (nearest) or the first listed that answers (first)", () => {
    const answered = [{ index: 2, rttMs: 3 }, { index: 1, rttMs: 40 }];
    expect(chooseCentral(answered, 3, undefined, nearest)).toBe(2);
    expect(chooseCentral(answered, 3, undefined, { ...nearest, strategy: "first" })).toBe(1);
    // A tie goes to the one listed first.
    expect(chooseCentral([{ index: 1, rttMs: 5 }, { index: 0, rttMs: 5 }], 2, undefined, nearest)).toBe(0);
  });

  it("after the central in use fails, round-robin takes the next listed that answers, wrapping around", () => {
    const rr: EdgeRoutingConfig = { strategy: "first", fallback: "round-robin" };
    expect(chooseCentral([{ index: 0, rttMs: 1 }, { index: 3, rttMs: 9 }], 4, 1, rr)).toBe(3);
    expect(chooseCentral([{ index: 0, rttMs: 9 }, { index: 1, rttMs: 1 }], 4, 3, rr)).toBe(0);
  });

  it("after a failure, fallback nearest takes the fastest of the others", () => {
    const answers = [{ index: 0, rttMs: 9 }, { index: 3, rttMs: 2 }];
    expect(chooseCentral(answers, 4, 1, { strategy: "first", fallback: "nearest" })).toBe(3);
  });

  it("chooses none when none answered", () => {
    expect(chooseCentral([], 2, undefined, nearest)).toBeUndefined();
    expect(chooseCentral([], 2, 0, nearest)).toBeUndefined();
  });
});
