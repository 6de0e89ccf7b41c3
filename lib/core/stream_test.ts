import { afterEach, describe, expect, it } from "bun:test";
import {
  AAC,
  audioMedia,
  frame,
  H264,
  MemoryProducer,
  OPUS,
  RecordingConsumer,
  tick,
  videoMedia,
  waitFor,
} from "./_testing.ts";
import { CodecMismatchError, SourceError, StreamDisabledError, UnknownSchemeError } from "./errors.ts";
import type { StreamEvent } from "./events.ts";
import { StreamHub } from "./hub.ts";
import { registerSource, unregisterSource } from "./registry.ts";
import { Stream } from "./stream.ts";

const streams: Stream[] = [];
const schemes: string[] = [];
let seq = 0;

/** Registers a unique scheme whose dials return the producers made by `make`. */
function scheme(make: () => MemoryProducer | Promise<MemoryProducer>): { url: string; dials: () => number } {
  const name = `memtest${++seq}`;
  schemes.push(name);
  let dials = 0;
  registerSource(name, async () => {
    dials++;
    return await make();
  });
  return { url: `${name}://source`, dials: () => dials };
}

function stream(sources: string[], graceMs = 20): Stream {
  const s = new Stream("test", sources, { graceMs, reconnectDelaysMs: [10, 20] });
  streams.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(streams.splice(0).map((s) => s.close()));
  for (const s of schemes.splice(0)) unregisterSource(s);
});

const viewerAV = () =>
  new RecordingConsumer([
    videoMedia("sendonly", { name: "ANY", clockRate: 0 }),
    audioMedia("sendonly", { name: "ANY", clockRate: 0 }),
  ]);

