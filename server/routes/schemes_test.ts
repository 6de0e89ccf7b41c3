import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { makeTestApp, type TestApp } from "../_test_support.ts";

describe("GET /api/schemes", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp();
  });
  afterAll(() => t.close());

  it("lists the registered source schemes", async () => {
    const res = await t.app.request("/api/schemes");
    expect(res.status).toBe(200);
    const schemes = await res.json();
    expect(Array.isArray(schemes)).toBe(true);
    expect(schemes).toContain("demo");
  });
});
