/**
 * Stream lifecycle events (ready, viewer connect, publish, source error, recording segment done)
 * and the bus that carries them. Streams emit; whoever embeds the hub (the server's hooks, an app)
 * subscribes. Listeners run synchronously and must not block: queue work, never await in them.
 *
 * @module
 */
import type { ConnectionInfo } from "./connection.ts";

/** What every event carries. */
interface EventBase {
  /** Stream name. */
  stream: string;
  /** When it happened, Unix milliseconds. */
  time: number;
}

/** The stream has a running source or publisher (from none). */
export interface ReadyEvent extends EventBase {
  type: "ready";
  /** The source URL (secrets redacted) or `publisher:<id>` that made it ready. */
  source: string;
}

/** The stream's last running source or publisher stopped. */
export interface NotReadyEvent extends EventBase {
  type: "not_ready";
}

/** A consumer (viewer, recorder, push destination) was attached (`read`) or detached (`unread`). */
export interface ReaderEvent extends EventBase {
  type: "read" | "unread";
  connection: ConnectionInfo;
}

/** A publisher (RTSP ANNOUNCE, RTMP publish, WHIP) connected or left. */
export interface PublishEvent extends EventBase {
  type: "publish" | "unpublish";
  connection: ConnectionInfo;
}

/** A source could not be dialed, failed while running, or failed to reconnect. */
export interface SourceErrorEvent extends EventBase {
  type: "source_error";
  /** Source URL, secrets redacted. */
  source: string;
  error: string;
}

/** The stream was disabled (its viewers, publishers and sources stopped) or enabled again. */
export interface DisabledEvent extends EventBase {
  type: "disabled" | "enabled";
  /** With `disabled`: the reason given, or empty. */
  reason?: string;
}

/** A recording finished a segment file. */
export interface SegmentCompleteEvent extends EventBase {
  type: "segment_complete";
  path: string;
  /** Wall-clock time of its first sample, Unix milliseconds. */
  start: number;
  /** Seconds of media. */
  duration: number;
}

/**
 * A server alert (`monitoring.alerts`) fired or cleared. Not about one stream: `stream` is empty.
 */
export interface AlertEvent extends EventBase {
  type: "alert";
  /** `firing` when the condition has held for its duration, `resolved` when it no longer holds. */
  state: "firing" | "resolved";
  /** The alert's name. */
  alert: string;
  /** The condition as written. */
  condition: string;
  /** The measured value (percent, bytes or a count). */
  value: number;
  /** What strom does about it: `notify`, `restart`, `exit`. */
  action: string;
}

/** Any event on a {@link StreamEvents} bus. */
export type StreamEvent =
  | ReadyEvent
  | NotReadyEvent
  | ReaderEvent
  | PublishEvent
  | SourceErrorEvent
  | SegmentCompleteEvent
  | DisabledEvent
  | AlertEvent;

/**
 * Names of the event types, in the order the docs list them.
 *
 * @example
 * ```ts
 * STREAM_EVENT_TYPES.includes("ready"); // true
 * ```
 */
export const STREAM_EVENT_TYPES: readonly StreamEvent["type"][] = [
  "ready",
  "not_ready",
  "read",
  "unread",
  "publish",
  "unpublish",
  "segment_complete",
  "source_error",
  "disabled",
  "enabled",
  "alert",
];

/**
 * A synchronous event bus. A listener that throws is reported through `onListenerError` and does
 * not stop the others.
 *
 * @example
 * ```ts
 * const hub = new StreamHub();
 * const off = hub.events.on((e) => console.log(e.type, e.stream));
 * off();
 * ```
 */
export class StreamEvents {
  readonly #listeners = new Set<(event: StreamEvent) => void>();
  /** Called with what a listener threw. Default: ignored. */
  onListenerError: (error: unknown) => void = () => {};

  /** Adds a listener; returns the function that removes it. */
  on(listener: (event: StreamEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Whether anyone listens (emitters skip building events otherwise). */
  get listened(): boolean {
    return this.#listeners.size > 0;
  }

  /** Delivers an event to every listener, synchronously. */
  emit(event: StreamEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
