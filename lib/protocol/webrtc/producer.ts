/**
 * WebRTC ingest as a strom {@link Producer}: the media a WebRTC peer sends us (a WHIP publisher, a
 * browser's camera over `/api/ws?dst=`, or a remote server we pull with a `webrtc:` source) becomes
 * frames on receivers, like an RTSP or RTMP publisher's.
 *
 * - {@link chooseIngestTracks} picks, per section the peer sends in, the codec strom takes: H.264
 *   (packetization-mode 1 first), else H.265; Opus, else PCMA, else PCMU.
 * - {@link WebRtcProducer.attach} subscribes to werift's tracks: each RTP packet of the chosen
 *   payload type goes through a {@link ReorderBuffer} into the RTSP client's depacketizer for the
 *   codec (lib/protocol/rtsp/depay.ts), and each frame onto the track's {@link Receiver}.
 * - Keyframes: a PLI goes to the peer every `pliIntervalMs` until the first keyframe arrives, and
 *   again (at most once per interval) when a viewer needs one: a viewer joined while no GOP is
 *   cached, or a viewer's queue dropped frames and now waits for a keyframe.
 *
 * Per packet: one small packet object (werift's header fields and payload, no copy); no closure,
 * promise or array copy.
 *
 * @module
 */
import type { RTCRtpTransceiver, RtpPacket as WeriftRtpPacket } from "werift";
import { type Codec, codecToString, fmtpParam } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import { Receiver } from "../../core/fanout.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { invertDirection, type Media, mediaToString, type SessionDescription } from "../../core/media.ts";
import { ReorderBuffer } from "../../rtp/reorder.ts";
import { createDepacketizer, type FrameDepacketizer } from "../rtsp/depay.ts";
import { midOf } from "./codecs.ts";

/** Codec names strom receives over WebRTC, per kind, in order of preference. */
export const WEBRTC_RECV_CODECS: { readonly video: readonly string[]; readonly audio: readonly string[] } = {
  video: ["H264", "H265"],
  audio: ["OPUS", "PCMA", "PCMU"],
};

/** One section the peer sends in, with the codec strom takes from it. */
export interface IngestTrack {
  /** The section's `a=mid` (its index when it has none). */
  mid: string;
  /** Our media: `recvonly`, the chosen codec only, `id` = mid. */
  media: Media;
  /** The chosen codec, with the peer's payload type and fmtp. */
  codec: Codec;
}

/**
 * The peer offered (or answered) nothing strom can receive.
 *
 * @example
 * ```ts
 * if (e instanceof WebRtcIngestCodecError) console.log(e.peerCodecs); // ["video:VP8/90000"]
 * ```
 */
export class WebRtcIngestCodecError extends Error {
  override name = "WebRtcIngestCodecError";
  /** What the peer sends, e.g. `["video:VP8/90000", "audio:OPUS/48000/2"]`. */
  readonly peerCodecs: string[];
  constructor(what: string, peerCodecs: string[]) {
    super(
      `${what}: no codec strom can receive over WebRTC. The peer sends ` +
        `${peerCodecs.join(", ") || "(no audio or video section it sends in)"}; strom takes ` +
        `${[...WEBRTC_RECV_CODECS.video, ...WEBRTC_RECV_CODECS.audio].join(", ")}. ` +
        `Publish H.264 (e.g. prefer it with RTCRtpTransceiver.setCodecPreferences) and Opus.`,
    );
    this.peerCodecs = peerCodecs;
  }
}

/**
 * The sections of a remote description (an offer we answer, or the answer to our offer) in which
 * the peer sends media, each with the codec strom takes, and what the peer sends (for errors).
 * Sections it only receives in, rejected ones, and ones without a usable codec are left out.
 *
 * @example
 * ```ts
 * const { tracks, offered } = chooseIngestTracks(parseSdp(offer));
 * if (!tracks.length) throw new WebRtcIngestCodecError("WHIP", offered);
 * ```
 */
export function chooseIngestTracks(sdp: SessionDescription): { tracks: IngestTrack[]; offered: string[] } {
  const tracks: IngestTrack[] = [];
  const offered: string[] = [];
  sdp.medias.forEach((section, index) => {
    if (section.port === 0 && !section.attributes.some((a) => a.startsWith("bundle-only"))) return;
    const ours = invertDirection(section.direction);
    if (ours !== "recvonly" && ours !== "sendrecv") return;
    for (const c of section.codecs) {
      if (/^(RTX|RED|ULPFEC|FLEXFEC-03|CN|TELEPHONE-EVENT)$/.test(c.name)) continue;
      const text = `${section.kind}:${codecToString(c)}`;
      if (!offered.includes(text)) offered.push(text);
    }
    const codec = pickIngestCodec(section.kind, section.codecs);
    if (!codec) return;
    const mid = midOf(section) ?? String(index);
    tracks.push({ mid, codec, media: { kind: section.kind, direction: "recvonly", codecs: [codec], id: mid } });
  });
  return { tracks, offered };
}

