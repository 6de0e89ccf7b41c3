/**
 * The HLS sessions of a server: random ids, a keepalive (a session without a playlist or segment
 * request for `sessionTimeoutMs` is closed and its memory freed), and limits on the number of
 * sessions and the bytes each keeps.
 *
 * @module
 */
import { type Logger, silentLogger } from "../../core/log.ts";
import type { Media } from "../../core/media.ts";
import type { Stream } from "../../core/stream.ts";
import type { OutputPeer } from "../http/output_consumer.ts";
import { OutputSession } from "../http/output_session.ts";
import { type HlsFormat, HlsSession } from "./session.ts";

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
  /** Bytes of segments one session keeps at most. Default 16 MB. */
  maxSessionBytes?: number;
  /** Seconds per segment (cut at the next keyframe after it). Default 1. */
  targetDuration?: number;
  /** Segments kept per session. Default 6. */
  maxSegments?: number;
  log?: Logger;
}

/** What a new session is made of. */
export interface HlsSessionRequest {
  format: HlsFormat;
  medias: Media[];
  peer?: OutputPeer;
}

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

function randomId(length = 12): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let s = "";
  for (const b of bytes) s += ID_ALPHABET[b % ID_ALPHABET.length];
  return s;
}

/**
 * Open HLS sessions by id.
 *
 * @example
 * ```ts
 * const store = new HlsSessionStore({ maxSessions: 20, sessionTimeoutMs: 30_000 });
 * const session = await store.create(stream, { format: "mpegts", medias });
 * // later, per request:
 * const s = store.get(id); // refreshes its keepalive
 * ```
 */
export class HlsSessionStore {
  readonly maxSessions: number;
  readonly sessionTimeoutMs: number;
  readonly maxSessionBytes: number;
  readonly #options: HlsSessionStoreOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<string, { session: HlsSession; output: OutputSession }>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(options: HlsSessionStoreOptions = {}) {
    this.#options = options;
    this.maxSessions = options.maxSessions ?? 50;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.maxSessionBytes = options.maxSessionBytes ?? 16_000_000;
    this.#log = options.log ?? silentLogger;
  }

  /** Sessions open now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Bytes of segments held by all sessions. */
  get bytes(): number {
    let n = 0;
    for (const { session } of this.#sessions.values()) n += session.segmenter.bytes;
    return n;
  }

  /**
   * Opens a session on `stream`: attaches its consumer (dialing the source if needed).
   *
   * @throws {HlsLimitError} too many sessions.
   * @throws {CodecMismatchError} / {SourceError} from the stream.
   */
  async create(stream: Stream, request: HlsSessionRequest): Promise<HlsSession> {
    if (this.maxSessions > 0 && this.#sessions.size >= this.maxSessions) throw new HlsLimitError(this.maxSessions);
    let id = randomId();
    while (this.#sessions.has(id)) id = randomId();
    const session = new HlsSession({
      id,
      format: request.format,
      medias: request.medias,
      peer: request.peer,
      segmenter: {
        targetDuration: this.#options.targetDuration,
        maxSegments: this.#options.maxSegments,
        maxBytes: this.maxSessionBytes,
      },
    });
    const output = new OutputSession(stream, session, {
      log: this.#log,
      onClose: (reason) => {
        if (this.#sessions.get(id)?.session === session) this.#sessions.delete(id);
        this.#log.debug("hls session closed", { id, stream: stream.name, reason });
        if (this.#sessions.size === 0) this.#stopSweeper();
      },
    });
    this.#sessions.set(id, { session, output });
    this.#startSweeper();
    try {
      await output.open();
    } catch (error) {
      this.#sessions.delete(id);
      if (this.#sessions.size === 0) this.#stopSweeper();
      throw error;
    }
    session.touch();
    this.#log.debug("hls session opened", { id, stream: stream.name, format: request.format });
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
  async delete(id: string): Promise<boolean> {
    const entry = this.#sessions.get(id);
    if (!entry) return false;
    await entry.output.close("deleted");
    return true;
  }

  /** Closes every session. */
  async close(): Promise<void> {
    this.#stopSweeper();
    const entries = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(entries.map((e) => e.output.close("store closed")));
  }

  /** Closes sessions idle for longer than the timeout. Runs on a timer; exposed for tests. */
  sweep(now = Date.now()): void {
    for (const { session, output } of [...this.#sessions.values()]) {
      if (now - session.lastSeen > this.sessionTimeoutMs) void output.close("idle timeout");
    }
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
