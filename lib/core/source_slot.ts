/**
 * One source of a stream and the state of its producer: lazy dial, tracks set up on it, start,
 * reconnect with backoff (swapping receivers under existing senders), and stop.
 *
 * @module
 */
import type { BackchannelLink } from "./backchannel.ts";
import type { Codec } from "./codec.ts";
import type { Consumer, Producer } from "./connection.ts";
import { redactUrl, SourceError, UnknownSchemeError } from "./errors.ts";
import type { Logger } from "./log.ts";
import type { Media } from "./media.ts";
import { codecMatch } from "./codec.ts";
import type { Receiver } from "./fanout.ts";
import { dialSource } from "./registry.ts";
import { HeldProducer } from "./held_producer.ts";

/** Delays between reconnect attempts: go2rtc's 1 s x5, 5 s up to 10, 10 s up to 20, then 1 min. */
export const DEFAULT_RECONNECT_DELAYS_MS: readonly number[] = [
  ...Array(5).fill(1000),
  ...Array(5).fill(5000),
  ...Array(10).fill(10000),
  60000,
];

/** A track set up on a slot's producer. */
export interface SlotTrack {
  media: Media;
  codec: Codec;
  receiver: Receiver;
}

/** Options shared by the slots of a stream. */
export interface SlotOptions {
  streamName: string;
  log: Logger;
  reconnectDelaysMs: readonly number[];
  /** Give up a dial after this long. */
  dialTimeoutMs: number;
  /**
   * How long after the source drops its last state is held (edge mode, `edge.hold`): the tracks and
   * their cached GOPs stay, the slot reconnects even with nobody watching, and a viewer who arrives
   * meanwhile is attached to the held tracks (the cached GOP at once, live frames once the source is
   * back) instead of being refused. Past it the cached GOPs are dropped and new viewers are refused
   * as without a hold. 0 or unset: no hold.
   */
  holdMs?: number;
  /** Called when a slot starts running or stops running (for the stream's ready/not ready events). */
  onRunning?: (slot: SourceSlot, running: boolean) => void;
  /** Called when a dial, a run or a reconnect fails (for `source_error` events). */
  onError?: (slot: SourceSlot, error: Error) => void;
  /**
   * Called when a talker could not be re-attached to the source's backchannel after a reconnect
   * (the link is already closed and forgotten by the slot): `reason` says why.
   */
  onTalkerLost?: (slot: SourceSlot, consumer: Consumer, link: BackchannelLink, reason: string, cause?: unknown) => void;
}

/** Lifecycle of a slot. */
export type SlotState = "idle" | "dialing" | "ready" | "running" | "reconnecting" | "stopped";

/**
 * The producer behind one source URL, or one pushed publisher.
 *
 * @example
 * ```ts
 * const slot = new SourceSlot("rtsp://cam/1", options);
 * const producer = await slot.dial();
 * ```
 */
export class SourceSlot {
  readonly url: string;
  /** A pushed producer (publisher): never dialed, never reconnected, never stopped by the stream. */
  readonly external: boolean;
  state: SlotState = "idle";
  producer: Producer | undefined;
  /** The last dial or run error, for messages and `/api/streams`. */
  lastError: Error | undefined;
  /** Reconnect attempts since the last successful start. */
  retries = 0;
  /** Reconnect attempts over the slot's whole life (never reset), for `strom_source_reconnects_total`. */
  reconnects = 0;
  readonly tracks: SlotTrack[] = [];
  // Payload bytes of the tracks of earlier connections (forgotten at a stop, an idle reset or a
  // reconnect), so bytesReceived never goes down.
  #receivedBefore = 0;
  /**
   * Talkers attached to the producer's backchannel, with their consumer (the stream adds and
   * removes them): re-attached to the new connection after a reconnect (their audio meanwhile goes
   * nowhere), and they keep the source reconnecting as viewers do.
   */
  readonly talkers: Map<BackchannelLink, Consumer> = new Map();

