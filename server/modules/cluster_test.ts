import { describe, expect, test } from "bun:test";
import { makeTestApp } from "../_test_support.ts";
import { clusterModule } from "./cluster.ts";

describe("cluster module", () => {
  test("without cluster: or edge: it changes no stream and /api/cluster answers an empty cluster", async () => {
    const t = await makeTestApp({ yaml: "streams:\n  cam: rtsp://127.0.0.1:9/cam\n" });
    try {
      const handle = await clusterModule.init({ ...t.ctx, wsHandlers: new Map() }, t.app);
      expect(handle).toBeUndefined();
      expect(t.hub.get("cam")!.sources).toEqual(["rtsp://127.0.0.1:9/cam"]);
      const res = await t.app.request("/api/cluster");
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ node: "", nats: { connected: false }, nodes: [], streams: {} });
    } finally {
      await t.close();
    }
  });

  test("edge.origin as a URL points every stream at the origin, without NATS", async () => {
    const t = await makeTestApp({
      yaml: "streams:\n  cam:\n  front door: rtsp://10.0.0.5/1\nedge:\n  origin: rtsp://user:pw@central:8554/\n",
    });
    try {
      await clusterModule.init({ ...t.ctx, wsHandlers: new Map() }, t.app);
      expect(t.hub.get("cam")!.sources).toEqual(["rtsp://user:pw@central:8554/cam"]);
      expect(t.hub.get("front door")!.sources).toEqual(["rtsp://user:pw@central:8554/front%20door"]);
    } finally {
      await t.close();
    }
  });

  test("configs that cannot work fail at start naming the key", async () => {
    const edgeByName = await makeTestApp({ yaml: "edge:\n  origin: node-1\n" });
    const noName = await makeTestApp({ yaml: "cluster:\n  nats: nats://127.0.0.1:9\n" });
    try {
      await expect(clusterModule.init({ ...edgeByName.ctx, wsHandlers: new Map() }, edgeByName.app)).rejects
        .toThrow(/edge\.origin: "node-1" is a node name, which needs cluster\.nats/);
      await expect(clusterModule.init({ ...noName.ctx, wsHandlers: new Map() }, noName.app)).rejects
        .toThrow(/cluster\.node: is required/);
    } finally {
      await edgeByName.close();
      await noName.close();
    }
  });
});
