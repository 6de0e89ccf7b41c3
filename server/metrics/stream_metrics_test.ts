import { afterAll, describe, expect, it } from "bun:test";
import type { Codec } from "../../lib/core/codec.ts";
import { type ConnectionInfo, type Consumer, nextConnectionId } from "../../lib/core/connection.ts";
import { frame, H264, MemoryProducer, videoMedia, waitFor } from "../../lib/core/_testing.ts";
import { StreamHub } from "../../lib/core/hub.ts";
import type { Media } from "../../lib/core/media.ts";
import { type Receiver, Sender } from "../../lib/core/fanout.ts";
import { registerSource, unregisterSource } from "../../lib/core/registry.ts";
import { type ParsedFamily, parseExposition } from "./_exposition_parser.ts";
import { ExpositionWriter } from "./exposition.ts";
import { labelRedactor, SLOT_STATES, writeStreamMetrics } from "./stream_metrics.ts";

/** A viewer whose handler never finishes, with a one-frame queue: every further frame is dropped. */
class StuckViewer implements Consumer {
  readonly id = nextConnectionId();
  readonly senders: Sender[] = [];
  medias(): Media[] {
    return [videoMedia("sendonly", H264)];
  }
  addTrack(media: Media, codec: Codec, receiver: Receiver): void {
    const sender = new Sender(media, codec, () => new Promise<void>(() => {}), { capacity: 1 });
    this.senders.push(sender);
    receiver.addSender(sender);
  }
  stop(): void {
    for (const s of this.senders) s.close();
  }
  info(): ConnectionInfo {
    return { id: this.id, format: "stuck/test" };
  }
}

function scrape(hub: StreamHub, redact?: (v: string) => string): Map<string, ParsedFamily> {
  const w = new ExpositionWriter();
  writeStreamMetrics(w, hub, redact);
  return parseExposition(w.text());
}

function value(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  return families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

describe("writeStreamMetrics", () => {
  const producers: MemoryProducer[] = [];
  registerSource("metricstest", () => {
    const p = new MemoryProducer([videoMedia("recvonly", H264)]);
    producers.push(p);
    return Promise.resolve(p);
  });
  const hub = new StreamHub({ graceMs: 20, reconnectDelaysMs: [10] });
  afterAll(async () => {
    await hub.close();
    unregisterSource("metricstest");
  });

  it("reports counts, tracks, drops, states and reconnects", async () => {
    hub.set("cam", ["metricstest://admin:hunter2@10.0.0.5/1"]);
    hub.set("idle", []);
    const viewer = new StuckViewer();
    await hub.get("cam")!.addConsumer(viewer);
    const p = producers[0];
    p.push("video", frame(0, true, 100));
    for (let i = 1; i <= 4; i++) p.push("video", frame(i * 3000, false, 50));

    let f = scrape(hub);
    expect(value(f, "strom_streams", {})).toBe(2);
    expect(value(f, "strom_stream_consumers", { stream: "cam" })).toBe(1);
    expect(value(f, "strom_stream_consumers", { stream: "idle" })).toBe(0);
    expect(value(f, "strom_consumers", { format: "stuck/test" })).toBe(1);
    const url = "metricstest://admin:***@10.0.0.5/1";
    expect(value(f, "strom_source_up", { stream: "cam", url })).toBe(1);
    expect(value(f, "strom_stream_producers", { stream: "cam", state: "running" })).toBe(1);
    // Every state has a series, so dashboards see zeros rather than gaps.
    expect(
      f.get("strom_stream_producers")!.samples.filter((s) => s.labels.stream === "idle").map((s) =>
        s.labels.state
      ),
    )
      .toEqual([...SLOT_STATES]);
    const track = { stream: "cam", url, media: "video", codec: "H264" };
    expect(value(f, "strom_track_frames_total", track)).toBe(5);
    expect(value(f, "strom_track_bytes_total", track)).toBe(300);
    expect(value(f, "strom_track_senders", track)).toBe(1);
    // The queue holds one frame and the handler never finishes: the viewer drops (video: until the next keyframe).
    expect(viewer.senders[0].drops).toBeGreaterThan(0);
    expect(value(f, "strom_track_drops_total", track)).toBe(viewer.senders[0].drops);
    expect(value(f, "strom_source_reconnects_total", { stream: "cam", url })).toBe(0);
    expect(JSON.stringify([...f.values()])).not.toContain("hunter2");

    // The source drops while the viewer watches: the slot reconnects onto a new producer.
    p.end(new Error("connection reset"));
    await waitFor(() => producers.length === 2 && producers[1].started > 0, 2000);
    f = scrape(hub);
    expect(value(f, "strom_source_reconnects_total", { stream: "cam", url })).toBe(1);
    expect(value(f, "strom_source_up", { stream: "cam", url })).toBe(1);
    // The new connection's receiver counts from zero (a counter reset for Prometheus).
    expect(value(f, "strom_track_frames_total", track)).toBe(0);
    expect(value(f, "strom_stream_disabled", { stream: "cam" })).toBe(0);
    await hub.get("cam")!.removeConsumer(viewer);

    // Privacy mode shows as a 1, and goes back to 0.
    await hub.get("idle")!.disable("holiday");
    expect(value(scrape(hub), "strom_stream_disabled", { stream: "idle" })).toBe(1);
    hub.get("idle")!.enable();
    expect(value(scrape(hub), "strom_stream_disabled", { stream: "idle" })).toBe(0);
  });

  it("redacts credentials and configured secrets in stream and url labels", () => {
    const redact = labelRedactor(["s3cr3t-token"]);
    expect(redact("ffmpeg:rtsp://user:pa:ss@cam/1#video=h264")).toBe(
      "ffmpeg:rtsp://user:***@cam/1#video=h264",
    );
    expect(redact("http://cam/snap?token=s3cr3t-token")).toBe("http://cam/snap?token=***");
    expect(redact("plain_name")).toBe("plain_name");
  });
});