/**
 * The codec strom takes from a section's list, or undefined.
 *
 * @example
 * ```ts
 * pickIngestCodec("audio", [{ name: "PCMU", clockRate: 8000 }, { name: "OPUS", clockRate: 48000, channels: 2 }]); // OPUS
 * ```
 */
export function pickIngestCodec(kind: "video" | "audio", codecs: readonly Codec[]): Codec | undefined {
  for (const name of WEBRTC_RECV_CODECS[kind]) {
    const same = codecs.filter((c) => c.name === name);
    if (!same.length) continue;
    if (name === "H264") return same.find((c) => fmtpParam(c.fmtp, "packetization-mode") === "1") ?? same[0];
    return same[0];
  }
  return undefined;
}

/** Options of a {@link WebRtcProducer}. */
export interface WebRtcProducerOptions {
  /** Closes the peer connection (called by `stop()`). */
  close: () => void;
  /** The source URL (a `webrtc:` source) or `whip:<stream>`, shown in `/api/streams`. */
  url?: string;
  /** `whip`, `ws`, `whep`...: shown in `/api/streams`. */
  protocol?: string;
  remoteAddr?: string;
  userAgent?: string;
  /** PLI period until the first keyframe, and the least time between two PLIs. Default 1000 ms. */
  pliIntervalMs?: number;
  log?: Logger;
}

/** A received track: reorder, depacketize, push. */
class IngestTrackState {
  readonly spec: IngestTrack;
  readonly receiver: Receiver;
  readonly depay: FrameDepacketizer;
  readonly reorder: ReorderBuffer;
  readonly payloadType: number;
  readonly video: boolean;
  transceiver: RTCRtpTransceiver | undefined;
  ssrc = 0;
  packets = 0;
  keyframes = 0;
  lastPli = -Infinity;
  plis = 0;
  // What viewers looked like at the last check: a new one, or new drops, may need a keyframe.
  seenSenders = 0;
  seenDrops = 0;

  constructor(spec: IngestTrack) {
    this.spec = spec;
    this.receiver = new Receiver(spec.media, spec.codec);
    this.video = spec.media.kind === "video";
    this.payloadType = spec.codec.payloadType ?? -1;
    const receiver = this.receiver;
    const onFrame = (frame: Frame): void => {
      if (frame.keyframe) this.keyframes++;
      receiver.push(frame);
    };
    this.depay = createDepacketizer(spec.codec, spec.media.kind, onFrame);
    const depay = this.depay;
    this.reorder = new ReorderBuffer({ onPacket: (pkt) => depay.push(pkt) });
  }
}

/**
 * What a WebRTC peer sends, as a producer of a stream.
 *
 * @example
 * ```ts
 * const { tracks } = chooseIngestTracks(parseSdp(offer));
 * const producer = new WebRtcProducer(tracks, { close: () => peer.close() });
 * const answer = await peer.answer(offer);
 * producer.attach(peer.transceivers());
 * await stream.addPublisher(producer);
 * producer.start().finally(() => stream.removePublisher(producer));
 * ```
 */
export class WebRtcProducer implements Producer {
  readonly id = nextConnectionId();
  readonly #tracks: IngestTrackState[];
  readonly #medias: Media[];
  readonly #options: WebRtcProducerOptions;
  readonly #log: Logger;
  readonly #pliIntervalMs: number;
  readonly #startedAt = new Date().toISOString();
  readonly #unsubscribe: (() => void)[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #ended = false;
  #endReason: string | undefined;
  #endWaiters: (() => void)[] = [];
  bytesIn = 0;

