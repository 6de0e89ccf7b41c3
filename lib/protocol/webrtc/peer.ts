/**
 * One werift peer connection with strom's life rules: ICE per {@link IcePolicy}, the local
 * candidates announced per that policy (in the answer and trickled), and teardown exactly once, within
 * seconds, for every way a peer goes away:
 *
 * - ICE never connects: closed `connectTimeoutMs` after the answer (default 15 s);
 * - the connection fails, or is closed by the other side (DTLS close): closed at once;
 * - the peer vanishes (tab killed, network gone): nothing arrives from it (RTCP receiver reports,
 *   STUN consent checks) for `silenceTimeoutMs` (default 10 s); werift's own consent expiry is 30 s;
 * - `disconnected`: closed unless it recovers within `disconnectTimeoutMs` (default 5 s).
 *
 * The codec-independent half of WebRTC: the playback consumer uses it, and WHIP ingest can.
 *
 * @module
 */
import type { RTCPeerConnection, RTCRtpCodecParameters, RTCRtpTransceiver } from "werift";
import type { Codec, MediaKind } from "../../core/codec.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { WebRtcOfferError } from "./errors.ts";
import { werift } from "./werift.ts";
import { acceptRemoteCandidate, announceCandidates, type IcePolicy, weriftIceConfig } from "./ice_policy.ts";
import { keepInactiveBundled, parseCandidate, replaceCandidates, sdpCandidates } from "./sdp.ts";
import { weriftDirect } from "./werift_direct.ts";
import { defaultSrtpMode, useFastSrtp } from "./fast_srtp.ts";
import { type EarlyDtlsHold, holdEarlyDtls } from "./early_dtls.ts";
import { setIceCredentials } from "./ice_credentials.ts";

/** Options of a {@link PeerSession}. */
export interface PeerSessionOptions {
  ice?: IcePolicy;
  /** Codecs the stack may negotiate, per kind (matched by name; the peer's payload types are used). */
  codecs: { audio?: Codec[]; video?: Codec[] };
  /** Close when ICE has not connected this long after the answer. Default 15000. */
  connectTimeoutMs?: number;
  /** Close when nothing arrived from the connected peer for this long. Default 10000. */
  silenceTimeoutMs?: number;
  /** Close when `disconnected` lasts this long. Default 5000. */
  disconnectTimeoutMs?: number;
  /**
   * SRTP for what this session sends: `"fast"` negotiates AES_CM_128_HMAC_SHA1_80 and protects
   * outgoing RTP with strom's sender (fast_srtp.ts); `"werift"` leaves werift's profiles and sender.
   * Default: {@link defaultSrtpMode} (fast on every runtime). Sessions that only receive keep
   * werift's.
   */
  srtp?: "fast" | "werift";
  log?: Logger;
}

/** Why a session ended. */
export type PeerCloseReason = "closed" | "ice-timeout" | "failed" | "silent" | "disconnected" | "remote-closed" | string;

/** Connection states a session reports. */
export type PeerState = "new" | "connecting" | "connected" | "closed";

const RTCP_FEEDBACK = [
  { type: "nack" },
  { type: "nack", parameter: "pli" },
  { type: "ccm", parameter: "fir" },
];

/**
 * A peer connection that answers an offer.
 *
 * @example
 * ```ts
 * const peer = new PeerSession({ codecs: { video: [{ name: "H264", clockRate: 90000 }] } });
 * peer.onCandidate = (c) => ws.send({ type: "webrtc/candidate", value: c });
 * const answer = await peer.answer(offerSdp, (t) => t.setDirection("sendonly"));
 * peer.onConnected = () => startSending(peer.transceivers());
 * peer.onClose = (reason) => console.log("gone:", reason);
 * ```
 */
export class PeerSession {
  readonly pc: RTCPeerConnection;
  readonly policy: IcePolicy;
  /** A local candidate to trickle (`candidate:...`), after the policy's filters; extras come first. */
  onCandidate: ((candidate: string) => void) | undefined;
  /** Called once when ICE and DTLS are up. */
  onConnected: (() => void) | undefined;
  /** Called once when the session ends, whatever the reason. */
  onClose: ((reason: PeerCloseReason) => void) | undefined;
  /** DTLS datagrams that came before werift's DTLS started, kept for it (see early_dtls.ts). */
  earlyDtls: EarlyDtlsHold | undefined;
  readonly #log: Logger;
  readonly #connectTimeoutMs: number;
  readonly #silenceTimeoutMs: number;
  readonly #disconnectTimeoutMs: number;
  #state: PeerState = "new";
  #closeReason: PeerCloseReason | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #disconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #silenceTimer: ReturnType<typeof setInterval> | undefined;
  #lastHeard = 0;
  #announced = new Set<string>();
  #answered = false;
  #unsubscribe: (() => void)[] = [];
  /** Unregisters from the shared ICE port (policy.mux), once registered. */
  #muxUnregister: (() => void) | undefined;
  readonly #srtp: "fast" | "werift";

