/**
 * Following an RTSP redirect (RFC 2326 section 11.3.3, `301`/`302`/`303`/`307` with `Location`), as
 * ffmpeg does (go2rtc does not): where the next request goes, and which of the source URL's parts
 * go with it.
 *
 * @module
 */
import { parseRtspUrl, RtspUrlError } from "./url.ts";

/** Statuses whose `Location` is followed. */
export const RTSP_REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307]);

/** Redirects followed at most for one dial. */
export const MAX_RTSP_REDIRECTS = 3;

const AUTHORITY = /^(rtsps?|rtspx):\/\/([^/?#]*)(.*)$/is;

/**
 * The source URL to dial after a redirect from `current` to `location`: an absolute `rtsp://`,
 * `rtsps://` or `rtspx://` URL, or an absolute path on the same server. The source options
 * (`#transport=...`) stay. The credentials stay only when the server is the same host and port and
 * the connection is not downgraded from TLS; a `Location` with its own credentials keeps those.
 *
 * @throws {RtspUrlError} `location` is not an RTSP URL or an absolute path.
 * @example
 * ```ts
 * redirectTarget("rtsp://u:p@cam/a#transport=udp", "/b"); // "rtsp://u:p@cam/b#transport=udp"
 * redirectTarget("rtsp://u:p@cam/a", "rtsp://other/b");     // "rtsp://other/b"
 * ```
 */
export function redirectTarget(current: string, location: string): string {
  const hash = current.indexOf("#");
  const options = hash >= 0 ? current.slice(hash) : "";
  const from = AUTHORITY.exec(hash >= 0 ? current.slice(0, hash) : current);
  if (!from) throw new RtspUrlError(current, "not an RTSP URL");
  const loc = location.trim().replace(/#.*$/s, "");
  let next: string;
  if (loc.startsWith("/") && !loc.startsWith("//")) {
    next = `${from[1]}://${from[2]}${loc}`;
  } else {
    const to = AUTHORITY.exec(loc);
    if (!to) {
      throw new RtspUrlError(location, "the redirect's Location is not an rtsp:// URL or an absolute path");
    }
    // Host, port (with the scheme's default) and credentials as the RTSP client reads them.
    const was = parseRtspUrl(current);
    const goes = parseRtspUrl(loc);
    const fromAt = from[2].lastIndexOf("@");
    const sameServer = was.hostname.toLowerCase() === goes.hostname.toLowerCase() && was.port === goes.port;
    const downgrade = was.tls && !goes.tls;
    next = fromAt >= 0 && !goes.username && !goes.password && sameServer && !downgrade
      ? `${to[1]}://${from[2].slice(0, fromAt + 1)}${to[2]}${to[3]}`
      : loc;
  }
  parseRtspUrl(next); // throws for a host or port that cannot be used
  return next + options;
}