describe("Stream", () => {
  it("dials lazily, only when the first viewer arrives", async () => {
    const cam = new MemoryProducer([videoMedia("recvonly", H264)]);
    const src = scheme(() => cam);
    const s = stream([src.url]);
    await tick();
    expect(src.dials()).toBe(0);
    const viewer = viewerAV();
    await s.addConsumer(viewer);
    expect(src.dials()).toBe(1);
    expect(cam.started).toBe(1);
    cam.push("video", frame(0, true));
    await tick();
    expect(viewer.frames.video).toHaveLength(1);
  });

  it("takes each media from the first source with a matching codec", async () => {
    // Camera: H264 + AAC. Transcoder: OPUS. A WebRTC-like viewer wants H264 + OPUS.
    const cam = new MemoryProducer([videoMedia("recvonly", H264), audioMedia("recvonly", AAC)]);
    const ff = new MemoryProducer([audioMedia("recvonly", OPUS)]);
    const a = scheme(() => cam);
    const b = scheme(() => ff);
    const s = stream([a.url, b.url]);
    const viewer = new RecordingConsumer([
      videoMedia("sendonly", H264),
      audioMedia("sendonly", { name: "OPUS", clockRate: 48000, channels: 2 }),
    ]);
    await s.addConsumer(viewer);
    expect(viewer.tracks.map((t) => t.codec.name)).toEqual(["H264", "OPUS"]);
    expect(cam.started).toBe(1);
    expect(ff.started).toBe(1);

    // An MSE-like viewer that takes AAC never needs the transcoder's audio.
    const mse = new RecordingConsumer([videoMedia("sendonly", H264), audioMedia("sendonly", AAC)]);
    await s.addConsumer(mse);
    expect(mse.tracks.map((t) => t.codec.name)).toEqual(["H264", "MPEG4-GENERIC"]);
  });

  it("video=all takes every matching track", async () => {
    const cam = new MemoryProducer([
      videoMedia("recvonly", H264),
      videoMedia("recvonly", { ...H264, payloadType: 98 }),
    ]);
    const s = stream([scheme(() => cam).url]);
    const viewer = new RecordingConsumer([videoMedia("sendonly", { name: "ALL", clockRate: 0 })]);
    await s.addConsumer(viewer);
    expect(viewer.tracks).toHaveLength(2);
  });

  it("explains a codec mismatch with what was wanted and offered", async () => {
    const cam = new MemoryProducer([videoMedia("recvonly", { name: "H265", clockRate: 90000 })]);
    const s = stream([scheme(() => cam).url]);
    const viewer = new RecordingConsumer([videoMedia("sendonly", H264)]);
    const err = await s.addConsumer(viewer).catch((e) => e);
    expect(err).toBeInstanceOf(CodecMismatchError);
    expect(err.message).toContain("video:H265/90000");
    expect(err.message).toContain("video:H264/90000");
    expect(err.message).toContain("ffmpeg:test#video=h264");
  });

  it("reports dial failures and an unknown scheme clearly", async () => {
    const bad = scheme(() => Promise.reject(new Error("connection refused")));
    const s = stream([bad.url]);
    const err = await s.addConsumer(viewerAV()).catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toContain("connection refused");

    const s2 = stream(["nosuchscheme://x"]);
    const err2 = await s2.addConsumer(viewerAV()).catch((e) => e);
    expect(err2).toBeInstanceOf(UnknownSchemeError);
    expect(err2.message).toContain('"nosuchscheme"');
  });

  it("retries a failed first dial on the next viewer", async () => {
    let fail = true;
    const cam = new MemoryProducer([videoMedia("recvonly", H264)]);
    const src = scheme(() => (fail ? Promise.reject(new Error("camera offline")) : cam));
    const s = stream([src.url]);
    await expect(s.addConsumer(viewerAV())).rejects.toThrow("camera offline");
    fail = false;
    const viewer = viewerAV();
    await s.addConsumer(viewer);
    expect(src.dials()).toBe(2);
    expect(viewer.tracks).toHaveLength(1);
  });

  it("stops the source a grace period after the last viewer leaves, and reuses it within it", async () => {
    const cam = new MemoryProducer([videoMedia("recvonly", H264)]);
    const src = scheme(() => cam);
    const s = stream([src.url], 60);
    const v1 = viewerAV();
    await s.addConsumer(v1);
    await s.removeConsumer(v1);
    expect(v1.stopped).toBe(1);
    // Back within the grace period: same connection, no new dial.
    const v2 = viewerAV();
    await s.addConsumer(v2);
    expect(src.dials()).toBe(1);
    await s.removeConsumer(v2);
    await waitFor(() => cam.stopped > 0, 1000);
    expect(s.producers()).toHaveLength(0);
  });

  it("reconnects with backoff while viewers remain and keeps them playing", async () => {
    const conns: MemoryProducer[] = [];
    let failures = 1;
    const src = scheme(() => {
      if (conns.length > 0 && failures-- > 0) throw new Error("still down");
      const p = new MemoryProducer([videoMedia("recvonly", H264)]);
      conns.push(p);
      return p;
    });
    const s = stream([src.url], 1000);
    const viewer = viewerAV();
    await s.addConsumer(viewer);
    conns[0].push("video", frame(0, true));
    conns[0].end(new Error("connection reset"));
    await waitFor(() => conns.length === 2 && conns[1].started === 1, 2000);
    expect(src.dials()).toBe(3); // first dial, one failed redial, one good redial
    conns[1].push("video", frame(3000, true));
    await tick();
    expect(viewer.frames.video.map((f) => f.timestamp)).toEqual([0, 3000]);
    expect(conns[0].stopped).toBeGreaterThan(0);
  });

  it("bytesReceived never goes down: reconnects, idle stops and removed sources keep their bytes", async () => {
    const conns: MemoryProducer[] = [];
    const src = scheme(() => {
      const p = new MemoryProducer([videoMedia("recvonly", H264)]);
      conns.push(p);
      return p;
    });
    const other = scheme(() => new MemoryProducer([videoMedia("recvonly", H264)]));
    const s = stream([src.url], 20);
    const viewer = viewerAV();
    await s.addConsumer(viewer);
    conns[0].push("video", frame(0, true, 1000));
    expect(s.bytesReceived()).toBe(1000);
    // The connection drops; the new one starts its tracks from zero, the stream's total does not.
    conns[0].end(new Error("connection reset"));
    await waitFor(() => conns.length === 2 && conns[1].started === 1, 2000);
    conns[1].push("video", frame(3000, true, 500));
    expect(s.bytesReceived()).toBe(1500);
    // The viewer leaves and the source stops after the grace period.
    await s.removeConsumer(viewer);
    await waitFor(() => conns[1].stopped > 0, 2000);
    expect(s.bytesReceived()).toBe(1500);
    // The source is replaced by another one.
    s.sources = [other.url];
    await s.retired;
    expect(s.bytesReceived()).toBe(1500);
  });

  it("a viewer arriving while the source reconnects does not stop the reconnects", async () => {
    const conns: MemoryProducer[] = [];
    let down = true;
    const src = scheme(() => {
      if (conns.length > 0 && down) throw new Error("still down");
      const p = new MemoryProducer([videoMedia("recvonly", H264)]);
      conns.push(p);
      return p;
    });
    const s = stream([src.url], 1000);
    const first = viewerAV();
    await s.addConsumer(first);
    conns[0].push("video", frame(0, true));
    conns[0].end(new Error("connection reset"));
    await waitFor(() => src.dials() >= 2, 2000); // the reconnect loop is failing now
    await expect(s.addConsumer(viewerAV())).rejects.toThrow(/reconnecting/);
    down = false;
    await waitFor(() => conns.length === 2 && conns[1].started === 1, 2000);
    conns[1].push("video", frame(3000, true));
    await tick();
    expect(first.frames.video.map((f) => f.timestamp)).toEqual([0, 3000]);
  });

  it("does not feed a consumer from the source it stands for (loop protection)", async () => {
    const self = new MemoryProducer([videoMedia("recvonly", H264)]);
    const other = new MemoryProducer([videoMedia("recvonly", H264)]);
    const a = scheme(() => self);
    const b = scheme(() => other);
    const s = stream([a.url, b.url]);
    const viewer = new RecordingConsumer([videoMedia("sendonly", H264)], a.url);
    await s.addConsumer(viewer);
    expect(self.started).toBe(0);
    expect(other.started).toBe(1);
  });

  it("serves a publisher first and moves viewers to a returning publisher", async () => {
    const s = stream([]);
    await expect(s.addConsumer(viewerAV())).rejects.toThrow("no sources");
    const pub1 = new MemoryProducer([videoMedia("recvonly", H264)]);
    await s.addPublisher(pub1);
    const viewer = viewerAV();
    await s.addConsumer(viewer);
    pub1.push("video", frame(1, true));
    s.removePublisher(pub1);
    const pub2 = new MemoryProducer([videoMedia("recvonly", H264)]);
    await s.addPublisher(pub2);
    pub2.push("video", frame(2, true));
    await tick();
    expect(viewer.frames.video.map((f) => f.timestamp)).toEqual([1, 2]);
  });

  it("exposes info with redacted secrets and per-track counters", async () => {
    const cam = new MemoryProducer([videoMedia("recvonly", H264)]);
    const name = `memtest${++seq}`;
    schemes.push(name);
    registerSource(name, () => Promise.resolve(cam));
    const s = stream([`${name}://admin:hunter2@cam/1`]);
    await s.addConsumer(viewerAV());
    cam.push("video", frame(0, true, 50));
    const info = JSON.stringify(s.info());
    expect(info).not.toContain("hunter2");
    expect(info).toContain("admin:***@cam");
    expect(s.info().producers[0]).toMatchObject({
      state: "running",
      tracks: [{ codec: "H264/90000", bytes: 50 }],
    });
  });
});

