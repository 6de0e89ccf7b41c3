/**
 * A stream: a name, ordered sources, and the consumers watching it. Negotiates per media (the first
 * source with a matching codec wins), dials sources lazily, starts them for the first viewer, stops
 * them a grace period after the last viewer leaves, and reconnects with backoff while viewers remain.
 *
 * @module
 */
import { abortableSleep } from "./abortable_sleep.ts";
import { type Codec, codecMatch, CodecName, codecToString } from "./codec.ts";
import type { ConnectionInfo, Consumer, Producer } from "./connection.ts";
import type { StreamEvents } from "./events.ts";
import {
  CodecMismatchError,
  redactUrl,
  SourceError,
  StreamDisabledError,
  UnknownSchemeError,
} from "./errors.ts";
import { type Logger, silentLogger } from "./log.ts";
import { matchMedia, type Media } from "./media.ts";
import {
  attachBackchannel,
  type BackchannelLink,
  BackchannelLostError,
  backchannelMismatch,
} from "./backchannel.ts";
import type { Receiver } from "./fanout.ts";
import { DEFAULT_RECONNECT_DELAYS_MS, type SlotOptions, SourceSlot } from "./source_slot.ts";

/** Options of a stream. */
export interface StreamOptions {
  /** How long sources keep running after the last viewer left, so a returning viewer starts at once. Default 5 s. */
  graceMs?: number;
  /** Delays between reconnect attempts (the last one repeats). */
  reconnectDelaysMs?: readonly number[];
  /** Give up dialing a source after this long. Default 15 s. */
  dialTimeoutMs?: number;
  /**
   * How long a source that dropped keeps serving its last GOP to viewers who arrive while it
   * reconnects (edge mode's `edge.hold`; see lib/core/source_slot.ts). Default 0: none.
   */
  holdMs?: number;
  log?: Logger;
  /** Where the stream reports ready/not ready, readers, publishers and source errors (see events.ts). */
  events?: StreamEvents;
}

/**
 * A named stream with ordered sources.
 *
 * @example
 * ```ts
 * const stream = new Stream("door", ["rtsp://cam/1", "ffmpeg:door#audio=opus"]);
 * await stream.addConsumer(viewer);
 * // ...
 * await stream.removeConsumer(viewer);
 * ```
 */
