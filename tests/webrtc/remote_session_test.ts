/**
 * `cluster.load_balancer` for WebRTC viewers over `/api/ws`: when the balancer picks another node,
 * the node the WebSocket is on asks that node for the session (routes/webrtc_remote.ts) and the
 * media comes from there. Two real servers in this process stand in for the nodes; a test module
 * plays the balancer's part (the cluster tests run it with real cluster processes). werift is the
 * viewer. What is checked here: the account used on the other node, and that a viewer whom the
 * other node does not take (wrong account, node down) is served where it is, not dropped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import type { Module } from "../../server/modules/types.ts";
import { playRemote, RemoteWebRtcError } from "../../server/routes/webrtc_remote.ts";
import { freePort } from "../_support/net.ts";
import { openWebSocket } from "../ops/_support.ts";
import { answerOverWs, type DemoWebRtcServer, startDemoWebRtcServer, until, Viewer } from "./_peer.ts";

const ACCOUNT = `Basic ${btoa("node:secret")}`;

let target: { api: string; authorization?: string } | undefined;
/** Plays the balancer: sends every WebRTC viewer to `target`. */
const balancer: Module = {
  name: "test-balancer",
  init(ctx) {
    ctx.viewerRedirect!.webrtc = () => target;
    return Promise.resolve();
  },
};

const servers: DemoWebRtcServer[] = [];

beforeAll(async () => {
  servers.push(await startDemoWebRtcServer({}, [balancer]));
  servers.push(await startDemoWebRtcServer({ username: "node", password: "secret", local_auth: true }));
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.close()));
}, 30_000);

const consumers = (i: number) => servers[i].hub.get("demo")?.consumers().length ?? 0;

/** Opens `/api/ws` on the first server, offers, applies the answer, waits for video; returns how to leave. */
async function playOverWs(query = ""): Promise<{ viewer: Viewer; ws: WebSocket }> {
  const viewer = new Viewer({ audio: false });
  const ws = await openWebSocket(`${servers[0].base.replace("http", "ws")}/api/ws?src=demo${query}`);
  await viewer.accept(await answerOverWs(ws, await viewer.offer()));
  await until("video over /api/ws", () => viewer.packets.video > 30, 15_000);
  return { viewer, ws };
}

/** Plays over `/api/ws` (with `query`), checks which server holds the session, leaves, waits until it is gone. */
async function expectServedBy(server: 0 | 1, query = ""): Promise<void> {
  const { viewer, ws } = await playOverWs(query);
  try {
    expect(consumers(server)).toBe(1);
    expect(consumers(1 - server)).toBe(0);
  } finally {
    ws.close();
    await viewer.close();
  }
  await until(`the session gone from server ${server}`, () => consumers(server) === 0, 5000);
}

describe("WebRTC viewers over /api/ws balanced to another node", () => {
  test("the other node's session, asked for with the cluster account; it ends there when the WebSocket closes", async () => {
    target = { api: servers[1].base, authorization: ACCOUNT };
    await expectServedBy(1);
  }, 40_000);

  test("a node that refuses the account, or does not answer, leaves the viewer to be served here", async () => {
    const dead = await freePort();
    for (const t of [{ api: servers[1].base }, { api: servers[1].base, authorization: `Basic ${btoa("node:wrong")}` }, { api: `http://127.0.0.1:${dead}` }]) {
      target = t;
      await expectServedBy(0);
    }
  }, 60_000);

  test("a viewer another node already sent here (cluster_hop) is served here", async () => {
    target = { api: servers[1].base, authorization: ACCOUNT };
    await expectServedBy(0, "&cluster_hop=1");
  }, 40_000);

  test("playRemote names the node, the status and the fix when it is refused", async () => {
    let error: unknown;
    try {
      await playRemote({ api: servers[1].base }, "demo", "v=0\r\n", undefined, silentLogger);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RemoteWebRtcError);
    expect((error as RemoteWebRtcError).status).toBe(401);
    expect((error as Error).message).toContain(`${servers[1].base}/api/webrtc?src=demo&cluster_hop=1`);
    expect((error as Error).message).toContain("cluster.username and cluster.password");
  });
});