describe("StreamHub", () => {
  it("creates, updates, resolves and deletes streams", async () => {
    const hub = new StreamHub();
    hub.set("a", ["rtsp://x"]);
    expect(hub.get("a")?.sources).toEqual(["rtsp://x"]);
    hub.set("a", ["rtsp://y"]);
    expect(hub.names()).toEqual(["a"]);
    expect(hub.get("a")?.sources).toEqual(["rtsp://y"]);
    expect(hub.resolve("rtsp://z")).toBeUndefined();
    expect(hub.resolve("rtsp://z", { allowUrls: true })?.sources).toEqual(["rtsp://z"]);
    expect(hub.delete("a")).toBe(true);
    expect(hub.delete("a")).toBe(false);
    await hub.close();
  });
});

describe("Stream idle stop", () => {
  it("keeps a source a consumer took tracks from, even before it attaches senders (RTSP DESCRIBE then PLAY)", async () => {
    const cam = new MemoryProducer([videoMedia("recvonly", H264)]);
    const name = `memtest${++seq}`;
    schemes.push(name);
    registerSource(name, () => Promise.resolve(cam));
    const s = new Stream("late", [`${name}://x`], { graceMs: 0 });
    streams.push(s);
    // A consumer that records the receiver but attaches no sender yet.
    const late = new RecordingConsumer([videoMedia("sendonly", H264)]);
    late.addTrack = (media, codec) => void late.tracks.push({ media, codec });
    await s.addConsumer(late);
    await new Promise((r) => setTimeout(r, 30));
    expect(cam.stopped).toBe(0);
    await s.removeConsumer(late);
    await waitFor(() => cam.stopped > 0, 1000);
  });
});

