import { afterEach, describe, expect, test } from "bun:test";
import process from "node:process";
import { runtimeName } from "./env.ts";
import { type HeapTuning, SERVE_HEAP_GROWING_PERCENT, tuneHeapGrowing } from "./v8_heap.ts";

const saved = { percent: process.env.STROM_HEAP_GROWING_PERCENT, nodeOptions: process.env.NODE_OPTIONS };

function restore(name: "STROM_HEAP_GROWING_PERCENT" | "NODE_OPTIONS", value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** On Bun (JavaScriptCore, no such flag) nothing is ever set. */
function onV8(tuning: HeapTuning): HeapTuning {
  return runtimeName() === "bun" ? { applied: false, reason: "bun" } : tuning;
}

describe("V8 heap growing factor for strom serve", () => {
  afterEach(() => {
    restore("STROM_HEAP_GROWING_PERCENT", saved.percent);
    restore("NODE_OPTIONS", saved.nodeOptions);
  });

  test("set to 2x by default, or to the percentage STROM_HEAP_GROWING_PERCENT gives", () => {
    delete process.env.STROM_HEAP_GROWING_PERCENT;
    delete process.env.NODE_OPTIONS;
    expect(tuneHeapGrowing()).toEqual(onV8({ applied: true, percent: SERVE_HEAP_GROWING_PERCENT }));
    process.env.STROM_HEAP_GROWING_PERCENT = "50";
    expect(tuneHeapGrowing()).toEqual(onV8({ applied: true, percent: 50 }));
  });

  test("left alone when the user set the flag, or asked for V8's own heuristics with 0", () => {
    process.env.STROM_HEAP_GROWING_PERCENT = "0";
    expect(tuneHeapGrowing()).toEqual({ applied: false, reason: "disabled" });
    delete process.env.STROM_HEAP_GROWING_PERCENT;
    process.env.NODE_OPTIONS = "--heap-growing-percent=30";
    expect(tuneHeapGrowing()).toEqual(onV8({ applied: false, reason: "user-flag" }));
  });

  test("a bad STROM_HEAP_GROWING_PERCENT is an error naming it and the values it takes", () => {
    for (const bad of ["abc", "-5", "2.5", "5000"]) {
      process.env.STROM_HEAP_GROWING_PERCENT = bad;
      expect(() => tuneHeapGrowing()).toThrow(
        `STROM_HEAP_GROWING_PERCENT="${bad}" is not a whole number from 0 to 1000`,
      );
    }
  });
});
