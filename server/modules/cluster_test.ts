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
      const handle = await clusterModule.init({ ...t.ctx, wsHandlers: new Map() }, t.app);
      expect(t.hub.get("cam")!.sources).toEqual(["rtsp://user:pw@central:8554/cam"]);
      expect(t.hub.get("front door")!.sources).toEqual(["rtsp://user:pw@central:8554/front%20door"]);
      await handle?.close();
    } finally {
      await t.close();
    }
  });

  test("configs that cannot work fail at start naming the key", async () => {
    const edgeByName = await makeTestApp({ yaml: "edge:\n  origin: node-1\n" });
    const noName = await makeTestApp({ yaml: "cluster:\n  nats: nats://127.0.0.1:9\n" });
    try {
      await expect(clusterModule.init({ ...edgeByName.ctx, wsHandlers: new Map() }, edgeByName.app)).rejects
        .toThrow(/edge\.origin: "node-1" is a node name, which needs a cluster/);
      await expect(clusterModule.init({ ...noName.ctx, wsHandlers: new Map() }, noName.app)).rejects
        .toThrow(/cluster\.node: is required/);
    } finally {
      await edgeByName.close();
      await noName.close();
    }
  });

  test("edge configs that cannot work fail at start naming the key and the fix", async () => {
    const cases: [string, RegExp][] = [
      ["edge:\n  enabled: true\n", /edge\.enabled: is true but neither edge\.central_server nor edge\.origin/],
      ["edge:\n  central_server: rtsp://central:8554\n", /edge\.central_server: "rtsp:\/\/central:8554" has scheme rtsp, not http or https \(an RTSP URL goes in edge\.origin\)/],
      [
        "edge:\n  central_server: http://central:1984\ncluster:\n  nodes:\n    - {name: a, address: 127.0.0.1:1984}\n",
        /edge\.central_server: is for an edge outside a cluster; in a cluster give edge\.origin a node name/,
      ],
    ];
    for (const [yaml, error] of cases) {
      const t = await makeTestApp({ yaml });
      try {
        await expect(clusterModule.init({ ...t.ctx, wsHandlers: new Map() }, t.app)).rejects.toThrow(error);
      } finally {
        await t.close();
      }
    }
  });

  test("edge.enabled: false keeps the section but leaves every stream as configured", async () => {
    const t = await makeTestApp({ yaml: "streams:\n  cam: rtsp://10.0.0.5/1\nedge:\n  enabled: false\n  origin: rtsp://central:8554\n" });
    try {
      expect(await clusterModule.init({ ...t.ctx, wsHandlers: new Map() }, t.app)).toBeUndefined();
      expect(t.hub.get("cam")!.sources).toEqual(["rtsp://10.0.0.5/1"]);
    } finally {
      await t.close();
    }
  });
});
