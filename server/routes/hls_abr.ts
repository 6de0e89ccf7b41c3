/**
 * Adaptive bitrate for `GET /api/stream.m3u8` (`hls.variants`, or the go2rtc seed article's
 * `edge.bandwidth` with `adaptive: true`): the multivariant playlist lists the stream's own version
 * first and then each configured level below its height, as `hls/variant.m3u8?id=<session>&v=480p`.
 * The first request for a level opens an HLS session on a derived stream (`<name>~480p`, one per
 * stream and level, shared by every player) whose source is an `ffmpeg:` scaler reading the stream
 * from strom's RTSP server; so the ffmpeg runs only while some player reads that level, and stops
 * with the stream's usual grace after the last one left.
 *
 * The config file turns this on; what a request chooses is only which of the configured levels it
 * reads, and stream names go into the ffmpeg source only when they are plain (variantSafeName).
 *
 * @module
 */
import type { Logger } from "../../lib/core/log.ts";
import type { Media } from "../../lib/core/media.ts";
import type { Stream } from "../../lib/core/stream.ts";
import { grabKeyframe } from "../../lib/protocol/http/keyframe.ts";
import type { HlsSession } from "../../lib/protocol/hls/session.ts";
import type { HlsSessionRequest } from "../../lib/protocol/hls/session_store.ts";
import {
  type HlsVariant,
  parseHlsVariant,
  planHlsVariants,
  variantBitrate,
  variantSafeName,
  variantSource,
} from "../../lib/protocol/hls/variants.ts";
import { VideoParameterSets } from "../../lib/format/mp4/video_parameter_sets.ts";
import type { AppContext } from "../context.ts";
import { rtspServerRunning } from "../sources.ts";

/** How long the multivariant playlist waits for the stream's first keyframe (its picture size). */
const SIZE_WAIT_MS = 5000;

/** What one stream.m3u8 request planned: the levels its playlist lists, and how to open them. */
interface Plan {
  stream: Stream;
  variants: HlsVariant[];
  request: HlsSessionRequest;
  /** Variant sessions opened (or opening) for this playlist, by level name. */
  open: Map<string, Promise<HlsSession>>;
}

/** The levels and cap from the config, checked once. */
export interface AbrSettings {
  levels: number[];
  maxBitrate?: number;
}

/**
 * `hls.variants` (or `edge.bandwidth.quality_levels` with `adaptive: true`) and the bit rate cap;
 * undefined when neither is set. Levels that do not read are warned about, naming the key.
 *
 * @example
 * ```ts
 * abrSettings({ hls: { variants: ["480p", "240p"] } } as never, log); // { levels: [480, 240] }
 * ```
 */
export function abrSettings(config: AppContext["config"], log: Logger): AbrSettings | undefined {
  const bandwidth = config.edge?.bandwidth;
  const fromEdge = bandwidth?.adaptive === true;
  const own = config.hls?.variants ?? [];
  const key = own.length ? "hls.variants" : "edge.bandwidth.quality_levels";
  const raw = own.length ? own : fromEdge ? bandwidth?.quality_levels ?? [] : [];
  const levels: number[] = [];
  for (const value of raw) {
    try {
      levels.push(parseHlsVariant(value));
    } catch (error) {
      log.warn(`${key}: ${(error as Error).message}; left out`);
    }
  }
  if (levels.length === 0) return undefined;
  const maxBitrate = config.hls?.max_bitrate ?? (fromEdge ? bandwidth?.max_bitrate : undefined);
  return { levels, maxBitrate: maxBitrate && maxBitrate > 0 ? maxBitrate : undefined };
}

/**
 * The variant sessions of the server's HLS players.
 *
 * @example
 * ```ts
 * const abr = new HlsAbr(ctx, settings, (stream, request) => store.create(stream, request));
 * const levels = await abr.plan(master, stream, request); // [] when the stream gets none
 * const session = await abr.session(master, "480p");
 * ```
 */
export class HlsAbr {
  readonly #ctx: AppContext;
  readonly #settings: AbrSettings;
  readonly #open: (stream: Stream, request: HlsSessionRequest) => Promise<HlsSession>;
  readonly #log: Logger;
  readonly #plans = new WeakMap<HlsSession, Plan>();
  #warnedRtsp = false;

  constructor(
    ctx: AppContext,
    settings: AbrSettings,
    open: (stream: Stream, request: HlsSessionRequest) => Promise<HlsSession>,
  ) {
    this.#ctx = ctx;
    this.#settings = settings;
    this.#open = open;
    this.#log = ctx.log.child({ module: "hls" });
  }