  constructor(options: PeerSessionOptions) {
    this.policy = options.ice ?? {};
    this.#log = options.log ?? silentLogger;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 15000;
    this.#silenceTimeoutMs = options.silenceTimeoutMs ?? 10000;
    this.#disconnectTimeoutMs = options.disconnectTimeoutMs ?? 5000;
    this.#srtp = options.srtp ?? defaultSrtpMode();
    const { RTCPeerConnection } = werift();
    this.pc = new RTCPeerConnection({
      ...weriftIceConfig(this.policy),
      codecs: {
        audio: (options.codecs.audio ?? []).map((c) => weriftCodec("audio", c)),
        video: (options.codecs.video ?? []).map((c) => weriftCodec("video", c)),
      },
      // No header extensions: strom sets no transport-wide sequence numbers or abs-send-time.
      headerExtensions: { audio: [], video: [] },
    });
    this.#unsubscribe.push(
      this.pc.connectionStateChange.subscribe(this.#onState).unSubscribe,
      this.pc.onIceCandidate.subscribe((candidate) => {
        if (candidate?.candidate) this.#trickle([candidate.candidate]);
      }).unSubscribe,
    );
  }

  /** `new`, `connecting` (answered), `connected`, `closed`. */
  get state(): PeerState {
    return this.#state;
  }

  /** Why it closed, once closed. */
  get closeReason(): PeerCloseReason | undefined {
    return this.#closeReason;
  }

  /** The transceivers, in m-line order. */
  transceivers(): RTCRtpTransceiver[] {
    return this.pc.getTransceivers();
  }

  /**
   * Applies the offer, lets `prepare` set each transceiver's direction, and returns the answer SDP
   * with the candidates gathered so far (announced per the policy). Later candidates trickle
   * through {@link onCandidate}. Starts the connect timeout.
   *
   * @throws {WebRtcOfferError} when the stack rejects the offer.
   */
  async answer(offer: string, prepare?: (transceiver: RTCRtpTransceiver) => void): Promise<string> {
    // With the shared ICE port the peer's UDP candidates stay out of werift (see acceptRemoteCandidate),
    // and so does end-of-candidates: werift would fail ICE at once with no pair to check, while the
    // peer's checks arrive through the port.
    if (this.policy.mux) offer = withoutMuxedCandidates(offer, this.policy);
    try {
      await this.pc.setRemoteDescription({ type: "offer", sdp: offer });
    } catch (error) {
      throw new WebRtcOfferError(String((error as Error)?.message ?? error), { cause: error });
    }
    if (prepare) for (const t of this.pc.getTransceivers()) prepare(t);
    // Answer `a=setup:passive` to an `actpass` offer (every browser's): the peer then starts the
    // DTLS handshake the moment ICE is up, where werift as the client (its default answer, `active`)
    // waits a fixed 100 ms before its ClientHello. Chromium's connect to first frame: 171 -> 112 ms
    // (median, /api/ws), WHEP 296 -> 232 ms (scripts/bench/webrtc_ttff.ts).
    if (/^a=setup:actpass/m.test(offer)) {
      for (const t of this.pc.getTransceivers()) {
        const d = t.dtlsTransport as unknown as { role: string } | undefined;
        if (d && d.role === "auto") d.role = "server";
      }
    }
    // A ClientHello that comes before werift's DTLS has started is kept for it, not dropped (the
    // browser would resend it only after its retransmission timeout, 50 ms or more).
    const hold = holdEarlyDtls(this.pc);
    this.earlyDtls = hold;
    this.#unsubscribe.push(() => hold.stop());
    // Before ICE and DTLS start: a session that sends negotiates AES-CM and sends through strom's SRTP
    // (what it receives, a two-way audio peer's microphone, is decrypted by werift in either profile).
    if (this.#srtp === "fast" && this.pc.getTransceivers().some((t) => t.direction.includes("send"))) {
      this.#unsubscribe.push(useFastSrtp(this.pc));
    }
    this.assignIceCredentials();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.#answered = true;
    if (this.#state === "new") this.#state = "connecting";
    if (this.#state !== "closed") this.#connectTimer ??= setTimeout(this.#onConnectTimeout, this.#connectTimeoutMs);
    return this.#localSdp();
  }

  /**
   * Gives the session's ICE transports strom's own credentials (ice_credentials.ts: a 47-bit ufrag
   * no session on the shared ICE port has, a 142-bit password) instead of werift's 16-bit ufrag, two
   * of which collide on a busy shared port. {@link answer} calls it; an offering session calls it
   * after adding its transceivers and before `createOffer`.
   *
   * @example
   * ```ts
   * peer.pc.addTransceiver("video", { direction: "recvonly" });
   * peer.assignIceCredentials();
   * await peer.pc.setLocalDescription(await peer.pc.createOffer());
   * ```
   */
  assignIceCredentials(): void {
    const mux = this.policy.mux;
    setIceCredentials(this.pc, mux ? (ufrag) => mux.has(ufrag) : undefined);
  }

  /**
   * The answer once candidate gathering is complete (or `timeoutMs` passed): for signalling without
   * trickle (WHEP, `POST /api/webrtc`).
   */
  async completeAnswer(timeoutMs = 3000): Promise<string> {
    if (this.pc.iceGatheringState !== "complete") {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        const sub = this.pc.iceGatheringStateChange.subscribe((s) => {
          if (s === "complete") done();
        });
        function done() {
          clearTimeout(timer);
          sub.unSubscribe();
          resolve();
        }
      });
    }
    return this.#localSdp();
  }

