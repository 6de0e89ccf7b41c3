/**
 * The preload module: for each `preload: {<stream>: <query>}` entry, keeps the stream's sources
 * running with a {@link PreloadConsumer}. A camera that is down (also at start-up) is dialed again
 * with backoff until it answers, and reconnected while preloaded if it drops later.
 *
 * It also serves go2rtc's `/api/preload`: `GET` lists the preloaded streams (`{name: query}`),
 * `PUT ?src=<stream>&video&audio...` preloads one (replacing its query), `DELETE ?src=<stream>`
 * stops it; both changes are written back to the config file's `preload:` section, when there is
 * one. Preloading starts only sources the config or `PUT /api/streams` already gave the stream (and
 * that passed the source policy there), so it runs no program the config file does not allow.
 *
 * @module
 */
import type { Hono } from "hono";
import type { StreamHub } from "../../lib/core/hub.ts";
import type { Logger } from "../../lib/core/log.ts";
import { PreloadConsumer } from "../../lib/protocol/preload/mod.ts";
import { mayRead, requestUser } from "../auth.ts";
import { deleteIn, setIn } from "../config/mod.ts";
import type { AppContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { streamOf } from "../routes/output_common.ts";
import type { Module } from "./types.ts";

interface Entry {
  query: string;
  consumer: PreloadConsumer;
  abort: AbortController;
}

const registries = new WeakMap<StreamHub, Preloads>();

/**
 * The preloads of a hub while the preload module runs (undefined otherwise): the API's
 * `DELETE /api/streams` uses it to stop the preload of a stream it removes.
 *
 * @example
 * ```ts
 * await preloadsOf(hub)?.remove("door");
 * ```
 */
export function preloadsOf(hub: StreamHub): Preloads | undefined {
  return registries.get(hub);
}

/**
 * The streams kept running without a viewer, by name, each with its media query.
 *
 * @example
 * ```ts
 * const preloads = new Preloads(hub, log);
 * preloads.add("door", "video"); // dials now, and again with backoff while the camera is down
 * preloads.list(); // { door: "video" }
 * await preloads.remove("door");
 * ```
 */
export class Preloads {
  readonly #hub: StreamHub;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();

  readonly #off: () => void;

  constructor(hub: StreamHub, log: Logger) {
    this.#hub = hub;
    this.#log = log;
    // A disabled stream stopped the preload's consumer: a new one waits until it is enabled.
    this.#off = hub.events.on((event) => {
      if (event.type !== "disabled") return;
      const entry = this.#entries.get(event.stream);
      if (entry) void this.add(event.stream, entry.query);
    });
  }

  /** `{stream: query}` of every preloaded stream (an empty query is stored as go2rtc's `video&audio`). */
  list(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, entry] of this.#entries) out[name] = entry.query;
    return out;
  }

  /** Whether `name` is preloaded. */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /**
   * Preloads the stream `name` with the media `query` (`video=h264&audio`, empty: `video&audio`),
   * replacing its earlier preload. Returns false (and logs a warning) when there is no such stream.
   */
  async add(name: string, query: string): Promise<boolean> {
    const stream = this.#hub.get(name);
    if (!stream) {
      this.#log.warn(`preload: stream "${name}" is not configured under streams:; skipped`);
      return false;
    }
    const entry: Entry = {
      query: query || "video&audio",
      consumer: new PreloadConsumer(query),
      abort: new AbortController(),
    };
    // The new consumer attaches before the old one leaves, so the source keeps running across the
    // change; the map holds the new entry at once, so requests that overlap leave none behind.
    const old = this.#entries.get(name);
    this.#entries.set(name, entry);
    const { signal } = entry.abort;
    if (stream.disabled) this.#log.info("preload waits: the stream is disabled", { stream: name });
    stream.addConsumer(entry.consumer, { retry: { signal } }).then(
      () => this.#log.info("preloading", { stream: name }),
      (error) => {
        if (!signal.aborted) {
          this.#log.warn("preload failed", { stream: name, error: (error as Error).message });
        }
      },
    );
    if (old) {
      old.abort.abort();
      await stream.removeConsumer(old.consumer);
    }
    return true;
  }

  /** Stops the preload of `name`; false when it was not preloaded. */
  async remove(name: string): Promise<boolean> {
    const entry = this.#entries.get(name);
    if (!entry) return false;
    this.#entries.delete(name);
    entry.abort.abort();
    await this.#hub.get(name)?.removeConsumer(entry.consumer);
    return true;
  }

  /** Stops every preload. */
  async close(): Promise<void> {
    this.#off();
    for (const name of [...this.#entries.keys()]) await this.remove(name);
  }
}

/**
 * The query a `PUT /api/preload` asks for: every parameter but `src` and `dst`, in go2rtc's form
 * (`video&audio=opus`, a parameter without a value written bare).
 */
function preloadQuery(url: string): string {
  const params = new URL(url).searchParams;
  const parts: string[] = [];
  for (const [key, value] of params) {
    if (key === "src" || key === "dst") continue;
    const k = encodeURIComponent(key);
    parts.push(value === "" ? k : `${k}=${encodeURIComponent(value)}`);
  }
  return parts.join("&");
}

function preloadRoutes(app: Hono, ctx: AppContext, preloads: Preloads): void {
  const writeBack = async (name: string, query: string | null) => {
    if (!ctx.configFile) return;
    await ctx.configFile.update((text) =>
      query === null ? deleteIn(text, ["preload", name]) : setIn(text, ["preload", name], query)
    );
  };
  const remember = (name: string, query: string | null) => {
    const section = (ctx.config.preload ??= {});
    if (query === null) delete section[name];
    else section[name] = query;
  };

  // A viewer sees the preloads of the streams it may watch (as GET /api/streams).
  app.get("/api/preload", (c) => {
    const user = requestUser(c);
    const all = preloads.list();
    for (const name of Object.keys(all)) if (!mayRead(user, name)) delete all[name];
    return c.json(all);
  });

  app.put("/api/preload", async (c) => {
    // 400 without src=, 404 for an unknown stream, 403 for one the user may not read.
    const name = streamOf(ctx, c.req.query("src"), requestUser(c)).name;
    const query = preloadQuery(c.req.url);
    await writeBack(name, query);
    remember(name, query);
    await preloads.add(name, query);
    return c.json({ [name]: preloads.list()[name] });
  });

  app.delete("/api/preload", async (c) => {
    const name = streamOf(ctx, c.req.query("src"), requestUser(c)).name;
    if (!preloads.has(name)) throw new ApiError(404, `Stream "${name}" is not preloaded.`, "NotFound");
    await writeBack(name, null);
    remember(name, null);
    await preloads.remove(name);
    ctx.log.info("preload stopped", { stream: name });
    return c.json({ stopped: name });
  });
}

/**
 * Starts preloading the configured streams and serves `/api/preload`.
 *
 * @example
 * ```yaml
 * preload:
 *   front_door: "video&audio"
 *   garage: "video=h264"
 * ```
 */
export const preloadModule: Module = {
  name: "preload",
  async init(ctx, app) {
    const log = ctx.log.child({ module: "preload" });
    const preloads = new Preloads(ctx.hub, log);
    registries.set(ctx.hub, preloads);
    preloadRoutes(app, ctx, preloads);
    for (const [name, query] of Object.entries(ctx.config.preload ?? {})) {
      await preloads.add(name, query ?? "");
    }
    return {
      async close() {
        registries.delete(ctx.hub);
        await preloads.close();
      },
    };
  },
};
