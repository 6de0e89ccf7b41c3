/**
 * The WebRTC viewer: a strom {@link Consumer} built from a browser's (or any peer's) SDP offer.
 *
 * - `medias()` are the offer's receiving sections with the codecs strom can send (see codecs.ts);
 *   `Stream.addConsumer` matches them against the sources, then `addTrack` picks the peer's payload
 *   type for each source codec (H.264 by profile and packetization mode: passed through, never
 *   transcoded).
 * - {@link restrictedOffer} is the offer narrowed to those payload types, so the answer carries the
 *   peer's own fmtp for them; {@link prepare} sets each transceiver's direction.
 * - {@link start} (when ICE and DTLS are up) attaches one bounded {@link Sender} per track to the
 *   source's receiver: the GOP cache goes out first, so the picture starts at once.
 * - PLI/FIR from the peer: the cached GOP is sent again (keyframe first), its timestamps placed
 *   just after the last ones sent, so the decoder recovers without waiting for the camera.
 * - NACK: the last 128 packets per track are kept (by direct_rtp.ts, or werift's RTCRtpSender on
 *   its own path) and the lost ones resent.
 * - Two-way audio: an audio section the peer sends on (`sendrecv`, or `sendonly` on its side: a
 *   microphone) is also a `recvonly` media of ours; the stream attaches it to a source's backchannel
 *   (`track()`, see core/backchannel.ts), directly when the source takes the codec, else through the
 *   registered transcoder (ffmpeg for Opus to PCMA/PCMU). The answer lists the microphone's payload
 *   type first, so the peer sends with it. A source with `#backchannel=0` has no backchannel: the
 *   section is then answered without receiving.
 *
 * Per frame: packetize (MTU 1200; H.264/H.265 once per frame for all viewers, shared_packets.ts)
 * and send each packet. With strom's SRTP sender on the transport (every viewer by default) that is
 * strom's own RTP path (direct_rtp.ts): one buffer per packet, no werift object, closure or promise.
 * Otherwise werift's `sendRtp` (async; it catches its own I/O errors), with one werift header and
 * packet object per RTP packet, which werift keeps for NACK.
 *
 * @module
 */
import type { RTCRtpSender, RTCRtpTransceiver } from "werift";
import { werift } from "./werift.ts";
import { type Codec, codecToString } from "../../core/codec.ts";
import { type ConnectionInfo, type Consumer, nextConnectionId } from "../../core/connection.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type Media, mediaToString, parseSdp, SdpError, type SessionDescription } from "../../core/media.ts";
import { Receiver, Sender } from "../../core/fanout.ts";
import { ntpFromMs } from "../../rtp/rtcp.ts";
import { createPacketizer, type FramePacketizer } from "../rtsp/pay.ts";
import { DirectRtpSender } from "./direct_rtp.ts";
import { describeOffered, type OfferedMedia, offeredMedias, offeredMicrophones, pickPeerCodec } from "./codecs.ts";
import { WebRtcOfferError } from "./errors.ts";
import { hasInBandSps, parameterSetPrefix, withPrefix } from "./parameter_sets.ts";
import { type PlayoutDelay, playoutDelayExtension, playoutDelayIds, withPlayoutDelay } from "./playout_delay.ts";
import { restrictOffer } from "./sdp.ts";
import { PcmRateConverter, pcmPeerCodec, withPcmAtAnyRate } from "./pcm_rate.ts";
import { shareablePackets, sharedPackets } from "./shared_packets.ts";

/** Options of a {@link WebRtcConsumer}. */
export interface WebRtcConsumerOptions {
  /** The peer's SDP offer. */
  offer: string;
  /** Largest RTP packet, header included. Default 1200 (what go2rtc and browsers use). */
  mtu?: number;
  /** Frames each track's queue holds before it drops (video: until the next keyframe). Default: Sender's. */
  queueFrames?: number;
  /** Shown in `/api/streams`. */
  peer?: { protocol?: string; remoteAddr?: string; userAgent?: string };
  /**
   * How long the peer holds video before showing it, sent as the playout-delay header extension
   * when its offer has it (`webrtc.jitter_buffer`, see playout_delay.ts). Default: not sent.
   */
  playoutDelay?: PlayoutDelay;
  log?: Logger;
}

