import { describe, expect, test } from "bun:test";
import { chooseOwner, rendezvousOwner } from "./placement.ts";
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

describe("rendezvousOwner", () => {
  const names = Array.from({ length: 3000 }, (_, i) => `cam${i}`);
  const count = (nodes: { name: string; weight: number }[]) => {
    const n = new Map<string, number>();
    for (const s of names) n.set(rendezvousOwner(s, nodes)!, (n.get(rendezvousOwner(s, nodes)!) ?? 0) + 1);
    return n;
  };

  test("the same answer whatever the order of the list; weights share streams out in proportion", () => {
    const nodes = [{ name: "node-1", weight: 1 }, { name: "node-2", weight: 1 }, { name: "node-3", weight: 2 }];
    for (const s of names.slice(0, 200)) expect(rendezvousOwner(s, [...nodes].reverse())).toBe(rendezvousOwner(s, nodes)!);
    const n = count(nodes);
    // Expected 750, 750, 1500 of 3000.
    expect(n.get("node-3")!).toBeGreaterThan(1350);
    expect(n.get("node-3")!).toBeLessThan(1650);
    expect(n.get("node-1")!).toBeGreaterThan(620);
    expect(n.get("node-2")!).toBeGreaterThan(620);
  });

  test("a node leaving moves only its own streams; no nodes, no owner", () => {
    const all = [{ name: "a", weight: 1 }, { name: "b", weight: 1 }, { name: "c", weight: 1 }];
    const without = all.filter((n) => n.name !== "b");
    for (const s of names.slice(0, 500)) {
      const before = rendezvousOwner(s, all);
      if (before !== "b") expect(rendezvousOwner(s, without)).toBe(before!);
    }
    expect(rendezvousOwner("cam", [])).toBeUndefined();
  });
});
