/**
 * Publishing streams to other servers (go2rtc's `publish:`): RTMP/RTMPS and RTSP/RTSPS
 * destinations, retried with backoff.
 *
 * @example
 * ```ts
 * import { publishManagerFor } from "./lib/protocol/publish/mod.ts";
 * const { first } = publishManagerFor(hub).add("cam", "rtmp://127.0.0.1:1935/live/cam");
 * await first; // publishing (retries go on in the background if it failed)
 * ```
 *
 * @module
 */
export {
  checkPublishUrl,
  DEFAULT_PUBLISH_RETRY_MS,
  PUBLISH_SCHEMES,
  type PublishInfo,
  type PublishState,
  PublishUrlError,
  StreamPublisher,
  type StreamPublisherOptions,
} from "./publisher.ts";
export { PublishManager, publishManagerFor } from "./manager.ts";
export { RtspPusher, type RtspPusherOptions } from "./rtsp_pusher.ts";
export { type Playing, playToStream, SourceTalker } from "./play.ts";
