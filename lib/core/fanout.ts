/**
 * The fan-out from one source track to many viewers: {@link Receiver}, {@link Sender} and the drain
 * scheduler that runs senders' drains together.
 *
 * A {@link Receiver} belongs to a source track and hands every frame synchronously to each of its
 * {@link Sender}s. A Sender belongs to one viewer's track and owns a bounded queue: when the viewer is
 * slow the queue fills and the Sender drops (video: everything until the next keyframe, so the
 * decoder never sees a broken reference chain), counts the drops, and never makes the source or the
 * other viewers wait.
 *
 * A new viewer starts from the receiver's cached GOP ({@link Sender.replay}): the sender walks that
 * shared, read-only list before its queue, at the handler's pace, so a GOP of any length (a camera
 * with a 10 s GOP has 250 frames in it) reaches the viewer whole, keyframe first, at once. Pushing
 * the cached frames into the 128-frame queue instead overflowed it on long GOPs, and the viewer
 * waited for the camera's next keyframe.
 *
 * Hot path: `Receiver.push` and `Sender.push` allocate nothing per frame. A Receiver runs the drains
 * of the senders it pushed to itself, right after its fan-out and in the producer's call; only a
 * sender pushed to outside a Receiver's fan-out waits for one microtask, shared by every sender
 * scheduled before it runs.
 *
 * @module
 */
import type { Codec } from "./codec.ts";
import type { Frame } from "./frame.ts";
import type { Media } from "./media.ts";
import { AudioCache } from "./audio_cache.ts";
import { GopCache, type GopCacheOptions } from "./gop_cache.ts";

// How soon after a video track's GOP replay an audio track's new sender counts as the same viewer's.
const SYNC_WINDOW_MS = 2_000;

/** What a sender does with each frame. Returning a promise makes the sender wait before the next. */
export type FrameHandler = (frame: Frame) => void | Promise<void>;

/** Limits of a sender's queue. */
export interface SenderOptions {
  /**
   * Frames the queue holds before it drops. Default 128 for video, 256 for audio. A replayed GOP
   * ({@link Sender.replay}) does not count: only frames pushed while it is handed over do.
   */
  capacity?: number;
  /** Bytes the queue holds before it drops (a replayed GOP does not count). Default 16 MiB. */
  maxBytes?: number;
  /** Called once if the handler throws or rejects; the sender closes itself. */
  onError?: (error: unknown) => void;
}

/**
 * One viewer's track: a bounded queue drained into a handler.
 *
 * @example
 * ```ts
 * const sender = new Sender(media, codec, (frame) => socket.write(frame.data));
 * receiver.addSender(sender);
 * // later
 * sender.close();
 * ```
 */
export class Sender {
  readonly media: Media;
  readonly codec: Codec;
  /**
   * Frames dropped because the queue was full or while waiting for a keyframe after a drop. A video
   * sender that starts before its source's first keyframe skips the frames before it; those are not
   * counted (nothing decodable was lost).
   */
  drops = 0;
  /** Frames handed to the handler. */
  frames = 0;
  /** Bytes handed to the handler. */
  bytes = 0;
  /** The receiver this sender is attached to, if any. */
  receiver: Receiver | undefined;

  readonly #handler: FrameHandler;
  readonly #capacity: number;
  readonly #maxBytes: number;
  readonly #isVideo: boolean;
  readonly #onError?: (error: unknown) => void;
  readonly #ring: (Frame | undefined)[];
  #head = 0;
  #size = 0;
  #queuedBytes = 0;
  #running = false;
  #closed = false;
  // Video starts at a keyframe and restarts at one after a drop.
  #waitKeyframe: boolean;
  // Whether that wait follows a drop (its frames are drops), not the start (a viewer that joined
  // before the source's first keyframe lost nothing it could have shown).
  #waitAfterDrop = false;
  // A cached GOP being handed over before the queue: shared with other viewers, never written.
  #backlog: readonly Frame[] | undefined;
  #backlogNext = 0;

  constructor(media: Media, codec: Codec, handler: FrameHandler, options: SenderOptions = {}) {
    this.media = media;
    this.codec = codec;
    this.#handler = handler;
    this.#isVideo = media.kind === "video";
    this.#capacity = options.capacity ?? (this.#isVideo ? 128 : 256);
    this.#maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    this.#onError = options.onError;
    this.#ring = new Array(this.#capacity);
    this.#waitKeyframe = this.#isVideo && codecNeedsKeyframe(codec);
  }

