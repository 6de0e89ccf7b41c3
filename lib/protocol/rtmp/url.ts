/**
 * RTMP URLs: `rtmp://host[:1935]/app[/inst]/stream`, `rtmps://` (TLS, port 443), `rtmpx://` (TLS
 * without certificate checks, as go2rtc). The last path segment is the stream name (play path or
 * stream key, query kept: `key?token=...`), the rest is the application, as ffmpeg splits them.
 *
 * @module
 */
import { bracketHost, type TlsOptions } from "../../runtime/mod.ts";
import { RtmpError } from "./messages.ts";

/** A parsed RTMP URL. */
export interface RtmpUrl {
  scheme: "rtmp" | "rtmps" | "rtmpx";
  hostname: string;
  port: number;
  /** Application (`live`, `live2`, or "" for `rtmp://host/stream`). */
  app: string;
  /** Stream name or key, with its query. */
  stream: string;
  /** `rtmp://host:port/app`, sent in `connect`. */
  tcUrl: string;
  /** TLS for rtmps/rtmpx. */
  tls: TlsOptions | undefined;
}

/**
 * Parses an RTMP URL; a `#...` fragment (strom/go2rtc options) is ignored.
 *
 * @throws {RtmpError} code `Url` for another scheme, no host, or no stream name.
 * @example
 * ```ts
 * parseRtmpUrl("rtmp://a.rtmp.youtube.com/live2/abcd-1234");
 * // { app: "live2", stream: "abcd-1234", port: 1935, tcUrl: "rtmp://a.rtmp.youtube.com:1935/live2", ... }
 * ```
 */
export function parseRtmpUrl(url: string): RtmpUrl {
  const hash = url.indexOf("#");
  const text = hash >= 0 ? url.slice(0, hash) : url;
  const m = /^(rtmps?|rtmpx):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:?]+)(?::(\d+))?(\/[^]*)?$/i.exec(text);
  if (!m) {
    throw new RtmpError("Url", `Cannot parse RTMP URL "${redact(url)}": expected rtmp://host[:port]/app/stream`);
  }
  const scheme = m[1].toLowerCase() as RtmpUrl["scheme"];
  const hostname = m[2].startsWith("[") ? m[2].slice(1, -1) : m[2];
  const port = m[3] ? Number(m[3]) : scheme === "rtmp" ? 1935 : 443;
  if (!(port > 0 && port < 65536)) throw new RtmpError("Url", `Cannot parse RTMP URL "${redact(url)}": bad port ${m[3]}`);
  const path = m[4] ?? "/";
  // The stream name may carry a query with slashes: split before the query.
  const q = path.indexOf("?");
  const bare = q >= 0 ? path.slice(0, q) : path;
  const slash = bare.lastIndexOf("/");
  const app = bare.slice(1, Math.max(1, slash));
  const stream = path.slice(slash + 1);
  if (!stream || stream.startsWith("?")) {
    throw new RtmpError(
      "Url",
      `Cannot use RTMP URL "${redact(url)}": no stream name or key after the application (rtmp://host/app/<stream>)`,
    );
  }
  const hostPart = bracketHost(hostname);
  const tcScheme = scheme === "rtmpx" ? "rtmps" : scheme;
  return {
    scheme,
    hostname,
    port,
    app,
    stream,
    tcUrl: `${tcScheme}://${hostPart}:${port}/${app}`,
    tls: scheme === "rtmp" ? undefined : scheme === "rtmpx" ? { rejectUnauthorized: false } : true,
  };
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

/**
 * Stream names a server should try for a client's `app` and stream name, most specific first:
 * the stream name without its query (`rtmp://host/<stream>`, OBS with key = stream), then
 * `app/stream`, then the app alone (`rtmp://host/<stream>/<key>`).
 *
 * @example
 * ```ts
 * candidateStreamNames("live", "cam?token=1"); // ["cam", "live/cam", "live"]
 * ```
 */
export function candidateStreamNames(app: string, stream: string): string[] {
  const q = stream.indexOf("?");
  const raw = q >= 0 ? stream.slice(0, q) : stream;
  let key = raw;
  try {
    key = decodeURIComponent(raw);
  } catch { /* not percent-encoded: use as is */ }
  // `rtmp://host/cam?user=u&pass=p`: ffmpeg sends the whole path, query included, as the app.
  const aq = app.indexOf("?");
  const a = (aq >= 0 ? app.slice(0, aq) : app).replace(/^\/+|\/+$/g, "");
  const out: string[] = [];
  if (key) out.push(key);
  if (a && key) out.push(`${a}/${key}`);
  if (a) out.push(a);
  return out;
}
