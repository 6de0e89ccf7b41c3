/**
 * The two roles every protocol plugs into: a {@link Producer} (a source: camera connection, ffmpeg
 * process, publisher) and a {@link Consumer} (a viewer or sink).
 *
 * @module
 */
import type { Codec } from "./codec.ts";
import type { Media } from "./media.ts";
import type { Receiver } from "./fanout.ts";
import type { Logger } from "./log.ts";

/**
 * What `/api/streams` shows about a producer or consumer.
 *
 * @example
 * ```ts
 * const info: ConnectionInfo = { id: 1, format: "rtsp", protocol: "rtsp+tcp", remoteAddr: "127.0.0.1:5000" };
 * ```
 */
export interface ConnectionInfo {
  id: number;
  /** Format or protocol family: `rtsp`, `mse/fmp4`, `hls/mpegts`, `ffmpeg`, `demo`... */
  format: string;
  /** Transport detail: `rtsp+tcp`, `rtsp+udp`, `ws`, `http`, `pipe`... */
  protocol?: string;
  remoteAddr?: string;
  /** Source URL with secrets redacted. */
  url?: string;
  userAgent?: string;
  medias?: string[];
  bytesIn?: number;
  bytesOut?: number;
  /** Frames dropped for this connection's slow queues. */
  drops?: number;
  startedAt?: string;
}

/**
 * A source of media. Created already dialed (connected and described) by a {@link SourceFactory}.
 *
 * @example
 * ```ts
 * const producer = await dialSource("rtsp://cam/1");
 * const receiver = await producer.track(producer.medias()[0], producer.medias()[0].codecs[0]);
 * producer.start().finally(() => console.log("source ended"));
 * ```
 */
export interface Producer {
  /** Medias the source offers (directions from our side: recvonly = we receive). */
  medias(): Media[];
  /** Sets up one track and returns its receiver. Called before `start()`; may be called again. */
  track(media: Media, codec: Codec): Receiver | Promise<Receiver>;
  /**
   * Runs the source until it ends. Resolves when it ends cleanly (EOF, `stop()`), rejects on
   * error. The stream reconnects when it settles while viewers remain.
   */
  start(): Promise<void>;
  /** Stops the source and releases its socket or process. Idempotent. */
  stop(): Promise<void>;
  /** Backchannel: sends a viewer's audio to the source (e.g. a camera speaker). */
  addTrack?(media: Media, codec: Codec, receiver: Receiver): void | Promise<void>;
  /**
   * Asks the source for a keyframe of a video media soon (an RTSP camera gets an RTCP PLI). Called
   * through {@link Receiver.requestKeyframe} when a viewer needs one and the GOP cache has none.
   * Best effort: sources that cannot ask leave it out.
   */
  requestKeyframe?(media: Media): void;
  info(): ConnectionInfo;
}

/**
 * A sink of media: a viewer connection, a recorder, a publisher.
 *
 * @example
 * ```ts
 * class Counter implements Consumer { ... }
 * await stream.addConsumer(new Counter());
 * ```
 */
export interface Consumer {
  /** Medias it wants (directions from our side: sendonly = we send to it). */
  medias(): Media[];
  /** Called once per matched media with the chosen codec and the source receiver to read from. */
  addTrack(media: Media, codec: Codec, receiver: Receiver): void | Promise<void>;
  /** Detaches from all receivers and closes the connection. Idempotent. */
  stop(): void | Promise<void>;
  info(): ConnectionInfo;
  /**
   * Two-way audio: a consumer with audio to send (a browser microphone, an RTSP client's
   * backchannel) lists a `recvonly` audio media in `medias()` and returns here the receiver its
   * audio arrives on, in `codec` (which the stream picked from that media's codecs). The stream
   * attaches it to the source's backchannel (see backchannel.ts).
   */
  track?(media: Media, codec: Codec): Receiver | Promise<Receiver>;
  /**
   * Two-way audio: the source reconnected without the backchannel this consumer talked to (the
   * error says why), so its audio goes nowhere now. A consumer that only talks is closed right
   * after; one that also receives media plays on. Optional: protocols that can tell their client
   * implement it.
   */
  backchannelLost?(error: Error): void;
  /**
   * The source URL this consumer itself stands for (loop protection: a stream never feeds a
   * consumer from the source that is that consumer, e.g. ffmpeg reading back its own stream).
   */
  source?: string;
}

/** Context handed to a source factory. */
export interface SourceContext {
  /** Stream the source belongs to. */
  streamName: string;
  /** Aborted when the dial should give up (stream stopped, timeout). */
  signal: AbortSignal;
  /** The stream's logger, for the source's own log lines and signalling traces (`child({ module })`). */
  log?: Logger;
}

/**
 * Creates and dials a producer for a URL: connects, describes, returns it ready for `track()`.
 *
 * @example
 * ```ts
 * registerSource("demo", async (url, ctx) => new DemoProducer(url));
 * ```
 */
export type SourceFactory = (url: string, context: SourceContext) => Promise<Producer>;

let nextId = 1;

/**
 * A process-wide unique id for connections.
 *
 * @example
 * ```ts
 * const id = nextConnectionId();
 * ```
 */
export function nextConnectionId(): number {
  return nextId++;
}
