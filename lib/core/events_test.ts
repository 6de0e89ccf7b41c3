import { afterEach, describe, expect, it } from "bun:test";
import { H264, MemoryProducer, RecordingConsumer, videoMedia, waitFor } from "./_testing.ts";
import type { StreamEvent } from "./events.ts";
import { StreamHub } from "./hub.ts";
import { registerSource, unregisterSource } from "./registry.ts";

const hubs: StreamHub[] = [];
afterEach(async () => {
  for (const h of hubs.splice(0)) await h.close();
  unregisterSource("evtest");
});

function hubWithEvents(): { hub: StreamHub; events: StreamEvent[] } {
  const hub = new StreamHub({ graceMs: 10, reconnectDelaysMs: [10] });
  hubs.push(hub);
  const events: StreamEvent[] = [];
  hub.events.on((e) => events.push(e));
  return { hub, events };
}

describe("stream events", () => {
  it("a source: ready, read, unread, not_ready; a failing source: source_error with the URL redacted", async () => {
    let fail = false;
    const producers: MemoryProducer[] = [];
    registerSource("evtest", () => {
      if (fail) return Promise.reject(new Error("connection refused by rtsp://u:pw@cam/1"));
      const p = new MemoryProducer([videoMedia("recvonly", H264)]);
      producers.push(p);
      return Promise.resolve(p);
    });
    const { hub, events } = hubWithEvents();
    const stream = hub.set("cam", ["evtest://u:pw@cam/1"]);
    const viewer = new RecordingConsumer([videoMedia("sendonly", H264)]);
    await stream.addConsumer(viewer);
    expect(events.map((e) => e.type)).toEqual(["ready", "read"]);
    expect(events[0]).toMatchObject({ stream: "cam", source: "evtest://u:***@cam/1" });
    expect(events[1]).toMatchObject({ stream: "cam", connection: { id: viewer.info().id } });

    // The source drops and the reconnect fails: not_ready, then source_error.
    fail = true;
    producers[0].end(new Error("reset"));
    await waitFor(() => events.filter((e) => e.type === "source_error").length >= 2);
    const types = events.map((e) => e.type);
    expect(types.slice(2, 5)).toEqual(["source_error", "not_ready", "source_error"]);
    const err = events.find((e) => e.type === "source_error" && e.error.includes("refused"));
    expect(err).toMatchObject({ source: "evtest://u:***@cam/1" });
    expect(JSON.stringify(events)).not.toContain("pw@");

    await stream.removeConsumer(viewer);
    expect(events.at(-1)).toMatchObject({ type: "unread", connection: { id: viewer.info().id } });
  });

  it("a publisher: publish + ready, unpublish + not_ready", async () => {
    const { hub, events } = hubWithEvents();
    const stream = hub.set("live", []);
    const publisher = new MemoryProducer([videoMedia("recvonly", H264)]);
    await stream.addPublisher(publisher);
    stream.removePublisher(publisher);
    expect(events.map((e) => [e.type, e.stream])).toEqual([
      ["publish", "live"],
      ["ready", "live"],
      ["unpublish", "live"],
      ["not_ready", "live"],
    ]);
    expect(events[0]).toMatchObject({ connection: { id: publisher.info().id, format: "memory" } });
  });

  it("a listener that throws does not stop the others", () => {
    const hub = new StreamHub();
    hubs.push(hub);
    const seen: string[] = [];
    const errors: unknown[] = [];
    hub.events.onListenerError = (e) => errors.push(e);
    hub.events.on(() => {
      throw new Error("boom");
    });
    const off = hub.events.on((e) => seen.push(e.type));
    hub.events.emit({ type: "not_ready", stream: "x", time: 0 });
    off();
    hub.events.emit({ type: "not_ready", stream: "x", time: 0 });
    expect(seen).toEqual(["not_ready"]);
    expect(errors.length).toBe(2);
  });
});
