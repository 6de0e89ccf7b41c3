import { describe, expect, it } from "bun:test";
import { applyDefaults, mergeConfigValues } from "./merge.ts";
import type { ObjectNode } from "./schema.ts";

describe("mergeConfigValues", () => {
  it("merges maps deeply and replaces lists and scalars", () => {
    const base = { a: { x: 1, y: [1, 2], z: { k: "v" } }, b: "keep" };
    const over = { a: { x: 2, y: [3], z: { j: "w" } } };
    expect(mergeConfigValues(base, over)).toEqual({ a: { x: 2, y: [3], z: { k: "v", j: "w" } }, b: "keep" });
    expect(base.a.x).toBe(1); // inputs untouched
  });

  it("keeps the base for undefined and lets a list replace a map", () => {
    expect(mergeConfigValues({ a: 1 }, undefined)).toEqual({ a: 1 });
    expect(mergeConfigValues({ a: { b: 1 } }, { a: ["x"] })).toEqual({ a: ["x"] });
  });
});

describe("applyDefaults", () => {
  const schema: ObjectNode = {
    kind: "object",
    description: "",
    keys: {
      s: { kind: "string", description: "", default: "d" },
      n: { kind: "number", description: "" },
      sub: {
        kind: "object",
        description: "",
        keys: {
          l: { kind: "list", description: "", items: { kind: "string", description: "" }, default: ["x"] },
        },
      },
      m: {
        kind: "map",
        keyName: "<k>",
        description: "",
        default: {},
        values: {
          kind: "object",
          description: "",
          keys: { role: { kind: "string", description: "", default: "viewer" } },
        },
      },
    },
  };

  it("fills absent keys, nested sections and map entries, and copies defaults", () => {
    const a = applyDefaults(schema, { m: { bob: {} } }) as any;
    expect(a).toEqual({ s: "d", sub: { l: ["x"] }, m: { bob: { role: "viewer" } } });
    a.sub.l.push("y");
    expect((applyDefaults(schema, {}) as any).sub.l).toEqual(["x"]);
  });
});
