/**
 * The WebRTC playback side of a strom server: answers offers for streams, keeps the sessions (by id,
 * for WHEP's DELETE), enforces the limit of concurrent peers, and tears each session down exactly
 * once: its peer connection, its consumer on the stream, and its timers.
 *
 * Signalling-agnostic: the `/api/ws` handler and `POST /api/webrtc` both call {@link WebRtcServer.play}.
 *
 * @module
 */
import { CodecMismatchError } from "../../core/errors.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import type { Stream } from "../../core/stream.ts";
import { type WebRtcAudioLease, WebRtcConsumer } from "./consumer.ts";
import { WebRtcCodecError, WebRtcPeerLimitError } from "./errors.ts";
import type { IcePolicy, IceServer } from "./ice_policy.ts";
import { type PeerCloseReason, PeerSession } from "./peer.ts";
import type { PlayoutDelay } from "./playout_delay.ts";
import { parseCandidate } from "./sdp.ts";
import { loadWerift } from "./werift.ts";

/** Options of a {@link WebRtcServer}. */
export interface WebRtcServerOptions {
  ice?: IcePolicy;
  /** Concurrent sessions at most. Default 100. */
  maxPeers?: number;
  /** Close a session whose ICE has not connected this long after the answer. Default 15000 ms. */
  connectTimeoutMs?: number;
  /** Close a connected session when nothing arrived from the peer this long. Default 10000 ms. */
  silenceTimeoutMs?: number;
  /**
   * Audio for peers that take none of a stream's audio codecs (AAC sources: browsers take Opus,
   * PCMA, PCMU): e.g. `OpusFeeds` (lib/protocol/ffmpeg/opus_feed.ts), one shared ffmpeg per stream.
   * Without it such a peer's audio section is answered inactive.
   */
  audioFallback?: WebRtcAudioFallback;
  /**
   * How long viewers' browsers hold video before showing it (`webrtc.jitter_buffer`), sent as the
   * playout-delay header extension to peers that offer it. Default: not sent (the browser decides).
   */
  playoutDelay?: PlayoutDelay;
  log?: Logger;
}

/** Makes audio a peer takes from a stream's audio it does not (see {@link WebRtcServerOptions.audioFallback}). */
export interface WebRtcAudioFallback {
  /** A lease on the made audio, or undefined when the stream has nothing to make it from. */
  join(stream: Stream): Promise<WebRtcAudioLease | undefined>;
}

/** Options of one {@link WebRtcServer.play} call. */
export interface PlayOptions {
  /**
   * Trickle ICE: the answer goes out at once and later local candidates through `onCandidate`
   * (WebSocket signalling). Without it the answer waits for gathering to finish (WHEP). Default true.
   */
  trickle?: boolean;
  onCandidate?: (candidate: string) => void;
  /** Called once when the session ends. */
  onClose?: (reason: PeerCloseReason) => void;
  /**
   * Called when the stream's source reconnected without the backchannel the peer's microphone
   * talked to (a `BackchannelLostError`). A session that only talks is closed right after.
   */
  onBackchannelLost?: (error: Error) => void;
  /** Shown in `/api/streams`. */
  peer?: { protocol?: string; remoteAddr?: string; userAgent?: string };
  /** STUN/TURN servers for this session instead of the server's (go2rtc's `ice_servers` in the offer message). */
  iceServers?: IceServer[];
}

/**
 * One playback session: its id, answer, consumer and peer.
 *
 * @example
 * ```ts
 * const session = await server.play(stream, offer);
 * session.answer; // SDP
 * session.close();
 * ```
 */
export class WebRtcSession {
  readonly id: string;
  readonly stream: Stream;
  readonly consumer: WebRtcConsumer;
  readonly peer: PeerSession;
  answer = "";

  constructor(id: string, stream: Stream, consumer: WebRtcConsumer, peer: PeerSession) {
    this.id = id;
    this.stream = stream;
    this.consumer = consumer;
    this.peer = peer;
  }

  /** Adds a candidate from the peer (trickle). */
  addCandidate(candidate: string, sdpMid?: string): Promise<void> {
    return this.peer.addRemoteCandidate(candidate, sdpMid);
  }

  /** Ends the session (idempotent). */
  close(reason: PeerCloseReason = "closed"): void {
    this.peer.close(reason);
  }
}

/**
 * Answers WebRTC offers for streams and owns the sessions.
 *
 * @example
 * ```ts
 * const webrtc = new WebRtcServer({ ice: { bindAddress: "127.0.0.1" }, maxPeers: 50 });
 * const session = await webrtc.play(hub.get("cam")!, offerSdp, { onCandidate: (c) => send(c) });
 * send(session.answer);
 * // later
 * await webrtc.close();
 * ```
 */
export class WebRtcServer {
  readonly sessions = new Map<string, WebRtcSession>();
  readonly maxPeers: number;
  readonly #options: WebRtcServerOptions;
  readonly #log: Logger;
  #pending = 0;
  #closed = false;

  constructor(options: WebRtcServerOptions = {}) {
    this.#options = options;
    this.maxPeers = options.maxPeers ?? 100;
    this.#log = options.log ?? silentLogger;
  }

  /** Sessions open now, including those still being answered. */
  get size(): number {
    return this.sessions.size + this.#pending;
  }

  /** Timers held by open sessions (0 when none are open): for leak checks. */
  get activeTimers(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.peer.activeTimers;
    return n;
  }