/**
 * Audio made for the peer from audio it cannot take (AAC to Opus, see lib/protocol/ffmpeg/opus_feed.ts),
 * shared by the stream's WebRTC viewers.
 */
export interface WebRtcAudioLease {
  readonly codec: Codec;
  readonly receiver: Receiver;
  /** How late the transcoded audio is against the source (in the codec's clock). */
  latencyTicks(): number;
  /** Gives the lease back. Idempotent. */
  release(): void;
}

/** One track sent to the peer. */
export class WebRtcTrack {
  readonly mid: string;
  readonly media: Media;
  /** The source's codec. */
  readonly codec: Codec;
  /** The peer's codec (its payload type and fmtp). */
  readonly peerCodec: Codec;
  readonly receiver: Receiver;
  sender: Sender | undefined;
  rtp: RTCRtpSender | undefined;
  /** strom's own RTP path to the peer for this track, when its transport allows it (direct_rtp.ts). */
  direct: DirectRtpSender | undefined;
  readonly packetizer: FramePacketizer;
  readonly paramSets: Uint8Array | undefined;
  /** H.264/H.265 without conversion: packets cut once per frame for all viewers (shared_packets.ts). */
  readonly shareKey: string | undefined;
  readonly #video: boolean;
  seq = (Math.random() * 0x10000) & 0xffff;
  packets = 0;
  bytes = 0;
  keyframeRequests = 0;
  /** G.711 or PCM at a rate the peer does not play, converted to its G.711 at 8 kHz (pcm_rate.ts). */
  readonly pcm: PcmRateConverter | undefined;
  /**
   * Transcoded audio: how late its frames reach us against the source's other tracks (codec
   * clock). The sender reports say so, and the peer plays them that much earlier (lip sync).
   */
  delayTicks: (() => number) | undefined;
  #lastRequest = -Infinity;
  #started = false;
  #offset = 0;
  #lastIn = 0;
  #lastOut = 0;

  constructor(
    mid: string,
    media: Media,
    codec: Codec,
    peerCodec: Codec,
    receiver: Receiver,
    mtu: number,
    pcm?: PcmRateConverter,
  ) {
    this.mid = mid;
    this.media = media;
    this.codec = codec;
    this.peerCodec = peerCodec;
    this.receiver = receiver;
    this.pcm = pcm;
    this.#video = media.kind === "video";
    this.packetizer = createPacketizer(pcm?.to ?? codec, media.kind, mtu);
    this.paramSets = this.#video ? parameterSetPrefix(codec) : undefined;
    this.shareKey = !pcm && shareablePackets(codec.name) ? `${codec.name.toUpperCase()}/${mtu}` : undefined;
  }

  /** Output RTP timestamp minus source timestamp now (mod 2^32): for diagnostics and sync checks. */
  get timestampOffset(): number {
    return this.#offset >>> 0;
  }

