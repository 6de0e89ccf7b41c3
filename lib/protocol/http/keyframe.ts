/**
 * One keyframe of a stream, for snapshots (`/api/frame.jpeg`, `/api/frame.mp4`): from the stream's
 * GOP cache when the stream runs (answers at once), else from a short-lived viewer that waits for
 * the next keyframe.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import type { Stream } from "../../core/stream.ts";
import { OutputConsumer, type OutputPeer } from "./output_consumer.ts";

/**
 * No keyframe arrived in time.
 *
 * @example
 * ```ts
 * try { await grabKeyframe(stream, medias); } catch (e) { if (e instanceof KeyframeTimeoutError) console.log(e.stream); }
 * ```
 */
export class KeyframeTimeoutError extends Error {
  override name = "KeyframeTimeoutError";
  readonly stream: string;
  readonly timeoutMs: number;
  constructor(stream: string, timeoutMs: number) {
    super(
      `Stream "${stream}": no video keyframe within ${timeoutMs} ms. The source may be down or send ` +
        `keyframes rarely; check it with GET /api/streams?src=${stream}.`,
    );
    this.stream = stream;
    this.timeoutMs = timeoutMs;
  }
}

/** A keyframe and where it came from. */
export interface GrabbedKeyframe {
  codec: Codec;
  frame: Frame;
  /** `gop-cache`: the stream was running and had one cached; `live`: waited for the next one. */
  origin: "gop-cache" | "live";
}

/** Options of {@link grabKeyframe}. */
export interface GrabKeyframeOptions {
  /** How long to wait for a keyframe when none is cached. Default 10 s. */
  timeoutMs?: number;
  /** Skip the GOP cache (always wait for a fresh keyframe). */
  noCache?: boolean;
  signal?: AbortSignal;
  peer?: OutputPeer;
}

class KeyframeConsumer extends OutputConsumer {
  result: { codec: Codec; frame: Frame } | undefined;
  onKeyframe: (() => void) | undefined;
  protected open(): void {}
  protected writeFrame(index: number, frame: Frame): void {
    if (this.result || !frame.keyframe) return;
    this.result = { codec: this.tracks[index].codec, frame };
    this.onKeyframe?.();
  }
}

/**
 * The latest keyframe of the stream's first video track whose codec is one of `medias`' video
 * codecs.
 *
 * @throws {CodecMismatchError} the stream has no such video.
 * @throws {KeyframeTimeoutError} nothing arrived within `timeoutMs`.
 * @example
 * ```ts
 * const { codec, frame, origin } = await grabKeyframe(stream, [{ kind: "video", direction: "sendonly", codecs: [{ name: "H264", clockRate: 0 }] }]);
 * ```
 */
export async function grabKeyframe(stream: Stream, medias: Media[], options: GrabKeyframeOptions = {}): Promise<GrabbedKeyframe> {
  const names = new Set(medias.filter((m) => m.kind === "video").flatMap((m) => m.codecs.map((c) => c.name)));
  if (!options.noCache) {
    const cached = stream.cachedKeyframe();
    if (cached && (names.has(cached.codec.name) || names.has("ANY") || names.has("ALL"))) {
      return { codec: cached.codec, frame: cached.frame, origin: "gop-cache" };
    }
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const consumer = new KeyframeConsumer("snapshot", medias.filter((m) => m.kind === "video"), options.peer);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await stream.addConsumer(consumer);
    consumer.start(stream.name);
    await new Promise<void>((resolve, reject) => {
      if (consumer.result) return resolve();
      consumer.onKeyframe = resolve;
      timer = setTimeout(() => reject(new KeyframeTimeoutError(stream.name, timeoutMs)), timeoutMs);
      if (options.signal) {
        onAbort = () => reject(options.signal!.reason ?? new Error("aborted"));
        options.signal.addEventListener("abort", onAbort, { once: true });
      }
    });
    const { codec, frame } = consumer.result!;
    return { codec, frame, origin: "live" };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    await stream.removeConsumer(consumer);
  }
}
