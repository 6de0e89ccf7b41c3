import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Codec } from "../../lib/core/codec.ts";
import type { Consumer, ConnectionInfo } from "../../lib/core/connection.ts";
import type { Media } from "../../lib/core/media.ts";
import { type Receiver, Sender } from "../../lib/core/fanout.ts";
import { makeTestApp, type TestApp } from "../_test_support.ts";

/** A viewer that counts what it gets. */
class CountingConsumer implements Consumer {
  readonly senders: Sender[] = [];
  bytes = 0;
  medias(): Media[] {
    return [{ kind: "video", direction: "sendonly", codecs: [{ name: "H264", clockRate: 90000 }] }];
  }
  addTrack(media: Media, codec: Codec, receiver: Receiver): void {
    const sender = new Sender(media, codec, (frame) => void (this.bytes += frame.data.length));
    receiver.addSender(sender);
    this.senders.push(sender);
  }
  stop(): void {
    for (const s of this.senders) s.close();
  }
  info(): ConnectionInfo {
    return { id: 4242, format: "test", protocol: "memory", medias: ["video:H264"], bytesOut: this.bytes };
  }
}

describe("GET /api/streams.dot", () => {
  let t: TestApp;
  const viewer = new CountingConsumer();
  beforeAll(async () => {
    t = await makeTestApp({ yaml: 'streams:\n  demo: "demo:"\n  idle: "demo:"\n' });
    await t.hub.get("demo")!.addConsumer(viewer);
  });
  afterAll(async () => {
    await t.hub.get("demo")?.removeConsumer(viewer);
    await t.close();
  });

  it("draws streams, sources, tracks with byte counts and consumers", async () => {
    const res = await t.app.request("/api/streams.dot");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/vnd.graphviz");
    const dot = await res.text();
    expect(dot.startsWith("digraph {")).toBe(true);
    expect(dot.trimEnd().endsWith("}")).toBe(true);
    expect(dot).toContain("stream demo");
    expect(dot).toContain("stream idle");
    expect(dot).toContain("source demo:");
    expect(dot).toMatch(/video H264[^"]*\\n\d+(\.\d)? (B|kB|MB)/);
    expect(dot).toContain("consumer #4242 test");
    // The receiver is linked to the consumer.
    expect(dot).toMatch(/r\d+ -> c\d+;/);
  });

  it("?src= filters, 404 for an unknown stream", async () => {
    const dot = await (await t.app.request("/api/streams.dot?src=idle")).text();
    expect(dot).toContain("stream idle");
    expect(dot).not.toContain("stream demo");
    const missing = await t.app.request("/api/streams.dot?src=ghost");
    expect(missing.status).toBe(404);
  });
});
