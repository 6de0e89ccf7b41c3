/**
 * strom's SRTP sender in place of werift's for a viewer's outgoing RTP (issue 9: CPU and memory per
 * viewer). werift 0.24's `RTCDtlsTransport.sendRtp` makes a new cipher object, HMAC object and
 * header buffer per packet and viewer (scripts/bench/srtp_cost.ts; the cipher's native state is
 * freed only at GC). With AES_CM_128_HMAC_SHA1_80 strom's {@link SrtpProtector} reuses one AES-ECB
 * cipher per session and allocates only the packet it sends.
 *
 * - Before DTLS starts, {@link useFastSrtp} makes the DTLS handshake pick AES_CM_128_HMAC_SHA1_80:
 *   as DTLS client (what werift is when it answers) it offers only that profile, because the server
 *   (a browser) picks by its own preference, which is GCM first; every WebRTC endpoint implements
 *   AES_CM_128_HMAC_SHA1_80 (RFC 8827). As DTLS server it lists it first (werift picks by its own
 *   order), keeping GCM for a peer that offers nothing else.
 * - When the transport is connected with that profile, its `sendRtp(payload, header)` is replaced
 *   on the instance: werift's header object is written straight into the output buffer (as
 *   werift's `RtpHeader.serialize` lays it out), the payload copied after it and protected in place.
 *   werift's RTP sender and its NACK retransmissions (RTX too) call this same method, for tracks
 *   that do not use strom's own RTP path. With any other profile werift's own path stays.
 * - {@link fastSrtpOf} hands the transport's protector and its way out ({@link FastSrtp.send}: to
 *   the shared ICE port's socket synchronously when the nominated pair goes through it) to strom's
 *   RTP path for viewer tracks (direct_rtp.ts), which skips werift's RTP sender altogether.
 *
 * Relies on werift 0.24's `RTCDtlsTransport` shape (`srtpProfiles`, `dtls.srtp.srtpProfile`,
 * `dtls.extractSessionKeys`, `srtp.localContext.srtpSSRCStates`, `iceTransport.connection.send`);
 * when a piece is missing the transport keeps werift's path.
 *
 * @module
 */
import type { RTCDtlsTransport, RTCPeerConnection } from "werift";
import { writeU32BE } from "../../core/bytes.ts";
import { allocUnfilled } from "../../runtime/node_buffer.ts";
import { getEnv } from "../../runtime/env.ts";
import { SRTP_AUTH_TAG_LENGTH, SRTP_HMAC_HEADROOM, SrtpProtector } from "../srtp/mod.ts";
import { dtlsTransportsOf } from "./werift.ts";
import { directLink } from "./werift_direct.ts";

/** werift's (and RFC 5764's) id of SRTP_AES128_CM_HMAC_SHA1_80. */
export const SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001;
/** RFC 7714's id of SRTP_AEAD_AES_128_GCM. */
const SRTP_AEAD_AES_128_GCM = 0x0007;

const ONE_BYTE = 0xbede;
const TWO_BYTE = 0x1000;

/** The fields of werift's `RtpHeader` read here. */
interface WeriftHeader {
  version: number;
  padding: boolean;
  extension: boolean;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrc: number[];
  extensionProfile: number;
  extensions: { id: number; payload: Uint8Array }[];
}

/** The fields of werift's `RTCDtlsTransport` used here. */
interface WeriftDtlsTransport {
  state: string;
  role: string;
  srtpProfiles: number[];
  bytesSent: number;
  packetsSent: number;
  onStateChange: { subscribe(fn: (state: string) => void): { unSubscribe: () => void } };
  dtls?: {
    srtp?: { srtpProfile?: number };
    extractSessionKeys?(
      keyLength: number,
      saltLength: number,
    ): { localKey: Uint8Array; localSalt: Uint8Array };
  };
  srtp?: {
    localContext?: {
      srtpSSRCStates?: Record<number, { rolloverCounter: number; lastSequenceNumber: number }>;
    };
  };
  iceTransport: { connection: WeriftIceConnection };
  sendRtp(payload: Uint8Array, header: WeriftHeader): Promise<number> | number;
}

/** The fields of werift-ice's `Connection` used here. */
interface WeriftIceConnection {
  send(data: Uint8Array): Promise<void>;
  canSendApplicationData?(): boolean;
  nominated?: {
    protocol?: { transport?: unknown };
    remoteAddr?: [string, number];
    packetsSent: number;
    bytesSent: number;
  } | null;
}

const ignore = () => {};

/**
 * strom's SRTP sender of one DTLS transport, once installed (see {@link fastSrtpOf}): its protector,
 * and the way out to the peer.
 */
