/**
 * `/api/streams`: list, inspect, create (PUT), update (PATCH) and delete streams. Changes are written
 * back to the config file, keeping its comments, when the server has one.
 *
 * ```
 * GET    /api/streams                      all streams
 * GET    /api/streams?src=cam              one stream (404 when unknown)
 * PUT    /api/streams?name=cam&src=URL     create or replace (src= may repeat)
 * PATCH  /api/streams?name=cam&src=URL     replace the sources of an existing stream
 * DELETE /api/streams?src=cam              delete
 * POST   /api/streams?src=cam&dst=URL      publish to rtmp(s)://, rtsp(s):// (retried until stopped)
 * POST   /api/streams?dst=cam&src=URL      play a source to the stream's backchannel (camera speaker)
 * DELETE /api/streams?src=cam&dst=URL      stop that publish
 * ```
 *
 * A viewer account (`api.auth.users` with `streams:`) lists and inspects only the streams it may
 * watch (403 for another one); changing streams needs an admin.
 *
 * @module
 */
import type { Hono } from "hono";
import { redactUrl, StreamNotFoundError, UnknownSchemeError } from "../../lib/core/errors.ts";
import { redactStreamKey } from "../../lib/core/redact.ts";
import { checkPublishUrl, playToStream, publishManagerFor, PublishUrlError } from "../../lib/protocol/publish/mod.ts";
import { hasScheme, registeredSchemes, schemeOf } from "../../lib/core/registry.ts";
import { deleteIn, deleteStream, setStream } from "../config/mod.ts";
import { preloadsOf } from "../modules/preload.ts";
import type { AppContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { assertNetworkSources, serverSourcePolicy, type SourcePolicy } from "../source_policy.ts";
import { mayRead, requestUser } from "../auth.ts";
import { streamOf } from "./output_common.ts";

/**
 * Checks a stream name: non-empty, no whitespace, no `/` (names appear in URL paths such as
 * `rtsp://host:8554/<name>`).
 *
 * @example
 * ```ts
 * validateStreamName("front door"); // throws ApiError 400
 * ```
 */
export function validateStreamName(name: string | undefined): string {
  if (name === undefined || name === "") {
    throw new ApiError(400, 'Missing stream name: add "name=<name>" to the query, e.g. ?name=cam&src=rtsp://...');
  }
  // deno-lint-ignore no-control-regex -- control characters are what it refuses
  if (/[\s/]/.test(name) || /[\x00-\x1f]/.test(name)) {
    throw new ApiError(400, `Invalid stream name "${name}": names must not contain whitespace or "/" (pass name=<name> when src= is a URL).`);
  }
  return name;
}

/**
 * Checks source URLs for the API: each has a scheme, none contains whitespace, and none runs a
 * program or passes raw arguments to one unless the config file allows it (see
 * `server/source_policy.ts`). Program-running schemes are refused before the registry is asked, so
 * the answer does not depend on which schemes are registered.
 *
 * @throws {ApiError} 400 for an empty or malformed source; {SourceForbiddenError} 403;
 *   {UnknownSchemeError} 400 for a scheme nobody registered.
 * @example
 * ```ts
 * validateSources(["rtsp://10.0.0.5/1"], serverSourcePolicy(ctx), "PUT /api/streams");
 * ```
 */
export function validateSources(sources: string[], policy: SourcePolicy, where: string): string[] {
  if (sources.length === 0) {
    throw new ApiError(400, 'Missing source: add "src=<url>" to the query (it may repeat), e.g. src=rtsp://10.0.0.5/1');
  }
  for (const src of sources) {
    if (!schemeOf(src)) {
      throw new ApiError(400, `Invalid source "${src}": it has no scheme (expected e.g. rtsp://...). Known schemes: ${registeredSchemes().join(", ")}.`);
    }
  }
  // Before the shape checks, so a command is refused as a command (403) whatever else is wrong with it.
  assertNetworkSources(sources, policy, where);
  for (const src of sources) {
    if (/\s/.test(src)) {
      throw new ApiError(400, `Invalid source "${src}": a source URL must not contain whitespace.`);
    }
    const scheme = schemeOf(src);
    if (!hasScheme(scheme)) throw new UnknownSchemeError(scheme, src, registeredSchemes());
  }
  return sources;
}

/**
 * Registers the `/api/streams` routes.
 *
 * @example
 * ```ts
 * streamsRoutes(app, ctx);
 * ```
 */
export function streamsRoutes(app: Hono, ctx: AppContext): void {
  const { hub } = ctx;

  const writeBack = async (name: string, sources: string[] | null) => {
    if (!ctx.configFile) return;
    await ctx.configFile.update((text) => sources === null ? deleteStream(text, name) : setStream(text, name, sources));
  };
  const remember = (name: string, sources: string[] | null) => {
    const streams = (ctx.config.streams ??= {});
    if (sources === null) delete streams[name];
    else streams[name] = sources;
  };

  // A viewer sees only the streams it may watch (403 for another one, as on the media routes).
  app.get("/api/streams", (c) => {
    const src = c.req.query("src");
    const user = requestUser(c);
    if (src !== undefined) return c.json(streamOf(ctx, src, user).info());
    const all: Record<string, unknown> = {};
    for (const stream of hub.streams()) if (mayRead(user, stream.name)) all[stream.name] = stream.info();
    return c.json(all);
  });

  app.put("/api/streams", async (c) => {
    const sources = validateSources(c.req.queries("src") ?? [], serverSourcePolicy(ctx), "PUT /api/streams");
    // go2rtc compatibility: the name defaults to the source.
    const name = validateStreamName(c.req.query("name") ?? c.req.query("src"));
    const existed = hub.get(name) !== undefined;
    await writeBack(name, sources);
    remember(name, sources);
    const stream = hub.set(name, sources);
    ctx.log.info(existed ? "stream replaced" : "stream added", { stream: name });
    return c.json(stream.info(), existed ? 200 : 201);
  });

  app.patch("/api/streams", async (c) => {
    const name = validateStreamName(c.req.query("name"));
    const sources = validateSources(c.req.queries("src") ?? [], serverSourcePolicy(ctx), "PATCH /api/streams");
    if (!hub.get(name)) throw new StreamNotFoundError(name);
    await writeBack(name, sources);
    remember(name, sources);
    const stream = hub.set(name, sources);
    ctx.log.info("stream updated", { stream: name });
    return c.json(stream.info());
  });

  app.delete("/api/streams", async (c) => {
    const name = c.req.query("src") ?? c.req.query("name");
    if (!name) throw new ApiError(400, 'Missing query parameter "src=<stream name>".');
    const dst = c.req.query("dst");
    if (dst !== undefined) {
      // Stops a publish (the stream stays).
      const manager = publishManagerFor(hub);
      const publishers = manager.list(name).filter((p) => p.url === dst);
      if (!publishers.length) throw new ApiError(404, `Stream "${name}" is not being published to ${redactStreamKey(dst)}.`);
      for (const p of publishers) await manager.remove(p);
      ctx.log.info("publish stopped", { stream: name, dst: redactStreamKey(dst) });
      return c.json({ stopped: name, dst: redactStreamKey(dst) });
    }
    if (!hub.get(name)) throw new StreamNotFoundError(name);
    await writeBack(name, null);
    remember(name, null);
    // Its preload goes with it (it would only warn at the next start).
    if (await preloadsOf(hub)?.remove(name)) {
      if (ctx.configFile) await ctx.configFile.update((text) => deleteIn(text, ["preload", name]));
      if (ctx.config.preload) delete ctx.config.preload[name];
    }
    // And so does its disabled: entry (a stream added later under the name starts enabled).
    if (ctx.config.disabled && name in ctx.config.disabled) {
      if (ctx.configFile) await ctx.configFile.update((text) => deleteIn(text, ["disabled", name]));
      delete ctx.config.disabled[name];
    }
    hub.delete(name);
    // Its publishes go with it (they would only retry "stream does not exist").
    const publishes = publishManagerFor(hub);
    for (const p of publishes.list(name)) await publishes.remove(p);
    ctx.log.info("stream deleted", { stream: name });
    return c.json({ deleted: name });
  });

  // Publish (go2rtc): push stream `src` to the network destination `dst` (rtmp, rtmps, rtsp,
  // rtsps). Answers once the first attempt published (502 with why when it failed); from then on
  // it is retried with backoff after failures until DELETE ?src=&dst= or shutdown. Destinations
  // are network URLs only, so nothing here can start a program.
  app.post("/api/streams", async (c) => {
    const src = c.req.query("src");
    const dst = c.req.query("dst");
    if (!src || !dst) {
      throw new ApiError(400, 'Publishing needs "src=<stream>&dst=<url>", e.g. ?src=cam&dst=rtmp://host/live/cam');
    }
    const camera = hub.get(dst);
    if (camera) {
      // Play (go2rtc): `src` (a source URL, e.g. ffmpeg:/media/bell.mp3#audio=auto) to the
      // backchannel of stream `dst`, until the source ends. The source obeys the same policy as
      // PUT /api/streams (program-running sources only when the config file allows them).
      validateSources([src], serverSourcePolicy(ctx), "POST /api/streams?dst=");
      const playing = await playToStream(camera, src);
      playing.done.catch((error) => ctx.log.warn("play failed", { stream: dst, error: (error as Error).message }));
      ctx.log.info("playing to a stream", { stream: dst, src: redactUrl(src) });
      return c.json(playing.talker.info());
    }
    const source = hub.get(src);
    if (!source) throw new StreamNotFoundError(src);
    const refused = source.disabledError();
    if (refused) throw refused;
    try {
      checkPublishUrl(dst);
    } catch (error) {
      if (error instanceof PublishUrlError) throw new ApiError(400, error.message);
      throw error;
    }
    const manager = publishManagerFor(hub, ctx.log.child({ module: "publish" }));
    const { publisher, created, first } = manager.add(src, dst, { origin: "api" });
    if (created) {
      try {
        await first;
      } catch (error) {
        await manager.remove(publisher);
        throw new ApiError(502, redactStreamKey(`Publishing "${src}" to ${dst} failed: ${(error as Error).message}`));
      }
      ctx.log.info("publishing", { stream: src, dst: redactStreamKey(dst) });
    }
    return c.json(publisher.info());
  });
}
