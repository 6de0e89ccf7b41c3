import { describe, expect, it } from "bun:test";
import { AAC, frame, H264, tick, videoMedia, waitFor } from "./_testing.ts";
import type { RtpPacket } from "../rtp/packet.ts";
import type { Frame } from "./frame.ts";
import type { Media } from "./media.ts";
import { GopCache } from "./gop_cache.ts";
import { Receiver, Sender } from "./fanout.ts";

const video = videoMedia("recvonly", H264);

describe("Receiver and Sender", () => {
  it("fans out every frame to every sender in order", async () => {
    const r = new Receiver(video, H264);
    const got: number[][] = [[], []];
    for (const i of [0, 1]) r.addSender(new Sender(video, H264, (f) => void got[i].push(f.timestamp)));
    for (let t = 0; t < 10; t++) r.push(frame(t, t === 0));
    await tick();
    expect(got[0]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(got[1]).toEqual(got[0]);
    expect(r.frames).toBe(10);
  });

  it("a slow viewer drops until the next keyframe and never stalls a fast one", async () => {
    const r = new Receiver(video, H264, { gop: false });
    const fast: number[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((res) => (release = res));
    const slow: number[] = [];
    const slowSender = new Sender(video, H264, async (f) => {
      slow.push(f.timestamp);
      await blocked; // this viewer never catches up while blocked
    }, { capacity: 8 });
    r.addSender(slowSender);
    r.addSender(new Sender(video, H264, (f) => void fast.push(f.timestamp)));
    // 100 frames, keyframe every 25.
    for (let t = 0; t < 100; t++) {
      r.push(frame(t, t % 25 === 0));
      if (t % 10 === 0) await tick();
    }
    await tick();
    expect(fast).toHaveLength(100);
    expect(slowSender.drops).toBeGreaterThan(80);
    release();
    await waitFor(() => slowSender.queued === 0);
    // What the slow viewer got after the drop starts at a keyframe.
    const afterFirst = slow.slice(1);
    if (afterFirst.length) expect(afterFirst[0] % 25).toBe(0);
  });

  it("a new video sender starts at a keyframe; audio senders take everything", async () => {
    const r = new Receiver(video, H264, { gop: false });
    const got: number[] = [];
    r.push(frame(0, true));
    r.addSender(new Sender(video, H264, (f) => void got.push(f.timestamp)));
    r.push(frame(1));
    r.push(frame(2, true));
    r.push(frame(3));
    await tick();
    expect(got).toEqual([2, 3]);

    const audio = videoMedia("recvonly", AAC);
    audio.kind = "audio";
    const ar = new Receiver(audio, AAC);
    const agot: number[] = [];
    ar.addSender(new Sender(audio, AAC, (f) => void agot.push(f.timestamp)));
    ar.push(frame(5));
    await tick();
    expect(agot).toEqual([5]);
  });

  it("frames before a cold source's first keyframe are skipped, not counted as drops; later drops are", async () => {
    const r = new Receiver(video, H264);
    let release!: () => void;
    let blocked: Promise<void> | undefined;
    const got: number[] = [];
    const s = new Sender(video, H264, (f) => {
      got.push(f.timestamp);
      return blocked;
    }, { capacity: 4 });
    r.addSender(s); // nothing cached yet: the source just started, mid-GOP
    for (let t = 0; t < 5; t++) r.push(frame(t));
    r.push(frame(5, true));
    r.push(frame(6));
    await tick();
    expect(got).toEqual([5, 6]);
    expect(s.drops).toBe(0);
    blocked = new Promise<void>((res) => (release = res));
    for (let t = 7; t < 14; t++) r.push(frame(t)); // more than the queue holds: a real drop
    await tick();
    const dropped = s.drops;
    expect(dropped).toBeGreaterThan(0);
    // Every frame 7-13 was either handed over or counted.
    expect(got.filter((t) => t >= 7).length + dropped).toBe(7);
    release();
    r.push(frame(14, true));
    await waitFor(() => got.includes(14));
    expect(s.drops).toBe(dropped);
  });

  it("starts new viewers from the cached GOP at once", async () => {
    const r = new Receiver(video, H264);
    for (let t = 0; t < 30; t++) r.push(frame(t * 3600, t % 25 === 0));
    const got: number[] = [];
    r.addSender(new Sender(video, H264, (f) => void got.push(f.timestamp)));
    await tick();
    expect(got[0]).toBe(25 * 3600);
    expect(got).toHaveLength(5);
  });

  it("a late viewer of a GOP longer than its queue gets the whole GOP, keyframe first, then live, without a drop", async () => {
    // A camera with a 10 s GOP at 25 fps (-g 250): 300 frames since the keyframe, over twice the
    // video queue's default capacity of 128.
    const r = new Receiver(video, H264);
    for (let t = 0; t < 300; t++) r.push(frame(t * 3600, t === 0));
    expect(r.gop!.size).toBe(300);
    const got: Frame[] = [];
    const late = new Sender(video, H264, (f) => void got.push(f));
    r.addSender(late);
    // Its first frame comes at once (one microtask), before the camera's next frame.
    await tick();
    expect(got[0]?.keyframe).toBe(true);
    expect(got[0].timestamp).toBe(0);
    expect(got).toHaveLength(300);
    for (let t = 300; t < 310; t++) r.push(frame(t * 3600));
    await tick();
    expect(got.map((f) => f.timestamp / 3600)).toEqual(Array.from({ length: 310 }, (_, i) => i));
    expect(late.drops).toBe(0);
    expect(late.queued).toBe(0);
  });

  it("a late viewer whose handler takes its time gets the GOP and the frames pushed meanwhile, in order", async () => {
    const r = new Receiver(video, H264);
    for (let t = 0; t < 200; t++) r.push(frame(t, t === 0));
    const got: number[] = [];
    // Every frame waits for a timer: while the cached 200 are handed over the camera goes on.
    const late = new Sender(video, H264, (f) => {
      got.push(f.timestamp);
      return new Promise<void>((res) => setTimeout(res, 0));
    });
    r.addSender(late);
    await tick();
    expect(got).toEqual([0]);
    expect(late.queued).toBe(199);
    for (let t = 200; t < 300; t++) r.push(frame(t)); // 100 live frames: fit the 128-frame queue
    expect(late.queued).toBe(299);
    await waitFor(() => late.queued === 0, 10_000);
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(late.drops).toBe(0);
  });

  it("a second replay (a PLI) counts as drops only the waiting frames the GOP does not hold again", async () => {
    const r = new Receiver(video, H264);
    for (let t = 0; t < 50; t++) r.push(frame(t, t === 0));
    let release!: () => void;
    let blocked = new Promise<void>((res) => (release = res));
    const got: number[] = [];
    const s = new Sender(video, H264, async (f) => {
      got.push(f.timestamp);
      await blocked;
    });
    r.addSender(s);
    await tick();
    expect(got).toEqual([0]);
    for (let t = 50; t < 60; t++) r.push(frame(t)); // queued behind the first replay
    expect(s.queued).toBe(59);
    // The peer lost the picture: the GOP (now 60 frames) goes out again, from its keyframe.
    s.replay(r.gop!.frames());
    expect(s.drops).toBe(0); // every waiting frame is in the replayed GOP
    blocked = Promise.resolve();
    release();
    await waitFor(() => s.queued === 0);
    expect(got.slice(1)).toEqual(Array.from({ length: 60 }, (_, i) => i));

    // Frames waiting from an older GOP are lost to a replay of a newer one: counted.
    let release2!: () => void;
    blocked = new Promise<void>((res) => (release2 = res));
    r.push(frame(60)); // handled at once: the handler waits again
    for (let t = 61; t < 64; t++) r.push(frame(t)); // 3 queued, of the old GOP
    const fresh = new Receiver(video, H264);
    fresh.push(frame(100, true));
    s.replay(fresh.gop!.frames());
    expect(s.drops).toBe(3);
    release2();
  });

  it("a viewer too slow for the replayed GOP drops it and resumes at the next keyframe", async () => {
    const r = new Receiver(video, H264);
    for (let t = 0; t < 200; t++) r.push(frame(t, t === 0));
    let release!: () => void;
    const blocked = new Promise<void>((res) => (release = res));
    const got: number[] = [];
    const slow = new Sender(video, H264, async (f) => {
      got.push(f.timestamp);
      await blocked;
    }, { capacity: 8 });
    r.addSender(slow);
    await tick();
    expect(got).toEqual([0]);
    for (let t = 200; t < 220; t++) r.push(frame(t)); // the 9th live frame overflows the queue
    expect(slow.queued).toBe(0);
    expect(slow.drops).toBe(199 + 20);
    r.push(frame(220, true));
    r.push(frame(221));
    release();
    await waitFor(() => slow.queued === 0);
    expect(got).toEqual([0, 220, 221]);
  });

  it("replay() of a GOP that does not start at a keyframe is ignored by video senders", async () => {
    const got: number[] = [];
    const s = new Sender(video, H264, (f) => void got.push(f.timestamp));
    s.replay([frame(1), frame(2)]);
    s.push(frame(3, true));
    await tick();
    expect(got).toEqual([3]);
    s.close();
    s.replay([frame(4, true)]);
    await tick();
    expect(got).toEqual([3]);
  });

  it("replace() moves senders to a new receiver without a restart", async () => {
    const a = new Receiver(video, H264);
    const b = new Receiver(video, H264);
    const got: number[] = [];
    const s = new Sender(video, H264, (f) => void got.push(f.timestamp));
    a.addSender(s);
    a.push(frame(1, true));
    a.replace(b);
    b.push(frame(2));
    await tick();
    expect(got).toEqual([1, 2]);
    expect(a.senders).toHaveLength(0);
    expect(s.receiver).toBe(b);
  });

  it("a sender added to a replaced receiver joins its successor, with the successor's GOP", async () => {
    const a = new Receiver(video, H264);
    const b = new Receiver(video, H264);
    const c = new Receiver(video, H264);
    a.replace(b);
    b.push(frame(5, true));
    b.replace(c);
    expect(b.gop!.size).toBe(0); // retired: its cache goes
    c.push(frame(7, true));
    const got: number[] = [];
    const s = new Sender(video, H264, (f) => void got.push(f.timestamp));
    a.addSender(s); // e.g. an RTSP viewer set up on `a`, playing after two reconnects
    await tick();
    expect(s.receiver).toBe(c);
    expect(a.senders).toHaveLength(0);
    expect(got).toEqual([7]);
  });

  it("a throwing handler closes only its own sender", async () => {
    const r = new Receiver(video, H264);
    const errors: unknown[] = [];
    const bad = new Sender(video, H264, () => {
      throw new Error("socket gone");
    }, { onError: (e) => errors.push(e) });
    const got: number[] = [];
    r.addSender(bad);
    r.addSender(new Sender(video, H264, (f) => void got.push(f.timestamp)));
    r.push(frame(0, true));
    r.push(frame(1));
    await tick();
    expect(errors).toHaveLength(1);
    expect(bad.closed).toBe(true);
    expect(r.senders).toHaveLength(1);
    expect(got).toEqual([0, 1]);
  });

  it("drains right after the fan-out, in the producer's call, including senders fed from inside a handler", () => {
    const a = new Receiver(video, H264, { gop: false });
    const b = new Receiver(video, H264, { gop: false });
    const order: string[] = [];
    // A relay: a's sender pushes every frame on into b while a's drains run.
    a.addSender(
      new Sender(video, H264, (f) => {
        order.push(`a${f.timestamp}`);
        b.push(f);
        order.push(`a${f.timestamp} done`);
      }),
    );
    for (let i = 0; i < 50; i++) {
      b.addSender(
        new Sender(video, H264, (f) => {
          if (i === 0) order.push(`b${f.timestamp}`);
        }),
      );
    }
    a.push(frame(0, true));
    // b's drains run in the same loop as a's, after a's handler returned (never re-entered).
    expect(order).toEqual(["a0", "a0 done", "b0"]);
    a.push(frame(1, false));
    expect(order).toEqual(["a0", "a0 done", "b0", "a1", "a1 done", "b1"]);
    expect(b.senders.every((s) => s.frames === 2)).toBe(true);
  });

  it("drains a sender pushed to directly in one shared microtask, in push order", async () => {
    const order: string[] = [];
    const senders = [0, 1, 2].map((n) =>
      new Sender(video, H264, (f) => void order.push(`${n}:${f.timestamp}`))
    );
    for (const s of senders) s.push(frame(0, true));
    senders[0].push(frame(1, false));
    expect(order).toEqual([]);
    await tick();
    expect(order).toEqual(["0:0", "0:1", "1:0", "2:0"]);
  });

  it("onIdle fires when the last sender leaves", () => {
    const r = new Receiver(video, H264);
    let idle = 0;
    r.onIdle = () => idle++;
    const s = new Sender(video, H264, () => {});
    r.addSender(s);
    s.close();
    expect(idle).toBe(1);
  });
});

describe("GopCache", () => {
  it("keeps the last keyframe onward and bounds bytes", () => {
    const gop = new GopCache({ maxBytes: 1000 });
    gop.push(frame(0, false));
    expect(gop.size).toBe(0);
    gop.push(frame(1, true, 400));
    gop.push(frame(2, false, 400));
    expect(gop.size).toBe(2);
    gop.push(frame(3, false, 400)); // over 1000 bytes: a partial GOP is useless, drop it
    expect(gop.size).toBe(0);
    gop.push(frame(4, false, 10));
    expect(gop.size).toBe(0);
    gop.push(frame(5, true, 10));
    expect(gop.keyframe()?.timestamp).toBe(5);
  });

  it("hands out copies of the frames and their RTP packets that later GOPs do not overwrite", () => {
    const gop = new GopCache();
    const packet = (seq: number, fill: number, marker: boolean): RtpPacket => ({
      payloadType: 96,
      sequenceNumber: seq,
      timestamp: 9000 * seq,
      ssrc: 0x11223344,
      marker,
      payload: new Uint8Array(300).fill(fill),
    });
    const withPackets = (ts: number, key: boolean, fill: number): Frame => ({
      timestamp: ts,
      keyframe: key,
      cts: 3000,
      data: new Uint8Array(500).fill(fill),
      packets: [packet(ts, fill, false), packet(ts + 1, fill + 1, true)],
    });
    gop.push(withPackets(1, true, 1));
    gop.push(withPackets(2, false, 2));
    const first = gop.frames();
    expect(first.map((f) => [f.timestamp, f.keyframe, f.cts, f.data[0], f.data.length])).toEqual([
      [1, true, 3000, 1, 500],
      [2, false, 3000, 2, 500],
    ]);
    expect(first[1].packets!.map((p) => [p.sequenceNumber, p.timestamp, p.ssrc, p.marker, p.payload[0]]))
      .toEqual([
        [2, 18000, 0x11223344, false, 2],
        [3, 27000, 0x11223344, true, 3],
      ]);
    expect(gop.keyframe()?.data[0]).toBe(1);
    // The next GOP reuses the cache's buffer: what was handed out stays intact.
    gop.push(withPackets(10, true, 7));
    gop.push(withPackets(11, false, 8));
    expect(first[0].data.every((b) => b === 1)).toBe(true);
    expect(first[1].packets![1].payload.every((b) => b === 3)).toBe(true);
    expect(gop.frames().map((f) => f.data[0])).toEqual([7, 8]);
    expect(gop.keyframe()?.packets?.[0].payload[0]).toBe(7);
    // A frame without packets stays without.
    gop.push(frame(20, true, 100));
    expect(gop.frames()[0].packets).toBeUndefined();
    expect(gop.bytes).toBe(100);
  });

  it("bounds the span in time", () => {
    const gop = new GopCache({ maxDuration: 90000 });
    gop.push(frame(0, true));
    gop.push(frame(89000));
    expect(gop.size).toBe(2);
    gop.push(frame(91000));
    expect(gop.size).toBe(0);
  });
});

describe("audio that follows its video track (Receiver.syncWith)", () => {
  const video: Media = { kind: "video", direction: "recvonly", codecs: [{ name: "H264", clockRate: 90000 }] };
  const audio: Media = {
    kind: "audio",
    direction: "recvonly",
    codecs: [{ name: "MPEG4-GENERIC", clockRate: 48000 }],
  };

  it("a late viewer's audio starts at its video's cached keyframe, not live", async () => {
    const v = new Receiver(video, video.codecs[0]);
    const a = new Receiver(audio, audio.codecs[0]);
    a.syncWith(v);
    // Audio from before the keyframe, then the GOP with its audio.
    a.push({ timestamp: 0, keyframe: true, data: new Uint8Array([0]) });
    await new Promise((r) => setTimeout(r, 5));
    v.push({ timestamp: 0, keyframe: true, data: new Uint8Array([1]) });
    for (let i = 1; i <= 5; i++) {
      a.push({ timestamp: i * 1024, keyframe: true, data: new Uint8Array([i]) });
      v.push({ timestamp: i * 3600, keyframe: false, data: new Uint8Array([i]) });
    }
    const gotVideo: number[] = [];
    const gotAudio: number[] = [];
    const vs = new Sender(video, video.codecs[0], (f) => void gotVideo.push(f.timestamp));
    const as = new Sender(audio, audio.codecs[0], (f) => void gotAudio.push(f.timestamp));
    v.addSender(vs);
    a.addSender(as);
    await new Promise((r) => setTimeout(r, 0));
    expect(gotVideo).toEqual([0, 3600, 7200, 10800, 14400, 18000]);
    // The audio frame from before the keyframe is not replayed; the five after it are.
    expect(gotAudio).toEqual([1024, 2048, 3072, 4096, 5120]);
  });

  it("an audio-only viewer (no video replay just before) starts live", async () => {
    const v = new Receiver(video, video.codecs[0]);
    const a = new Receiver(audio, audio.codecs[0]);
    a.syncWith(v);
    v.push({ timestamp: 0, keyframe: true, data: new Uint8Array([1]) });
    a.push({ timestamp: 1024, keyframe: true, data: new Uint8Array([1]) });
    const got: number[] = [];
    a.addSender(new Sender(audio, audio.codecs[0], (f) => void got.push(f.timestamp)));
    a.push({ timestamp: 2048, keyframe: true, data: new Uint8Array([2]) });
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([2048]);
  });
});