export class FastSrtp {
  /** Protects every SSRC the transport sends (one rollover counter each). */
  readonly protector: SrtpProtector;
  /** Packets that went straight to the shared ICE port's socket (the rest through werift's ICE). */
  sentToMux = 0;
  readonly #transport: WeriftDtlsTransport;
  readonly #connection: WeriftIceConnection;

  constructor(transport: WeriftDtlsTransport, protector: SrtpProtector) {
    this.#transport = transport;
    this.#connection = transport.iceTransport.connection;
    this.protector = protector;
  }

  /**
   * Sends one protected packet to the peer and counts it on the transport: synchronously to the
   * shared ICE port when the nominated pair goes through it in this process (werift_direct.ts),
   * else through werift's ICE connection (three async hops to the same place). Returns `true` when
   * nothing holds `packet` any more (the mux's socket sent it at once), so the caller may reuse it.
   */
  send(packet: Uint8Array): boolean {
    const t = this.#transport;
    t.bytesSent += packet.length;
    t.packetsSent++;
    const connection = this.#connection;
    const pair = connection.nominated;
    if (pair) {
      const link = directLink(pair.protocol?.transport);
      const to = pair.remoteAddr;
      // werift's own checks first: RFC 7675 consent, and the pair's address must be the mux relay's.
      if (
        link !== undefined && to !== undefined && to[1] === link.relay.port && to[0] === link.relay.hostname &&
        connection.canSendApplicationData?.() === true
      ) {
        const released = link.send(packet);
        pair.packetsSent++;
        pair.bytesSent += packet.length;
        this.sentToMux++;
        return released;
      }
    }
    connection.send(packet).catch(ignore);
    return false;
  }
}

/**
 * Which SRTP sender a session that sends uses when its options do not say: `STROM_WEBRTC_SRTP`
 * (`fast` or `werift`) when set, else `fast`. (Deno once kept werift's: headless Chromium failed to
 * decrypt some sessions there. The cause was werift's DTLS client re-keying after a repeated server
 * flight 4, for every SRTP profile; dtls_client_patch.ts fixes it.)
 */
export function defaultSrtpMode(): "fast" | "werift" {
  const env = getEnv("STROM_WEBRTC_SRTP");
  if (env === "fast" || env === "werift") return env;
  return "fast";
}

/**
 * Makes each DTLS transport of `pc` that has not started yet negotiate AES_CM_128_HMAC_SHA1_80 and,
 * once connected with it, send RTP through strom's SRTP sender. Call after the remote description is
 * set and before ICE connects. Returns the unsubscribe function.
 *
 * @example
 * ```ts
 * await pc.setRemoteDescription(offer);
 * const stop = useFastSrtp(pc);
 * ```
 */
export function useFastSrtp(pc: RTCPeerConnection): () => void {
  const subs: (() => void)[] = [];
  for (const d of dtlsTransportsOf(pc)) {
    const transport = d as unknown as WeriftDtlsTransport;
    if (transport.state !== "new" || !Array.isArray(transport.srtpProfiles)) continue;
    if (!transport.srtpProfiles.includes(SRTP_AES128_CM_HMAC_SHA1_80)) continue;
    transport.srtpProfiles = transport.role === "server"
      ? [
        SRTP_AES128_CM_HMAC_SHA1_80,
        ...transport.srtpProfiles.filter((p) => p !== SRTP_AES128_CM_HMAC_SHA1_80),
      ]
      : [SRTP_AES128_CM_HMAC_SHA1_80];
    const sub = transport.onStateChange.subscribe((state) => {
      if (state === "connected") installFastSrtp(transport as unknown as RTCDtlsTransport);
    });
    subs.push(sub.unSubscribe);
  }
  return () => {
    for (const un of subs.splice(0)) un();
  };
}

/**
 * The SRTP profile DTLS selected on `transport`: `"AES_CM_128_HMAC_SHA1_80"`, `"AEAD_AES_128_GCM"`,
 * or undefined before the handshake.
 */
export function selectedSrtpProfile(transport: RTCDtlsTransport): string | undefined {
  const p = (transport as unknown as WeriftDtlsTransport).dtls?.srtp?.srtpProfile;
  return p === SRTP_AES128_CM_HMAC_SHA1_80
    ? "AES_CM_128_HMAC_SHA1_80"
    : p === SRTP_AEAD_AES_128_GCM
    ? "AEAD_AES_128_GCM"
    : p === undefined
    ? undefined
    : `0x${p.toString(16)}`;
}

/** Whether `transport` sends through strom's SRTP sender. */
export function usesFastSrtp(transport: RTCDtlsTransport): boolean {
  return fast.has(transport as unknown as object);
}

