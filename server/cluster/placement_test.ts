import { describe, expect, test } from "bun:test";
import { chooseOwner } from "./placement.ts";
import { kvKey, nameOfKey } from "./keys.ts";

describe("chooseOwner", () => {
  test("least connections per weight wins; ties go to the lower name", () => {
    const base = { owned: 0, configured: ["cam"] };
    expect(chooseOwner("cam", [{ ...base, name: "b", weight: 1, load: 0 }, { ...base, name: "a", weight: 1, load: 0 }]))
      .toBe("a");
    expect(chooseOwner("cam", [{ ...base, name: "a", weight: 1, load: 3 }, { ...base, name: "b", weight: 1, load: 1 }]))
      .toBe("b");
    // weight 3 carries three times the load for the same score
    expect(chooseOwner("cam", [{ ...base, name: "a", weight: 1, load: 1 }, { ...base, name: "b", weight: 3, load: 4 }]))
      .toBe("b");
  });

  test("owned streams count as load, nodes without the stream and edges are never chosen", () => {
    expect(chooseOwner("cam", [
      { name: "a", weight: 1, load: 0, owned: 2, configured: ["cam"] },
      { name: "b", weight: 1, load: 0, owned: 0, configured: ["other"] },
      { name: "c", weight: 1, load: 0, owned: 0, configured: ["cam"], edge: true },
      { name: "d", weight: 1, load: 0, owned: 1, configured: ["cam"] },
    ])).toBe("d");
    expect(chooseOwner("cam", [])).toBeUndefined();
  });
});

describe("kvKey", () => {
  test("keeps safe names and escapes everything else one-to-one", () => {
    expect(kvKey("front_door-1")).toBe("front_door-1");
    expect(kvKey("a.b c")).toBe("a=2Eb=20c");
    expect(kvKey("a=b")).toBe("a=3Db");
    expect(kvKey("kamera ü")).toMatch(/^[A-Za-z0-9_=-]+$/);
    for (const name of ["a.b c", "a=b", "kamera ü", "x/y", "plain"]) expect(nameOfKey(kvKey(name))).toBe(name);
  });
});