export class Stream {
  readonly name: string;
  readonly #slots: SourceSlot[] = [];
  readonly #publishers: SourceSlot[] = [];
  readonly #consumers: Consumer[] = [];
  // Which sources each consumer took tracks from: a consumer may attach its senders later (RTSP
  // readers do at PLAY, after DESCRIBE), and its sources must not be stopped as idle meanwhile.
  readonly #consumerSlots = new Map<Consumer, Set<SourceSlot>>();
  // Talkers' audio attached to sources' backchannels: closed when the talker leaves.
  readonly #links = new Map<Consumer, BackchannelLink[]>();
  #bytesSentByGone = 0;
  #bytesReceivedByGone = 0;
  readonly #graceMs: number;
  readonly #slotOptions: SlotOptions;
  readonly #log: Logger;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #pending = 0;
  #retiring: Promise<void> = Promise.resolve();
  readonly #events: StreamEvents | undefined;
  /** Whether a source or publisher is running (the last ready/not_ready event sent). */
  #ready = false;
  /**
   * Entries listed with the consumers in {@link info} while they are not attached: e.g. a publish
   * destination that is down and waiting to retry, shown with its error. Their owners add and
   * remove them.
   */
  readonly detached: Set<{ info(): ConnectionInfo }> = new Set();
  #disabled: { reason: string; since: number } | undefined;
  #closed = false;
  // Settled by enable(): long-lived consumers (retry) wait on it while the stream is disabled.
  #enabled: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(name: string, sources: string[] = [], options: StreamOptions = {}) {
    this.name = name;
    this.#graceMs = options.graceMs ?? 5000;
    this.#log = (options.log ?? silentLogger).child({ stream: name });
    this.#slotOptions = {
      streamName: name,
      log: this.#log,
      reconnectDelaysMs: options.reconnectDelaysMs ?? DEFAULT_RECONNECT_DELAYS_MS,
      dialTimeoutMs: options.dialTimeoutMs ?? 15000,
      holdMs: options.holdMs ?? 0,
      onRunning: (slot) => this.#updateReady(slot),
      onTalkerLost: (slot, consumer, link, reason, cause) =>
        this.#talkerLost(slot, consumer, link, reason, cause),
      onError: (slot, error) => {
        if (this.#events?.listened) {
          this.#events.emit({
            type: "source_error",
            stream: this.name,
            time: Date.now(),
            source: redactUrl(slot.url),
            error: redactUrl(error.message),
          });
        }
      },
    };
    this.#events = options.events;
    this.sources = sources;
  }

  /**
   * Source URLs in order. Setting them keeps the sources still listed as they are; viewers of the
   * sources no longer listed move to a remaining source that offers the same codec, or are closed
   * (the reason is logged), and those sources stop (see {@link retired}).
   */
  get sources(): string[] {
    return this.#slots.map((s) => s.url);
  }

  set sources(urls: string[]) {
    const keep: SourceSlot[] = [];
    for (const url of urls) {
      keep.push(
        this.#slots.find((s) => s.url === url && !keep.includes(s)) ?? new SourceSlot(url, this.#slotOptions),
      );
    }
    const removed = this.#slots.filter((slot) => !keep.includes(slot));
    this.#slots.length = 0;
    this.#slots.push(...keep);
    if (removed.length > 0) {
      this.#retiring = this.#retiring.then(() => this.#retire(removed)).catch((error) => {
        this.#log.warn("moving viewers off removed sources failed", { error: String(error) });
      });
    }
  }

  /**
   * Settles when the viewers of the sources removed by the last {@link sources} change were moved
   * or closed and those sources stopped.
   */
  get retired(): Promise<void> {
    return this.#retiring;
  }

  /** Consumers attached now. */
  consumers(): Consumer[] {
    return [...this.#consumers];
  }

  /**
   * Bytes sent to every consumer the stream has had: those that left (their `info().bytesOut` when
   * they stopped) plus `current`, the attached ones' infos (default: from {@link info}; pass them when
   * already at hand).
   */
  bytesSent(current: readonly { bytesOut?: number }[] = this.info().consumers as ConnectionInfo[]): number {
    let sent = this.#bytesSentByGone;
    for (const c of current) sent += c.bytesOut ?? 0;
    return sent;
  }

  /**
   * Payload bytes the stream's sources and publishers have received over its life: those removed
   * or gone included, and each source's earlier connections, so the figure never goes down.
   *
   * @example
   * ```ts
   * const total = hub.streams().reduce((n, s) => n + s.bytesReceived(), 0);
   * ```
   */
  bytesReceived(): number {
    let bytes = this.#bytesReceivedByGone;
    for (const slot of this.#publishers) bytes += slot.bytesReceived;
    for (const slot of this.#slots) bytes += slot.bytesReceived;
    return bytes;
  }

  #countGone(consumer: Consumer): void {
    this.#bytesSentByGone += consumer.info().bytesOut ?? 0;
  }

  /** Producers connected now (publishers first). */
  producers(): Producer[] {
    return [...this.#publishers, ...this.#slots].map((s) => s.producer).filter((p): p is Producer => !!p);
  }

  /**
   * Attaches a consumer: for each of its medias, the first source (publishers first, then the
   * configured sources in order) with a matching codec gives the track; `ALL` takes every match.
   * Then starts the sources used.
   *
   * @throws {CodecMismatchError} nothing matched although sources answered.
   * @throws {SourceError} every source failed to dial.
   */
  async addConsumer(consumer: Consumer, options: AddConsumerOptions = {}): Promise<void> {
    if (!options.retry) return await this.#addConsumerOnce(consumer);
    // Long-lived consumers (preload, recorders) wait for a source that is down, even at the first
    // dial (go2rtc gives up there): retry with the reconnect backoff until it works or is aborted.
    const { signal } = options.retry;
    const delays = options.retry.delaysMs ?? this.#slotOptions.reconnectDelaysMs;
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#addConsumerOnce(consumer);
      } catch (error) {
        if (error instanceof StreamDisabledError && !signal?.aborted && !this.#closed) {
          // Privacy mode: wait for enable() (or the abort), then dial afresh.
          this.#log.debug("stream disabled; waiting until it is enabled", {
            consumer: consumer.info().format,
          });
          await this.whenEnabled(signal);
          if (signal?.aborted) throw error;
          attempt = -1;
          continue;
        }
        if (!(error instanceof SourceError) || signal?.aborted) throw error;
        const delay = delays[Math.min(attempt, delays.length - 1)] ?? 1000;
        this.#log.debug("no source reachable yet; retrying", {
          attempt: attempt + 1,
          delay_ms: delay,
          error: error.message,
        });
        await abortableSleep(delay, signal);
        if (signal?.aborted) throw error;
      }
    }
  }

  async #addConsumerOnce(consumer: Consumer): Promise<void> {
    this.#refuseIfDisabled();
    this.#cancelIdle();
    this.#pending++;
    const used = new Set<SourceSlot>();
    const dialErrors: Error[] = [];
    const failed = new Set<SourceSlot>(); // dial each source at most once per viewer
    const offered: string[] = [];
    let matched = 0;
    try {
      const wanted = consumer.medias();
      const slots = [...this.#publishers, ...this.#slots];
      for (const consMedia of wanted) {
        const wantsAll = consMedia.codecs.some((c) => c.name === CodecName.ALL);
        let done = false;
        for (const slot of slots) {
          if (done) break;
          if (consumer.source && slot.url === consumer.source) continue; // loop protection
          if (failed.has(slot)) continue;
          let producer: Producer;
          try {
            producer = await slot.dial();
          } catch (error) {
            if (error instanceof UnknownSchemeError) throw error;
            failed.add(slot);
            dialErrors.push(error as Error);
            // The viewer gets the reason too; the log is where whoever runs the server sees it.
            this.#log.warn("source could not be dialed", {
              url: redactUrl(slot.url),
              error: (error as Error).message,
            });
            continue;
          }
          for (const prodMedia of producer.medias()) {
            if (consMedia.direction === "recvonly") {
              // Backchannel: the viewer's media (e.g. a microphone) to the source, transcoded when
              // the codecs differ (see backchannel.ts).
              let link: BackchannelLink | undefined;
              try {
                link = await attachBackchannel(producer, prodMedia, consumer, consMedia);
              } catch (error) {
                dialErrors.push(error as Error);
              }
              if (!link) continue;
              this.#backchannelLinks(consumer).push(link);
              // The slot re-attaches it when the source reconnects.
              slot.talkers.set(link, consumer);
            } else {
              const pair = matchMedia(prodMedia, consMedia);
              if (!pair) continue;
              // Source to viewer.
              const receiver = await slot.track(prodMedia, pair.local);
              await consumer.addTrack(consMedia, pair.local, receiver);
            }
            used.add(slot);
            matched++;
            if (!wantsAll) {
              done = true;
              break;
            }
          }
        }
      }
      if (matched === 0) {
        for (const slot of slots) {
          if (slot.producer) { for (const m of slot.producer.medias()) offered.push(...describe(m)); }
        }
        if (offered.length === 0 && dialErrors.length > 0) {
          const reasons = dialErrors.map((e) => e.message).join("; ");
          throw new SourceError(this.sources[0] ?? this.name, `no source could be reached: ${reasons}`, {
            cause: dialErrors[0],
          });
        }
        if (offered.length === 0 && slots.length === 0) {
          throw new SourceError(
            this.name,
            "the stream has no sources and no publisher is connected; push one (RTSP ANNOUNCE, RTMP, WHIP) or add a source",
          );
        }
        // A consumer that only talks gets the reason in terms of two-way audio.
        const talkError = backchannelMismatch(
          this.name,
          wanted,
          slots.flatMap((s) => s.producer?.medias() ?? []),
          dialErrors,
        );
        throw talkError ?? new CodecMismatchError(this.name, wanted.flatMap(describe), offered);
      }
      // Disabled while this viewer was being attached: it does not start.
      this.#refuseIfDisabled();
      this.#consumers.push(consumer);
      this.#consumerSlots.set(consumer, used);
      for (const slot of used) slot.start();
      this.#log.debug("consumer added", { consumer: consumer.info().format, tracks: matched });
      this.#emitConnection("read", consumer);
    } catch (error) {
      // Tracks added before the failure must not keep senders on the receivers.
      this.#closeLinks(consumer);
      if (matched > 0) await Promise.resolve(consumer.stop()).catch(() => {});
      throw error;
    } finally {
      this.#pending--;
      this.#scheduleIdle();
    }
  }

  /** Detaches and stops a consumer; sources nobody uses stop after the grace period. */
  async removeConsumer(consumer: Consumer): Promise<void> {
    const i = this.#consumers.indexOf(consumer);
    if (i >= 0) this.#consumers.splice(i, 1);
    if (i >= 0) this.#emitConnection("unread", consumer);
    this.#consumerSlots.delete(consumer);
    this.#closeLinks(consumer);
    try {
      await consumer.stop();
    } finally {
      if (i >= 0) this.#countGone(consumer);
      this.#scheduleIdle();
    }
  }

  /**
   * Adds a pushed producer (RTSP ANNOUNCE/RECORD, RTMP publish, WHIP). It is matched before the
   * configured sources while connected. Viewers of an earlier publisher that left are moved onto it.
   */
  async addPublisher(producer: Producer): Promise<void> {
    this.#refuseIfDisabled();
    const slot = new SourceSlot(`publisher:${producer.info().id}`, this.#slotOptions, producer);
    // Viewers still attached to a departed publisher's receivers continue on the new one.
    const orphans = this.#publishers.filter((p) => p.state === "stopped" && p.inUse);
    for (const old of orphans) {
      for (const track of old.tracks) {
        const media = producer.medias().find((m) =>
          m.kind === track.media.kind && m.codecs.some((c) => c.name === track.codec.name)
        );
        if (!media) continue;
        const codec = media.codecs.find((c) => c.name === track.codec.name)!;
        const receiver = await slot.track(media, codec);
        track.receiver.replace(receiver);
      }
      this.#publishers.splice(this.#publishers.indexOf(old), 1);
      this.#bytesReceivedByGone += old.bytesReceived;
    }
    this.#publishers.unshift(slot);
    this.#log.info("publisher connected", { publisher: producer.info().format });
    this.#emitConnection("publish", producer);
    this.#updateReady(slot);
  }

  /** Marks a publisher gone. Its viewers stay attached for a returning publisher until they leave. */
  removePublisher(producer: Producer): void {
    const slot = this.#publishers.find((s) => s.producer === producer);
    if (!slot) return;
    slot.producer = undefined;
    slot.state = "stopped";
    if (!slot.inUse) {
      this.#publishers.splice(this.#publishers.indexOf(slot), 1);
      this.#bytesReceivedByGone += slot.bytesReceived;
    }
    this.#log.info("publisher disconnected");
    this.#emitConnection("unpublish", producer);
    this.#updateReady(slot);
  }

  /** When and why the stream was disabled ({@link disable}); undefined while it is enabled. */
  get disabled(): { reason: string; since: number } | undefined {
    return this.#disabled ? { ...this.#disabled } : undefined;
  }

  /**
   * Disables the stream (privacy mode): its viewers and publishers are disconnected, its sources
   * stop, and until {@link enable} new viewers and publishers are refused with a
   * {@link StreamDisabledError}. Consumers attached with `retry` (preload, recorders) are stopped
   * too; their owners attach new ones on the `disabled` event, which wait in `addConsumer` until
   * the stream is enabled. Disabling a disabled stream only
   * updates the reason.
   *
   * @example
   * ```ts
   * await stream.disable("privacy: someone is home");
   * stream.disabled; // { reason: "privacy: someone is home", since: 1765000000000 }
   * stream.enable();
   * ```
   */
  async disable(reason = ""): Promise<void> {
    const was = this.#disabled;
    this.#disabled = { reason, since: was?.since ?? Date.now() };
    if (was) return;
    this.#enabled = withResolvers();
    this.#log.info("stream disabled", reason ? { reason } : {});
    await this.#stopAll();
    // After the teardown: owners of long-lived consumers attach new ones, which wait for enable().
    this.#events?.emit({ type: "disabled", stream: this.name, time: Date.now(), reason });
  }

  /**
   * Enables a disabled stream: viewers and publishers are accepted again, and long-lived
   * consumers waiting in {@link addConsumer} with `retry` attach. A no-op when it is enabled.
   */
  enable(): void {
    if (!this.#disabled) return;
    this.#disabled = undefined;
    const enabled = this.#enabled;
    this.#enabled = undefined;
    enabled?.resolve();
    this.#log.info("stream enabled");
    this.#events?.emit({ type: "enabled", stream: this.name, time: Date.now() });
  }

  /**
   * The refusal a viewer or publisher gets while the stream is disabled; undefined while it is
   * enabled. Protocols that answer with a status instead of throwing use its message.
   *
   * @example
   * ```ts
   * const refused = stream.disabledError();
   * if (refused) return { status: 503, body: refused.message };
   * ```
   */
  disabledError(): StreamDisabledError | undefined {
    return this.#disabled ? new StreamDisabledError(this.name, this.#disabled.reason) : undefined;
  }

  #refuseIfDisabled(): void {
    const refused = this.disabledError();
    if (refused) throw refused;
  }

  /**
   * Resolves when the stream is enabled (at once when it is), or when `signal` aborts: for owners
   * of long-lived consumers that retry on their own (push publishing), so a disabled stream is
   * waited out instead of retried with backoff.
   *
   * @example
   * ```ts
   * if (stream.disabled) await stream.whenEnabled(abort.signal);
   * ```
   */
  whenEnabled(signal?: AbortSignal): Promise<void> {
    const enabled = this.#enabled?.promise;
    if (!enabled) return Promise.resolve();
    if (!signal) return enabled;
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      signal.addEventListener("abort", done, { once: true });
      enabled.then(done);
    });
  }

  /** Stops every source and consumer (stream deleted or server shutting down). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#enabled?.resolve();
    await this.#stopAll();
  }

  async #stopAll(): Promise<void> {
    this.#cancelIdle();
    const consumers = this.#consumers.splice(0);
    for (const c of consumers) this.#emitConnection("unread", c);
    this.#consumerSlots.clear();
    for (const c of [...this.#links.keys()]) this.#closeLinks(c);
    await Promise.allSettled(consumers.map((c) => c.stop()));
    for (const c of consumers) this.#countGone(c);
    await Promise.allSettled(this.#slots.map((s) => s.stop()));
    await Promise.allSettled(this.#publishers.map((s) => s.producer?.stop()));
    this.#publishers.length = 0;
    this.#updateReady(undefined);
  }

  // Sends ready when the first source or publisher runs and not_ready when the last one stops.
  #updateReady(changed: SourceSlot | undefined): void {
    const running = this.#publishers.some((s) => s.producer) ||
      this.#slots.some((s) => s.state === "running" && s.producer);
    if (running === this.#ready) return;
    this.#ready = running;
    if (!this.#events?.listened) return;
    if (running) {
      const source = changed?.producer
        ? changed
        : [...this.#publishers, ...this.#slots].find((s) => s.producer);
      this.#events.emit({
        type: "ready",
        stream: this.name,
        time: Date.now(),
        source: redactUrl(source?.url ?? ""),
      });
    } else {
      this.#events.emit({ type: "not_ready", stream: this.name, time: Date.now() });
    }
  }

  #emitConnection(type: "read" | "unread" | "publish" | "unpublish", c: Consumer | Producer): void {
    if (!this.#events?.listened) return;
    let connection: ConnectionInfo;
    try {
      connection = c.info();
    } catch {
      return;
    }
    this.#events.emit({ type, stream: this.name, time: Date.now(), connection });
  }

  /** The latest cached keyframe of the first video track that has one (for instant snapshots). */
  cachedKeyframe(): { codec: Codec; frame: import("./frame.ts").Frame } | undefined {
    if (this.#disabled) return undefined; // privacy mode: not even the last picture
    for (const slot of [...this.#publishers, ...this.#slots]) {
      for (const t of slot.tracks) {
        const frame = t.receiver.gop?.keyframe();
        if (frame) return { codec: t.codec, frame };
      }
    }
    return undefined;
  }

  /**
   * Bytes of pictures the stream's sources hold in their GOP caches now (the memory a stream kept
   * pulled without viewers costs beyond its connection).
   *
   * @example
   * ```ts
   * if (stream.consumers().length === 0 && stream.cachedBytes() > 64 << 20) stream.stopUnused();
   * ```
   */
  cachedBytes(): number {
    let bytes = 0;
    for (const slot of [...this.#publishers, ...this.#slots]) {
      for (const t of slot.tracks) bytes += t.receiver.gop?.bytes ?? 0;
    }
    return bytes;
  }

  /**
   * Stops now the sources no viewer uses, as the grace period after the last viewer does when it
   * ends; sources a viewer still uses keep running.
   *
   * @example
   * ```ts
   * stream.stopUnused(); // an edge over its cache bound drops the stream idle the longest
   * ```
   */
  stopUnused(): void {
    this.#cancelIdle();
    this.#stopIdle();
  }

  /** JSON for `/api/streams` (secrets redacted). */
  info(): StreamInfo {
    const slotInfo = (slot: SourceSlot) => ({
      url: redactUrl(slot.url),
      state: slot.state,
      reconnects: slot.reconnects,
      ...(slot.holding ? { holding: true } : {}),
      ...(slot.lastError ? { error: redactUrl(slot.lastError.message) } : {}),
      ...(slot.producer ? { connection: slot.producer.info() } : {}),
      tracks: slot.tracks.map((t) => ({
        media: t.media.kind,
        codec: codecToString(t.codec),
        frames: t.receiver.frames,
        bytes: t.receiver.bytes,
        senders: t.receiver.senders.length,
        drops: t.receiver.senders.reduce((n, s) => n + s.drops, 0),
        gop_frames: t.receiver.gop?.size ?? 0,
      })),
    });
    return {
      name: this.name,
      ...(this.#disabled
        ? { disabled: { reason: this.#disabled.reason, since: new Date(this.#disabled.since).toISOString() } }
        : {}),
      sources: this.sources.map(redactUrl),
      producers: [...this.#publishers, ...this.#slots].map(slotInfo),
      consumers: [...this.#consumers.map((c) => c.info()), ...[...this.detached].map((d) => d.info())],
    };
  }

  // Sources removed from the list (hub.set, PUT/PATCH /api/streams): each track that feeds viewers
  // moves its senders onto the same media and codec of a remaining source (as a reconnect does, so
  // the viewers keep playing without being re-created); viewers of a removed source whose track no
  // remaining source offers are closed. Then the removed sources stop.
  async #retire(removed: SourceSlot[]): Promise<void> {
    const affected = [...this.#consumerSlots].filter(([, slots]) => removed.some((s) => slots.has(s)));
    const movedTo = new Map<SourceSlot, Set<SourceSlot>>();
    const lost = new Map<SourceSlot, string>();
    for (const slot of removed) {
      const targets = new Set<SourceSlot>();
      movedTo.set(slot, targets);
      for (const track of slot.tracks) {
        if (track.receiver.senders.length === 0) continue;
        const found = await this.#replacementFor(track.media, track.codec);
        if (!found) {
          lost.set(slot, `${track.media.kind} ${codecToString(track.codec)}`);
          continue;
        }
        track.receiver.replace(found.receiver);
        targets.add(found.slot);
      }
    }
    for (const [consumer, slots] of affected) {
      const gone = removed.find((s) => slots.has(s) && lost.has(s));
      if (gone) {
        this.#log.warn("viewer closed: its source was removed and no remaining source offers its track", {
          consumer: consumer.info().format,
          source: redactUrl(gone.url),
          track: lost.get(gone),
        });
        await this.removeConsumer(consumer).catch(() => {});
        continue;
      }
      for (const slot of removed) {
        if (!slots.delete(slot)) continue;
        for (const target of movedTo.get(slot) ?? []) slots.add(target);
      }
    }
    for (const targets of movedTo.values()) for (const target of targets) target.start();
    await Promise.allSettled(removed.map((slot) => slot.stop()));
    for (const slot of removed) this.#bytesReceivedByGone += slot.bytesReceived;
    this.#scheduleIdle();
  }

  // The first listed source that offers `media`'s kind and direction with a matching codec, and
  // its receiver for it; sources that cannot be reached are skipped.
  async #replacementFor(
    media: Media,
    codec: Codec,
  ): Promise<{ slot: SourceSlot; receiver: Receiver } | undefined> {
    for (const slot of this.#slots) {
      let producer: Producer;
      try {
        producer = await slot.dial();
      } catch {
        continue;
      }
      for (const m of producer.medias()) {
        if (m.kind !== media.kind || m.direction !== media.direction) continue;
        const match = m.codecs.find((c) => codecMatch(c, codec));
        if (match) return { slot, receiver: await slot.track(m, match) };
      }
    }
    return undefined;
  }

  #backchannelLinks(consumer: Consumer): BackchannelLink[] {
    let links = this.#links.get(consumer);
    if (!links) this.#links.set(consumer, links = []);
    return links;
  }

  #closeLinks(consumer: Consumer): void {
    const links = this.#links.get(consumer);
    this.#links.delete(consumer);
    for (const link of links ?? []) {
      for (const slot of [...this.#publishers, ...this.#slots]) slot.talkers.delete(link);
      link.close();
    }
  }

  // After a reconnect a talker's backchannel was not there any more (see SourceSlot.talkers): the
  // consumer is told (`backchannelLost`), and one that only talks is closed, so its client sees the
  // session end instead of talking into nothing.
  #talkerLost(
    slot: SourceSlot,
    consumer: Consumer,
    link: BackchannelLink,
    reason: string,
    cause: unknown,
  ): void {
    const links = this.#links.get(consumer);
    if (links) {
      const i = links.indexOf(link);
      if (i >= 0) links.splice(i, 1);
      if (links.length === 0) this.#links.delete(consumer);
    }
    const error = new BackchannelLostError(
      this.name,
      redactUrl(slot.url),
      codecToString(link.codec),
      reason,
      {
        cause,
      },
    );
    try {
      consumer.backchannelLost?.(error);
    } catch { /* the consumer's own affair */ }
    const talksOnly = consumer.medias().every((m) => m.direction === "recvonly");
    if (talksOnly && !this.#links.has(consumer) && this.#consumers.includes(consumer)) {
      this.#log.warn("talker closed: its source reconnected without a backchannel", {
        consumer: consumer.info().format,
        error: error.message,
      });
      this.removeConsumer(consumer).catch(() => {});
    }
  }

  #cancelIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #scheduleIdle(): void {
    this.#cancelIdle();
    this.#idleTimer = setTimeout(this.#stopIdle, this.#graceMs);
  }

  readonly #stopIdle = (): void => {
    this.#idleTimer = undefined;
    if (this.#pending > 0) return;
    const claimed = new Set<SourceSlot>();
    for (const slots of this.#consumerSlots.values()) for (const slot of slots) claimed.add(slot);
    for (const slot of this.#slots) {
      if (slot.state !== "idle" && slot.state !== "stopped" && !slot.inUse && !claimed.has(slot)) {
        this.#log.debug("stopping unused source", { url: redactUrl(slot.url) });
        slot.stop().catch(() => {});
      }
    }
  };
}

/** Options of {@link Stream.addConsumer}. */
export interface AddConsumerOptions {
  /**
   * Keep trying while no source can be reached (including the very first dial), with the stream's
   * reconnect delays or `delaysMs`, until it works or `signal` aborts. Codec mismatches still fail
   * at once.
   */
  retry?: { signal?: AbortSignal; delaysMs?: readonly number[] };
}

/** `/api/streams` JSON of one stream. */
export interface StreamInfo {
  name: string;
  /** Present while the stream is disabled: the reason given and when (RFC 3339). */
  disabled?: { reason: string; since: string };
  sources: string[];
  producers: unknown[];
  consumers: unknown[];
}

function describe(media: Media): string[] {
  return media.codecs.map((c) => `${media.kind}:${codecToString(c)}`);
}

// Promise.withResolvers is Node 22+ only.
function withResolvers(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
