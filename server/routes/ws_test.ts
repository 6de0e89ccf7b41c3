import { describe, expect, it } from "bun:test";
import { makeTestApp } from "../_test_support.ts";

// The WebSocket message loop over a real connection is tested in tests/server/serve_test.ts.
describe("GET /api/ws without a WebSocket-capable adapter", () => {
  it("answers 426 with a JSON error", async () => {
    const t = await makeTestApp();
    try {
      const res = await t.app.request("/api/ws?src=demo");
      expect(res.status).toBe(426);
      expect((await res.json()).error).toBe("UpgradeRequired");
    } finally {
      await t.close();
    }
  });
});
