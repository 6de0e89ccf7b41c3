/**
 * The go2rtc seed article's cluster, as written: `cluster: {enabled, nodes: [{name, address, weight}],
 * load_balancer: {health_check, check_interval, failover_threshold}}`, no NATS. Real peers: a camera
 * (a strom serving the `demo:` clip over RTSP, whose readers are the upstream connections we count),
 * three strom nodes as separate processes on this test's runtime with the same `nodes` list (each
 * finds itself by its api.listen port), ffmpeg as the viewer.
 *
 * The tests share one cluster and run in order: pulled once -> owner killed -> old owner back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import {
  agreedOwner,
  demoCamera,
  expectLeastConnectionsRedirects,
  maxUpstreamDuring,
  nodeYamlLines,
  ownerAndOther,
  Reader,
  sleep,
  startNodes,
  StromProc,
  tempDir,
  until,
} from "./_cluster.ts";

const hasFfmpeg = await hasTool("ffmpeg");

interface ClusterJson {
  node: string;
  mode: string;
  nodes: Array<{ name: string; load: number; streams: string[]; self?: boolean }>;
  down?: Array<{ name: string; state: string; failed_checks: number; error?: string }>;
  streams: Record<string, string>;
}

describe.skipIf(!hasFfmpeg)("cluster of listed nodes, no NATS (needs ffmpeg)", () => {
  const dir = tempDir();
  let camera: StromProc;
  const nodes = new Map<string, StromProc>();
  const readers: Reader[] = [];
  const readerOf = new Map<string, Reader>();

  const cluster = (node: StromProc) => node.json<ClusterJson>("/api/cluster");
  const owner = async (via: StromProc) => (await cluster(via)).streams.cam;

  beforeAll(async () => {
    camera = await demoCamera(dir.path);
    const ports = new Map<string, [number, number]>();
    for (const name of ["n1", "n2", "n3"]) ports.set(name, [await freePort(), await freePort()]);
    // The same cluster block on every node, as the seed article shows it (weights 1, 1, 2).
    const block = [
      `cluster:`,
      `  enabled: true`,
      `  nodes:`,
      ...[...ports].map(([name, [api]], i) => `    - {name: ${name}, address: "127.0.0.1:${api}", weight: ${i === 2 ? 2 : 1}}`),
      `  load_balancer:`,
      `    health_check: /api/health`,
      `    check_interval: 0.5s`,
      `    failover_threshold: 3`,
    ];
    const starts = [camera.start()];
    for (const [name, [api, rtsp]] of ports) {
      const node = new StromProc(name, dir.path, [
        ...nodeYamlLines(api, rtsp, camera.rtsp("cam")),
        ...block,
        ``,
      ].join("\n"), api, rtsp);
      nodes.set(name, node);
      starts.push(node.start());
    }
    await Promise.all(starts);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(readers.map((r) => r.stop()));
    await Promise.allSettled([...nodes.values()].map((n) => n.stop("SIGKILL")));
    await camera?.stop("SIGKILL");
    dir.cleanup();
  }, 30_000);

  test("the nodes find themselves in the list and agree on one owner; the camera is pulled once while all three play it", async () => {
    const all = [...nodes.values()];
    const ownerName = await agreedOwner(all, 3, 30_000);
    expect(nodes.has(ownerName)).toBe(true);
    for (const [name, node] of nodes) {
      const view = await cluster(node);
      expect(view.mode).toBe("nodes");
      expect(view.node).toBe(name);
      expect(view.nodes.map((n) => n.name)).toEqual(["n1", "n2", "n3"]);
      expect(view.nodes.find((n) => n.self)?.name).toBe(name);
      expect(view.down).toEqual([]);
    }

    for (const node of all) {
      const reader = new Reader(node.rtsp("cam"));
      readers.push(reader);
      readerOf.set(node.name, reader);
    }
    expect(await maxUpstreamDuring(camera, Promise.all(readers.map((r) => r.grows(40, 30_000))))).toBe(1);
    expect(await camera.consumers("cam")).toBe(1);
    // The owner serves its own viewer and one relay for each other node.
    expect(await nodes.get(ownerName)!.consumers("cam")).toBe(3);
  }, 90_000);

  test("kill -9 of the owner: after failover_threshold failed checks another node pulls the camera, readers on the survivors keep decoding", async () => {
    const oldOwner = (await owner(nodes.get("n1")!))!;
    const survivors = [...nodes.keys()].filter((n) => n !== oldOwner);
    const watcher = nodes.get(survivors[0])!;
    const survivorReaders = survivors.map((s) => readerOf.get(s)!);
    const before = survivorReaders.map((r) => r.frames());
    const killedAt = Date.now();
    await nodes.get(oldOwner)!.stop("SIGKILL");
    const newOwner = await until("a new owner", 15_000, async () => {
      const o = await owner(watcher);
      return o && o !== oldOwner ? o : undefined;
    }, 100);
    expect(survivors).toContain(newOwner);
    // Three checks half a second apart, and the next check to move the stream.
    expect(Date.now() - killedAt).toBeLessThan(8000);
    const view = await cluster(watcher);
    expect(view.nodes.map((n) => n.name)).toEqual(survivors);
    expect(view.down?.map((d) => [d.name, d.state])).toEqual([[oldOwner, "down"]]);
    expect(view.down![0].failed_checks).toBeGreaterThanOrEqual(3);
    try {
      await Promise.all(survivorReaders.map((r, i) => r.grows(50, 30_000, before[i])));
    } catch (error) {
      const logs = survivors.map((s) => `--- ${s}:\n${nodes.get(s)!.proc!.output().slice(-4000)}`).join("\n");
      throw new Error(`${(error as Error).message}\n${logs}`);
    }
    for (const r of survivorReaders) expect(r.proc.exited).toBe(false);
    await until("the camera to be pulled once again", 10_000, async () => (await camera.consumers("cam")) === 1);
    const other = nodes.get(survivors.find((s) => s !== newOwner)!)!;
    expect(await owner(other)).toBe(newOwner);

    // The old owner comes back with the same config: it relays and does not take the stream back.
    const back = nodes.get(oldOwner)!;
    await back.start();
    await until("the returned node up on the others", 15_000, async () => (await cluster(watcher)).nodes.length === 3);
    await sleep(2000); // several checks
    expect(await owner(watcher)).toBe(newOwner);
    expect(await owner(back)).toBe(newOwner);
    const backReader = new Reader(back.rtsp("cam"));
    readers.push(backReader);
    await backReader.grows(20, 30_000);
    expect(await camera.consumers("cam")).toBe(1);
  }, 120_000);
});

describe.skipIf(!hasFfmpeg)("load_balancer.algorithm: least-connections with session_sticky (needs ffmpeg)", () => {
  const dir = tempDir();
  let camera: StromProc;
  let nodes: StromProc[] = [];

  beforeAll(async () => {
    camera = await demoCamera(dir.path);
    nodes = await startNodes(dir.path, camera, ["lb1", "lb2"], (_, apis) => [
      `cluster:`,
      `  nodes:`,
      ...apis.map((api, i) => `    - {name: lb${i + 1}, address: "127.0.0.1:${api}"}`),
      `  load_balancer: {algorithm: least-connections, check_interval: 0.5s, failover_threshold: 3}`,
      `  session_sticky: true`,
      `  session_timeout: 1h`,
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop("SIGKILL")));
    await camera?.stop("SIGKILL");
    dir.cleanup();
  }, 30_000);

  test("a node with more viewers sends new ones to the other node (HTTP 307, RTSP 302); a sticky client keeps going there", async () => {
    const { owner, other } = await ownerAndOther(nodes);
    await expectLeastConnectionsRedirects(owner, other);
    const view = await owner.json<ClusterJson>("/api/cluster");
    expect(view.mode).toBe("nodes");
  }, 120_000);
});
