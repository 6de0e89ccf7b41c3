/**
 * The one place that hides credentials in text leaving strom: logs, `/api/streams`, `streams.dot`,
 * metrics labels, error messages and WebSocket errors all pass through {@link redactUrl} (URL
 * passwords and token-like query values) and, where the configured secret values are known,
 * {@link redactSecrets}.
 *
 * @module
 */

// `scheme://user:password@`: the password runs to the last `@` of the authority (an unescaped `@`
// inside a password is common in camera configs), so it stops at `/`, `?`, `#`, whitespace, quotes
// and `<>` (HTML/Graphviz labels).
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s"'<>\\]*):[^/?#\s"'<>\\]*@/gi;

// Schemes whose bare userinfo is itself a secret (`tapo://<cloud password>@host`).
const SECRET_USER = /(\b(?:tapo|vigi|kasa|tuya|ring|nest|roborock|xiaomi):\/\/)(?!\*\*\*@)[^:/?#@\s"'<>\\]+@/gi;

// Query (or `#` option) parameters whose value is a credential: `?token=...`, `&password=...`.
const SECRET_PARAM =
  /([?&#](?:[a-z0-9_.-]*(?:token|passw(?:or)?d|passwd|pwd|secret|apikey|api_key|signature|credential|auth)[a-z0-9_.-]*|pass|key|sig)=)[^&#\s"'<>\\]+/gi;

/**
 * Replaces the credentials of every URL inside a text with `***`: the password of
 * `scheme://user:password@` (also nested, as in `ffmpeg:rtsp://...`), the bare userinfo of schemes
 * where it is a secret (`tapo://password@host`), and the value of query or `#` parameters named like
 * a credential (`token`, `access_token`, `password`, `pass`, `pwd`, `secret`, `key`, `apikey`,
 * `signature`, `auth`...). Everything else, including the user name, host and path, stays.
 *
 * @example
 * ```ts
 * redactUrl("rtsp://admin:secret@cam/1"); // "rtsp://admin:***@cam/1"
 * redactUrl("ffmpeg:rtsp://admin:secret@cam/1#audio=opus"); // "ffmpeg:rtsp://admin:***@cam/1#audio=opus"
 * redactUrl("http://cam/snap.jpg?user=a&password=b"); // "http://cam/snap.jpg?user=a&password=***"
 * ```
 */
export function redactUrl(text: string): string {
  if (!text) return text;
  let out = text;
  if (out.includes("@")) {
    out = out.replace(USERINFO, "$1:***@");
    out = out.replace(SECRET_USER, "$1***@");
  }
  if (out.includes("=")) out = out.replace(SECRET_PARAM, "$1***");
  return out;
}

/**
 * {@link redactUrl} for a publish destination, where the stream key is a secret too: the last
 * path segment of an `rtmp(s)://host/app/<key>` URL becomes `***` (YouTube, Twitch...). Any text
 * containing such a URL works (error messages quote it).
 *
 * @example
 * ```ts
 * redactStreamKey("rtmp://a.rtmp.youtube.com/live2/abcd-1234"); // "rtmp://a.rtmp.youtube.com/live2/***"
 * ```
 */
export function redactStreamKey(text: string): string {
  return redactUrl(text).replace(/(\brtmps?:\/\/[^/?#\s"']+\/[^?#\s"']+\/)[^/?#\s"']+/gi, "$1***");
}

/**
 * {@link redactUrl} plus the configured secret values (passwords resolved from `${VAR}`, accounts'
 * passwords...) replaced by `***`, also in their JSON-escaped form. Values shorter than 3 characters
 * are ignored (they would mangle ordinary text).
 *
 * @example
 * ```ts
 * redactSecrets('login "admin" with hunter2 at rtsp://a:b@cam', ["hunter2"]); // 'login "admin" with *** at rtsp://a:***@cam'
 * ```
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 3) continue;
    if (out.includes(secret)) out = out.split(secret).join("***");
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join("***");
  }
  return redactUrl(out);
}

/**
 * `url` without its user name and password (`scheme://user:pass@host` -> `scheme://host`): for a
 * URL handed to someone who must log in with their own account, or named where the user does not
 * matter (RTSP request URIs in logs and errors).
 *
 * @example
 * ```ts
 * withoutUserinfo("rtsp://relay:s3cret@10.0.0.2:8554/cam"); // "rtsp://10.0.0.2:8554/cam"
 * ```
 */
export function withoutUserinfo(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//");
}