  constructor(tracks: readonly IngestTrack[], options: WebRtcProducerOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#pliIntervalMs = options.pliIntervalMs ?? 1000;
    this.#tracks = tracks.map((t) => new IngestTrackState(t));
    this.#medias = this.#tracks.map((t) => t.spec.media);
    // An audio track plays in sync with the video of the same publisher.
    const video = this.#tracks.find((t) => t.video)?.receiver;
    for (const t of this.#tracks) if (!t.video) t.receiver.syncWith(video);
  }

  medias(): Media[] {
    return this.#medias;
  }

  track(media: Media, codec: Codec): Receiver {
    const t = this.#tracks.find((x) => x.spec.media === media) ??
      this.#tracks.find((x) => x.spec.media.kind === media.kind && x.spec.codec.name === codec.name);
    if (!t) {
      throw new RangeError(
        `The WebRTC peer sends no ${media.kind} track with ${codec.name}; it sends ${
          this.#medias.map(mediaToString).join("; ") || "nothing"
        }`,
      );
    }
    return t.receiver;
  }

  /**
   * Starts receiving on the peer connection's transceivers (matched by mid): call once the remote
   * description is applied. Starts the keyframe-request timer.
   */
  attach(transceivers: readonly RTCRtpTransceiver[]): void {
    if (this.#ended) return;
    for (const t of this.#tracks) {
      const transceiver = transceivers.find((x) => x.mid === t.spec.mid);
      if (!transceiver) continue;
      t.transceiver = transceiver;
      const onRtp = (rtp: WeriftRtpPacket): void => this.#onRtp(t, rtp);
      const subscribed = new Set<unknown>();
      const listen = (track: { onReceiveRtp: { subscribe(fn: typeof onRtp): { unSubscribe(): void } } }) => {
        if (subscribed.has(track)) return;
        subscribed.add(track);
        // The SDP's a=ssrc: PLIs can go out before the first packet arrives.
        if (!t.ssrc && (track as { ssrc?: number }).ssrc) t.ssrc = (track as { ssrc?: number }).ssrc!;
        this.#unsubscribe.push(track.onReceiveRtp.subscribe(onRtp).unSubscribe);
      };
      for (const track of transceiver.receiver.tracks) listen(track);
      this.#unsubscribe.push(transceiver.onTrack.subscribe((track) => listen(track)).unSubscribe);
    }
    if (this.#tracks.some((t) => t.video && t.transceiver)) {
      this.#timer ??= setInterval(this.#tick, Math.max(100, Math.min(500, this.#pliIntervalMs / 2)));
    }
  }

  #onRtp(t: IngestTrackState, rtp: WeriftRtpPacket): void {
    if (this.#ended) return;
    const h = rtp.header;
    // Only the chosen payload type (werift unwraps RTX itself; RED and others are not ours).
    if (h.payloadType !== t.payloadType && t.payloadType >= 0) return;
    t.ssrc = h.ssrc;
    t.packets++;
    this.bytesIn += rtp.payload.length;
    t.reorder.push({
      payloadType: h.payloadType,
      sequenceNumber: h.sequenceNumber,
      timestamp: h.timestamp,
      ssrc: h.ssrc,
      marker: h.marker,
      // werift's payload is a Buffer, a Uint8Array; it is only read.
      payload: rtp.payload as Uint8Array,
    });
  }

  /** Asks the peer for a keyframe on every video track now (PLI), at most once per interval. */
  requestKeyframe(): void {
    for (const t of this.#tracks) if (t.video) this.#sendPli(t, performance.now());
  }

  /** Keyframe requests sent so far (for tests and `/api/streams`). */
  get keyframeRequests(): number {
    return this.#tracks.reduce((n, t) => n + t.plis, 0);
  }

  /** Keyframes received so far. */
  get keyframes(): number {
    return this.#tracks.reduce((n, t) => n + t.keyframes, 0);
  }

  readonly #tick = (): void => {
    if (this.#ended) return;
    const now = performance.now();
    for (const t of this.#tracks) {
      t.reorder.flush();
      if (!t.video || !t.transceiver) continue;
      const senders = t.receiver.senders;
      let drops = 0;
      for (let i = 0; i < senders.length; i++) drops += senders[i].drops;
      const joined = senders.length > t.seenSenders && !(t.receiver.gop && t.receiver.gop.size > 0);
      const dropped = drops > t.seenDrops;
      t.seenSenders = senders.length;
      t.seenDrops = drops;
      if (t.keyframes === 0 || joined || dropped) this.#sendPli(t, now);
    }
  };

  #sendPli(t: IngestTrackState, now: number): void {
    if (!t.transceiver || !t.ssrc || now - t.lastPli < this.#pliIntervalMs) return;
    t.lastPli = now;
    t.plis++;
    t.transceiver.receiver.sendRtcpPLI(t.ssrc).catch((error) => {
      this.#log.debug("webrtc PLI failed", { mid: t.spec.mid, error: String(error) });
    });
  }

  /** Resolves when the peer connection ends. */
  start(): Promise<void> {
    if (this.#ended) return Promise.resolve();
    return new Promise((resolve) => this.#endWaiters.push(resolve));
  }

  /** Called by the session when the peer connection ended (idempotent). */
  end(reason = "closed"): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endReason = reason;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const un of this.#unsubscribe.splice(0)) un();
    for (const t of this.#tracks) t.reorder.flush();
    for (const w of this.#endWaiters.splice(0)) w();
  }

  /** Whether the peer connection ended, and why. */
  get ended(): string | undefined {
    return this.#ended ? this.#endReason : undefined;
  }

  /** Timers running now (0 once ended): for leak checks. */
  get activeTimers(): number {
    return this.#timer ? 1 : 0;
  }

  /** Closes the peer connection. */
  stop(): Promise<void> {
    if (!this.#ended) {
      try {
        this.#options.close();
      } finally {
        this.end("stopped");
      }
    }
    return Promise.resolve();
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      format: "webrtc",
      protocol: this.#options.protocol ?? "webrtc",
      remoteAddr: this.#options.remoteAddr,
      url: this.#options.url,
      userAgent: this.#options.userAgent,
      medias: this.#medias.map(mediaToString),
      bytesIn: this.bytesIn,
      startedAt: this.#startedAt,
    };
  }
}
