import { describe, expect, it } from "bun:test";
import { applyDefaults } from "./merge.ts";
import { configSchema, listConfigKeys, typeName } from "./schema.ts";
import type { SchemaNode } from "./schema.ts";
import type { StromConfig } from "./types.ts";

describe("configSchema", () => {
  it("gives every key a one-line description", () => {
    const keys = listConfigKeys();
    expect(keys.length).toBeGreaterThan(80);
    for (const k of keys) {
      expect(k.description.length).toBeGreaterThan(3);
      expect(k.description.includes("\n")).toBe(false);
    }
  });

  it("lists keys with types, defaults and placeholders for user-chosen names", () => {
    const byPath = new Map(listConfigKeys().map((k) => [k.path, k]));
    expect(byPath.get("api")?.type).toBe("section");
    expect(byPath.get("api.listen")).toMatchObject({ type: "string", default: ":1984", example: ":1984" });
    expect(byPath.get("rtsp.default_query")?.default).toBe("video&audio");
    expect(byPath.get("webrtc.listen")?.default).toBe(":8555");
    expect(byPath.get("ffmpeg.bin")?.default).toBe("ffmpeg");
    expect(byPath.get("ffmpeg.<template>")?.type).toBe("string");
    expect(byPath.get("streams")?.type).toBe("map of <stream> to source URL(s)");
    expect(byPath.get("streams.<stream>")?.type).toBe("source URL(s)");
    expect(byPath.get("api.auth.users.<username>.role")).toMatchObject({
      values: ["viewer", "admin"],
      default: "viewer",
    });
    expect(byPath.get("webrtc.ice_servers[].urls")?.type).toBe("list of string");
    expect(byPath.get("log.level")?.values).toEqual(["trace", "debug", "info", "warn", "error", "disabled"]);
    expect(byPath.get("record.segment")).toMatchObject({ type: "duration", default: 60 });
    expect(byPath.get("metrics.path")?.default).toBe("/metrics");
    expect(byPath.get("limits.max_connections")?.type).toBe("integer");
  });

  it("names types in words", () => {
    const s: SchemaNode = {
      kind: "list",
      description: "",
      items: { kind: "number", integer: true, description: "" },
    };
    expect(typeName(s)).toBe("list of integer");
  });

  it("has defaults for every section that StromConfig declares", () => {
    const config = applyDefaults(configSchema, {}) as StromConfig;
    const sections: Array<keyof StromConfig> = [
      "app",
      "api",
      "rtsp",
      "rtmp",
      "webrtc",
      "onvif",
      "ffmpeg",
      "exec",
      "streams",
      "publish",
      "preload",
      "disabled",
      "log",
      "debug",
      "hls",
      "metrics",
      "monitoring",
      "limits",
      "record",
      "hooks",
      "cluster",
      "edge",
      "env",
    ];
    expect(Object.keys(config).sort()).toEqual([...sections].sort());
  });
});
