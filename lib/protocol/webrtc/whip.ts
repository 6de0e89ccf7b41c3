/**
 * WebRTC ingest on the server side: a peer's offer to *send* media (WHIP `POST /api/webrtc?dst=`,
 * or a browser's camera over `/api/ws?dst=`) is answered `recvonly` with one codec per section
 * (see {@link chooseIngestTracks}), and once ICE and DTLS are up the peer's tracks become the
 * stream's publisher ({@link Stream.addPublisher}), exactly like an RTSP ANNOUNCE/RECORD or RTMP
 * publish: viewers get it before the configured sources, and it is removed when the peer leaves.
 *
 * Sessions are kept by id for WHIP's `DELETE`, count against their own `maxPeers`, and end exactly
 * once for every way a peer goes away ({@link PeerSession}).
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { parseSdp, SdpError, type SessionDescription } from "../../core/media.ts";
import type { Stream } from "../../core/stream.ts";
import { midOf } from "./codecs.ts";
import { WebRtcOfferError, WebRtcPeerLimitError } from "./errors.ts";
import type { IcePolicy, IceServer } from "./ice_policy.ts";
import { type PeerCloseReason, PeerSession } from "./peer.ts";
import { loadWerift } from "./werift.ts";
import { chooseIngestTracks, type IngestTrack, WebRtcIngestCodecError, WebRtcProducer } from "./producer.ts";
import { parseCandidate, restrictOffer } from "./sdp.ts";
import { type SendBitrate, withSendBitrate } from "./send_bitrate.ts";

/** Options of a {@link WebRtcIngest}. */
export interface WebRtcIngestOptions {
  ice?: IcePolicy;
  /** Concurrent publishing sessions at most. Default 100. */
  maxPeers?: number;
  /** Close a session whose ICE has not connected this long after the answer. Default 15000 ms. */
  connectTimeoutMs?: number;
  /** Close a connected session when nothing arrived from the peer this long. Default 10000 ms. */
  silenceTimeoutMs?: number;
  /** PLI period until the first keyframe. Default 1000 ms. */
  pliIntervalMs?: number;
  /** Bit rates written into each answer's video sections (see send_bitrate.ts). */
  sendBitrate?: SendBitrate;
  log?: Logger;
}

/** Options of one {@link WebRtcIngest.publish} call. */
export interface PublishOptions {
  /** Trickle ICE (WebSocket signalling); without it the answer waits for gathering (WHIP). Default true. */
  trickle?: boolean;
  onCandidate?: (candidate: string) => void;
  /** Called once when the session ends. */
  onClose?: (reason: PeerCloseReason) => void;
  /** Shown in `/api/streams`. */
  peer?: { protocol?: string; remoteAddr?: string; userAgent?: string };
  /** STUN/TURN servers for this session instead of the configured ones. */
  iceServers?: IceServer[];
}

/**
 * One publishing session.
 *
 * @example
 * ```ts
 * const session = await ingest.publish(stream, offer);
 * respond(201, session.answer, { Location: `webrtc?id=${session.id}` });
 * ```
 */
export class WebRtcIngestSession {
  readonly id: string;
  readonly stream: Stream;
  readonly producer: WebRtcProducer;
  readonly peer: PeerSession;
  answer = "";

  constructor(id: string, stream: Stream, producer: WebRtcProducer, peer: PeerSession) {
    this.id = id;
    this.stream = stream;
    this.producer = producer;
    this.peer = peer;
  }

  /** Adds a candidate from the peer (trickle). */
  addCandidate(candidate: string, sdpMid?: string): Promise<void> {
    return this.peer.addRemoteCandidate(candidate, sdpMid);
  }

  /** Ends the session (idempotent): the publisher leaves the stream. */
  close(reason: PeerCloseReason = "closed"): void {
    this.peer.close(reason);
  }
}

/**
 * Answers offers to publish into streams and owns the sessions.
 *
 * @example
 * ```ts
 * const ingest = new WebRtcIngest({ ice: { bindAddress: "127.0.0.1" } });
 * const session = await ingest.publish(hub.get("cam")!, offerSdp, { trickle: false });
 * // later: DELETE
 * ingest.get(session.id)?.close("deleted");
 * ```
 */
export class WebRtcIngest {
  readonly sessions = new Map<string, WebRtcIngestSession>();
  readonly maxPeers: number;
  readonly #options: WebRtcIngestOptions;
  readonly #log: Logger;
  #pending = 0;
  #closed = false;

  constructor(options: WebRtcIngestOptions = {}) {
    this.#options = options;
    this.maxPeers = options.maxPeers ?? 100;
    this.#log = options.log ?? silentLogger;
  }

  /** Sessions open now, including those being answered. */
  get size(): number {
    return this.sessions.size + this.#pending;
  }

  /** Timers held by open sessions (0 when none are open): for leak checks. */
  get activeTimers(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.peer.activeTimers + s.producer.activeTimers;
    return n;
  }

