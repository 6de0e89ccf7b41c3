import { describe, expect, it } from "bun:test";
import type { Codec } from "../../core/codec.ts";
import { frame, MemoryProducer, videoMedia, waitFor } from "../../core/_testing.ts";
import { registerSource, unregisterSource } from "../../core/registry.ts";
import { Stream } from "../../core/stream.ts";
import { type MjpegFeedInfo, MjpegFeeds } from "./shared_transcoder.ts";

const JPEG: Codec = { name: "JPEG", clockRate: 90000, payloadType: 26 };

async function withJpegStream(fn: (stream: Stream, producer: MemoryProducer) => Promise<void>) {
  const producer = new MemoryProducer([videoMedia("recvonly", JPEG)]);
  registerSource("memjpeg", () => Promise.resolve(producer));
  const stream = new Stream("cam", ["memjpeg:"], { graceMs: 10 });
  try {
    await fn(stream, producer);
  } finally {
    await stream.close();
    unregisterSource("memjpeg");
  }
}

describe("MjpegFeeds (JPEG camera: fan-out without ffmpeg)", () => {
  it("serves viewers of one stream and options from one consumer, builds each part once, drops only for a busy viewer", async () => {
    await withJpegStream(async (stream, producer) => {
      const feeds = new MjpegFeeds({ lingerMs: 30 });
      const a: Uint8Array[] = [];
      const b: Uint8Array[] = [];
      let closedSlow = "";
      const va = await feeds.join(stream, {}, { kind: "multipart", write: (p) => void a.push(p) });
      const vb = await feeds.join(stream, {}, { kind: "multipart", write: (p) => void b.push(p) });
      // Busy forever: every JPEG after the first is dropped for it, never for the others.
      const slow = await feeds.join(stream, {}, {
        write: () => new Promise<void>(() => {}),
        onClose: (reason) => (closedSlow = reason),
      });
      // One consumer on the stream (the feed), with one client entry per viewer.
      const listed = stream.info().consumers;
      expect(listed.length).toBe(1);
      expect((listed[0] as MjpegFeedInfo).clients.map((c) => c.format)).toEqual(["mjpeg", "mjpeg", "mjpeg"]);
      expect(feeds.size).toBe(1);
      for (let i = 0; i < 5; i++) producer.push("video", frame(i * 3600, true, 50));
      await waitFor(() => b.length === 5);
      expect(a.length).toBe(5);
      expect(a[0]).toBe(b[0]); // one multipart part for every viewer
      expect(new TextDecoder().decode(a[0].subarray(0, 8))).toBe("--frame\r");
      expect(slow.sent).toBe(1);
      expect(slow.drops).toBe(4);
      const info = stream.info().consumers[0] as MjpegFeedInfo;
      expect(info.format).toBe("mjpeg-fanout");
      expect(info.viewers).toBe(3);
      expect(info.viewerDrops).toBe(4);

      // Other options: another feed.
      const vc = await feeds.join(stream, { width: 320 }, { write: () => {} });
      expect(feeds.size).toBe(2);
      await Promise.all([va.close(), vb.close(), slow.close("left"), vc.close()]);
      expect(closedSlow).toBe("left");
      await waitFor(() => feeds.size === 0 && stream.info().consumers.length === 0, 2000);
    });
  });

  it("a viewer that throws is closed; duration closes a viewer; a stream closing ends its viewers", async () => {
    await withJpegStream(async (stream, producer) => {
      const feeds = new MjpegFeeds({ lingerMs: 30 });
      let why = "";
      await feeds.join(stream, {}, {
        write: () => {
          throw new Error("socket gone");
        },
        onClose: (r) => (why = r),
      });
      producer.push("video", frame(0, true, 50));
      await waitFor(() => why === "write failed");
      let timed = "";
      const v = await feeds.join(stream, {}, { write: () => {}, onClose: (r) => (timed = r) });
      v.closeAfter(20);
      await waitFor(() => timed === "duration reached");
      let ended = "";
      await feeds.join(stream, {}, { write: () => {}, onClose: (r) => (ended = r) });
      await stream.close();
      await waitFor(() => ended === "feed closed");
      expect(feeds.size).toBe(0);
    });
  });
});
