/**
 * Counts HTTP requests by method, matched route pattern and status, for
 * `strom_http_requests_total`.
 *
 * The count is taken around `app.fetch` rather than in a Hono middleware: modules get the app after
 * `createApp` registered its routes, and Hono runs handlers in registration order, so a middleware
 * added then never sees requests that an earlier route answered. Wrapping `fetch` sees every
 * response, including those of the auth middleware (401) and of the not-found handler.
 *
 * Labels stay bounded: the route is the registered pattern (`/api/streams`, `/:file{...}`), never the
 * raw path; unknown methods count as `OTHER`; requests no route matched count as `unmatched`.
 *
 * @module
 */
import type { Hono } from "hono";
import type { MetricFamily } from "./exposition.ts";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Route label of requests that matched no route (only wildcard middleware). */
export const UNMATCHED_ROUTE = "unmatched";

interface Series {
  method: string;
  route: string;
  status: string;
  count: number;
}

/**
 * The request counter of one app.
 *
 * @example
 * ```ts
 * const requests = new HttpRequestMetrics();
 * requests.instrument(app);
 * await app.request("/api/streams");
 * requests.write(writer.counter("strom_http_requests_total", "HTTP requests."));
 * ```
 */
export class HttpRequestMetrics {
  readonly #series = new Map<string, Series>();

  /** Counts one request. */
  observe(method: string, route: string, status: number): void {
    const m = KNOWN_METHODS.has(method) ? method : "OTHER";
    const s = String(status);
    const key = `${m} ${s} ${route}`;
    const series = this.#series.get(key);
    if (series) series.count++;
    else this.#series.set(key, { method: m, route, status: s, count: 1 });
  }

  /** Writes the counts into a counter family with labels `method`, `route`, `status`. */
  write(family: MetricFamily): void {
    for (const s of this.#series.values()) {
      family.set({ method: s.method, route: s.route, status: s.status }, s.count);
    }
  }

  /**
   * Wraps `app.fetch` (which `app.request` and the serve adapters call) so every response is
   * counted. Call before the app is served.
   */
  instrument(app: Hono): void {
    const inner = app.fetch;
    const observe = (request: Request, status: number) => {
      let route = UNMATCHED_ROUTE;
      try {
        route = matchedRoute(app, request);
      } catch {
        // An unparsable URL: the app answers it somehow; count it as unmatched.
      }
      this.observe(request.method, route, status);
    };
    app.fetch = (request: Request, ...rest: unknown[]) => {
      let result: Response | Promise<Response>;
      try {
        result = (inner as (r: Request, ...a: unknown[]) => Response | Promise<Response>)(request, ...rest);
      } catch (error) {
        observe(request, 500);
        throw error;
      }
      if (result instanceof Response) {
        observe(request, result.status);
        return result;
      }
      return result.then(
        (res) => {
          observe(request, res.status);
          return res;
        },
        (error) => {
          observe(request, 500);
          throw error;
        },
      );
    };
  }
}

/**
 * The pattern of the route that answers a request: the first matched handler that is not a
 * middleware (Hono's own rule: a handler takes fewer than two parameters), else the first matched
 * route registered for a specific method, else {@link UNMATCHED_ROUTE}.
 */
export function matchedRoute(app: Hono, request: Request): string {
  const method = request.method === "HEAD" ? "GET" : request.method;
  const [handlers] = app.router.match(method, app.getPath(request));
  let fallback: string | undefined;
  for (const [[, route]] of handlers) {
    if (route.handler.length < 2) return route.path;
    if (fallback === undefined && route.method !== "ALL") fallback = route.path;
  }
  return fallback ?? UNMATCHED_ROUTE;
}