describe("Stream failures", () => {
  it("a consumer that fails on its second track leaves no sender behind", async () => {
    const cam = new MemoryProducer([videoMedia("recvonly", H264), audioMedia("recvonly", AAC)]);
    const name = `memtest${++seq}`;
    schemes.push(name);
    registerSource(name, () => Promise.resolve(cam));
    const s = stream([`${name}://x`]);
    const viewer = viewerAV();
    const addTrack = viewer.addTrack.bind(viewer);
    viewer.addTrack = (media, codec, receiver) => {
      if (media.kind === "audio") throw new Error("cannot carry AAC");
      addTrack(media, codec, receiver);
    };
    await expect(s.addConsumer(viewer)).rejects.toThrow("cannot carry AAC");
    expect(cam.receivers.every((r) => r.senders.length === 0)).toBe(true);
    expect(s.consumers()).toHaveLength(0);
  });
});

describe("Stream.addConsumer with retry", () => {
  it("keeps dialing a source that is down at the first dial, then plays", async () => {
    let failures = 2;
    const cam = new MemoryProducer([videoMedia("recvonly", H264)]);
    const src = scheme(() => (failures-- > 0 ? Promise.reject(new Error("camera offline")) : cam));
    const s = stream([src.url]);
    const viewer = viewerAV();
    await s.addConsumer(viewer, { retry: { delaysMs: [10] } });
    expect(src.dials()).toBe(3);
    cam.push("video", frame(0, true));
    await tick();
    expect(viewer.frames.video).toHaveLength(1);
  });

  it("stops retrying when aborted and still fails fast on a codec mismatch", async () => {
    const down = scheme(() => Promise.reject(new Error("camera offline")));
    const s = stream([down.url]);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    await expect(s.addConsumer(viewerAV(), { retry: { signal: abort.signal, delaysMs: [10] } })).rejects
      .toThrow(
        "camera offline",
      );
    expect(down.dials()).toBeGreaterThan(1);

    const h265 = new MemoryProducer([videoMedia("recvonly", { name: "H265", clockRate: 90000 })]);
    const s2 = stream([scheme(() => h265).url]);
    await expect(s2.addConsumer(new RecordingConsumer([videoMedia("sendonly", H264)]), { retry: {} })).rejects
      .toBeInstanceOf(CodecMismatchError);
  });
});