  /**
   * The levels to list in `master`'s playlist with their picture sizes, and the source's own size
   * and nominal bit rate; no levels when the stream gets none (an unplain name, no RTSP server, no
   * picture within 5 s, nothing below its height).
   */
  async plan(
    master: HlsSession,
    stream: Stream,
    request: HlsSessionRequest,
  ): Promise<
    { width?: number; height?: number; bandwidth?: number; variants: (HlsVariant & { width?: number })[] }
  > {
    if (!variantSafeName(stream.name) || !this.#ctx.hub.names().includes(stream.name)) {
      this.#log.debug("no HLS variants: the stream is not a listed one with a plain name", {
        stream: stream.name,
      });
      return { variants: [] };
    }
    if (!rtspServerRunning()) {
      if (!this.#warnedRtsp) {
        this.#warnedRtsp = true;
        this.#log.warn(
          "hls.variants has no effect: the variants are made by ffmpeg reading the stream from strom's " +
            "RTSP server, which is off; set rtsp.listen",
        );
      }
      return { variants: [] };
    }
    // Audio only (or video the container does not take): nothing to scale, no keyframe to wait for.
    if (!(master.feed.info().medias ?? []).some((m) => m.startsWith("video"))) return { variants: [] };
    const size = await pictureSize(stream, SIZE_WAIT_MS);
    if (!size) {
      this.#log.debug("no HLS variants: no picture size within 5 s", { stream: stream.name });
      return { variants: [] };
    }
    const variants = planHlsVariants(this.#settings.levels, size.height, this.#settings.maxBitrate);
    if (variants.length === 0) return { ...size, variants: [] };
    this.#plans.set(master, { stream, variants, request, open: new Map() });
    const top = variants[0].bitrate;
    return {
      ...size,
      bandwidth: Math.max(variantBitrate(size.height), top + 1),
      variants: variants.map((v) => ({
        ...v,
        width: Math.round((v.height * size.width) / size.height / 2) * 2,
      })),
    };
  }

  /** Names of the levels `master`'s playlist listed (for error messages). */
  levels(master: HlsSession): string[] {
    return this.#plans.get(master)?.variants.map((v) => v.name) ?? [];
  }

  /**
   * The session of level `name` for `master`'s player: opened on the first request (the derived
   * stream and its ffmpeg start then), the same one while it lives. Undefined when `master`'s
   * playlist did not list that level.
   */
  async session(
    master: HlsSession,
    name: string,
    alive: (s: HlsSession) => boolean,
  ): Promise<HlsSession | undefined> {
    const plan = this.#plans.get(master);
    const variant = plan?.variants.find((v) => v.name === name);
    if (!plan || !variant) return undefined;
    // One session per playlist and level, also when a player asks twice at once.
    const existing = plan.open.get(name);
    if (existing) {
      const session = await existing.catch(() => undefined);
      if (session && alive(session)) return session;
      if (plan.open.get(name) !== existing) return await this.session(master, name, alive);
    }
    const derived = this.#ctx.hub.derived(`${plan.stream.name}~${variant.name}`, [
      variantSource(plan.stream.name, variant),
    ]);
    const opening = this.#open(derived, plan.request);
    plan.open.set(name, opening);
    try {
      const session = await opening;
      this.#log.debug("hls variant opened", {
        stream: plan.stream.name,
        variant: name,
        session: session.sessionId,
      });
      return session;
    } catch (error) {
      if (plan.open.get(name) === opening) plan.open.delete(name);
      throw error;
    }
  }
}

/** H.264 and H.265: the codecs whose parameter sets give the picture size. */
const SIZED_VIDEO: Media[] = [{
  kind: "video",
  direction: "sendonly",
  codecs: [{ name: "H264", clockRate: 0 }, { name: "H265", clockRate: 0 }],
}];

/**
 * The stream's picture size from a keyframe's parameter sets (the cached one, else the next within
 * `waitMs`); undefined for other codecs (MJPEG) or when none comes.
 */
async function pictureSize(
  stream: Stream,
  waitMs: number,
): Promise<{ width: number; height: number } | undefined> {
  let keyframe;
  try {
    keyframe = await grabKeyframe(stream, SIZED_VIDEO, { timeoutMs: waitMs });
  } catch {
    return undefined; // no H.264/H.265 video, or no keyframe in time
  }
  const ps = new VideoParameterSets(keyframe.codec);
  ps.observe(keyframe.frame.data);
  return ps.width && ps.height ? { width: ps.width, height: ps.height } : undefined;
}
