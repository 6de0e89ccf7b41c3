import { describe, expect, it } from "bun:test";
import { envObject, getEnv, runtimeName } from "./env.ts";

describe("env", () => {
  it("reads variables", () => {
    expect(getEnv("PATH")).toBeTruthy();
    expect(getEnv("STROM_SURELY_UNSET_VARIABLE")).toBeUndefined();
    expect(envObject().PATH).toBe(getEnv("PATH"));
  });

  it("detects the runtime", () => {
    const expected = getEnv("STROM_TEST_RUNTIME");
    const name = runtimeName();
    expect(["node", "deno", "bun"]).toContain(name);
    if (expected) expect(name).toBe(expected);
  });
});