  /**
   * The output RTP timestamp of a frame: the source's timeline shifted to a random start. A frame
   * older than the last one (the GOP sent again for a PLI) goes 1 tick after the last output, so the
   * output never steps back; a jump of more than 30 s (a new source connection) continues one
   * frame after the last output.
   */
  mapTimestamp(ts: number): number {
    ts >>>= 0;
    if (!this.#started) {
      this.#started = true;
      const start = (Math.random() * 0x100000000) >>> 0;
      this.#offset = (start - ts) | 0;
      this.#lastIn = ts;
      this.#lastOut = start;
      return start;
    }
    const d = (ts - this.#lastIn) | 0;
    const rate = (this.pcm?.to ?? this.codec).clockRate || 90000;
    if (d <= 0 && d > -30 * rate) {
      this.#lastOut = (this.#lastOut + 1) >>> 0;
      return this.#lastOut;
    }
    if (d < 0 || d > 30 * rate) {
      const step = this.#video ? Math.round(rate / 25) : Math.round(rate / 50);
      this.#offset = (this.#lastOut + step - ts) | 0;
    }
    let out = (ts + this.#offset) >>> 0;
    const ahead = (out - this.#lastOut) | 0;
    if (ahead <= 0) {
      // After a replay the live timeline must still move forward.
      this.#offset = (this.#offset + 1 - ahead) | 0;
      out = (ts + this.#offset) >>> 0;
    }
    this.#lastIn = ts;
    this.#lastOut = out;
    return out;
  }

  /**
   * The peer lost the picture (PLI/FIR): at most every 500 ms, the cached GOP goes out again ahead
   * of the track's queue ({@link Sender.replay}), keyframe first. With no keyframe cached, the
   * source is asked for one ({@link Receiver.requestKeyframe}: an RTSP camera gets a PLI).
   * Returns whether a keyframe was queued.
   */
  requestKeyframe(): boolean {
    this.keyframeRequests++;
    const now = performance.now();
    if (now - this.#lastRequest < 500) return false;
    this.#lastRequest = now;
    const sender = this.sender;
    const receiver = sender?.receiver ?? this.receiver;
    const gop = receiver.gop;
    if (!sender || !gop || gop.size === 0) {
      receiver.requestKeyframe();
      return false;
    }
    // replay(), not push(): a GOP longer than the queue (a 10 s GOP is 250 frames) would overflow
    // it and drop to the next keyframe, seconds away; queued frames older than the GOP are dropped.
    sender.replay(gop.frames());
    return true;
  }
}

/**
 * A peer's microphone: the RTP it sends on one audio section, as frames on a {@link Receiver} the
 * stream attaches to a source's backchannel. One RTP packet is one audio frame (Opus, G.711).
 *
 * @example
 * ```ts
 * const viewer = new WebRtcConsumer({ offer }); // an offer with sendrecv audio
 * await stream.addConsumer(viewer);            // attaches the microphone to the camera's backchannel
 * viewer.microphones[0]?.codec.name;           // "PCMA" when the camera takes it and the peer offered it
 * ```
 */
export class WebRtcMicrophone {
  readonly mid: string;
  readonly media: Media;
  /** The codec the peer sends, with its payload type. */
  readonly codec: Codec;
  readonly receiver: Receiver;
  /** Packets taken (of the chosen payload type). */
  packets = 0;
  readonly #pt: number | undefined;

  constructor(mid: string, media: Media, codec: Codec) {
    this.mid = mid;
    this.media = media;
    this.codec = codec;
    this.#pt = codec.payloadType;
    this.receiver = new Receiver(media, codec);
  }

  /** One RTP packet from the peer; other payload types (comfort noise, DTMF) are left out. */
  push(payloadType: number, timestamp: number, payload: Uint8Array): void {
    if (this.#pt !== undefined && payloadType !== this.#pt) return;
    if (payload.length === 0) return;
    this.packets++;
    this.receiver.push({ timestamp, keyframe: true, data: payload });
  }

  /** Detaches whatever the stream attached (the backchannel's sender). */
  close(): void {
    for (const s of this.receiver.senders.slice()) s.close();
  }
}

/**
 * A WebRTC viewer of one stream.
 *
 * @example
 * ```ts
 * const viewer = new WebRtcConsumer({ offer });
 * await stream.addConsumer(viewer);
 * const peer = new PeerSession({ codecs: viewer.peerCodecs() });
 * const answer = await peer.answer(viewer.restrictedOffer(), (t) => viewer.prepare(t));
 * peer.onConnected = () => viewer.start(peer.transceivers());
 * ```
 */
export class WebRtcConsumer implements Consumer {
  readonly id = nextConnectionId();
  readonly offer: string;
  readonly sdp: SessionDescription;
  readonly sections: OfferedMedia[];
  readonly tracks: WebRtcTrack[] = [];
  /** Audio sections the peer sends on (its microphone), as recvonly medias of ours. */
  readonly micSections: OfferedMedia[];
  /** Microphones the stream attached to a source's backchannel. */
  readonly microphones: WebRtcMicrophone[] = [];
  readonly #options: WebRtcConsumerOptions;
  readonly #log: Logger;
  readonly #mtu: number;
  readonly #startedAt = new Date().toISOString();
  /** The offer's playout-delay extension id by mid, when a delay is to be sent. */
  readonly #playoutIds: Map<string, number>;
  #wanted: Media[] | undefined;
  #stopped = false;
  #sending = false;
  #unsubscribe: (() => void)[] = [];
  readonly #leases: WebRtcAudioLease[] = [];
  /** Where the selected ICE pair leads, once connected. */
  remoteAddr: string | undefined;
  /**
   * Called when the source reconnected without the backchannel the peer's microphone talked to
   * (see {@link backchannelLost}); the signalling tells the peer.
   */
  onBackchannelLost: ((error: Error) => void) | undefined;

  /** @throws {WebRtcOfferError} when the offer is not usable SDP. */
  constructor(options: WebRtcConsumerOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#mtu = options.mtu ?? 1200;
    this.offer = options.offer;
    this.sdp = parseOffer(options.offer);
    this.sections = offeredMedias(this.sdp);
    this.micSections = offeredMicrophones(this.sdp);
    this.#playoutIds = options.playoutDelay ? playoutDelayIds(this.sdp) : new Map();
    if (this.sections.length === 0 && this.micSections.length === 0) {
      throw new WebRtcOfferError(
        "it has no audio or video section the peer wants to receive (add a recvonly transceiver) " +
          "and no microphone (a sendrecv or sendonly audio section with Opus, PCMA or PCMU)",
      );
    }
  }

  medias(): Media[] {
    // Audio sections that take G.711 also take it (and PCM) at other rates, converted per frame.
    this.#wanted ??= this.sections.map((s) => withPcmAtAnyRate(s.media));
    return [...this.#wanted, ...this.micSections.map((s) => s.media)];
  }

  /**
   * Two-way audio: the receiver the peer's microphone audio arrives on, in `codec` (one of the
   * codecs it offered, picked by the stream for the source's backchannel).
   */
  track(media: Media, codec: Codec): Receiver {
    const section = this.micSections.find((s) => s.media === media || s.mid === media.id);
    if (!section) throw new Error(`The WebRTC peer has no microphone section for ${mediaToString(media)}`);
    const existing = this.microphones.find((m) => m.mid === section.mid);
    if (existing && existing.codec.name === codec.name && existing.codec.clockRate === codec.clockRate) {
      return existing.receiver;
    }
    if (existing) {
      existing.close();
      this.microphones.splice(this.microphones.indexOf(existing), 1);
    }
    const mic = new WebRtcMicrophone(section.mid, section.media, codec);
    this.microphones.push(mic);
    this.#log.debug("webrtc microphone", { mid: section.mid, codec: codecToString(codec) });
    return mic.receiver;
  }

  /** What the peer offered, for error messages (`video:H264/90000`, ...). */
  describeOffer(): string[] {
    return describeOffered(this.sections);
  }

  addTrack(media: Media, codec: Codec, receiver: Receiver): void {
    if (this.#stopped) return;
    const section = this.sections.find((s) => s.media === media || s.mid === media.id);
    if (!section || this.tracks.some((t) => t.mid === section.mid)) return;
    let peerCodec = pickPeerCodec(codec, section.media.codecs);
    let pcm: PcmRateConverter | undefined;
    if (!peerCodec) {
      peerCodec = pcmPeerCodec(codec, section.media.codecs);
      if (peerCodec) pcm = new PcmRateConverter(codec, peerCodec);
    }
    if (!peerCodec) return;
    const track = new WebRtcTrack(section.mid, section.media, codec, peerCodec, receiver, this.#mtu, pcm);
    this.tracks.push(track);
    this.#log.debug("webrtc track", { mid: section.mid, source: codecToString(codec), peer: peerCodec.fmtp ?? "" });
  }

  /**
   * The audio sections the stream gave no track: the peer takes none of the sources' audio codecs.
   */
  unansweredAudio(): OfferedMedia[] {
    return this.sections.filter((s) => s.media.kind === "audio" && !this.tracks.some((t) => t.mid === s.mid));
  }

  /**
   * Sends transcoded audio on an audio section (one the stream had nothing for); the lease is
   * released when the viewer stops. Returns whether the peer takes the lease's codec.
   */
  addLeasedTrack(section: OfferedMedia, lease: WebRtcAudioLease): boolean {
    if (this.#stopped || this.tracks.some((t) => t.mid === section.mid)) {
      lease.release();
      return false;
    }
    this.addTrack(section.media, lease.codec, lease.receiver);
    const track = this.tracks.find((t) => t.mid === section.mid);
    if (!track) {
      lease.release();
      return false;
    }
    track.delayTicks = () => lease.latencyTicks();
    this.#leases.push(lease);
    return true;
  }

  /**
   * Codecs for the peer connection, per kind: the chosen ones, plus the first offered codec of each
   * section nothing was chosen for (that section is answered inactive).
   */
  peerCodecs(): { audio: Codec[]; video: Codec[] } {
    const out = { audio: [] as Codec[], video: [] as Codec[] };
    const add = (kind: "audio" | "video", c: Codec) => {
      if (!out[kind].some((x) => x.name === c.name)) out[kind].push(c);
    };
    for (const s of this.sdp.medias) {
      const mid = s.attributes.find((a) => a.startsWith("mid:"))?.slice(4).trim();
      const track = this.tracks.find((t) => t.mid === mid);
      const mic = this.microphones.find((m) => m.mid === mid);
      if (mic) add(s.kind, mic.codec);
      if (track) add(s.kind, track.peerCodec);
      if (!track && !mic && s.codecs[0]) add(s.kind, s.codecs[0]);
    }
    return out;
  }

  /** The offer narrowed: each answered section keeps only its chosen payload type; others keep their first. */
  restrictedOffer(): string {
    const keep = new Map<string, number[]>();
    for (const s of this.sdp.medias) {
      const mid = s.attributes.find((a) => a.startsWith("mid:"))?.slice(4).trim();
      if (mid === undefined) continue;
      const track = this.tracks.find((t) => t.mid === mid);
      const mic = this.microphones.find((m) => m.mid === mid);
      // The microphone's payload type first: the peer sends with the answer's first one.
      const pts: number[] = [];
      if (mic?.codec.payloadType !== undefined) pts.push(mic.codec.payloadType);
      if (track?.peerCodec.payloadType !== undefined && !pts.includes(track.peerCodec.payloadType)) {
        pts.push(track.peerCodec.payloadType);
      }
      if (!pts.length && s.codecs[0]?.payloadType !== undefined) pts.push(s.codecs[0].payloadType);
      if (pts.length) keep.set(mid, pts);
    }
    return restrictOffer(this.offer, keep);
  }

  /**
   * `answer` (werift's, which negotiates no header extensions) with the playout-delay extension
   * added to the video sections strom sends on and whose offer has it; as it is without
   * `playoutDelay`.
   */
  withAnswerExtensions(answer: string): string {
    if (this.#playoutIds.size === 0) return answer;
    const ids = new Map([...this.#playoutIds].filter(([mid]) => this.tracks.some((t) => t.mid === mid)));
    return withPlayoutDelay(answer, ids);
  }

  /**
   * Sets a transceiver's direction before the answer: `sendonly` for our tracks, `recvonly` for a
   * microphone attached to a backchannel, `sendrecv` for both, `inactive` otherwise.
   */
  prepare(transceiver: RTCRtpTransceiver): void {
    const send = this.tracks.some((t) => t.mid === transceiver.mid);
    const recv = this.microphones.some((m) => m.mid === transceiver.mid);
    transceiver.setDirection(send && recv ? "sendrecv" : send ? "sendonly" : recv ? "recvonly" : "inactive");
  }

  /**
   * Starts sending (ICE and DTLS are up): one Sender per track on its source receiver, the GOP
   * cache first; PLI/FIR answered from the cache.
   */
  start(transceivers: readonly RTCRtpTransceiver[]): void {
    if (this.#stopped || this.#sending) return;
    this.#sending = true;
    for (const track of this.tracks) {
      const t = transceivers.find((x) => x.mid === track.mid);
      if (!t) continue;
      track.rtp = t.sender;
      track.direct = DirectRtpSender.for(t.sender);
      const playoutId = this.#playoutIds.get(track.mid);
      if (playoutId !== undefined && this.#options.playoutDelay) {
        if (track.direct) track.direct.headerExtension = playoutDelayExtension(playoutId, this.#options.playoutDelay);
        else this.#log.debug("webrtc playout delay not sent: werift sends this track", { mid: track.mid });
      }
      // werift stamps every packet with its sender's codec, the answer's first one; in a section
      // that also carries the microphone, that is the microphone's: ours goes out as ours.
      const own = t.codecs.find((c) => c.payloadType === track.peerCodec.payloadType);
      if (own && t.sender.codec?.payloadType !== own.payloadType) t.sender.codec = own;
      const sender = new Sender(track.media, track.codec, (frame) => this.#send(track, frame), {
        capacity: this.#options.queueFrames,
        onError: (error) => this.#log.debug("webrtc track failed", { mid: track.mid, error: String(error) }),
      });
      track.sender = sender;
      if (track.media.kind === "video") {
        // PLI/FIR come through the transport: werift's router hands a PLI to the receiver that has
        // the feedback's sender SSRC when there is one (the peer's recvonly SSRC), not to our sender.
        const ssrc = t.sender.ssrc;
        const sub = t.sender.dtlsTransport.onRtcp.subscribe((packet) => {
          const p = packet as unknown as PsfbLike;
          if (p.type !== 206 || !p.feedback) return;
          const fb = p.feedback;
          // PLI (FMT 1, RFC 4585 section 6.3.1) names the media SSRC; FIR (FMT 4, RFC 5104
          // section 4.3.1) lists it in its entries.
          if ((fb.count === 1 && fb.mediaSsrc === ssrc) || (fb.count === 4 && fb.fir?.some((e) => e.ssrc === ssrc))) {
            track.requestKeyframe();
          }
        });
        this.#unsubscribe.push(sub.unSubscribe);
      }
      track.receiver.addSender(sender);
      // Nothing cached to start from (the source just started, or sends keyframes rarely): ask it.
      if (track.receiver.gop && track.receiver.gop.size === 0) track.receiver.requestKeyframe();
    }
    for (const mic of this.microphones) {
      const t = transceivers.find((x) => x.mid === mic.mid);
      if (!t) continue;
      // One subscription per microphone; werift hands each decrypted packet to it.
      const sub = t.receiver.track.onReceiveRtp.subscribe((rtp) => {
        mic.push(rtp.header.payloadType, rtp.header.timestamp, rtp.payload);
      });
      this.#unsubscribe.push(sub.unSubscribe);
    }
  }

  #send(track: WebRtcTrack, frame: Frame): void {
    const rtp = track.rtp;
    if (!rtp || this.#stopped) return;
    if (track.pcm) {
      const converted = track.pcm.convert(frame);
      if (!converted) return;
      frame = converted;
    }
    let input = frame;
    let prefix: Uint8Array | undefined;
    if (frame.keyframe && track.paramSets && !hasInBandSps(track.codec.name, frame.data)) {
      prefix = track.paramSets;
      input = { timestamp: frame.timestamp, keyframe: true, data: withPrefix(prefix, frame.data) };
    }
    // Shared packets may have been cut from an earlier frame with the same data (a looping source)
    // and carry its timestamp: every packet of a NAL packetizer has its frame's, so ours is used.
    const shared = track.shareKey !== undefined;
    const packets = shared
      ? sharedPackets(frame, input, track.shareKey!, prefix, track.packetizer)
      : track.packetizer.packetize(input);
    const ts = track.mapTimestamp(frame.timestamp);
    const base = frame.timestamp >>> 0;
    const pt = track.peerCodec.payloadType ?? 96;
    const video = track.media.kind === "video";
    const direct = track.direct;
    const { RtpHeader, RtpPacket: WeriftRtpPacket } = werift();
    for (let i = 0; i < packets.length; i++) {
      const pkt = packets[i];
      const timestamp = shared ? ts : (ts + ((pkt.timestamp - base) | 0)) >>> 0;
      const marker = video && pkt.marker;
      if (direct !== undefined) direct.send(pkt.payload, pt, track.seq, timestamp, marker);
      else {
        const header = new RtpHeader({ payloadType: pt, sequenceNumber: track.seq, timestamp, marker, ssrc: rtp.ssrc });
        // werift types payloads as Buffer; it only reads them (cipher input, length).
        rtp.sendRtp(new WeriftRtpPacket(header, pkt.payload as never));
      }
      track.seq = (track.seq + 1) & 0xffff;
      track.packets++;
      track.bytes += pkt.payload.length;
    }
    // werift's sender reports (what browsers line audio and video up by) pair the last RTP
    // timestamp with the time it went out, but write that time's fraction of a second wrong (its
    // decimal digits taken as a binary fraction: up to 1 s off, differently per track), so the
    // time is written here again, once per frame. Audio that spent `delay` in a transcoder is
    // reported with the timestamp it would have had when its source frame arrived.
    const report = rtp as unknown as { ntpTimestamp: bigint; rtpTimestamp: number };
    const ntp = ntpFromMs(performance.timeOrigin + performance.now());
    report.ntpTimestamp = (BigInt(ntp.seconds) << 32n) | BigInt(ntp.fraction);
    const delay = track.delayTicks?.();
    if (delay) report.rtpTimestamp = (report.rtpTimestamp + delay) >>> 0;
  }

  /** Detaches every sender. Idempotent; the peer connection is closed by its session. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const un of this.#unsubscribe.splice(0)) un();
    for (const t of this.tracks) {
      t.sender?.close();
      t.direct?.close();
    }
    for (const m of this.microphones) m.close();
    for (const l of this.#leases.splice(0)) l.release();
  }

  /**
   * Two-way audio: the source came back without a backchannel for the microphone (the stream has
   * detached it already); the peer is told through {@link onBackchannelLost}, video and audio play on.
   */
  backchannelLost(error: Error): void {
    this.#log.warn("webrtc microphone detached", { error: error.message });
    this.onBackchannelLost?.(error);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  info(): ConnectionInfo {
    const peer = this.#options.peer ?? {};
    return {
      id: this.id,
      format: "webrtc",
      protocol: peer.protocol ?? "webrtc",
      remoteAddr: this.remoteAddr ?? peer.remoteAddr,
      userAgent: peer.userAgent,
      medias: [
        ...this.tracks.map((t) => mediaToString({ ...t.media, codecs: [t.peerCodec] })),
        ...this.microphones.map((m) => mediaToString({ ...m.media, codecs: [m.codec] })),
      ],
      bytesOut: this.tracks.reduce((n, t) => n + t.bytes, 0),
      bytesIn: this.microphones.reduce((n, m) => n + m.receiver.bytes, 0),
      drops: this.tracks.reduce((n, t) => n + (t.sender?.drops ?? 0), 0),
      startedAt: this.#startedAt,
    };
  }
}

/** The fields of werift's payload-specific feedback read here. */
interface PsfbLike {
  type?: number;
  feedback?: { count?: number; mediaSsrc?: number; fir?: { ssrc: number }[] };
}

function parseOffer(offer: string): SessionDescription {
  if (typeof offer !== "string" || !offer.trim()) throw new WebRtcOfferError("the SDP is empty");
  if (!/^v=0/m.test(offer.trimStart())) {
    throw new WebRtcOfferError(`the SDP must start with "v=0", got "${offer.trimStart().slice(0, 30)}"`);
  }
  let sdp: SessionDescription;
  try {
    sdp = parseSdp(offer);
  } catch (error) {
    if (error instanceof SdpError) throw new WebRtcOfferError(error.message, { cause: error });
    throw error;
  }
  const all = [...sdp.attributes, ...sdp.medias.flatMap((m) => m.attributes)];
  if (!all.some((a) => a.startsWith("ice-ufrag:")) || !all.some((a) => a.startsWith("ice-pwd:"))) {
    throw new WebRtcOfferError("it has no ICE credentials (a=ice-ufrag / a=ice-pwd)");
  }
  if (!all.some((a) => a.startsWith("fingerprint:"))) {
    throw new WebRtcOfferError("it has no DTLS fingerprint (a=fingerprint)");
  }
  return sdp;
}
