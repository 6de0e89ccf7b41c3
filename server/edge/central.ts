/**
 * An edge's central server given by its HTTP API URL (`edge.central_server`, the go2rtc seed
 * article's form): a strom or a go2rtc. Its `GET /api` says where its RTSP server listens, which
 * decides the URL each stream is pulled from, and its `GET /api/streams` lists the streams an edge
 * with none of its own serves.
 *
 * Nothing here starts a program: the central's answers only choose among URLs built from the
 * configured central URL (its host, its credentials) and a port number, and a stream name is
 * always URL-encoded into a path or query.
 *
 * @module
 */
import { parseListen } from "../listen.ts";

/** Thrown for an `edge.central_server` that is not an HTTP(S) URL. */
export class CentralUrlError extends Error {
  override name = "CentralUrlError";
  constructor(readonly url: string, reason: string) {
    super(
      `edge.central_server: "${url}" ${reason}; give the central server's API URL, e.g. https://user:pass@central:1984`,
    );
  }
}

/** Thrown when the central server cannot be asked or answers something unusable. */
export class CentralError extends Error {
  override name = "CentralError";
  constructor(readonly api: string, readonly path: string, reason: string) {
    super(`central server ${api}${path}: ${reason}`);
  }
}

/** How an edge pulls a stream from its central: the transport and the URL of each stream. */
export interface CentralMedia {
  /** `rtsp`, `rtsps`, or `mpegts` (MPEG-TS over the API URL). */
  kind: "rtsp" | "rtsps" | "mpegts";
  /** The URL of a stream, credentials included. */
  url(stream: string): string;
  /** The base without credentials, for logs. */
  display: string;
}

/** The most stream names taken from one `/api/streams` answer. */
export const MAX_CENTRAL_STREAMS = 1000;

/**
 * A central server's API.
 *
 * @example
 * ```ts
 * const central = new CentralServer("https://edge:pw@central.example.com:1984");
 * const media = await central.media();        // e.g. rtsps://edge:pw@central.example.com:8322/<stream>
 * const names = await central.streamNames();  // ["front_door", "garage"]
 * ```
 */
export class CentralServer {
  /** The API URL without credentials or trailing slash, for requests and logs. */
  readonly api: string;
  readonly #url: URL;
  readonly #headers: Record<string, string> = { accept: "application/json" };
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(url: string, options: { fetch?: typeof fetch; timeoutMs?: number } = {}) {
    const shown = url.replace(/\/\/[^@/]*@/, "//***@"); // no password in messages
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CentralUrlError(shown, "is not a URL");
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new CentralUrlError(shown, `has scheme ${parsed.protocol.slice(0, -1)}, not http or https (an RTSP URL goes in edge.origin)`);
    }
    if (parsed.search || parsed.hash) throw new CentralUrlError(shown, "has a query or fragment");
    this.#url = parsed;
    if (parsed.username || parsed.password) {
      const user = decodeURIComponent(parsed.username);
      const pass = decodeURIComponent(parsed.password);
      this.#headers.authorization = `Basic ${btoa(`${user}:${pass}`)}`;
    }
    this.api = `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  /**
   * Asks `GET /api` where the central's RTSP server listens and returns how to pull its streams:
   * RTSPS when this URL is https and the central reports `rtsp.tls_listen` (a strom extension),
   * RTSP when it is http and the central has `rtsp.listen`, else MPEG-TS over this URL (also for an
   * https central without RTSPS, so media stays encrypted as the URL asked).
   */
  async media(signal?: AbortSignal): Promise<CentralMedia> {
    const body = await this.#get("/api", signal) as
      | { rtsp?: { listen?: unknown; tls_listen?: unknown } }
      | null;
    const rtsp = body && typeof body === "object" ? body.rtsp : undefined;
    const port = (listen: unknown) =>
      typeof listen === "string" ? parseListen(listen)?.port || undefined : undefined;
    const plain = port(rtsp?.listen);
    const tls = port(rtsp?.tls_listen);
    const https = this.#url.protocol === "https:";
    if (https && tls) return this.#rtsp("rtsps", tls);
    if (!https && plain) return this.#rtsp("rtsp", plain);
    const userinfo = this.#userinfo();
    const base = `${this.#url.protocol}//${userinfo}${this.#url.host}${
      this.#url.pathname.replace(/\/+$/, "")
    }`;
    return {
      kind: "mpegts",
      url: (stream) => `${base}/api/stream.ts?src=${encodeURIComponent(stream)}`,
      display: `${this.api}/api/stream.ts`,
    };
  }

  /**
   * The names of the central's streams (`GET /api/streams`, a JSON object keyed by name in strom
   * and go2rtc alike), at most {@link MAX_CENTRAL_STREAMS}; names with control characters or over
   * 200 characters are left out.
   */
  async streamNames(signal?: AbortSignal): Promise<string[]> {
    const body = await this.#get("/api/streams", signal);
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      throw new CentralError(this.api, "/api/streams", "did not answer a JSON object of streams");
    }
    const names: string[] = [];
    for (const name of Object.keys(body)) {
      // deno-lint-ignore no-control-regex
      if (!name || name.length > 200 || /[\u0000-\u001f\u007f]/.test(name)) continue;
      names.push(name);
      if (names.length >= MAX_CENTRAL_STREAMS) break;
    }
    return names;
  }

  #rtsp(scheme: "rtsp" | "rtsps", port: number): CentralMedia {
    const host = this.#url.hostname; // an IPv6 address comes bracketed
    const base = `${scheme}://${host}:${port}`;
    const withAuth = `${scheme}://${this.#userinfo()}${host}:${port}`;
    return { kind: scheme, url: (stream) => `${withAuth}/${encodeURIComponent(stream)}`, display: base };
  }

  #userinfo(): string {
    const { username, password } = this.#url;
    if (!username && !password) return "";
    return password ? `${username}:${password}@` : `${username}@`;
  }

  async #get(path: string, outer?: AbortSignal): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    let response: Response;
    try {
      response = await this.#fetch(this.api + path, { headers: this.#headers, signal, redirect: "manual" });
    } catch (error) {
      const e = error as Error;
      const reason = e.name === "TimeoutError" ? `no answer within ${this.#timeoutMs} ms` : e.message;
      throw new CentralError(this.api, path, `cannot be reached (${reason})`);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      const hint = response.status === 401 || response.status === 403
        ? " (put an account of the central in the URL: https://user:pass@central:1984)"
        : "";
      throw new CentralError(this.api, path, `answered HTTP ${response.status}${hint}`);
    }
    try {
      return await response.json();
    } catch {
      throw new CentralError(
        this.api,
        path,
        "did not answer JSON (is this the central's API port, 1984 by default?)",
      );
    }
  }
}
