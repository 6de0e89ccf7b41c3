import { afterEach, describe, expect, it } from "bun:test";
import { frame, H264, MemoryProducer, RecordingConsumer, videoMedia } from "../../lib/core/_testing.ts";
import { StreamHub } from "../../lib/core/hub.ts";
import { registerSource, unregisterSource } from "../../lib/core/registry.ts";
import { CacheBound } from "./cache_bound.ts";

const schemes: string[] = [];
const hubs: StreamHub[] = [];
let seq = 0;

/** A hub whose streams stay pulled for a minute after their last viewer, as with edge.cache.ttl. */
function edgeHub(): StreamHub {
  const hub = new StreamHub({ graceMs: 60_000 });
  hubs.push(hub);
  return hub;
}

/** A stream `name` on `hub` from its own in-memory camera. */
function camera(hub: StreamHub, name: string): { cam: MemoryProducer; dials: () => number } {
  const scheme = `cachebound${++seq}`;
  schemes.push(scheme);
  const cam = new MemoryProducer([videoMedia("recvonly", H264)]);
  let dials = 0;
  registerSource(scheme, () => {
    dials++;
    return Promise.resolve(cam);
  });
  hub.set(name, [`${scheme}://cam`]);
  return { cam, dials: () => dials };
}

/** Watches `name`, pushes a keyframe of `bytes` through it, and leaves. */
async function watchOnce(hub: StreamHub, name: string, cam: MemoryProducer, bytes: number): Promise<void> {
  const viewer = new RecordingConsumer([videoMedia("sendonly", H264)]);
  await hub.get(name)!.addConsumer(viewer);
  cam.push("video", frame(0, true, bytes));
  await hub.get(name)!.removeConsumer(viewer);
}

afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  for (const s of schemes.splice(0)) unregisterSource(s);
});

describe("CacheBound (edge.cache.size)", () => {
  it("leaves streams without viewers pulled while their cached pictures fit", async () => {
    const hub = edgeHub();
    const a = camera(hub, "a");
    await watchOnce(hub, "a", a.cam, 1000);
    const sweep = new CacheBound(hub, 10_000).sweep();
    expect(sweep).toEqual({ heldBytes: 1000, stopped: [] });
    expect(a.cam.stopped).toBe(0);
  });

  it("stops the stream idle the longest first, only as many as needed to get under the bound", async () => {
    const hub = edgeHub();
    const [a, b, c] = [camera(hub, "a"), camera(hub, "b"), camera(hub, "c")];
    const bound = new CacheBound(hub, 2500);
    await watchOnce(hub, "a", a.cam, 1000);
    bound.sweep(1000);
    await watchOnce(hub, "b", b.cam, 1000);
    bound.sweep(2000);
    await watchOnce(hub, "c", c.cam, 1000);
    const sweep = bound.sweep(3000);
    expect(sweep).toEqual({ heldBytes: 3000, stopped: ["a"] });
    expect([a.cam.stopped, b.cam.stopped, c.cam.stopped]).toEqual([1, 0, 0]);
    expect(hub.get("a")!.cachedBytes()).toBe(0);
    // Under the bound now: the next sweep stops nothing.
    expect(bound.sweep(4000)).toEqual({ heldBytes: 2000, stopped: [] });
  });

  it("never stops a stream someone watches, however much it holds", async () => {
    const hub = edgeHub();
    const a = camera(hub, "a");
    const viewer = new RecordingConsumer([videoMedia("sendonly", H264)]);
    await hub.get("a")!.addConsumer(viewer);
    a.cam.push("video", frame(0, true, 5000));
    expect(new CacheBound(hub, 100).sweep()).toEqual({ heldBytes: 0, stopped: [] });
    expect(a.cam.stopped).toBe(0);
    expect(viewer.frames.video).toHaveLength(1);
  });

  it("a stream watched again starts its idle time over", async () => {
    const hub = edgeHub();
    const [a, b] = [camera(hub, "a"), camera(hub, "b")];
    const bound = new CacheBound(hub, 1500);
    await watchOnce(hub, "a", a.cam, 1000);
    bound.sweep(1000);
    // "a" is watched again, and "b" watched and left meanwhile.
    const viewer = new RecordingConsumer([videoMedia("sendonly", H264)]);
    await hub.get("a")!.addConsumer(viewer);
    bound.sweep(2000);
    await watchOnce(hub, "b", b.cam, 1000);
    bound.sweep(2500);
    await hub.get("a")!.removeConsumer(viewer);
    // "a" went idle first but was watched since: "b" is now idle the longest.
    expect(bound.sweep(3000)).toEqual({ heldBytes: 2000, stopped: ["b"] });
    expect(a.dials()).toBe(1);
    expect(a.cam.stopped).toBe(0);
  });
});