describe("holding a dropped source's last GOP (holdMs, edge mode)", () => {
  function dropping(): { src: ReturnType<typeof scheme>; conns: MemoryProducer[]; setDown(v: boolean): void } {
    const conns: MemoryProducer[] = [];
    let down = false;
    const src = scheme(() => {
      if (down) throw new Error("still down");
      const p = new MemoryProducer([videoMedia("recvonly", H264), audioMedia("recvonly", AAC)]);
      conns.push(p);
      return p;
    });
    return { src, conns, setDown: (v) => (down = v) };
  }
  function held(sources: string[], holdMs: number): Stream {
    const s = new Stream("test", sources, { graceMs: 1000, reconnectDelaysMs: [10, 20], holdMs });
    streams.push(s);
    return s;
  }
  const holding = (s: Stream) => (s.info().producers[0] as { holding?: boolean }).holding;

  it("a viewer arriving while the source is down gets the cached GOP, then the live frames", async () => {
    const { src, conns, setDown } = dropping();
    const s = held([src.url], 5000);
    const first = new RecordingConsumer([videoMedia("sendonly", H264)]);
    await s.addConsumer(first);
    conns[0].push("video", frame(0, true));
    conns[0].push("video", frame(3000));
    setDown(true);
    conns[0].end(new Error("connection reset"));
    await waitFor(() => src.dials() >= 2, 2000); // reconnects are failing
    expect(holding(s)).toBe(true);
    expect(s.cachedKeyframe()?.frame.timestamp).toBe(0);
    // Video from the held GOP at once; the audio track nobody had set up yet waits for the source.
    const late = viewerAV();
    await s.addConsumer(late);
    await tick();
    expect(late.frames.video.map((f) => f.timestamp)).toEqual([0, 3000]);
    setDown(false);
    await waitFor(() => conns.length === 2 && conns[1].started === 1, 2000);
    conns[1].push("video", frame(90000, true));
    conns[1].push("audio", frame(48000, true));
    await tick();
    expect(late.frames.video.map((f) => f.timestamp)).toEqual([0, 3000, 90000]);
    expect(late.frames.audio.map((f) => f.timestamp)).toEqual([48000]);
    expect(first.frames.video.map((f) => f.timestamp)).toEqual([0, 3000, 90000]);
    expect(holding(s)).toBeUndefined();
  });

  it("holds with nobody watching (within the grace period) and serves the next viewer", async () => {
    const { src, conns, setDown } = dropping();
    const s = held([src.url], 5000);
    const first = viewerAV();
    await s.addConsumer(first);
    conns[0].push("video", frame(0, true));
    await s.removeConsumer(first);
    setDown(true);
    conns[0].end();
    await waitFor(() => src.dials() >= 2, 2000);
    const next = viewerAV();
    await s.addConsumer(next);
    await tick();
    expect(next.frames.video.map((f) => f.timestamp)).toEqual([0]);
  });

  it("after the hold the cached GOP goes and new viewers are refused as without one", async () => {
    const { src, conns, setDown } = dropping();
    const s = held([src.url], 100);
    const first = viewerAV();
    await s.addConsumer(first);
    conns[0].push("video", frame(0, true));
    setDown(true);
    conns[0].end();
    await waitFor(() => holding(s) === true, 2000);
    await waitFor(() => holding(s) === undefined, 2000);
    expect(s.cachedKeyframe()).toBeUndefined();
    await expect(s.addConsumer(viewerAV())).rejects.toThrow(/reconnecting/);
    // The viewer already there still gets the source when it is back.
    setDown(false);
    await waitFor(() => conns.length === 2 && conns[1].started === 1, 2000);
    conns[1].push("video", frame(9000, true));
    await tick();
    expect(first.frames.video.map((f) => f.timestamp)).toEqual([0, 9000]);
  });

  it("without a hold a source that drops with nobody watching is let go", async () => {
    const { src, conns, setDown } = dropping();
    const s = held([src.url], 0);
    const first = viewerAV();
    await s.addConsumer(first);
    conns[0].push("video", frame(0, true));
    await s.removeConsumer(first);
    setDown(true);
    conns[0].end();
    await tick();
    expect(s.info().producers[0]).toMatchObject({ state: "idle", tracks: [] });
    await expect(s.addConsumer(viewerAV())).rejects.toThrow(/still down/);
  });
});

