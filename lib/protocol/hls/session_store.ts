/**
 * The HLS sessions of a server, and the feeds they share: random session ids, a keepalive (a
 * session without a playlist or segment request for `sessionTimeoutMs` is closed), and limits on
 * the number of sessions and the bytes each feed keeps.
 *
 * Every session of the same stream, container and codec filter reads one {@link HlsFeed}: the
 * stream is muxed and cut into segments once, however many viewers there are. A feed is opened
 * with its first session and closed `feedLingerMs` after its last session closed (a viewer coming
 * back within that time starts from segments already made); when a feed ends (stream deleted,
 * muxer failure) its sessions end with it.
 *
 * @module
 */
import { type Logger, silentLogger } from "../../core/log.ts";
import type { Media } from "../../core/media.ts";
import type { Stream } from "../../core/stream.ts";
import type { OutputPeer } from "../http/output_consumer.ts";
import { OutputSession } from "../http/output_session.ts";
import { type HlsFormat, HlsFeed } from "./feed.ts";
import { HlsSession } from "./session.ts";

/**
 * A new session was refused because `maxSessions` are open.
 *
 * @example
 * ```ts
 * try { await store.create(stream, o); } catch (e) { if (e instanceof HlsLimitError) res.status = 503; }
 * ```
 */
export class HlsLimitError extends Error {
  override name = "HlsLimitError";
  readonly limit: number;
  constructor(limit: number) {
    super(
      `Cannot open an HLS session: ${limit} sessions are open (hls.max_sessions). ` +
        `Close a player, wait for idle sessions to expire, or raise the limit.`,
    );
    this.limit = limit;
  }
}

/** Options of an {@link HlsSessionStore}. */
export interface HlsSessionStoreOptions {
  /** Most sessions at once; 0 = unlimited. Default 50. */
  maxSessions?: number;
  /** Close a session after this long without a request. Default 30 s. */
  sessionTimeoutMs?: number;
  /** Bytes of segments one feed (stream + container + codecs) keeps at most. Default 16 MB. */
  maxSessionBytes?: number;
  /** Seconds per segment (cut at the next keyframe after it). Default 1. */
  targetDuration?: number;
  /** Segments kept per feed. Default 6. */
  maxSegments?: number;
  /** Keep a feed this long after its last session closed. Default: 5 s or the session timeout if shorter. */
  feedLingerMs?: number;
  log?: Logger;
}

/** What a new session is made of. */
export interface HlsSessionRequest {
  format: HlsFormat;
  medias: Media[];
  peer?: OutputPeer;
}

/** Counts of an {@link HlsSessionStore}, e.g. for a benchmark or a status page. */
export interface HlsStoreStats {
  /** Sessions (viewers) open. */
  sessions: number;
  /** Feeds (muxers with their segment lists) open: one per stream, container and codec filter in use. */
  feeds: number;
  /** Bytes of segments held by all feeds. */
  bytes: number;
}

interface Feed {
  key: string;
  stream: Stream;
  feed: HlsFeed;
  output: OutputSession;
  opening: Promise<void>;
  sessions: Set<HlsSession>;
  linger: ReturnType<typeof setTimeout> | undefined;
}

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

function randomId(length = 12): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let s = "";
  for (const b of bytes) s += ID_ALPHABET[b % ID_ALPHABET.length];
  return s;
}

/** The same request (container and codec filter) gives the same key. */
function feedKey(streamId: number, format: HlsFormat, medias: Media[]): string {
  const m = medias.map((x) => [x.kind, x.direction, x.codecs.map((c) => [c.name, c.clockRate, c.channels, c.fmtp])]);
  return `${streamId} ${format} ${JSON.stringify(m)}`;
}

/**
 * Open HLS sessions by id, and the feeds they read.
 *
 * @example
 * ```ts
 * const store = new HlsSessionStore({ maxSessions: 20, sessionTimeoutMs: 30_000 });
 * const session = await store.create(stream, { format: "mpegts", medias });
 * // later, per request:
 * const s = store.get(id); // refreshes its keepalive
 * store.stats(); // { sessions: 1, feeds: 1, bytes: ... }
 * ```
 */
