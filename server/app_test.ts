import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { CodecMismatchError } from "../lib/core/errors.ts";
import { makeTestApp, type TestApp } from "./_test_support.ts";
import { normalizeBasePath } from "./app.ts";
import { isLoopback } from "./auth.ts";

const basic = (user: string, pass: string) => ({ authorization: `Basic ${btoa(`${user}:${pass}`)}` });

describe("error mapping (app.onError)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp();
    t.app.post("/test/json", async (c) => c.json(await c.req.json()));
    t.app.get("/test/codec", () => {
      throw new CodecMismatchError("cam", ["video:VP8"], ["video:H264"]);
    });
    t.app.get("/test/boom", () => {
      throw new Error("secret internals rtsp://a:b@c/");
    });
  });
  afterAll(() => t.close());

  it("bad JSON bodies answer 400 SyntaxError", async () => {
    const res = await t.app.request("/test/json", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe("SyntaxError");
  });

  it("CodecMismatchError answers 415", async () => {
    const res = await t.app.request("/test/codec");
    expect(res.status).toBe(415);
    const body = await res.json();
    expect(body.error).toBe("CodecMismatchError");
    expect(body.message).toContain("VP8");
  });

  it("unknown errors answer 500 without details and are logged", async () => {
    const res = await t.app.request("/test/boom");
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body.error).toBe("InternalError");
    expect(JSON.stringify(body)).not.toContain("secret internals");
    expect(t.buffer.text()).toContain("request failed");
    expect(t.buffer.text()).not.toContain("a:b@");
  });
});

describe("Basic auth", () => {
  const yaml = 'api:\n  username: admin\n  password: "s3cret"\n  auth:\n    users:\n      kiosk: { password: "view", role: viewer }\n';

  it("requires credentials from remote clients", async () => {
    const t = await makeTestApp({ yaml, remoteAddress: "192.168.1.20" });
    try {
      const none = await t.app.request("/api/streams");
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toContain("Basic");
      expect((await t.app.request("/api/streams", { headers: basic("admin", "wrong") })).status).toBe(401);
      expect((await t.app.request("/api/streams", { headers: basic("admin", "s3cret") })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it("lets loopback clients in unless local_auth is true", async () => {
    const local = await makeTestApp({ yaml, remoteAddress: "127.0.0.1" });
    const strict = await makeTestApp({ yaml: yaml + "  local_auth: true\n", remoteAddress: "::1" });
    try {
      expect((await local.app.request("/api/streams")).status).toBe(200);
      expect((await strict.app.request("/api/streams")).status).toBe(401);
    } finally {
      await local.close();
      await strict.close();
    }
  });

  it("viewers may read but not change streams", async () => {
    const t = await makeTestApp({ yaml, remoteAddress: "10.0.0.9" });
    try {
      expect((await t.app.request("/api/streams", { headers: basic("kiosk", "view") })).status).toBe(200);
      const put = await t.app.request("/api/streams?name=x&src=demo:", { method: "PUT", headers: basic("kiosk", "view") });
      expect(put.status).toBe(403);
      expect((await put.json()).message).toContain("viewer");
    } finally {
      await t.close();
    }
  });

  it("without a username nothing is asked", async () => {
    const t = await makeTestApp({ remoteAddress: "192.168.1.20" });
    try {
      expect((await t.app.request("/api/health")).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe("api.allow_paths, api.base_path, api.origin", () => {
  it("allow_paths answers 404 for other paths", async () => {
    const t = await makeTestApp({ yaml: "api:\n  allow_paths: [/api/health]\n" });
    try {
      expect((await t.app.request("/api/health")).status).toBe(200);
      const denied = await t.app.request("/api/streams");
      expect(denied.status).toBe(404);
      expect((await denied.json()).message).toContain("allow_paths");
    } finally {
      await t.close();
    }
  });

  it("base_path prefixes every route", async () => {
    const t = await makeTestApp({ yaml: "api:\n  base_path: /rtc\n" });
    try {
      expect((await t.app.request("/rtc/api/health")).status).toBe(200);
      expect((await t.app.request("/api/health")).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  it('origin "*" turns on CORS', async () => {
    const t = await makeTestApp({ yaml: 'api:\n  origin: "*"\n' });
    const plain = await makeTestApp();
    try {
      const res = await t.app.request("/api/health", { headers: { origin: "http://example.com" } });
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      // A WHEP/WHIP page on another origin may read the session's Location (to DELETE it).
      expect(res.headers.get("access-control-expose-headers")).toBe("Location,ETag");
      const pre = await t.app.request("/api/streams", {
        method: "OPTIONS",
        headers: { origin: "http://example.com", "access-control-request-method": "PUT" },
      });
      expect(pre.status).toBeLessThan(300);
      expect(pre.headers.get("access-control-allow-methods")).toContain("PUT");
      const noCors = await plain.app.request("/api/health", { headers: { origin: "http://example.com" } });
      expect(noCors.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await t.close();
      await plain.close();
    }
  });
});

describe("helpers", () => {
  it("normalizeBasePath", () => {
    expect(normalizeBasePath("")).toBe("");
    expect(normalizeBasePath("/")).toBe("");
    expect(normalizeBasePath("rtc/")).toBe("/rtc");
    expect(normalizeBasePath("/a/b")).toBe("/a/b");
  });

  it("isLoopback", () => {
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("127.8.9.1")).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("::ffff:127.0.0.1")).toBe(true);
    expect(isLoopback("192.168.1.2")).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });
});

describe("secret masking", () => {
  it("masks config secrets in JSON responses but not in /api/config", async () => {
    const yaml = 'env:\n  CAM_TOKEN: "tok-123456"\nstreams:\n  cam: "demo:?token=${CAM_TOKEN}"\n';
    const t = await makeTestApp({ yaml, file: true });
    try {
      const res = await t.app.request("/api/streams?src=cam");
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain("tok-123456");
      expect(text).toContain("***");
      expect(JSON.parse(text).name).toBe("cam");
      expect(await (await t.app.request("/api/config")).text()).toContain("${CAM_TOKEN}");
    } finally {
      await t.close();
    }
  });
});