  /**
   * Answers an offer with the stream's media.
   *
   * @throws {WebRtcOfferError} the offer is not usable.
   * @throws {WebRtcCodecError} no codec in common between the sources and the peer.
   * @throws {WebRtcPeerLimitError} `maxPeers` sessions are open.
   * @throws {SourceError} no source of the stream could be reached.
   */
  async play(stream: Stream, offer: string, options: PlayOptions = {}): Promise<WebRtcSession> {
    if (this.#closed) throw new Error("The WebRTC server is closed");
    if (this.size >= this.maxPeers) throw new WebRtcPeerLimitError(this.maxPeers);
    await loadWerift(); // first session only: werift loads on demand (see werift.ts)
    if (this.#closed) throw new Error("The WebRTC server is closed");
    this.#pending++;
    let pending = true;
    let consumer: WebRtcConsumer | undefined;
    let peer: PeerSession | undefined;
    let added = false;
    try {
      consumer = new WebRtcConsumer({
        offer,
        peer: options.peer,
        playoutDelay: this.#options.playoutDelay,
        log: this.#log,
      });
      let mismatch: CodecMismatchError | undefined;
      try {
        await stream.addConsumer(consumer);
        added = true;
      } catch (error) {
        if (!(error instanceof CodecMismatchError)) throw error;
        mismatch = error;
      }
      await this.#fallbackAudio(stream, consumer);
      if (mismatch && consumer.tracks.length === 0) {
        throw new WebRtcCodecError(stream.name, mismatch.offered, consumer.describeOffer(), { cause: mismatch });
      }
      if (consumer.tracks.length === 0 && consumer.microphones.length === 0) {
        throw new WebRtcCodecError(stream.name, sourceCodecs(stream), consumer.describeOffer());
      }
      peer = new PeerSession({
        ice: options.iceServers ? { ...this.#options.ice, iceServers: options.iceServers } : this.#options.ice,
        codecs: consumer.peerCodecs(),
        connectTimeoutMs: this.#options.connectTimeoutMs,
        silenceTimeoutMs: this.#options.silenceTimeoutMs,
        log: this.#log,
      });
      const session = new WebRtcSession(crypto.randomUUID(), stream, consumer, peer);
      const viewer = consumer;
      const pc = peer;
      peer.onCandidate = options.onCandidate;
      peer.onConnected = () => {
        const pair = pc.pc.iceTransports[0]?.getSelectedCandidatePair();
        const remote = pair ? parseCandidate(pair.remote.candidate) : undefined;
        if (remote) viewer.remoteAddr = `${remote.address}:${remote.port}`;
        viewer.start(pc.transceivers());
        this.#log.debug("webrtc connected", { session: session.id, stream: stream.name });
      };
      viewer.onBackchannelLost = (error) => {
        options.onBackchannelLost?.(error);
        // Nothing to play and nobody to talk to: the peer learns it from the closed session.
        if (viewer.sections.length === 0) session.close("backchannel lost");
      };
      peer.onClose = (reason) => {
        this.sessions.delete(session.id);
        stream.removeConsumer(viewer).catch(() => {});
        this.#log.debug("webrtc session closed", { session: session.id, stream: stream.name, reason });
        options.onClose?.(reason);
      };
      this.sessions.set(session.id, session);
      this.#pending--;
      pending = false;
      consumer = undefined; // owned by the session now
      session.answer = await peer.answer(viewer.restrictedOffer(), (t) => viewer.prepare(t));
      if (options.trickle === false) session.answer = await peer.completeAnswer();
      session.answer = viewer.withAnswerExtensions(session.answer);
      if (peer.state === "closed") throw new Error(`The WebRTC session ended while answering (${peer.closeReason})`);
      return session;
    } catch (error) {
      if (pending) this.#pending--;
      if (consumer) {
        if (added) await stream.removeConsumer(consumer).catch(() => {});
        else consumer.stop();
      }
      peer?.close("error");
      throw error;
    }
  }

  // Audio sections nothing matched (an AAC camera, a browser): audio made for them, if it can be.
  // Its failure costs the peer its audio only, never the session.
  async #fallbackAudio(stream: Stream, consumer: WebRtcConsumer): Promise<void> {
    const fallback = this.#options.audioFallback;
    if (!fallback) return;
    for (const section of consumer.unansweredAudio()) {
      if (!section.media.codecs.some((c) => c.name === "OPUS")) continue;
      let lease: WebRtcAudioLease | undefined;
      try {
        lease = await fallback.join(stream);
      } catch (error) {
        this.#log.warn("no transcoded audio for a WebRTC viewer; it plays without sound", {
          stream: stream.name,
          error: String((error as Error)?.message ?? error),
        });
        return;
      }
      if (!lease) return;
      if (consumer.addLeasedTrack(section, lease)) {
        this.#log.debug("webrtc audio transcoded", { stream: stream.name, mid: section.mid, codec: lease.codec.name });
      }
    }
  }

  /** The session with this id. */
  get(id: string): WebRtcSession | undefined {
    return this.sessions.get(id);
  }

  /** Closes every session; later offers are refused. */
  close(): Promise<void> {
    this.#closed = true;
    for (const s of [...this.sessions.values()]) s.close("server closing");
    return Promise.resolve();
  }
}

function sourceCodecs(stream: Stream): string[] {
  const out: string[] = [];
  for (const p of stream.producers()) {
    for (const m of p.medias()) for (const c of m.codecs) out.push(`${m.kind}:${c.name}/${c.clockRate}`);
  }
  return out;
}
