/**
 * The RTSP URL of a stream on another strom (an owner node or an edge's origin).
 *
 * @module
 */

/**
 * `rtsp://host:8554` + stream name -> the stream's RTSP URL there.
 *
 * @example
 * ```ts
 * relayUrl("rtsp://10.0.0.2:8554/", "front door"); // "rtsp://10.0.0.2:8554/front%20door"
 * ```
 */
export function relayUrl(base: string, stream: string): string {
  return `${base.replace(/\/+$/, "")}/${encodeURIComponent(stream)}`;
}
