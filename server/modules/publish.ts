/**
 * The publish module: for each `publish: {<stream>: <url or urls>}` entry, pushes the stream to
 * the destinations (rtmp://, rtmps://, rtsp://, rtsps://) from server start, retrying with
 * backoff after a failure; `POST /api/streams?src=&dst=` adds more at run time (see
 * routes/streams.ts). Every publisher stops with the server.
 *
 * @module
 */
import { publishManagerFor, PublishUrlError } from "../../lib/protocol/publish/mod.ts";
import type { Module } from "./types.ts";

/**
 * Starts the configured publishes.
 *
 * @example
 * ```yaml
 * publish:
 *   front_door: rtmp://a.rtmp.youtube.com/live2/KEY
 *   garage: [rtmp://127.0.0.1:1935/live/garage, rtsp://10.0.0.9:8554/garage]
 * ```
 */
export const publishModule: Module = {
  name: "publish",
  init(ctx) {
    const log = ctx.log.child({ module: "publish" });
    const manager = publishManagerFor(ctx.hub, log);
    for (const [name, urls] of Object.entries(ctx.config.publish ?? {})) {
      if (!ctx.hub.get(name)) {
        log.warn(`publish: stream "${name}" is not configured under streams:; it is published once it exists`);
      }
      for (const url of urls ?? []) {
        try {
          const { first } = manager.add(name, url, { origin: "config" });
          first.catch(() => {}); // retried in the background; the error shows in /api/streams
        } catch (error) {
          if (!(error instanceof PublishUrlError)) throw error;
          log.warn(`publish.${name}: ${error.message}; skipped`);
        }
      }
    }
    return Promise.resolve({ close: () => manager.stopAll() });
  },
};
