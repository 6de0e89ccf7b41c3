/**
 * Who may play or publish which stream over RTMP. RTMP has no standard login in the protocol
 * itself; clients put credentials in the URL, which arrives as the `connect` command's `tcUrl`/`app`
 * and the play/publish stream name: `rtmp://host/live/cam?user=u&pass=p`, `...?token=JWT`, or the
 * stream key. The server collects them into one request for the {@link RtmpAccess} hook.
 *
 * @module
 */

/** One play/publish to decide. */
export interface RtmpAccessRequest {
  /** The stream it resolves to. */
  stream: string;
  action: "read" | "publish";
  /** The `connect` command's app and the stream name (key) as sent, queries included. */
  app: string;
  streamName: string;
  /** Query parameters of the stream name and of the app/tcUrl together (`user`, `pass`, `token`...). */
  query: URLSearchParams;
  /** The client's IP. */
  remoteAddr: string;
}

/** The answer: go on, or refuse with a reason sent back in `onStatus`. */
export type RtmpAccessResult = { ok: true; user?: string } | { ok: false; reason: string };

/**
 * Decides each play and publish.
 *
 * @example
 * ```ts
 * const access: RtmpAccess = {
 *   check: (r) => r.action === "read" || r.query.get("key") === "s3cret" ? { ok: true } : { ok: false, reason: "bad stream key" },
 * };
 * new RtmpServer({ hub, access });
 * ```
 */
export interface RtmpAccess {
  check(request: RtmpAccessRequest): RtmpAccessResult | Promise<RtmpAccessResult>;
}

/**
 * The query parameters of a stream name and an app/tcUrl, merged (stream name first).
 *
 * @example
 * ```ts
 * accessQuery("cam?token=abc", "live?user=u").get("user"); // "u"
 * ```
 */
export function accessQuery(streamName: string, ...more: string[]): URLSearchParams {
  const out = new URLSearchParams();
  for (const s of [streamName, ...more]) {
    const q = s.indexOf("?");
    if (q < 0) continue;
    for (const [k, v] of new URLSearchParams(s.slice(q + 1))) out.append(k, v);
  }
  return out;
}
