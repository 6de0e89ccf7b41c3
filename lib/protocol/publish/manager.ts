/**
 * The publish destinations of one hub: the config's `publish:` section and those added through
 * `POST /api/streams?src=&dst=`, each a {@link StreamPublisher}. One per (stream, destination).
 *
 * @module
 */
import type { StreamHub } from "../../core/hub.ts";
import type { Logger } from "../../core/log.ts";
import { StreamPublisher, type StreamPublisherOptions } from "./publisher.ts";

const managers = new WeakMap<StreamHub, PublishManager>();

/**
 * The publish manager of a hub (created on first use), shared by the `publish:` module and the API.
 *
 * @example
 * ```ts
 * publishManagerFor(hub).add("cam", "rtmp://a.rtmp.youtube.com/live2/KEY", { origin: "config" });
 * ```
 */
export function publishManagerFor(hub: StreamHub, log?: Logger): PublishManager {
  let manager = managers.get(hub);
  if (!manager) managers.set(hub, manager = new PublishManager(hub, log));
  return manager;
}

/**
 * Publishers of one hub's streams.
 *
 * @example
 * ```ts
 * const manager = new PublishManager(hub);
 * const { publisher, first } = manager.add("cam", "rtsp://10.0.0.9:8554/cam");
 * await first.catch(() => {}); // keeps retrying in the background
 * await manager.remove(publisher);
 * ```
 */
export class PublishManager {
  readonly #hub: StreamHub;
  readonly #log: Logger | undefined;
  readonly #publishers: StreamPublisher[] = [];

  constructor(hub: StreamHub, log?: Logger) {
    this.#hub = hub;
    this.#log = log;
  }

  /** Publishers running now (waiting ones included). */
  list(stream?: string): StreamPublisher[] {
    return this.#publishers.filter((p) => stream === undefined || p.streamName === stream);
  }

  /** The publisher of `stream` to `url`, if there is one. */
  find(stream: string, url: string): StreamPublisher | undefined {
    return this.#publishers.find((p) => p.streamName === stream && p.url === url);
  }

  /**
   * Starts publishing `stream` to `url` (or returns the publisher that already does). The
   * returned promise settles with the first attempt (see {@link StreamPublisher.start}).
   *
   * @throws {PublishUrlError} for a destination strom cannot publish to.
   */
  add(
    stream: string,
    url: string,
    options: StreamPublisherOptions = {},
  ): { publisher: StreamPublisher; created: boolean; first: Promise<void> } {
    const existing = this.find(stream, url);
    if (existing) return { publisher: existing, created: false, first: Promise.resolve() };
    const publisher = new StreamPublisher(() => this.#hub.get(stream), stream, url, { log: this.#log, ...options });
    this.#publishers.push(publisher);
    return { publisher, created: true, first: publisher.start() };
  }

  /** Stops and forgets a publisher. */
  async remove(publisher: StreamPublisher): Promise<void> {
    const i = this.#publishers.indexOf(publisher);
    if (i >= 0) this.#publishers.splice(i, 1);
    await publisher.stop();
  }

  /** Stops every publisher (server shutdown). */
  async stopAll(): Promise<void> {
    const all = this.#publishers.splice(0);
    await Promise.allSettled(all.map((p) => p.stop()));
  }
}
