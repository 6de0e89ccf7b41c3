/**
 * RTSP URLs as strom's config writes them: `rtsp://user:pass@host:554/path?query#option=value#...`.
 * The `#` fragment carries go2rtc-style source options (`#transport=udp#timeout=10#media=video`)
 * and is never sent to the camera; neither are the credentials.
 *
 * @module
 */
import { bracketHost } from "../../runtime/address.ts";

/** A parsed RTSP source URL. */
export interface RtspUrl {
  /** `rtsp`, `rtsps`, or `rtspx` (TLS without certificate verification). */
  scheme: "rtsp" | "rtsps" | "rtspx";
  tls: boolean;
  hostname: string;
  port: number;
  /** URL-decoded user name, empty when absent. */
  username: string;
  /** URL-decoded password, empty when absent. */
  password: string;
  /** The URL sent in requests: no credentials, no fragment, `rtspx` written as `rtsps`. */
  href: string;
  /** Options from the fragment: `#backchannel=1#timeout=10` -> `backchannel=1&timeout=10`. */
  options: URLSearchParams;
}

/** A URL that is not a usable RTSP URL. */
export class RtspUrlError extends TypeError {
  override name = "RtspUrlError";
  readonly url: string;
  constructor(url: string, reason: string) {
    super(`Cannot parse RTSP URL "${url.replace(/\/\/[^@/]*@/, "//***@")}": ${reason}`);
    this.url = url;
  }
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a literal '%' in a password
  }
}

/**
 * Parses an RTSP URL. Credentials may contain `@`, `:` and percent escapes (the last `@` before the
 * path ends the userinfo).
 *
 * @example
 * ```ts
 * const u = parseRtspUrl("rtsp://admin:p%40ss@10.0.0.5/Streaming/101#transport=udp");
 * u.password; // "p@ss"
 * u.href; // "rtsp://10.0.0.5/Streaming/101"
 * u.options.get("transport"); // "udp"
 * ```
 */
export function parseRtspUrl(url: string): RtspUrl {
  const m = /^(rtsps?|rtspx):\/\/(.*)$/is.exec(url.trim());
  if (!m) throw new RtspUrlError(url, 'expected "rtsp://", "rtsps://" or "rtspx://"');
  const scheme = m[1].toLowerCase() as RtspUrl["scheme"];
  let rest = m[2];
  const options = new URLSearchParams();
  const hash = rest.indexOf("#");
  if (hash >= 0) {
    for (const part of rest.slice(hash + 1).split("#")) {
      if (!part) continue;
      const eq = part.indexOf("=");
      if (eq < 0) options.append(decode(part), "");
      else options.append(decode(part.slice(0, eq)), decode(part.slice(eq + 1)));
    }
    rest = rest.slice(0, hash);
  }
  let slash = rest.search(/[/?]/);
  if (slash < 0) slash = rest.length;
  // Passwords with '@' are common in configs ("rtsp://admin:p@ss@host/"): the last '@' before the
  // path ends the userinfo. A '/' or '?' in a password must be percent-encoded.
  const at = rest.lastIndexOf("@", slash);
  let username = "";
  let password = "";
  let authority = rest.slice(0, slash);
  const path = rest.slice(slash);
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    authority = rest.slice(at + 1, slash);
    const colon = userinfo.indexOf(":");
    username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon));
    password = colon < 0 ? "" : decode(userinfo.slice(colon + 1));
  }
  let hostname: string;
  let portText = "";
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) throw new RtspUrlError(url, "unterminated IPv6 address");
    hostname = authority.slice(1, close);
    if (authority[close + 1] === ":") portText = authority.slice(close + 2);
  } else {
    const colon = authority.lastIndexOf(":");
    hostname = colon < 0 ? authority : authority.slice(0, colon);
    if (colon >= 0) portText = authority.slice(colon + 1);
  }
  if (!hostname) throw new RtspUrlError(url, "missing host");
  const tls = scheme !== "rtsp";
  let port = tls ? 322 : 554;
  if (portText) {
    port = Number(portText);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new RtspUrlError(url, `bad port "${portText}"`);
    }
  }
  const href = `${tls ? "rtsps" : "rtsp"}://${bracketHost(hostname)}${portText ? `:${port}` : ""}${path || "/"}`;
  return { scheme, tls, hostname, port, username, password, href, options };
}

/**
 * Resolves a media's `a=control` against the session's base URL the way cameras expect (and as
 * ffmpeg and go2rtc do): absolute controls are used as is; `*` or an empty control means the base;
 * anything else is appended to the base with one `/` between, keeping the base's query
 * (`rtsp://cam/live?ch=1` + `trackID=1` -> `rtsp://cam/live?ch=1/trackID=1`).
 *
 * @example
 * ```ts
 * resolveControl("rtsp://cam/stream/", "trackID=0"); // "rtsp://cam/stream/trackID=0"
 * resolveControl("rtsp://cam/stream", "rtsp://cam/stream/track1"); // absolute, unchanged
 * ```
 */
export function resolveControl(base: string, control: string | undefined): string {
  const c = (control ?? "").trim();
  if (!c || c === "*") return base;
  if (/^rtsps?:\/\//i.test(c)) return c;
  if (base.endsWith("/") || c.startsWith("/")) {
    if (base.endsWith("/") && c.startsWith("/")) return base + c.slice(1);
    return base + c;
  }
  return `${base}/${c}`;
}

/**
 * The stream name and query of a server-side request URI: `rtsp://host:8554/cam?video=h264` ->
 * `{ name: "cam", query }`. Names may contain `/` (`/a/b` -> `a/b`); a trailing `/` and a
 * control suffix (`/trackID=1`) are not part of it.
 *
 * @example
 * ```ts
 * requestPath("rtsp://127.0.0.1:8554/cam?video=h264").name; // "cam"
 * ```
 */
export function requestPath(uri: string): { name: string; query: URLSearchParams } {
  let rest = uri;
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i.exec(rest);
  if (m) rest = rest.slice(m[0].length);
  let query = "";
  const q = rest.indexOf("?");
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
    // A control appended after the query (`?video=h264/trackID=1`) belongs to the path.
    const tail = /\/(trackID=\d+|track\d+)$/i.exec(query);
    if (tail) query = query.slice(0, tail.index);
  }
  rest = rest.replace(/\/(trackID=\d+|track\d+)$/i, "");
  const name = decode(rest.replace(/^\/+/, "").replace(/\/+$/, ""));
  return { name, query: new URLSearchParams(query) };
}
