import { describe, expect, it } from "bun:test";
import { Hono } from "hono";
import type { RequestUser } from "../auth.ts";
import type { ClusterInfo, NodeAnnouncement } from "../cluster/node.ts";
import { clusterRoutes } from "./cluster.ts";

const INFO: ClusterInfo = {
  node: "n1",
  mode: "nats",
  nats: { connected: true },
  nodes: [
    { name: "n1", api: "http://n1:1984", rtsp: "rtsp://n1:8554", weight: 1, load: 2, streams: ["cam1", "cam2"], self: true },
    { name: "n2", api: "http://n2:1984", rtsp: "rtsp://n2:8554", weight: 1, load: 1, streams: ["yard"] },
  ],
  streams: { cam1: "n1", cam2: "n1", yard: "n2" },
};

/** The route behind a stand-in for the auth middleware, which sets `user` as the server's does. */
function appAs(user: RequestUser | undefined, info: ClusterInfo | null = INFO): Hono {
  const app = new Hono();
  app.use("*", async (c, next) => {
    if (user) c.set("user" as never, user as never);
    await next();
  });
  clusterRoutes(app, () => info ?? undefined);
  return app;
}

describe("GET /api/cluster", () => {
  it("shows every stream and owner without accounts, and to an admin", async () => {
    for (const user of [undefined, { name: "root", role: "admin" as const, streams: [], publish: [] } satisfies RequestUser]) {
      const body = await (await appAs(user).request("/api/cluster")).json();
      expect(body.streams).toEqual(INFO.streams);
      expect(body.nodes.map((n: { streams: string[] }) => n.streams)).toEqual([["cam1", "cam2"], ["yard"]]);
    }
  });

  it("a viewer account sees the nodes and their load, but only the streams it may watch", async () => {
    const viewer = { name: "v", role: "viewer" as const, streams: ["cam*"], publish: [] } satisfies RequestUser;
    const body = await (await appAs(viewer).request("/api/cluster")).json();
    expect(body.streams).toEqual({ cam1: "n1", cam2: "n1" });
    expect(body.nodes.map((n: { name: string; load: number; streams: string[] }) => [n.name, n.load, n.streams])).toEqual([
      ["n1", 2, ["cam1", "cam2"]],
      ["n2", 1, []],
    ]);
  });

  it("answers an empty cluster when clustering is off", async () => {
    const body = await (await appAs(undefined, null).request("/api/cluster")).json();
    expect(body).toEqual({ node: "", nats: { connected: false }, nodes: [], streams: {} });
  });
});

describe("GET /api/cluster/node", () => {
  const me = (host: string): NodeAnnouncement => ({
    name: "n1",
    api: "http://n1:1984",
    rtsp: `rtsp://relay:s3cret@${host}:8554`,
    weight: 2,
    load: 3,
    streams: ["cam1"],
    configured: ["cam1", "yard"],
  });
  function app(user?: RequestUser, self: ((host: string) => NodeAnnouncement) | null = me): Hono {
    const a = new Hono();
    a.use("*", async (c, next) => {
      if (user) c.set("user" as never, user as never);
      await next();
    });
    clusterRoutes(a, () => INFO, self ? (host) => self(host) : undefined);
    return a;
  }

  it("gives this node with the RTSP address at the host it was asked on, never its credentials", async () => {
    const body = await (await app().request("http://10.0.0.7:1984/api/cluster/node")).json();
    expect(body).toEqual({ ...me("10.0.0.7"), rtsp: "rtsp://10.0.0.7:8554" });
    const v6 = await (await app().request("http://[fd00::7]:1984/api/cluster/node")).json();
    expect(v6.rtsp).toBe("rtsp://fd00::7:8554");
  });

  it("a viewer sees only its streams; 404 with the reason when clustering is off", async () => {
    const viewer = { name: "v", role: "viewer" as const, streams: ["yard"], publish: [] } satisfies RequestUser;
    const body = await (await app(viewer).request("/api/cluster/node")).json();
    expect([body.streams, body.configured]).toEqual([[], ["yard"]]);
    const off = await app(undefined, null).request("/api/cluster/node");
    expect(off.status).toBe(404);
    expect((await off.json()).error).toContain("clustering is off");
  });
});