/** strom's SRTP sender of `transport`, when {@link installFastSrtp} installed it. */
export function fastSrtpOf(transport: RTCDtlsTransport): FastSrtp | undefined {
  return fast.get(transport as unknown as object);
}

const fast = new WeakMap<object, FastSrtp>();

/**
 * Replaces `transport.sendRtp` with strom's SRTP sender when DTLS selected AES_CM_128_HMAC_SHA1_80.
 * Returns whether it did.
 */
export function installFastSrtp(transport: RTCDtlsTransport): boolean {
  const t = transport as unknown as WeriftDtlsTransport;
  if (fast.has(t)) return true;
  const dtls = t.dtls;
  if (
    dtls?.srtp?.srtpProfile !== SRTP_AES128_CM_HMAC_SHA1_80 || typeof dtls.extractSessionKeys !== "function"
  ) {
    return false;
  }
  if (typeof t.iceTransport?.connection?.send !== "function") return false;
  const { localKey, localSalt } = dtls.extractSessionKeys(16, 14);
  const protector = new SrtpProtector(localKey, localSalt);
  // Packets werift protected already (if any went out before this ran) set where each SSRC is.
  const states = t.srtp?.localContext?.srtpSSRCStates ?? {};
  for (const ssrc of Object.keys(states)) {
    const s = states[Number(ssrc)];
    protector.seed(Number(ssrc), s.rolloverCounter, s.lastSequenceNumber);
  }
  const sender = new FastSrtp(t, protector);
  t.sendRtp = function sendRtp(payload: Uint8Array, header: WeriftHeader): number {
    try {
      const out = protectRtp(protector, payload, header);
      sender.send(out);
      return out.length;
    } catch {
      return 0; // as werift: a packet that cannot be sent is dropped, never thrown into the sender
    }
  };
  fast.set(t, sender);
  return true;
}

/** The SRTP packet of werift's `header` and `payload`: a view of one new buffer. */
function protectRtp(protector: SrtpProtector, payload: Uint8Array, header: WeriftHeader): Uint8Array {
  const csrc = header.csrc;
  const exts = header.extensions;
  const profile = header.extensionProfile;
  const hasExt = exts.length > 0 || header.extension;
  let extBytes = 0;
  if (hasExt) {
    if (profile === ONE_BYTE) {
      for (let i = 0; i < exts.length; i++) extBytes += 1 + exts[i].payload.length;
    } else if (profile === TWO_BYTE) {
      for (let i = 0; i < exts.length; i++) extBytes += 2 + exts[i].payload.length;
    } else if (exts.length > 0) extBytes = exts[0].payload.length;
  }
  const extPadded = (extBytes + 3) & ~3;
  const headerLength = 12 + csrc.length * 4 + (hasExt ? 4 + extPadded : 0);
  // The SRTP packet starts after SRTP_HMAC_HEADROOM scratch bytes, where the protector hashes the
  // key's inner pad in place (two one-shot native hashes instead of a TypeScript HMAC).
  const buffer = allocUnfilled(SRTP_HMAC_HEADROOM + headerLength + payload.length + SRTP_AUTH_TAG_LENGTH);
  const out = buffer.subarray(SRTP_HMAC_HEADROOM);
  out[0] = (header.version << 6) | (header.padding ? 0x20 : 0) | (hasExt ? 0x10 : 0) | (csrc.length & 0x0f);
  out[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  const seq = header.sequenceNumber;
  out[2] = seq >>> 8;
  out[3] = seq & 0xff;
  writeU32BE(out, 4, header.timestamp);
  writeU32BE(out, 8, header.ssrc);
  let o = 12;
  for (let i = 0; i < csrc.length; i++, o += 4) writeU32BE(out, o, csrc[i]);
  if (hasExt) {
    out[o] = profile >>> 8;
    out[o + 1] = profile & 0xff;
    out[o + 2] = extPadded >>> 10;
    out[o + 3] = (extPadded >>> 2) & 0xff;
    o += 4;
    const end = o + extPadded;
    if (profile === ONE_BYTE || profile === TWO_BYTE) {
      for (let i = 0; i < exts.length; i++) {
        const p = exts[i].payload;
        if (profile === ONE_BYTE) out[o++] = (exts[i].id << 4) | ((p.length - 1) & 0x0f);
        else (out[o++] = exts[i].id, out[o++] = p.length);
        out.set(p, o);
        o += p.length;
      }
    } else if (exts.length > 0) {
      out.set(exts[0].payload, o);
      o += exts[0].payload.length;
    }
    while (o < end) out[o++] = 0;
  }
  out.set(payload, headerLength);
  protector.protect(buffer, headerLength, payload.length, header.ssrc, seq, SRTP_HMAC_HEADROOM);
  return out;
}

