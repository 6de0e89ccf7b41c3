/**
 * The HTTP side of `http(s)://` sources: parses the source URL (credentials, `#header=` options),
 * and runs GET requests with `fetch` (the Web standard, on every runtime), answering `401`
 * challenges with Basic or Digest (the same code as RTSP: {@link RtspAuthClient}).
 *
 * `fetch` refuses URLs with credentials, and Digest needs the challenge round trip, so credentials
 * are taken out of the URL and sent as an `Authorization` header only after a `401` asks for them.
 *
 * @module
 */
import { SourceError } from "../../core/errors.ts";
import { splitHashParams } from "../exec/params.ts";
import { RtspAuthClient, UnsupportedAuthError } from "../rtsp/auth.ts";

/** A parsed `http(s)://` source URL. */
export interface HttpSourceUrl {
  /** The source URL as written (secrets included: never show it). */
  raw: string;
  /** The source URL for messages: `#header=` values masked (the password is redacted by SourceError). */
  display: string;
  /** What is fetched: the URL without credentials and without the `#...` options. */
  url: string;
  username: string;
  password: string;
  /** Extra request headers from `#header=Name: value` (repeatable). */
  headers: [string, string][];
}

/**
 * Parses an `http(s)://` source URL: `http://user:pass@host/path?q#header=Authorization: Bearer x`.
 *
 * @throws {SourceError} for an unparsable URL or a `#header=` without `:`.
 * @example
 * ```ts
 * const u = parseHttpSourceUrl("http://admin:pw@cam/snap.jpg#header=X-Token: 42");
 * u.url; // "http://cam/snap.jpg"
 * u.headers; // [["X-Token", "42"]]
 * ```
 */
export function parseHttpSourceUrl(raw: string): HttpSourceUrl {
  const { base, params } = splitHashParams(raw.trim());
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch (error) {
    throw new SourceError(raw, "not a valid URL", { cause: error });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new SourceError(raw, `the HTTP source reads http:// and https:// URLs, not ${parsed.protocol}//`);
  }
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  const headers: [string, string][] = [];
  for (const header of params.get("header") ?? []) {
    const colon = header.indexOf(":");
    const name = colon > 0 ? header.slice(0, colon).trim() : "";
    if (!name || /[^!#$%&'*+.^_`|~0-9A-Za-z-]/.test(name)) {
      throw new SourceError(
        raw,
        `#header=${header} is not "Name: value" (e.g. #header=Authorization: Bearer XXX)`,
      );
    }
    headers.push([name, header.slice(colon + 1).trim()]);
  }
  const display = raw.replace(/#header=([^:#]*):[^#]*/gi, "#header=$1: ***");
  return { raw, display, url: parsed.href, username, password, headers };
}

/** The text of an error and its cause (fetch hides the real reason in `cause`). */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message && !error.message.includes(cause.message)) {
    return `${error.message} (${cause.message})`;
  }
  const code = (cause as { code?: unknown } | undefined)?.code ?? (error as { code?: unknown }).code;
  return typeof code === "string" && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}

/** A request's own abort signal: aborted by the parent or after `timeoutMs`; `done()` releases it. */
export interface RequestScope {
  signal: AbortSignal;
  done(): void;
}

/**
 * A signal for one request that follows `parent` and times out. Unlike `AbortSignal.any`, nothing
 * stays attached to the long-lived parent after `done()` (a poll loop makes many of these).
 *
 * @example
 * ```ts
 * const scope = requestScope(connection.signal, 10_000);
 * try { await readBody((await client.get(url, scope.signal)).body!, max); } finally { scope.done(); }
 * ```
 */
export function requestScope(parent: AbortSignal, timeoutMs: number): RequestScope {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")),
    timeoutMs,
  );
  if (parent.aborted) onAbort();
  else parent.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      parent.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * GET requests for one source: extra headers, Basic/Digest after a `401`, clear errors.
 *
 * @example
 * ```ts
 * const client = new HttpSourceClient(parseHttpSourceUrl("http://admin:pw@cam/video.mjpg"));
 * const res = await client.get(undefined, AbortSignal.timeout(5000));
 * ```
 */
export class HttpSourceClient {
  readonly source: HttpSourceUrl;
  readonly #auth: RtspAuthClient | undefined;

  constructor(source: HttpSourceUrl) {
    this.source = source;
    if (source.username || source.password) this.#auth = new RtspAuthClient(source.username, source.password);
  }

  #headers(target: URL): Headers {
    const headers = new Headers();
    for (const [name, value] of this.source.headers) headers.append(name, value);
    const authorization = this.#auth?.authorization("GET", target.pathname + target.search);
    if (authorization && !headers.has("authorization")) headers.set("Authorization", authorization);
    return headers;
  }

  /**
   * GETs `url` (default: the source URL; relative URLs resolve against it). Resolves with a 2xx
   * response whose body the caller reads or cancels.
   *
   * @throws {SourceError} when the host cannot be reached, answers non-2xx (the status is in the
   *   message), or refuses the credentials.
   */
  async get(url: string | undefined, signal: AbortSignal): Promise<Response> {
    const target = new URL(url ?? this.source.url, this.source.url);
    // A response's URL after redirects may carry no credentials, but a playlist could name one with
    // them: never send userinfo to fetch.
    target.username = "";
    target.password = "";
    let res = await this.#fetch(target, signal);
    if (res.status === 401) {
      const challenge = res.headers.get("www-authenticate") ?? "";
      await res.body?.cancel().catch(() => {});
      if (!this.#auth) {
        throw new SourceError(
          this.source.display,
          `HTTP 401 Unauthorized from ${target.origin}: the server wants credentials; ` +
            "put them in the URL (http://user:password@host/...)",
        );
      }
      let retry: boolean;
      try {
        retry = this.#auth.challenge([challenge]);
      } catch (error) {
        if (error instanceof UnsupportedAuthError) throw new SourceError(this.source.display, error.message);
        throw error;
      }
      if (retry) res = await this.#fetch(target, signal);
      if (res.status === 401) {
        await res.body?.cancel().catch(() => {});
        throw new SourceError(
          this.source.display,
          `HTTP 401 Unauthorized from ${target.origin}: user "${this.source.username}" was refused; check the user and password`,
        );
      }
    }
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel().catch(() => {});
      const hint = res.status === 404
        ? "; check the path"
        : res.status === 403
        ? "; the user may lack the right"
        : "";
      throw new SourceError(
        this.source.display,
        `HTTP ${res.status}${
          res.statusText ? ` ${res.statusText}` : ""
        } for ${target.origin}${target.pathname}${hint}`,
      );
    }
    return res;
  }

  async #fetch(target: URL, signal: AbortSignal): Promise<Response> {
    try {
      return await fetch(target, { headers: this.#headers(target), signal, redirect: "follow" });
    } catch (error) {
      if (signal.aborted) {
        throw new SourceError(
          this.source.display,
          `request to ${target.origin} aborted (${errorText(signal.reason)})`,
          {
            cause: error,
          },
        );
      }
      throw new SourceError(this.source.display, `cannot reach ${target.origin}: ${errorText(error)}`, {
        cause: error,
      });
    }
  }
}