  readonly #options: SlotOptions;
  #dialing: Promise<Producer> | undefined;
  #abort = new AbortController();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped on stop and on every new run, so a stale run's settlement is ignored. */
  #generation = 0;
  // While the source is down and its last state is held (see SlotOptions.holdMs): the stand-in new
  // viewers get instead of the producer, and the timer that ends the hold.
  #held: Producer | undefined;
  #holdTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(url: string, options: SlotOptions, producer?: Producer) {
    this.url = url;
    this.#options = options;
    this.external = producer !== undefined;
    if (producer) {
      this.producer = producer;
      this.state = "running";
    }
  }

  /**
   * Whether the source is down and its last state is held for new viewers (see
   * {@link SlotOptions.holdMs}).
   */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /** Whether any track of this slot still feeds a viewer, or a talker talks to it. */
  get inUse(): boolean {
    return this.talkers.size > 0 || this.tracks.some((t) => t.receiver.senders.length > 0);
  }

  /** Connects (once; concurrent callers share the attempt) and returns the producer. */
  dial(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    if (this.#dialing) return this.#dialing;
    // The source is down and its reconnect loop owns it (viewers already attached resume when it is
    // back): a new viewer is refused with the last error instead of dialing beside the loop, whose
    // failure would otherwise reset the state to idle and stop the reconnects.
    if (this.state === "reconnecting") {
      if (this.#held) return Promise.resolve(this.#held);
      return Promise.reject(
        new SourceError(this.url, `reconnecting after: ${this.lastError?.message ?? "the source ended"}`, {
          cause: this.lastError,
        }),
      );
    }
    if (this.state === "stopped") this.#abort = new AbortController();
    this.state = "dialing";
    this.#dialing = this.#dialOnce().then(
      (producer) => {
        this.#dialing = undefined;
        this.producer = producer;
        this.state = "ready";
        this.lastError = undefined;
        return producer;
      },
      (error) => {
        this.#dialing = undefined;
        this.state = "idle";
        this.lastError = error instanceof Error ? error : new Error(String(error));
        this.#options.onError?.(this, this.lastError);
        throw this.lastError;
      },
    );
    return this.#dialing;
  }

  async #dialOnce(): Promise<Producer> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#options.dialTimeoutMs)]);
    try {
      return await dialSource(this.url, { streamName: this.#options.streamName, signal, log: this.#options.log });
    } catch (error) {
      if (error instanceof SourceError || error instanceof UnknownSchemeError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new SourceError(this.url, `dial failed: ${reason}`, { cause: error });
    }
  }

  /** The receiver for a media/codec of this slot's producer, set up once and reused. */
  async track(media: Media, codec: Codec): Promise<Receiver> {
    const existing = this.tracks.find((t) => t.media === media && t.codec === codec);
    if (existing) return existing.receiver;
    const producer = await this.dial();
    const receiver = await producer.track(media, codec);
    askKeyframesOf(producer, media, receiver);
    this.tracks.push({ media, codec, receiver });
    this.#syncTracks();
    return receiver;
  }

  // Audio tracks follow the source's video track, so a new viewer's audio starts where its video
  // starts (the cached GOP's keyframe), not seconds ahead of it (Receiver.syncWith).
  #syncTracks(): void {
    const video = this.tracks.find((t) => t.media.kind === "video" && t.receiver.gop)?.receiver;
    if (!video) return;
    for (const t of this.tracks) if (t.media.kind === "audio") t.receiver.syncWith(video);
  }

  /** Starts the producer if it is not running; watches it and reconnects when it ends. */
  start(): void {
    if (this.external || this.state === "running" || this.state === "reconnecting" || !this.producer) return;
    this.#run(this.producer);
  }

  #run(producer: Producer): void {
    const generation = ++this.#generation;
    this.state = "running";
    this.#options.onRunning?.(this, true);
    const log = this.#options.log;
    let started: Promise<void>;
    try {
      started = producer.start();
    } catch (error) {
      started = Promise.reject(error);
    }
    started.then(
      () => {
        if (generation !== this.#generation) return;
        log.info("source ended", { url: redactUrl(this.url) });
        this.#onEnded(undefined);
      },
      (error) => {
        if (generation !== this.#generation) return;
        this.lastError = error instanceof Error ? error : new Error(String(error));
        log.warn("source failed", { url: redactUrl(this.url), error: this.lastError.message });
        this.#options.onError?.(this, this.lastError);
        this.#onEnded(this.lastError);
      },
    );
  }

  #onEnded(_error: Error | undefined): void {
    const old = this.producer;
    this.producer = undefined;
    old?.stop().catch(() => {});
    this.#options.onRunning?.(this, false);
    if (old && this.#hold(old)) {
      this.state = "reconnecting";
      this.#scheduleReconnect();
      return;
    }
    if (!this.inUse) {
      // Nobody is watching: no reason to reconnect now; the next viewer dials again.
      this.#resetIdle();
      return;
    }
    this.state = "reconnecting";
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const delays = this.#options.reconnectDelaysMs;
    const delay = delays[Math.min(this.retries, delays.length - 1)] ?? 1000;
    this.retries++;
    this.reconnects++;
    const generation = this.#generation;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (generation !== this.#generation || this.state !== "reconnecting") return;
      this.#reconnect().catch((error) => {
        if (generation !== this.#generation || this.state !== "reconnecting") return;
        this.lastError = error instanceof Error ? error : new Error(String(error));
        this.#options.log.debug("reconnect failed", {
          url: redactUrl(this.url),
          attempt: this.retries,
          error: this.lastError.message,
        });
        this.#options.onError?.(this, this.lastError);
        if (!this.inUse && !this.#held) {
          this.#resetIdle();
          return;
        }
        this.#scheduleReconnect();
      });
    }, delay);
  }

  /** Dials again and moves every viewer's sender onto the new connection's receivers. */
  async #reconnect(): Promise<void> {
    const generation = this.#generation;
    const producer = await this.#dialOnce();
    if (generation !== this.#generation || this.state !== "reconnecting") {
      await producer.stop().catch(() => {});
      return;
    }
    const medias = producer.medias();
    const moved: SlotTrack[] = [];
    for (const old of this.tracks) {
      const media = medias.find((m) =>
        m.kind === old.media.kind && m.direction === old.media.direction &&
        m.codecs.some((c) => codecMatch(c, old.codec))
      );
      if (!media) {
        this.#options.log.warn("after reconnect the source no longer offers a codec", {
          url: redactUrl(this.url),
          codec: old.codec.name,
        });
        continue;
      }
      const codec = media.codecs.find((c) => codecMatch(c, old.codec))!;
      const receiver = await producer.track(media, codec);
      askKeyframesOf(producer, media, receiver);
      // A viewer let in on the held state while this loop waits for the next track may join this
      // old receiver after the swap: Receiver.addSender hands it to the new one.
      old.receiver.replace(receiver);
      moved.push({ media, codec, receiver });
    }
    this.#forgetTracks();
    this.tracks.push(...moved);
    this.#syncTracks();
    // Viewers let in from here on (while talkers are re-attached) take the new connection's tracks.
    if (this.#held) this.#held = producer;
    // Talkers that spoke get the backchannel set up before PLAY (one connection); the others are
    // attached once it plays, so the camera's speaker is set up only when they speak (as at first).
    const talkers = [...this.talkers.keys()];
    for (const link of talkers) if (link.talked) await this.#reattach(link, producer);
    if (generation !== this.#generation || this.state !== "reconnecting") {
      await producer.stop().catch(() => {});
      return;
    }
    this.#endHold();
    this.producer = producer;
    this.retries = 0;
    this.lastError = undefined;
    this.#options.log.info("source reconnected", {
      url: redactUrl(this.url),
      tracks: moved.length,
      talkers: this.talkers.size,
    });
    this.#run(producer);
    for (const link of talkers) if (!link.talked) await this.#reattach(link, producer);
  }

  // One talker onto the new connection's backchannel. One that cannot be is detached and reported
  // (onTalkerLost); that is never a failure of the reconnect itself.
  async #reattach(link: BackchannelLink, producer: Producer): Promise<void> {
    const consumer = this.talkers.get(link);
    if (!consumer) return; // left meanwhile
    let reason: string;
    let cause: unknown;
    try {
      if (await link.reattach(producer)) return;
      const offered = producer.medias().filter((m) => m.direction === "sendonly");
      reason = offered.length === 0
        ? "it offers no backchannel now"
        : `its backchannel now takes ${offered.flatMap((m) => m.codecs.map((c) => c.name)).join(", ")}`;
    } catch (error) {
      cause = error;
      reason = `setting it up failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (!this.talkers.delete(link)) return;
    link.close();
    this.#options.log.warn("after reconnect a talker lost the source's backchannel", {
      url: redactUrl(this.url),
      codec: link.codec.name,
      reason,
    });
    this.#options.onTalkerLost?.(this, consumer, link, reason, cause);
  }

  // Starts holding the dropped source's state, when configured and there is a track to hold.
  #hold(old: Producer): boolean {
    const holdMs = this.#options.holdMs ?? 0;
    if (holdMs <= 0 || this.tracks.length === 0) return false;
    this.#endHold();
    this.#held = new HeldProducer(this.url, old.medias());
    for (const t of this.tracks) t.receiver.sourceDown = true;
    this.#holdTimer = setTimeout(this.#holdExpired, holdMs);
    this.#options.log.info("source down; holding its last picture for new viewers while reconnecting", {
      url: redactUrl(this.url),
      hold_ms: holdMs,
    });
    return true;
  }

  // The hold is over and the source still down: stale pictures are no longer served (the cached
  // GOPs go, so snapshots and new viewers get the source-down answer), and with nobody watching the
  // reconnects stop as they would have without a hold.
  readonly #holdExpired = (): void => {
    this.#holdTimer = undefined;
    if (!this.#held) return;
    this.#held = undefined;
    for (const t of this.tracks) t.receiver.gop?.clear();
    this.#options.log.info("source still down after the hold; its last picture is no longer served", {
      url: redactUrl(this.url),
    });
    if (this.state === "reconnecting" && !this.inUse) this.#resetIdle();
  };

  #endHold(): void {
    for (const t of this.tracks) t.receiver.sourceDown = false;
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    this.#held = undefined;
  }

  /** Payload bytes received over the slot's whole life, its current connection's included. */
  get bytesReceived(): number {
    let bytes = this.#receivedBefore;
    for (const t of this.tracks) bytes += t.receiver.bytes;
    return bytes;
  }

  #forgetTracks(): void {
    for (const t of this.tracks) this.#receivedBefore += t.receiver.bytes;
    this.tracks.length = 0;
  }

  #resetIdle(): void {
    this.#endHold();
    this.#forgetTracks();
    this.state = "idle";
    this.retries = 0;
  }

  /** Stops the producer and forgets the tracks. The slot can be dialed again later. */
  async stop(): Promise<void> {
    this.#generation++;
    this.#abort.abort();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#endHold();
    const producer = this.producer;
    const wasRunning = this.state === "running";
    this.producer = undefined;
    this.#dialing = undefined;
    this.#forgetTracks();
    this.talkers.clear();
    this.state = "stopped";
    if (wasRunning) this.#options.onRunning?.(this, false);
    this.retries = 0;
    if (producer && !this.external) await producer.stop().catch(() => {});
  }
}

/** A viewer's keyframe request on a video receiver goes to its producer, when it can ask (PLI). */
function askKeyframesOf(producer: Producer, media: Media, receiver: Receiver): void {
  if (media.kind !== "video" || !producer.requestKeyframe || receiver.onKeyframeRequest) return;
  receiver.onKeyframeRequest = () => producer.requestKeyframe?.(media);
}
