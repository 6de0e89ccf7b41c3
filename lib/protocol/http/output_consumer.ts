/**
 * The common part of strom's output consumers (fMP4, MPEG-TS, FLV, ADTS, MJPEG, HLS): one bounded
 * {@link Sender} per negotiated track, a start gate so no frame is muxed before every track is known,
 * and an idempotent stop.
 *
 * Why the gate: `Stream.addConsumer` calls `addTrack` once per media, and each new sender gets the
 * cached GOP at once, so video frames can arrive before the audio track was added. A muxer needs
 * all its tracks up front, so handlers wait (their sender queues, bounded, keep the frames) until
 * the owner calls {@link OutputConsumer.start} after `addConsumer` returned.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { codecToString } from "../../core/codec.ts";
import { type ConnectionInfo, type Consumer, nextConnectionId } from "../../core/connection.ts";
import { CodecMismatchError } from "../../core/errors.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { type Receiver, Sender, type SenderOptions } from "../../core/fanout.ts";

/** Who is on the other side, for `/api/streams`. */
export interface OutputPeer {
  /** Transport detail: `http`, `ws`. */
  protocol?: string;
  remoteAddr?: string;
  userAgent?: string;
}

/** One negotiated track of an output. */
export interface OutputTrack {
  media: Media;
  codec: Codec;
  sender: Sender;
}

/**
 * Base class of the output consumers. Subclasses implement {@link open} (build the muxer once the
 * tracks are known) and {@link writeFrame}.
 *
 * @example
 * ```ts
 * class Counter extends OutputConsumer {
 *   count = 0;
 *   protected open() {}
 *   protected writeFrame() { this.count++; }
 * }
 * const c = new Counter("counter", [{ kind: "video", direction: "sendonly", codecs: [{ name: "ANY", clockRate: 0 }] }]);
 * await stream.addConsumer(c);
 * c.start();
 * ```
 */
export abstract class OutputConsumer implements Consumer {
  readonly id: number = nextConnectionId();
  /** Tracks in the order they were added (the muxer's track indexes). */
  readonly tracks: OutputTrack[] = [];
  /** Bytes handed to the sink. Subclasses add to it. */
  bytesOut = 0;
  /** Called once when the consumer fails (muxer or sink error) and stopped itself. */
  onError: ((error: unknown) => void) | undefined;
  /** Called once when the consumer stopped, for whatever reason. */
  onStop: (() => void) | undefined;
  /**
   * Start from the stream's cached GOP (default), so the first frame arrives at once. Set to
   * false before `addConsumer` to wait for the next keyframe instead (benchmarks, tests).
   */
  useGopCache = true;

  readonly #format: string;
  readonly #medias: Media[];
  readonly #peer: OutputPeer;
  readonly #senderOptions: SenderOptions;
  readonly #startedAt = new Date().toISOString();
  #started = false;
  #stopped = false;
  #gate: Promise<void> | undefined;
  #openGate: (() => void) | undefined;
  readonly #skipped: string[] = [];

  constructor(format: string, medias: Media[], peer: OutputPeer = {}, senderOptions: SenderOptions = {}) {
    this.#format = format;
    this.#medias = medias;
    this.#peer = peer;
    this.#senderOptions = senderOptions;
  }

  /** Whether {@link start} ran. */
  get started(): boolean {
    return this.#started;
  }

  /** Whether {@link stop} ran. */
  get stopped(): boolean {
    return this.#stopped;
  }

  medias(): Media[] {
    return this.#medias;
  }

  /**
   * Whether this output can carry a codec. Tracks it cannot carry are skipped (they can only come
   * from a `video=all`-style request). Default: all.
   */
  protected accepts(_codec: Codec): boolean {
    return true;
  }

  /** Builds the muxer for {@link tracks}. Throwing fails {@link start}. */
  protected abstract open(): void;

  /** Muxes and writes one frame of track `index`. A returned promise makes that track wait. */
  protected abstract writeFrame(index: number, frame: Frame): void | Promise<void>;

  /** Releases what {@link open} built (processes, timers). Called once by {@link stop}. */
  protected close(): void {}

  addTrack(media: Media, codec: Codec, receiver: Receiver): void {
    if (this.#stopped) return;
    if (!this.accepts(codec)) {
      this.#skipped.push(`${media.kind}:${codecToString(codec)}`);
      return;
    }
    const index = this.tracks.length;
    const handler = (frame: Frame): void | Promise<void> => {
      if (this.#started) return this.#stopped ? undefined : this.writeFrame(index, frame);
      return this.#waitStart().then(() => (this.#stopped ? undefined : this.writeFrame(index, frame)));
    };
    const sender = new Sender(media, codec, handler, {
      ...this.#senderOptions,
      onError: (error) => this.fail(error),
    });
    this.tracks.push({ media, codec, sender });
    receiver.addSender(sender, { fromCache: this.useGopCache });
  }

  /**
   * Opens the muxer and lets frames flow. Call after `stream.addConsumer(this)` resolved.
   *
   * @param streamName named in the error when nothing could be carried.
   * @throws {CodecMismatchError} when no track could be carried.
   */
  start(streamName = "(output)"): void {
    if (this.#started || this.#stopped) return;
    if (this.tracks.length === 0) {
      throw new CodecMismatchError(
        streamName,
        this.#medias.flatMap((m) => m.codecs.map((c) => `${m.kind}:${codecToString(c)}`)),
        this.#skipped,
      );
    }
    this.open();
    this.#started = true;
    this.#openGate?.();
  }

  /** Detaches from the stream's receivers and releases the muxer. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.tracks) t.sender.close();
    this.#openGate?.();
    try {
      this.close();
    } finally {
      const fn = this.onStop;
      this.onStop = undefined;
      fn?.();
    }
  }

  /** Stops and reports `error` once through {@link onError}. */
  protected fail(error: unknown): void {
    if (this.#stopped) return;
    const fn = this.onError;
    this.onError = undefined;
    this.stop();
    fn?.(error);
  }

  info(): ConnectionInfo {
    let drops = 0;
    for (const t of this.tracks) drops += t.sender.drops;
    return {
      id: this.id,
      format: this.#format,
      protocol: this.#peer.protocol,
      remoteAddr: this.#peer.remoteAddr,
      userAgent: this.#peer.userAgent,
      medias: this.tracks.map((t) => `${t.media.kind}, sendonly, ${codecToString(t.codec)}`),
      bytesOut: this.bytesOut,
      drops,
      startedAt: this.#startedAt,
    };
  }

  #waitStart(): Promise<void> {
    this.#gate ??= new Promise<void>((resolve) => (this.#openGate = resolve));
    return this.#gate;
  }
}
