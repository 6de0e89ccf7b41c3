/**
 * Stream metrics, read at scrape time from each stream's `info()` (the same data `/api/streams`
 * shows): streams, consumers per stream and per output format, producer states, source up and
 * reconnects, and per source track frames, bytes, drops and viewers.
 *
 * Track counters follow the source connection: a reconnect or a stop (no viewers left) creates new
 * receivers whose counts start at 0, which Prometheus sees as a counter reset (`rate()` handles it).
 * Drops are summed over the senders attached now, so drops of a viewer that left disappear with it.
 *
 * @module
 */
import type { StreamHub } from "../../lib/core/hub.ts";
import { redactSecrets } from "../../lib/core/redact.ts";
import type { SlotState } from "../../lib/core/source_slot.ts";
import type { ExpositionWriter } from "./exposition.ts";

/** Every slot state, so `strom_stream_producers` always has the same series per stream. */
export const SLOT_STATES = [
  "idle",
  "dialing",
  "ready",
  "running",
  "reconnecting",
  "stopped",
] as const satisfies readonly SlotState[];

/** The part of a producer entry of `Stream.info()` read here. */
interface ProducerInfo {
  url: string;
  state: string;
  reconnects?: number;
  connection?: unknown;
  tracks?: { media: string; codec: string; frames: number; bytes: number; senders: number; drops: number }[];
}

/** The part of a consumer entry of `Stream.info()` read here. */
interface ConsumerInfo {
  format?: string;
  bytesOut?: number;
}

/**
 * Hides credentials anywhere in a label value: `user:password@` after any `//` (also inside
 * `ffmpeg:rtsp://...`), then the configured secret values.
 *
 * @example
 * ```ts
 * const redact = labelRedactor(["hunter2"]);
 * redact("ffmpeg:rtsp://admin:pw@cam/1#video=h264"); // "ffmpeg:rtsp://admin:***@cam/1#video=h264"
 * ```
 */
export function labelRedactor(secrets: readonly string[] = []): (value: string) => string {
  const masked = secrets.filter((s) => s.length >= 3);
  return (value) => redactSecrets(value, masked);
}

/**
 * Writes the stream families for every stream of the hub.
 *
 * @example
 * ```ts
 * const writer = new ExpositionWriter();
 * writeStreamMetrics(writer, hub, labelRedactor(config.secrets));
 * ```
 */
export function writeStreamMetrics(
  writer: ExpositionWriter,
  hub: StreamHub,
  redact: (value: string) => string = labelRedactor(),
  visible: (stream: string) => boolean = () => true,
): void {
  const streams = hub.streams();
  writer.gauge("strom_streams", "Streams known to the server (configured, added by API, or opened by URL).")
    .set({}, streams.length);
  const streamConsumers = writer.gauge(
    "strom_stream_consumers",
    "Consumers (viewers, sinks) attached to a stream.",
  );
  const consumers = writer.gauge("strom_consumers", "Consumers attached to any stream, by output format.");
  const producers = writer.gauge(
    "strom_stream_producers",
    "Sources and publishers of a stream, by connection state.",
  );
  const up = writer.gauge(
    "strom_source_up",
    "1 while a source or publisher is connected; 0 when idle (no viewers), dialing, reconnecting or stopped.",
  );
  const reconnects = writer.counter(
    "strom_source_reconnects_total",
    "Reconnect attempts of a source after it ended or failed while viewers were watching.",
  );
  const frames = writer.counter("strom_track_frames_total", "Frames received from a source track.");
  const bytes = writer.counter("strom_track_bytes_total", "Payload bytes received from a source track.");
  const drops = writer.counter(
    "strom_track_drops_total",
    "Frames dropped for slow viewers of a source track, summed over the viewers attached now.",
  );
  const senders = writer.gauge("strom_track_senders", "Viewer tracks fed by a source track.");
  const sent = writer.counter(
    "strom_stream_bytes_sent_total",
    "Bytes sent to a stream's consumers (viewers, recorders, pushes), those that left included.",
  );
  const disabled = writer.gauge(
    "strom_stream_disabled",
    "1 while a stream is disabled (privacy mode: disabled:, PUT /api/disabled), else 0.",
  );

  for (const s of streams) {
    const info = s.info();
    // The totals by format are the server's; the series that name a stream only for those visible.
    for (const c of info.consumers as ConsumerInfo[]) consumers.add({ format: c.format || "unknown" }, 1);
    if (!visible(info.name)) continue;
    const stream = redact(info.name);
    streamConsumers.set({ stream }, info.consumers.length);
    sent.set({ stream }, s.bytesSent(info.consumers as ConsumerInfo[]));
    disabled.set({ stream }, info.disabled ? 1 : 0);

    const states = new Map<string, number>(SLOT_STATES.map((st) => [st, 0]));
    for (const p of info.producers as ProducerInfo[]) {
      states.set(p.state, (states.get(p.state) ?? 0) + 1);
      const url = redact(p.url);
      up.add(
        { stream, url },
        p.connection !== undefined && (p.state === "ready" || p.state === "running") ? 1 : 0,
      );
      reconnects.add({ stream, url }, p.reconnects ?? 0);
      for (const t of p.tracks ?? []) {
        // The codec name without clock rate/channels keeps the label short; the url tells sources apart.
        const labels = { stream, url, media: t.media, codec: t.codec.split("/")[0] };
        frames.add(labels, t.frames);
        bytes.add(labels, t.bytes);
        drops.add(labels, t.drops);
        senders.add(labels, t.senders);
      }
    }
    for (const [state, n] of states) producers.set({ stream, state }, n);
  }
}
