/**
 * Playing a source to a stream's backchannel (a file, a live stream or TTS to a camera's speaker),
 * as go2rtc's `Stream.Play` behind `POST /api/streams?dst=<camera>&src=<url>`. The source becomes a
 * talker of the camera's stream: with `ffmpeg:...#audio=auto` the camera's backchannel picks the
 * codec and ffmpeg makes it.
 *
 * ```text
 * ffmpeg:/media/bell.mp3#audio=auto --(camera takes PCMA/8000)--> ffmpeg ... -c:a pcm_alaw --> camera speaker
 * ```
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import type { TalkingConsumer } from "../../core/backchannel.ts";
import { redactUrl } from "../../core/errors.ts";
import type { Receiver } from "../../core/fanout.ts";
import type { Media } from "../../core/media.ts";
import { dialSource } from "../../core/registry.ts";
import type { Stream } from "../../core/stream.ts";

/**
 * A producer's audio offered as a talker (a consumer that sends audio to the stream's source).
 *
 * @example
 * ```ts
 * const talker = new SourceTalker(await dialSource("ffmpeg:/media/bell.mp3#audio=auto", ctx), url);
 * await camera.addConsumer(talker); // the camera's backchannel picks the codec
 * ```
 */
export class SourceTalker implements TalkingConsumer {
  readonly id = nextConnectionId();
  readonly producer: Producer;
  readonly #url: string;
  readonly #medias: Media[];
  readonly #startedAt = new Date().toISOString();

  constructor(producer: Producer, url: string) {
    this.producer = producer;
    this.#url = url;
    // The producer's audio (recvonly from our side) is what this consumer sends: recvonly too.
    this.#medias = producer.medias().filter((m) => m.kind === "audio" && m.direction === "recvonly");
  }

  medias(): Media[] {
    return this.#medias;
  }

  /** A talker receives nothing. */
  addTrack(): void {}

  track(media: Media, codec: Codec): Receiver | Promise<Receiver> {
    return this.producer.track(media, codec);
  }

  stop(): Promise<void> {
    return this.producer.stop();
  }

  info(): ConnectionInfo {
    return { ...this.producer.info(), id: this.id, format: "play", url: redactUrl(this.#url), startedAt: this.#startedAt };
  }
}

/** A source playing to a stream (see {@link playToStream}). */
export interface Playing {
  readonly talker: SourceTalker;
  /** Settles when the source ended (resolves) or failed (rejects); the talker is removed then. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Dials `url` and plays its audio to `stream`'s backchannel until the source ends.
 *
 * @throws {CodecMismatchError} when the stream's source takes no audio this source can give (no
 *   backchannel, or no common or convertible codec); the dial's errors.
 * @example
 * ```ts
 * const playing = await playToStream(hub.get("door")!, "ffmpeg:/media/bell.mp3#audio=auto");
 * await playing.done;
 * ```
 */
export async function playToStream(stream: Stream, url: string, signal?: AbortSignal): Promise<Playing> {
  const producer = await dialSource(url, { streamName: stream.name, signal: signal ?? new AbortController().signal });
  const talker = new SourceTalker(producer, url);
  try {
    await stream.addConsumer(talker);
  } catch (error) {
    await producer.stop().catch(() => {});
    throw error;
  }
  const done = producer.start().finally(() => stream.removeConsumer(talker).catch(() => {}));
  done.catch(() => {});
  return { talker, done, stop: () => stream.removeConsumer(talker) };
}