  /**
   * Adds a candidate from the peer (`candidate:...`, with or without `a=`); an empty string is the
   * end of candidates. Malformed lines are reported, never thrown into the session.
   */
  async addRemoteCandidate(candidate: string, sdpMid?: string): Promise<void> {
    if (this.#state === "closed") return;
    const text = candidate.trim().replace(/^a=/, "");
    if (!text) return;
    if (!text.startsWith("candidate:")) {
      throw new WebRtcOfferError(`a remote candidate must start with "candidate:", got "${text.slice(0, 60)}"`);
    }
    if (!acceptRemoteCandidate(text, this.policy)) return;
    try {
      await this.pc.addIceCandidate({ candidate: text, sdpMid: sdpMid ?? this.#firstMid(), sdpMLineIndex: 0 });
    } catch (error) {
      throw new WebRtcOfferError(`cannot add the remote candidate "${text.slice(0, 80)}": ${(error as Error)?.message}`, {
        cause: error,
      });
    }
  }

  /** Ends the session (idempotent): timers stopped, peer connection closed, `onClose` called once. */
  close(reason: PeerCloseReason = "closed"): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#closeReason = reason;
    this.#clearTimers();
    for (const un of this.#unsubscribe.splice(0)) un();
    this.#muxUnregister?.();
    this.#muxUnregister = undefined;
    this.pc.close().catch((error) => this.#log.debug("webrtc close failed", { error: String(error) }));
    const cb = this.onClose;
    this.onClose = undefined;
    this.onConnected = undefined;
    this.onCandidate = undefined;
    cb?.(reason);
  }

  /** Timers running now (0 once closed): for leak checks. */
  get activeTimers(): number {
    return (this.#connectTimer ? 1 : 0) + (this.#disconnectTimer ? 1 : 0) + (this.#silenceTimer ? 1 : 0);
  }

  #firstMid(): string | undefined {
    return this.pc.getTransceivers()[0]?.mid ?? undefined;
  }

  #localSdp(): string {
    const sdp = this.pc.localDescription?.sdp ?? "";
    this.#registerMux(sdp, sdpCandidates(sdp));
    const announced = announceCandidates(sdpCandidates(sdp), this.policy);
    for (const c of announced) this.#announced.add(c);
    return keepInactiveBundled(replaceCandidates(sdp, announced));
  }

  /**
   * With the shared ICE port: routes this session's ufrag to werift's UDP socket, once a UDP host
   * candidate tells its port (werift binds it on all addresses, or on `bindAddress`).
   */
  #registerMux(sdp: string, local: readonly string[]): void {
    const mux = this.policy.mux;
    if (!mux || this.#muxUnregister || this.#state === "closed") return;
    const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
    const host = local.map((l) => parseCandidate(l.replace(/^a=/, ""))).find((c) => c?.protocol === "udp" && c.type === "host");
    if (!ufrag || !host) return;
    try {
      // direct: the mux hands packets to werift's socket object instead of over loopback.
      this.#muxUnregister = mux.register(ufrag, {
        hostname: this.policy.bindAddress ?? "127.0.0.1",
        port: host.port,
        direct: weriftDirect(this.pc, host.port),
      });
    } catch (error) {
      this.#log.warn("webrtc: cannot use the shared ICE port for this peer", { error: String((error as Error)?.message ?? error) });
    }
  }

  #trickle(local: string[]): void {
    if (!this.#muxUnregister) this.#registerMux(this.pc.localDescription?.sdp ?? "", local);
    if (!this.#answered || this.#state === "closed") return;
    for (const c of announceCandidates(local, this.policy)) {
      if (this.#announced.has(c)) continue;
      this.#announced.add(c);
      this.onCandidate?.(c);
    }
  }

  readonly #onState = (state: string): void => {
    if (this.#state === "closed") return;
    switch (state) {
      case "connected": {
        if (this.#disconnectTimer) {
          clearTimeout(this.#disconnectTimer);
          this.#disconnectTimer = undefined;
        }
        if (this.#state === "connected") return;
        this.#state = "connected";
        if (this.#connectTimer) clearTimeout(this.#connectTimer);
        this.#connectTimer = undefined;
        this.#watchSilence();
        const cb = this.onConnected;
        this.onConnected = undefined;
        cb?.();
        return;
      }
      case "disconnected":
        this.#disconnectTimer ??= setTimeout(this.#onDisconnectTimeout, this.#disconnectTimeoutMs);
        return;
      case "failed":
        this.close("failed");
        return;
      case "closed":
        this.close("remote-closed");
        return;
    }
  };

  // Everything the peer sends after ICE (SRTP, SRTCP, DTLS, STUN consent) counts as a sign of life.
  #watchSilence(): void {
    if (this.#silenceTimeoutMs <= 0) return;
    this.#lastHeard = performance.now();
    const heard = () => {
      this.#lastHeard = performance.now();
    };
    for (const transport of this.pc.iceTransports) {
      const connection = transport.connection as unknown as {
        onData?: { subscribe(fn: () => void): { unSubscribe(): void } };
        protocols?: { onRequestReceived?: { subscribe(fn: () => void): { unSubscribe(): void } } }[];
      };
      const sub = connection.onData?.subscribe(heard);
      if (sub) this.#unsubscribe.push(sub.unSubscribe);
      for (const protocol of connection.protocols ?? []) {
        const s = protocol.onRequestReceived?.subscribe(heard);
        if (s) this.#unsubscribe.push(s.unSubscribe);
      }
    }
    const period = Math.max(50, Math.min(1000, this.#silenceTimeoutMs / 4));
    this.#silenceTimer = setInterval(() => {
      if (performance.now() - this.#lastHeard > this.#silenceTimeoutMs) this.close("silent");
    }, period);
  }

  readonly #onConnectTimeout = (): void => {
    this.#connectTimer = undefined;
    if (this.#state !== "connected") this.close("ice-timeout");
  };

  readonly #onDisconnectTimeout = (): void => {
    this.#disconnectTimer = undefined;
    this.close("disconnected");
  };

  #clearTimers(): void {
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    if (this.#disconnectTimer) clearTimeout(this.#disconnectTimer);
    if (this.#silenceTimer) clearInterval(this.#silenceTimer);
    this.#connectTimer = undefined;
    this.#disconnectTimer = undefined;
    this.#silenceTimer = undefined;
  }
}

/** A strom codec as werift's codec parameters (name matched; RTCP feedback for video). */
export function weriftCodec(kind: MediaKind, codec: Codec): RTCRtpCodecParameters {
  const name = codec.name === "OPUS" ? "opus" : codec.name;
  return new (werift().RTCRtpCodecParameters)({
    mimeType: `${kind}/${name}`,
    clockRate: codec.clockRate,
    channels: codec.channels,
    payloadType: codec.payloadType,
    parameters: codec.fmtp,
    rtcpFeedback: kind === "video" ? RTCP_FEEDBACK : [],
  });
}

/** The offer without the candidate lines werift must not see when the shared ICE port is on. */
function withoutMuxedCandidates(offer: string, policy: IcePolicy): string {
  return offer
    .split(/\r?\n/)
    .filter((l) => !(l.startsWith("a=candidate:") && !acceptRemoteCandidate(l, policy)) && !l.startsWith("a=end-of-candidates"))
    .join("\r\n");
}
