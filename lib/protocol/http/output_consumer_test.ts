import { describe, expect, it } from "bun:test";
import { AAC, audioMedia, frame, H264, MemoryProducer, videoMedia, waitFor } from "../../core/_testing.ts";
import { CodecMismatchError } from "../../core/errors.ts";
import type { Frame } from "../../core/frame.ts";
import { registerSource, unregisterSource } from "../../core/registry.ts";
import { Stream } from "../../core/stream.ts";
import { OutputConsumer } from "./output_consumer.ts";
import { OutputSession } from "./output_session.ts";

class Recorder extends OutputConsumer {
  written: string[] = [];
  opened = 0;
  closed = 0;
  sink: (frame: Frame) => void | Promise<void> = () => {};
  protected open(): void {
    this.opened++;
  }
  protected writeFrame(index: number, f: Frame): void | Promise<void> {
    this.written.push(`${this.tracks[index].media.kind}:${f.timestamp}`);
    return this.sink(f);
  }
  protected override close(): void {
    this.closed++;
  }
}

const wantsAll = () => [videoMedia("sendonly", H264), audioMedia("sendonly", AAC)];

async function withStream(fn: (stream: Stream, producer: MemoryProducer) => Promise<void>) {
  const producer = new MemoryProducer([videoMedia("recvonly", H264), audioMedia("recvonly", AAC)]);
  registerSource("memtest", () => Promise.resolve(producer));
  const stream = new Stream("s", ["memtest:"], { graceMs: 10 });
  try {
    await fn(stream, producer);
  } finally {
    await stream.close();
    unregisterSource("memtest");
  }
}

describe("OutputConsumer", () => {
  it("holds frames until start() (cached GOP included), then writes each track in order", async () => {
    await withStream(async (stream, producer) => {
      const warm = new Recorder("warm", wantsAll());
      await stream.addConsumer(warm);
      warm.start();
      producer.push("video", frame(0, true));
      producer.push("video", frame(3000));
      const late = new Recorder("late", wantsAll());
      await stream.addConsumer(late);
      producer.push("audio", frame(100, true));
      await new Promise((r) => setTimeout(r, 5));
      expect(late.written).toEqual([]);
      late.start();
      await waitFor(() => late.written.length === 3);
      expect(late.written.filter((w) => w.startsWith("video"))).toEqual(["video:0", "video:3000"]);
      expect(late.written).toContain("audio:100");
      expect(late.opened).toBe(1);
      expect(late.tracks.map((t) => t.media.kind)).toEqual(["video", "audio"]);
    });
  });

  it("a slow sink makes the viewer drop instead of queueing without bound", async () => {
    await withStream(async (stream, producer) => {
      const slow = new Recorder("slow", [videoMedia("sendonly", H264)]);
      slow.sink = () => new Promise<void>(() => {}); // never drains
      await stream.addConsumer(slow);
      slow.start();
      for (let i = 0; i < 1000; i++) producer.push("video", frame(i * 3000, i % 50 === 0));
      await new Promise((r) => setTimeout(r, 5));
      const sender = slow.tracks[0].sender;
      expect(sender.queued).toBeLessThanOrEqual(128);
      expect(sender.drops).toBeGreaterThan(800);
      expect(slow.info().drops).toBe(sender.drops);
    });
  });

  it("stop() is idempotent and reports once; start() without a carried track is a codec mismatch", async () => {
    await withStream(async (stream) => {
      class Picky extends Recorder {
        protected override accepts(): boolean {
          return false;
        }
      }
      const picky = new Picky("picky", wantsAll());
      await stream.addConsumer(picky);
      expect(() => picky.start("s")).toThrow(CodecMismatchError);
      let stops = 0;
      picky.onStop = () => stops++;
      picky.stop();
      picky.stop();
      expect(stops).toBe(1);
      expect(picky.closed).toBe(1);
    });
  });
});

describe("OutputSession", () => {
  it("closes exactly once whatever ends it first, and removes the consumer", async () => {
    await withStream(async (stream) => {
      const abort = new AbortController();
      const consumer = new Recorder("r", wantsAll());
      const closes: string[] = [];
      const session = new OutputSession(stream, consumer, { signal: abort.signal, onClose: (reason) => closes.push(reason) });
      await session.open();
      expect(stream.consumers()).toEqual([consumer]);
      abort.abort();
      await session.close("again");
      consumer.stop();
      await waitFor(() => closes.length > 0);
      await new Promise((r) => setTimeout(r, 5));
      expect(closes).toEqual(["request aborted"]);
      expect(stream.consumers()).toEqual([]);
      expect(consumer.closed).toBe(1);
    });
  });

  it("ends after durationMs", async () => {
    await withStream(async (stream) => {
      const closes: string[] = [];
      const session = new OutputSession(stream, new Recorder("r", wantsAll()), { durationMs: 20, onClose: (r) => closes.push(r) });
      await session.open();
      await waitFor(() => closes.length === 1, 1000);
      expect(closes).toEqual(["duration reached"]);
      expect(stream.consumers()).toEqual([]);
    });
  });

  it("a failed open leaves nothing attached and rethrows", async () => {
    await withStream(async (stream) => {
      const closes: string[] = [];
      const consumer = new Recorder("r", [videoMedia("sendonly", { name: "VP9", clockRate: 90000 })]);
      const session = new OutputSession(stream, consumer, { onClose: (r) => closes.push(r) });
      await expect(session.open()).rejects.toThrow(CodecMismatchError);
      expect(stream.consumers()).toEqual([]);
      expect(closes).toEqual(["open failed"]);
    });
  });
});