  /**
   * Answers an offer to publish into `stream`. The publisher joins the stream when ICE connects.
   *
   * @throws {WebRtcOfferError} the offer is not usable.
   * @throws {WebRtcIngestCodecError} the peer sends nothing strom can receive.
   * @throws {WebRtcPeerLimitError} `maxPeers` sessions are open.
   */
  async publish(stream: Stream, offer: string, options: PublishOptions = {}): Promise<WebRtcIngestSession> {
    if (this.#closed) throw new Error("The WebRTC ingest is closed");
    await loadWerift(); // first session only: werift loads on demand (see werift.ts)
    const sdp = parsePeerOffer(offer);
    const { tracks, offered } = chooseIngestTracks(sdp);
    if (tracks.length === 0) throw new WebRtcIngestCodecError(`Publishing to stream "${stream.name}"`, offered);
    if (this.size >= this.maxPeers) throw new WebRtcPeerLimitError(this.maxPeers);
    this.#pending++;
    let pending = true;
    let peer: PeerSession | undefined;
    try {
      peer = new PeerSession({
        ice: options.iceServers ? { ...this.#options.ice, iceServers: options.iceServers } : this.#options.ice,
        codecs: peerCodecs(sdp, tracks),
        connectTimeoutMs: this.#options.connectTimeoutMs,
        silenceTimeoutMs: this.#options.silenceTimeoutMs,
        log: this.#log,
      });
      const pc = peer;
      const producer = new WebRtcProducer(tracks, {
        close: () => pc.close("stopped"),
        url: `webrtc:${stream.name}`,
        protocol: options.peer?.protocol ?? "whip",
        remoteAddr: options.peer?.remoteAddr,
        userAgent: options.peer?.userAgent,
        pliIntervalMs: this.#options.pliIntervalMs,
        log: this.#log,
      });
      const session = new WebRtcIngestSession(crypto.randomUUID(), stream, producer, peer);
      let published = false;
      peer.onCandidate = options.onCandidate;
      peer.onConnected = () => {
        const pair = pc.pc.iceTransports[0]?.getSelectedCandidatePair();
        const remote = pair ? parseCandidate(pair.remote.candidate) : undefined;
        this.#log.info("webrtc publisher connected", {
          session: session.id,
          stream: stream.name,
          remote: remote ? `${remote.address}:${remote.port}` : undefined,
        });
        published = true;
        stream.addPublisher(producer).then(
          () => producer.start().finally(() => stream.removePublisher(producer)),
          (error) => {
            this.#log.warn("webrtc publisher refused by the stream", { stream: stream.name, error: String(error) });
            pc.close("error");
          },
        );
      };
      peer.onClose = (reason) => {
        this.sessions.delete(session.id);
        producer.end(String(reason));
        if (!published) stream.removePublisher(producer);
        this.#log.info("webrtc publisher left", { session: session.id, stream: stream.name, reason });
        options.onClose?.(reason);
      };
      this.sessions.set(session.id, session);
      this.#pending--;
      pending = false;
      const keep = new Map<string, number[]>();
      sdp.medias.forEach((section, index) => {
        const mid = midOf(section) ?? String(index);
        const track = tracks.find((t) => t.mid === mid);
        const pt = track ? track.codec.payloadType : section.codecs[0]?.payloadType;
        if (pt !== undefined) keep.set(mid, [pt]);
      });
      session.answer = await peer.answer(restrictOffer(offer, keep), (t) => {
        t.setDirection(tracks.some((x) => x.mid === t.mid) ? "recvonly" : "inactive");
      });
      producer.attach(peer.transceivers());
      if (options.trickle === false) session.answer = await peer.completeAnswer();
      if (this.#options.sendBitrate) session.answer = withSendBitrate(session.answer, this.#options.sendBitrate);
      if (peer.state === "closed") throw new Error(`The WebRTC session ended while answering (${peer.closeReason})`);
      return session;
    } catch (error) {
      if (pending) this.#pending--;
      peer?.close("error");
      throw error;
    }
  }

  /** The session with this id. */
  get(id: string): WebRtcIngestSession | undefined {
    return this.sessions.get(id);
  }

  /** Closes every session; later offers are refused. */
  close(): Promise<void> {
    this.#closed = true;
    for (const s of [...this.sessions.values()]) s.close("server closing");
    return Promise.resolve();
  }
}

/** Codecs for the peer connection: the chosen one per receiving section, the first offered elsewhere. */
function peerCodecs(sdp: SessionDescription, tracks: readonly IngestTrack[]): { audio: Codec[]; video: Codec[] } {
  const out = { audio: [] as Codec[], video: [] as Codec[] };
  sdp.medias.forEach((section, index) => {
    const mid = midOf(section) ?? String(index);
    const codec = tracks.find((t) => t.mid === mid)?.codec ?? section.codecs[0];
    if (codec && !out[section.kind].some((c) => c.name === codec.name)) out[section.kind].push(codec);
  });
  return out;
}

/**
 * Parses a peer's offer and checks what a session needs (ICE credentials, DTLS fingerprint).
 *
 * @throws {WebRtcOfferError} naming what is wrong.
 * @example
 * ```ts
 * const sdp = parsePeerOffer(await request.text()); // throws 'Cannot use the WebRTC offer: ...'
 * ```
 */
export function parsePeerOffer(offer: string): SessionDescription {
  if (typeof offer !== "string" || !offer.trim()) throw new WebRtcOfferError("the SDP is empty");
  if (!/^v=0/.test(offer.trimStart())) {
    throw new WebRtcOfferError(`the SDP must start with "v=0", got "${offer.trimStart().slice(0, 30)}"`);
  }
  let sdp: SessionDescription;
  try {
    sdp = parseSdp(offer);
  } catch (error) {
    if (error instanceof SdpError) throw new WebRtcOfferError(error.message, { cause: error });
    throw error;
  }
  if (sdp.medias.length === 0) throw new WebRtcOfferError("it has no audio or video section (m=)");
  const all = [...sdp.attributes, ...sdp.medias.flatMap((m) => m.attributes)];
  if (!all.some((a) => a.startsWith("ice-ufrag:")) || !all.some((a) => a.startsWith("ice-pwd:"))) {
    throw new WebRtcOfferError("it has no ICE credentials (a=ice-ufrag / a=ice-pwd)");
  }
  if (!all.some((a) => a.startsWith("fingerprint:"))) {
    throw new WebRtcOfferError("it has no DTLS fingerprint (a=fingerprint)");
  }
  return sdp;
}