export class HlsSessionStore {
  readonly maxSessions: number;
  readonly sessionTimeoutMs: number;
  readonly maxSessionBytes: number;
  readonly feedLingerMs: number;
  readonly #options: HlsSessionStoreOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<string, { session: HlsSession; feed: Feed }>();
  readonly #feeds = new Map<string, Feed>();
  readonly #streamIds = new WeakMap<Stream, number>();
  #nextStreamId = 1;
  #pending = 0;
  #closed = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(options: HlsSessionStoreOptions = {}) {
    this.#options = options;
    this.maxSessions = options.maxSessions ?? 50;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.maxSessionBytes = options.maxSessionBytes ?? 16_000_000;
    this.feedLingerMs = Math.max(0, options.feedLingerMs ?? Math.min(5_000, this.sessionTimeoutMs));
    this.#log = options.log ?? silentLogger;
  }

  /** Sessions open now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Bytes of segments held by all feeds. */
  get bytes(): number {
    let n = 0;
    for (const f of this.#feeds.values()) n += f.feed.segmenter.bytes;
    return n;
  }

  /** Sessions, feeds and bytes held now. */
  stats(): HlsStoreStats {
    return { sessions: this.#sessions.size, feeds: this.#feeds.size, bytes: this.bytes };
  }

  /**
   * Opens a session on `stream`, on the feed of the same stream, container and codecs if one is
   * open, else on a new feed (attaching it to the stream dials the source if needed).
   *
   * @throws {HlsLimitError} too many sessions.
   * @throws {CodecMismatchError} / {SourceError} from the stream.
   */
  async create(stream: Stream, request: HlsSessionRequest): Promise<HlsSession> {
    if (this.maxSessions > 0 && this.#sessions.size + this.#pending >= this.maxSessions) {
      throw new HlsLimitError(this.maxSessions);
    }
    this.#pending++;
    let entry: Feed;
    try {
      entry = this.#feedFor(stream, request);
      await entry.opening;
    } finally {
      this.#pending--;
    }
    if (entry.output.closed || this.#closed) {
      // The feed ended (stream deleted, store closing) while this request waited for it.
      throw new Error(`HLS: the stream "${stream.name}" closed while the session was being opened; retry.`);
    }
    let id = randomId();
    while (this.#sessions.has(id)) id = randomId();
    const session = new HlsSession({ id, feed: entry.feed, peer: request.peer });
    this.#sessions.set(id, { session, feed: entry });
    entry.sessions.add(session);
    entry.feed.viewers = entry.sessions.size;
    if (entry.linger !== undefined) {
      clearTimeout(entry.linger);
      entry.linger = undefined;
    }
    stream.detached.add(session);
    this.#startSweeper();
    this.#log.debug("hls session opened", {
      id,
      stream: stream.name,
      format: request.format,
      viewers: entry.sessions.size,
    });
    return session;
  }

  /** The session with that id, marked as used now; undefined when unknown or expired. */
  get(id: string): HlsSession | undefined {
    const entry = this.#sessions.get(id);
    if (!entry) return undefined;
    entry.session.touch();
    return entry.session;
  }

  /** Closes one session. */
  delete(id: string): Promise<boolean> {
    if (!this.#sessions.has(id)) return Promise.resolve(false);
    this.#closeSession(id, "deleted");
    return Promise.resolve(true);
  }

  /** Closes every session and feed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopSweeper();
    for (const id of [...this.#sessions.keys()]) this.#closeSession(id, "store closed");
    const feeds = [...this.#feeds.values()];
    this.#feeds.clear();
    await Promise.allSettled(feeds.map((f) => this.#closeFeed(f, "store closed")));
  }

  /**
   * Closes sessions idle for longer than the timeout (a session with a request waiting for a segment
   * is not idle). Runs on a timer; exposed for tests.
   */
  sweep(now = Date.now()): void {
    for (const [id, { session }] of [...this.#sessions]) {
      if (session.waiting === 0 && now - session.lastSeen > this.sessionTimeoutMs) this.#closeSession(id, "idle timeout");
    }
  }

  #feedFor(stream: Stream, request: HlsSessionRequest): Feed {
    let streamId = this.#streamIds.get(stream);
    if (streamId === undefined) {
      streamId = this.#nextStreamId++;
      this.#streamIds.set(stream, streamId);
    }
    const key = feedKey(streamId, request.format, request.medias);
    const existing = this.#feeds.get(key);
    if (existing && !existing.output.closed) return existing;
    const feed = new HlsFeed({
      format: request.format,
      medias: request.medias,
      segmenter: {
        targetDuration: this.#options.targetDuration,
        maxSegments: this.#options.maxSegments,
        maxBytes: this.maxSessionBytes,
      },
    });
    const entry: Feed = {
      key,
      stream,
      feed,
      output: undefined as unknown as OutputSession,
      opening: Promise.resolve(),
      sessions: new Set(),
      linger: undefined,
    };
    entry.output = new OutputSession(stream, feed, {
      log: this.#log,
      onClose: (reason) => this.#feedClosed(entry, reason),
    });
    this.#feeds.set(key, entry);
    entry.opening = entry.output.open().catch((error) => {
      if (this.#feeds.get(key) === entry) this.#feeds.delete(key);
      throw error;
    });
    // Waiters handle the rejection; this keeps an unobserved one from being reported.
    entry.opening.catch(() => {});
    this.#log.debug("hls feed opened", { stream: stream.name, format: request.format });
    return entry;
  }

  #closeSession(id: string, reason: string): void {
    const entry = this.#sessions.get(id);
    if (!entry) return;
    this.#sessions.delete(id);
    const { session, feed } = entry;
    feed.sessions.delete(session);
    feed.feed.viewers = feed.sessions.size;
    feed.stream.detached.delete(session);
    this.#log.debug("hls session closed", { id, stream: feed.stream.name, reason, viewers: feed.sessions.size });
    if (this.#sessions.size === 0) this.#stopSweeper();
    if (feed.sessions.size === 0 && feed.linger === undefined && !feed.output.closed && !this.#closed) {
      feed.linger = setTimeout(() => {
        feed.linger = undefined;
        if (feed.sessions.size === 0) void this.#closeFeed(feed, "no sessions");
      }, this.feedLingerMs);
    }
  }

  #closeFeed(feed: Feed, reason: string): Promise<void> {
    if (feed.linger !== undefined) {
      clearTimeout(feed.linger);
      feed.linger = undefined;
    }
    return feed.output.close(reason);
  }

  // The feed's consumer left the stream: whoever closed it, its sessions cannot be served any more.
  #feedClosed(feed: Feed, reason: string): void {
    if (feed.linger !== undefined) {
      clearTimeout(feed.linger);
      feed.linger = undefined;
    }
    if (this.#feeds.get(feed.key) === feed) this.#feeds.delete(feed.key);
    for (const session of [...feed.sessions]) this.#closeSession(session.sessionId, `feed closed: ${reason}`);
    this.#log.debug("hls feed closed", { stream: feed.stream.name, format: feed.feed.format, reason });
  }

  #startSweeper(): void {
    if (this.#sweeper !== undefined) return;
    const every = Math.max(100, Math.min(1000, this.sessionTimeoutMs / 4));
    this.#sweeper = setInterval(() => this.sweep(), every);
  }

  #stopSweeper(): void {
    if (this.#sweeper === undefined) return;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
