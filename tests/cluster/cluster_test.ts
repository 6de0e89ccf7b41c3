/**
 * Cluster on NATS (issue 13), with real peers: nats-server with JetStream on a free loopback port,
 * a camera (a strom serving the `demo:` clip over RTSP, whose readers are the upstream connections
 * we count), three strom nodes as separate processes on this test's runtime, ffmpeg as the viewer.
 *
 * One cluster is shared by the tests below, which run in order (pulled once -> owner killed ->
 * old owner back -> NATS restart) to keep the file within a few minutes per runtime.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import {
  agreedOwner,
  demoCamera,
  expectLeastConnectionsRedirects,
  maxUpstreamDuring,
  NatsServer,
  nodeYamlLines,
  ownerAndOther,
  Reader,
  sleep,
  startNodes,
  StromProc,
  tempDir,
  until,
} from "./_cluster.ts";

const hasPeers = (await hasTool("nats-server")) && (await hasTool("ffmpeg"));
const skipReason = "needs nats-server (scripts/install_test_deps.sh) and ffmpeg";

interface ClusterJson {
  node: string;
  nodes: Array<{ name: string; api: string; rtsp: string; load: number; streams: string[] }>;
  streams: Record<string, string>;
}

describe.skipIf(!hasPeers)(`cluster of three nodes (${skipReason})`, () => {
  const dir = tempDir();
  let nats: NatsServer;
  let camera: StromProc;
  const nodes = new Map<string, StromProc>();
  const readers: Reader[] = [];
  const readerOf = new Map<string, Reader>();

  function nodeYaml(name: string, api: number, rtsp: number, cameraRtsp: string): string {
    return [
      ...nodeYamlLines(api, rtsp, cameraRtsp),
      `cluster:`,
      `  node: ${name}`,
      `  nats: ${nats.url}`,
      `  advertise: {api: "http://127.0.0.1:${api}", rtsp: "rtsp://127.0.0.1:${rtsp}"}`,
      `  heartbeat: 0.5s`,
      `  node_ttl: 2s`,
      ``,
    ].join("\n");
  }

  const cluster = (node: StromProc) => node.json<ClusterJson>("/api/cluster");
  const owner = async (via: StromProc) => (await cluster(via)).streams.cam;

  beforeAll(async () => {
    nats = new NatsServer(await freePort(), `${dir.path}/js`);
    await nats.start();
    camera = await demoCamera(dir.path);
    const starts = [camera.start()];
    for (const name of ["n1", "n2", "n3"]) {
      const api = await freePort();
      const rtsp = await freePort();
      const node = new StromProc(name, dir.path, nodeYaml(name, api, rtsp, camera.rtsp("cam")), api, rtsp);
      nodes.set(name, node);
      starts.push(node.start());
    }
    await Promise.all(starts);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(readers.map((r) => r.stop()));
    await Promise.allSettled([...nodes.values()].map((n) => n.stop("SIGKILL")));
    await camera?.stop("SIGKILL");
    await nats?.stop("SIGKILL");
    dir.cleanup();
  }, 30_000);

  test("every node sees the three nodes and one owner of the stream; the camera is pulled once while all three play it", async () => {
    const all = [...nodes.values()];
    const owners = [await agreedOwner(all, 3, 20_000)];
    expect(nodes.has(owners[0])).toBe(true);
    const view = await cluster(all[0]);
    expect(view.nodes.map((n) => n.name)).toEqual(["n1", "n2", "n3"]);
    expect(view.nodes.find((n) => n.name === owners[0])!.streams).toEqual(["cam"]);

    // One viewer on every node; sample the camera's upstream connections meanwhile.
    for (const node of all) {
      const reader = new Reader(node.rtsp("cam"));
      readers.push(reader);
      readerOf.set(node.name, reader);
    }
    expect(await maxUpstreamDuring(camera, Promise.all(readers.map((r) => r.grows(40, 30_000))))).toBe(1);
    expect(await camera.consumers("cam")).toBe(1);
    // One upstream per node and stream, shared by its viewers: a second viewer on a non-owner adds
    // no connection at the owner (its own viewer plus one relay from each other node).
    const ownerNode = nodes.get(owners[0])!;
    expect(await ownerNode.consumers("cam")).toBe(3);
    const second = new Reader(all.find((n) => n !== ownerNode)!.rtsp("cam"));
    readers.push(second);
    await second.grows(20, 30_000);
    expect(await ownerNode.consumers("cam")).toBe(3);
    await second.stop();
    // Load is reported: the owner serves its own viewer and the two relays.
    const loads = await until("the owner's load to count its viewer and two relays", 5000, async () => {
      const v = await cluster(all[0]);
      const load = v.nodes.find((n) => n.name === owners[0])!.load;
      return load >= 3 ? load : undefined;
    });
    expect(loads).toBeGreaterThanOrEqual(3);
  }, 90_000);

  test("an edge in the cluster pulls from its origin node by name, owns nothing, and adds no camera connection", async () => {
    const ownerName = (await owner(nodes.get("n1")!))!;
    const originName = [...nodes.keys()].find((n) => n !== ownerName)!;
    const origin = nodes.get(originName)!;
    const api = await freePort();
    const rtsp = await freePort();
    const edge = new StromProc("e1", dir.path, [
      `api: {listen: "127.0.0.1:${api}"}`,
      `rtsp: {listen: "127.0.0.1:${rtsp}"}`,
      `webrtc: {listen: ""}`,
      `streams: {cam: }`,
      `edge: {origin: ${originName}}`,
      `cluster:`,
      `  node: e1`,
      `  nats: ${nats.url}`,
      `  advertise: {api: "http://127.0.0.1:${api}", rtsp: "rtsp://127.0.0.1:${rtsp}"}`,
      `  heartbeat: 0.5s`,
      `  node_ttl: 2s`,
      ``,
    ].join("\n"), api, rtsp);
    await edge.start();
    try {
      const relaysBefore = await origin.consumers("cam");
      const reader = new Reader(edge.rtsp("cam"));
      readers.push(reader);
      await reader.grows(30, 30_000);
      const view = await cluster(edge);
      const self = view.nodes.find((n) => n.name === "e1") as { edge?: boolean; streams: string[] } | undefined;
      expect(self?.edge).toBe(true);
      expect(self?.streams).toEqual([]);
      expect(view.streams.cam).toBe(ownerName);
      expect(await origin.consumers("cam")).toBe(relaysBefore + 1);
      expect(await camera.consumers("cam")).toBe(1);
      await reader.stop();
    } finally {
      await edge.stop("SIGTERM");
    }
    await until("the edge to leave the cluster", 10_000, async () => (await cluster(origin)).nodes.length === 3);
  }, 90_000);

  test("kill -9 of the owner: another node takes the stream within seconds, a reader on a survivor keeps decoding, the camera is still pulled once", async () => {
    const oldOwner = (await owner(nodes.get("n1")!))!;
    const survivors = [...nodes.keys()].filter((n) => n !== oldOwner);
    const watcher = nodes.get(survivors[0])!;
    const survivorReaders = survivors.map((s) => readerOf.get(s)!);
    expect(survivorReaders.length).toBe(2);
    const before = survivorReaders.map((r) => r.frames());
    const killedAt = Date.now();
    await nodes.get(oldOwner)!.stop("SIGKILL");
    const newOwner = await until("a new owner", 10_000, async () => {
      const o = await owner(watcher);
      return o && o !== oldOwner ? o : undefined;
    }, 100);
    const takeoverMs = Date.now() - killedAt;
    expect(survivors).toContain(newOwner);
    expect(takeoverMs).toBeLessThan(8000);
    // Both readers on surviving nodes keep decoding (a short gap allowed), without reconnecting.
    await Promise.all(survivorReaders.map((r, i) => r.grows(50, 30_000, before[i])));
    for (const r of survivorReaders) expect(r.proc.exited).toBe(false);
    await until("the camera to be pulled once again", 10_000, async () => (await camera.consumers("cam")) === 1);
    // The other survivor relays from the new owner.
    const other = nodes.get(survivors.find((s) => s !== newOwner)!)!;
    expect(await owner(other)).toBe(newOwner);

    // The old owner returns under its name: it joins, relays, and does not take the stream back.
    const back = nodes.get(oldOwner)!;
    await back.start();
    await until("the returned node in the cluster", 10_000, async () => (await cluster(watcher)).nodes.length === 3);
    await sleep(2500); // several heartbeats and a TTL
    expect(await owner(watcher)).toBe(newOwner);
    expect(await owner(back)).toBe(newOwner);
    const backReader = new Reader(back.rtsp("cam"));
    readers.push(backReader);
    await backReader.grows(20, 30_000);
    expect(await camera.consumers("cam")).toBe(1);
  }, 120_000);

  test("a NATS restart does not stop playback, and ownership stays where it was", async () => {
    const ownerBefore = (await owner(nodes.get("n1")!))!;
    const live = readers.filter((r) => !r.proc.exited);
    expect(live.length).toBeGreaterThanOrEqual(2);
    // A restart as an operator does it (SIGTERM lets JetStream flush its store).
    await nats.stop("SIGTERM");
    const during = live.map((r) => r.frames());
    await Promise.all(live.map((r, i) => r.grows(30, 15_000, during[i])));
    await sleep(1000);
    await nats.start();
    await until("all nodes back on NATS", 15_000, async () => {
      const views = await Promise.all([...nodes.values()].map(cluster));
      return views.every((v) => (v as unknown as { nats: { connected: boolean } }).nats.connected && v.nodes.length === 3);
    });
    await sleep(3000); // beyond node_ttl: nobody was declared dead because NATS was away
    for (const node of nodes.values()) expect(await owner(node)).toBe(ownerBefore);
    const after = live.map((r) => r.frames());
    await Promise.all(live.map((r, i) => r.grows(20, 15_000, after[i])));
    expect(await camera.consumers("cam")).toBe(1);
  }, 90_000);
});

describe.skipIf(!hasPeers)(`load_balancer on a NATS cluster (${skipReason})`, () => {
  const dir = tempDir();
  let nats: NatsServer;
  let camera: StromProc;
  let nodes: StromProc[] = [];

  beforeAll(async () => {
    nats = new NatsServer(await freePort(), `${dir.path}/js`);
    await nats.start();
    camera = await demoCamera(dir.path);
    nodes = await startNodes(dir.path, camera, ["b1", "b2"], (name) => [
      `cluster:`,
      `  node: ${name}`,
      `  nats: ${nats.url}`,
      `  heartbeat: 0.5s`,
      `  node_ttl: 2s`,
      `  load_balancer: {algorithm: least-connections}`,
      `  session_sticky: true`,
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop("SIGKILL")));
    await camera?.stop("SIGKILL");
    await nats?.stop("SIGKILL");
    dir.cleanup();
  }, 30_000);

  test("nodes balance viewers by the load they announce: a loaded node sends new ones to the other (HTTP 307, RTSP 302)", async () => {
    const { owner, other } = await ownerAndOther(nodes);
    await expectLeastConnectionsRedirects(owner, other);
  }, 120_000);
});