  /** Frames waiting: in the queue, and of a replayed GOP not handed over yet. */
  get queued(): number {
    return this.#size + (this.#backlog ? this.#backlog.length - this.#backlogNext : 0);
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues a frame; never blocks. Drops when the queue is full. */
  push(frame: Frame): void {
    if (this.#closed) return;
    if (this.#waitKeyframe) {
      if (!frame.keyframe) {
        if (this.#waitAfterDrop) this.drops++;
        return;
      }
      this.#waitKeyframe = false;
      this.#waitAfterDrop = false;
    }
    const len = frame.data.length;
    if (this.#size >= this.#capacity || (this.#queuedBytes + len > this.#maxBytes && this.#size > 0)) {
      if (this.#isVideo && codecNeedsKeyframe(this.codec)) {
        // A decoder cannot continue past a lost frame: drop what is queued (and what is left of a
        // replayed GOP) and resume at a keyframe, unless this frame is itself one.
        this.drops += this.queued;
        this.#clear();
        if (!frame.keyframe) {
          this.drops++;
          this.#waitKeyframe = true;
          this.#waitAfterDrop = true;
          return;
        }
      } else {
        this.drops++;
        return;
      }
    }
    let tail = this.#head + this.#size;
    if (tail >= this.#capacity) tail -= this.#capacity;
    this.#ring[tail] = frame;
    this.#size++;
    this.#queuedBytes += len;
    if (!this.#running) {
      this.#running = true;
      scheduleDrain(this.#drain);
    }
  }

  /**
   * Starts this sender from a cached GOP (`frames`, keyframe first, as {@link GopCache.frames}
   * gives them): they go to the handler before anything pushed after this call, as fast as the
   * handler takes them, without being copied into the queue, so a GOP longer than the queue's
   * capacity is not dropped. The list is read, never changed, and can be shared by many senders.
   * Frames queued before are replaced by it: those the GOP holds again go out from it (not counted
   * as drops: a PLI replay while the first replay is still out loses nothing), the others are
   * dropped and counted. A video GOP that does not start at a keyframe is ignored (the sender keeps
   * waiting for one).
   *
   * @example
   * ```ts
   * const sender = new Sender(media, codec, (frame) => socket.write(frame.data));
   * sender.replay(receiver.gop?.frames() ?? []);
   * ```
   */
  replay(frames: readonly Frame[]): void {
    if (this.#closed || frames.length === 0) return;
    const needsKeyframe = this.#isVideo && codecNeedsKeyframe(this.codec);
    if (needsKeyframe && !frames[0].keyframe) return;
    this.drops += this.#queuedNotIn(frames);
    this.#clear();
    this.#backlog = frames;
    this.#backlogNext = 0;
    this.#waitKeyframe = false;
    this.#waitAfterDrop = false;
    if (!this.#running) {
      this.#running = true;
      scheduleDrain(this.#drain);
    }
  }

  // How many frames waiting (queue, rest of a replayed GOP) `frames` does not hold again: the ones a
  // replay of `frames` loses. The GOP cache hands out copies, so a frame is matched by its decode
  // timestamp and size. Runs at a replay (a viewer's start, a PLI), not per frame.
  #queuedNotIn(frames: readonly Frame[]): number {
    if (this.queued === 0) return 0;
    const held = new Map<number, number>();
    for (const f of frames) held.set(f.timestamp, f.data.length);
    const isHeld = (f: Frame) => held.get(f.timestamp) === f.data.length;
    let lost = 0;
    for (let i = 0; i < this.#size; i++) {
      let idx = this.#head + i;
      if (idx >= this.#capacity) idx -= this.#capacity;
      if (!isHeld(this.#ring[idx]!)) lost++;
    }
    const backlog = this.#backlog;
    if (backlog !== undefined) {
      for (let i = this.#backlogNext; i < backlog.length; i++) if (!isHeld(backlog[i])) lost++;
    }
    return lost;
  }

  /** Detaches from the receiver and empties the queue. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clear();
    this.receiver?.removeSender(this);
  }

  #clear(): void {
    for (let i = 0; i < this.#size; i++) {
      let idx = this.#head + i;
      if (idx >= this.#capacity) idx -= this.#capacity;
      this.#ring[idx] = undefined;
    }
    this.#head = 0;
    this.#size = 0;
    this.#queuedBytes = 0;
    this.#backlog = undefined;
    this.#backlogNext = 0;
  }

  readonly #drain = (): void => {
    while (!this.#closed) {
      let frame: Frame;
      const backlog = this.#backlog;
      if (backlog !== undefined) {
        frame = backlog[this.#backlogNext++];
        if (this.#backlogNext === backlog.length) {
          this.#backlog = undefined;
          this.#backlogNext = 0;
        }
      } else if (this.#size > 0) {
        frame = this.#ring[this.#head]!;
        this.#ring[this.#head] = undefined;
        if (++this.#head === this.#capacity) this.#head = 0;
        this.#size--;
        this.#queuedBytes -= frame.data.length;
      } else {
        break;
      }
      this.frames++;
      this.bytes += frame.data.length;
      let result: void | Promise<void>;
      try {
        result = this.#handler(frame);
      } catch (error) {
        this.#fail(error);
        return;
      }
      if (result !== undefined && typeof (result as Promise<void>).then === "function") {
        (result as Promise<void>).then(this.#drain, this.#fail);
        return;
      }
    }
    this.#running = false;
  };

  readonly #fail = (error: unknown): void => {
    this.#running = false;
    if (this.#closed) return;
    this.close();
    this.#onError?.(error);
  };
}

// Drains due, run together: a Receiver pushing a frame to 200 senders runs their drains in one loop
// instead of 200 microtasks (Node's queueMicrotask allocates an AsyncResource and a bound function
// per call, ~200 bytes per viewer per frame of young garbage). A Receiver runs them itself once its
// fan-out is done, in the producer's call: waiting for a microtask instead was measured to add
// ~0.05-0.1 ms to every frame on Node (the rest of the socket chunk is parsed first). A sender
// pushed to outside a Receiver (or while a Receiver fans out) gets one shared microtask.
// Each drain still runs after the push that scheduled it, in push order.
const dueDrains: (() => void)[] = [];
let microtaskQueued = false;
let flushing = false;
/** > 0 while a Receiver hands a frame to its senders: it runs the due drains itself when done. */
let fanOutDepth = 0;

function scheduleDrain(drain: () => void): void {
  dueDrains.push(drain);
  if (!microtaskQueued && fanOutDepth === 0 && !flushing) {
    microtaskQueued = true;
    queueMicrotask(runDueDrainsTask);
  }
}

function runDueDrainsTask(): void {
  microtaskQueued = false;
  const failure = runDueDrains();
  if (failure) throw failure.error;
}

/**
 * Runs every due drain, including drains scheduled while it runs (a handler pushing into another
 * receiver), in order. Returns the first error an onError callback threw, if any.
 */
function runDueDrains(): { error: unknown } | undefined {
  if (flushing) return undefined; // the running loop picks up what was just scheduled
  flushing = true;
  let failure: { error: unknown } | undefined;
  try {
    for (let i = 0; i < dueDrains.length; i++) {
      try {
        dueDrains[i]();
      } catch (error) {
        // Only an onError callback can throw here; the other drains still run.
        failure ??= { error };
      }
    }
  } finally {
    dueDrains.length = 0;
    flushing = false;
  }
  return failure;
}

/** Codecs where frames depend on earlier ones (so a drop must resume at a keyframe). */
function codecNeedsKeyframe(codec: Codec): boolean {
  return codec.name !== "JPEG" && codec.name !== "RAW";
}

/** Options of a receiver. */
export interface ReceiverOptions {
  /** GOP cache limits for video; `false` turns the cache off. */
  gop?: GopCacheOptions | false;
}

/**
 * One source track. Frames pushed in are counted, cached (video GOP) and handed to every sender.
 *
 * @example
 * ```ts
 * const receiver = new Receiver(media, codec);
 * receiver.push({ timestamp: 0, keyframe: true, data });
 * ```
 */
export class Receiver {
  readonly media: Media;
  readonly codec: Codec;
  /** Senders attached to this receiver. Read-only for callers. */
  readonly senders: Sender[] = [];
  frames = 0;
  bytes = 0;
  /** Last GOP of a video track (keyframe onward), used to start new viewers at once. */
  readonly gop: GopCache | undefined;
  /** When (ms, `performance.now()`) the cached GOP's keyframe arrived; -1 before the first. */
  keyframeAt = -1;
  /** Called when the last sender is removed. */
  onIdle: (() => void) | undefined;
  /**
   * Asks the source for a keyframe (set by whoever owns the source, e.g. lib/core/source_slot.ts
   * to the producer's `requestKeyframe`). See {@link requestKeyframe}.
   */
  onKeyframeRequest: (() => void) | undefined;
  /** Keyframe requests passed on to the source. */
  keyframeRequests = 0;
  /**
   * Set while the source is down and its state held (lib/core/source_slot.ts, `holdMs`): no frame
   * follows the cached ones until it is back, so an output whose players only finish a frame when
   * the next one starts (ffmpeg's H.264/H.265 parsers) ends the last one itself.
   */
  sourceDown = false;
  #lastKeyframeRequest = -Infinity;
  // The receiver this one was replaced by (see `replace`); later senders go there.
  #replacedBy: Receiver | undefined;
  // Audio tracks: the video track of the same source (see `syncWith`) and the recent audio kept to
  // start new viewers at the moment of that track's cached keyframe.
  #video: Receiver | undefined;
  #audio: AudioCache | undefined;
  // Video tracks: when a sender last started from the cached GOP, and from what arrival time.
  #replayedAt = -1;
  #replayedSince = -1;

  constructor(media: Media, codec: Codec, options: ReceiverOptions = {}) {
    this.media = media;
    this.codec = codec;
    if (media.kind === "video" && options.gop !== false && codecNeedsKeyframe(codec)) {
      this.gop = new GopCache(options.gop || {});
    }
  }

  /** Hands a frame to every sender. Synchronous; senders queue and never block. */
  push(frame: Frame): void {
    this.frames++;
    this.bytes += frame.data.length;
    if (this.gop) {
      this.gop.push(frame);
      if (frame.keyframe) this.keyframeAt = performance.now();
    } else if (this.#audio) {
      this.#audio.push(frame, performance.now());
    }
    const senders = this.senders;
    fanOutDepth++;
    try {
      for (let i = 0; i < senders.length; i++) senders[i].push(frame);
    } finally {
      fanOutDepth--;
    }
    if (fanOutDepth === 0 && dueDrains.length) {
      const failure = runDueDrains();
      // An onError callback threw: surface it as before (uncaught), not into the producer's call.
      if (failure) {
        queueMicrotask(() => {
          throw failure.error;
        });
      }
    }
  }

  /**
   * Attaches a sender. With `fromCache` (default true) the sender first gets the cached GOP
   * ({@link Sender.replay}), whatever its length, so a new viewer starts at once instead of
   * waiting for the next keyframe.
   */
  addSender(sender: Sender, options: { fromCache?: boolean } = {}): void {
    if (sender.receiver === this) return;
    // Replaced (the source reconnected): a viewer that got this receiver before the swap and
    // attaches only now (an RTSP viewer set up before, playing after) joins the successor.
    if (this.#replacedBy) return this.#replacedBy.addSender(sender, options);
    sender.receiver?.removeSender(sender);
    sender.receiver = this;
    this.senders.push(sender);
    if (options.fromCache === false) return;
    if (this.gop && this.gop.size > 0) {
      sender.replay(this.gop.frames());
      this.#replayedAt = performance.now();
      this.#replayedSince = this.keyframeAt;
      return;
    }
    // An audio track added with a video track that just started from its cached GOP (the same
    // viewer) starts from the audio of that keyframe's moment, so the two play in sync.
    const video = this.#video;
    if (
      this.#audio && video && video.#replayedAt >= 0 && performance.now() - video.#replayedAt < SYNC_WINDOW_MS
    ) {
      sender.replay(this.#audio.framesSince(video.#replayedSince));
    }
  }

  /**
   * Ties this audio track to the video track of the same source: from now on it keeps its recent
   * frames ({@link AudioCache}), and a viewer that gets both starts its audio where its video
   * starts (the cached keyframe) instead of live, seconds ahead of the picture. Sources call it
   * when they have both tracks (lib/core/source_slot.ts); `undefined` unties.
   *
   * @example
   * ```ts
   * audioReceiver.syncWith(videoReceiver);
   * ```
   */
  syncWith(video: Receiver | undefined): void {
    if (this.media.kind !== "audio" || video === this.#video) return;
    this.#video = video?.gop ? video : undefined;
    if (this.#video) this.#audio ??= new AudioCache();
    else this.#audio = undefined;
  }

  /**
   * A viewer needs a keyframe the GOP cache cannot give (none cached yet, or the decoder lost the
   * picture): asks the source through {@link onKeyframeRequest}, at most once per 300 ms however
   * many viewers ask. Returns whether the request went to the source.
   *
   * @example
   * ```ts
   * if (!receiver.gop?.size) receiver.requestKeyframe();
   * ```
   */
  requestKeyframe(): boolean {
    const ask = this.onKeyframeRequest;
    if (!ask) return false;
    const now = performance.now();
    if (now - this.#lastKeyframeRequest < 300) return false;
    this.#lastKeyframeRequest = now;
    this.keyframeRequests++;
    ask();
    return true;
  }

  /** Detaches a sender; calls `onIdle` when it was the last. */
  removeSender(sender: Sender): void {
    const i = this.senders.indexOf(sender);
    if (i < 0) return;
    this.senders.splice(i, 1);
    if (sender.receiver === this) sender.receiver = undefined;
    if (this.senders.length === 0) this.onIdle?.();
  }

  /**
   * Moves every sender to `next` (after a reconnect), so viewers keep playing from the new
   * connection without being re-created. Senders do not get `next`'s cache: they are mid-stream.
   * This receiver is retired: a sender added to it later is added to `next` instead, and its
   * caches go (a viewer may keep a reference to it for its whole life, across many reconnects).
   */
  replace(next: Receiver): void {
    if (next !== this) {
      this.#replacedBy = next;
      this.gop?.clear();
      this.#audio = undefined;
    }
    const moving = this.senders.splice(0);
    for (const sender of moving) {
      sender.receiver = undefined;
      next.addSender(sender, { fromCache: false });
    }
  }
}