describe("Stream.disable (privacy mode)", () => {
  it("disconnects viewers and publishers, stops sources, refuses new ones, hides the cached picture", async () => {
    const cam = new MemoryProducer([videoMedia("recvonly", H264)]);
    const src = scheme(() => cam);
    const events: StreamEvent[] = [];
    const hub = new StreamHub({ graceMs: 20, reconnectDelaysMs: [10] });
    hub.events.on((e) => events.push(e));
    const s = hub.set("door", [src.url]);
    streams.push(s);
    const viewer = viewerAV();
    await s.addConsumer(viewer);
    await waitFor(() => cam.started === 1);
    cam.push("video", frame(0, true));
    await waitFor(() => s.cachedKeyframe() !== undefined);
    const pub = new MemoryProducer([videoMedia("recvonly", H264)]);
    await s.addPublisher(pub);

    await s.disable("someone is home");
    expect(viewer.stopped).toBe(1);
    expect(cam.stopped).toBeGreaterThanOrEqual(1);
    expect(pub.stopped).toBe(1);
    expect(s.consumers()).toEqual([]);
    expect(s.producers()).toEqual([]);
    expect(s.cachedKeyframe()).toBeUndefined();
    expect(s.disabled?.reason).toBe("someone is home");
    expect((s.info() as { disabled?: { reason: string } }).disabled?.reason).toBe("someone is home");
    expect(events.map((e) => e.type)).toContain("disabled");

    const late = viewerAV();
    const error = await s.addConsumer(late).catch((e) => e);
    expect(error).toBeInstanceOf(StreamDisabledError);
    expect(error.message).toContain('Stream "door" is disabled (someone is home)');
    expect(error.message).toContain("DELETE /api/disabled?src=door");
    expect(late.stopped).toBe(0); // refused before any track was attached
    await expect(s.addPublisher(new MemoryProducer([videoMedia("recvonly", H264)]))).rejects.toBeInstanceOf(
      StreamDisabledError,
    );
    expect(src.dials()).toBe(1); // nothing dialed while disabled

    expect(s.disabledError()?.message).toBe(error.message);
    s.enable();
    expect(s.disabled).toBeUndefined();
    expect(s.disabledError()).toBeUndefined();
    expect(events.map((e) => e.type)).toContain("enabled");
    const again = viewerAV();
    await s.addConsumer(again);
    expect(src.dials()).toBe(2);
  });

  it("keeps long-lived consumers (retry) waiting while disabled and attaches them once enabled", async () => {
    const cam = new MemoryProducer([videoMedia("recvonly", H264)]);
    const src = scheme(() => cam);
    const s = stream([src.url]);
    await s.disable();
    const keeper = viewerAV();
    let attached = false;
    const abort = new AbortController();
    const done = s.addConsumer(keeper, { retry: { signal: abort.signal } }).then(() => (attached = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(attached).toBe(false);
    expect(src.dials()).toBe(0);
    s.enable();
    await done;
    expect(attached).toBe(true);
    expect(s.consumers()).toEqual([keeper]);

    // Aborting a waiting consumer ends its wait with the refusal.
    await s.disable("again");
    const other = viewerAV();
    const abort2 = new AbortController();
    const waiting = s.addConsumer(other, { retry: { signal: abort2.signal } }).catch((e) => e);
    await tick();
    abort2.abort();
    expect(await waiting).toBeInstanceOf(StreamDisabledError);
    abort.abort();
  });

  it("a viewer being attached when the stream is disabled does not start", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const cam = new MemoryProducer([videoMedia("recvonly", H264)]);
    const src = scheme(async () => {
      await gate;
      return cam;
    });
    const s = stream([src.url]);
    const viewer = viewerAV();
    const adding = s.addConsumer(viewer).catch((e) => e);
    await tick();
    await s.disable("now");
    release();
    expect(await adding).toBeInstanceOf(StreamDisabledError);
    expect(s.consumers()).toEqual([]);
    expect(viewer.stopped).toBe(1);
  });
});
