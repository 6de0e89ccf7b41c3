/**
 * A viewer track's RTP written, protected and sent by strom, in place of werift's per-packet
 * `RTCRtpSender.sendRtp` (issue 9: CPU per viewer). Used for a track whose DTLS transport sends
 * through strom's SRTP sender (fast_srtp.ts) and whose werift sender has no header extensions and
 * no RED, which is every strom viewer (peer.ts negotiates no header extensions).
 *
 * What werift does per packet and this skips: two werift objects (header, packet), its NTP time
 * (a number printed to a string and split, a Buffer, a BigInt), the header-extension list rebuilt
 * and sorted, a bandwidth-estimator record (`Object.keys`, sort, filter) and four async hops
 * (its `sendRtp`, the ICE connection's `send`, the STUN protocol's `sendData`, the socket's `send`)
 * before the bytes reach the shared ICE port. Here: the 12-byte header written into a buffer, the
 * payload copied after it and protected in place, then one synchronous send (fast_srtp.ts
 * `FastSrtp.send`). The buffer is one for all senders, reused while the socket sends at once
 * (Node's and Bun's), so a packet costs no buffer of its own.
 *
 * What werift's sender still does, kept in step: its counters (`packetCount`, `octetCount`, the
 * last sequence number and RTP timestamp) are updated per packet, so its RTCP sender reports and
 * `getStats()` are as before; its RTCP loop is started with the first packet, as its `sendRtp`
 * would. NACK: the last 128 packets of the track (werift's history size) are kept here, as the
 * payload (shared with other viewers, see shared_packets.ts) and three numbers in typed arrays,
 * and a NACK from the peer (werift's `onGenericNack`, after its own history, empty on this path,
 * found nothing) resends them, protected again under their own sequence numbers.
 *
 * Header extensions strom negotiates itself, outside werift (the playout delay of
 * `webrtc.jitter_buffer`, playout_delay.ts), are written by this sender after the 12-byte header
 * (`headerExtension`), in every packet and every resend.
 *
 * @module
 */
import type { RTCRtpSender } from "werift";
import { writeU32BE } from "../../core/bytes.ts";
import { allocUnfilled } from "../../runtime/node_buffer.ts";
import { SRTP_AUTH_TAG_LENGTH, SRTP_HMAC_HEADROOM } from "../srtp/mod.ts";
import { type FastSrtp, fastSrtpOf } from "./fast_srtp.ts";

/** Packets kept per track for NACK: werift's `RTP_HISTORY_SIZE`. */
export const DIRECT_RTP_HISTORY = 128;
const RTP_HEADER = 12;
/** Room for a packet of any MTU strom packetizes for (1200 by default) with the headroom and tag. */
const SCRATCH_SIZE = 1600;
/**
 * The buffer the next packet is written into, shared by every sender: a packet the socket sent at
 * once leaves it free again, so a viewer's packet costs no new buffer. Undefined while a send
 * still holds it (Deno's async send, werift's ICE path): the next packet takes a new one.
 */
let scratch: Uint8Array | undefined;

/** The fields of werift 0.24's `RTCRtpSender` read and written here. */
interface WeriftRtpSender {
  ssrc: number;
  headerExtensions?: unknown[];
  redRedundantPayloadType?: number;
  seqOffset: number;
  timestampOffset: number;
  sequenceNumber?: number;
  timestamp?: number;
  rtpTimestamp: number;
  octetCount: number;
  packetCount: number;
  headerBytesSent: number;
  retransmittedPacketsSent: number;
  retransmittedBytesSent: number;
  dtlsTransport: { state: string };
  runRtcp(): Promise<void>;
  onGenericNack: { subscribe(fn: (feedback: { lost?: number[] }) => void): { unSubscribe: () => void } };
}

const ignore = () => {};

/**
 * Sends one werift sender's RTP through strom's SRTP sender, without werift's per-packet work.
 *
 * @example
 * ```ts
 * const direct = DirectRtpSender.for(transceiver.sender); // undefined: keep werift's sendRtp
 * direct?.send(payload, 96, seq, timestamp, true);
 * direct?.close();
 * ```
 */
export class DirectRtpSender {
  readonly #sender: WeriftRtpSender;
  readonly #fast: FastSrtp;
  readonly #payloads: (Uint8Array | undefined)[] = new Array(DIRECT_RTP_HISTORY).fill(undefined);
  /** Sequence number held in each history slot, -1 when empty. */
  readonly #seqs = new Int32Array(DIRECT_RTP_HISTORY).fill(-1);
  readonly #timestamps = new Uint32Array(DIRECT_RTP_HISTORY);
  /** Marker bit and payload type of each slot, as the header's second byte. */
  readonly #second = new Uint8Array(DIRECT_RTP_HISTORY);
  #rtcpStarted = false;
  #unsubscribe: (() => void) | undefined;
  /**
   * Header extension bytes written after the 12-byte header of every packet (RFC 8285, the 0xBEDE
   * word included; a multiple of 4 bytes), e.g. the playout delay (playout_delay.ts). Negotiated
   * outside werift, which knows nothing of it.
   */
  headerExtension: Uint8Array | undefined;
  /** Packets sent again for a NACK. */
  retransmitted = 0;

  private constructor(sender: WeriftRtpSender, fast: FastSrtp) {
    this.#sender = sender;
    this.#fast = fast;
    this.#unsubscribe = sender.onGenericNack.subscribe((feedback) => this.#nack(feedback)).unSubscribe;
  }

  /**
   * The direct sender of `sender`, or undefined when werift's own path must stay: its transport
   * does not send through strom's SRTP sender (another profile, or `srtp: "werift"`), or it adds
   * header extensions or RED, which only werift writes.
   */
  static for(sender: RTCRtpSender): DirectRtpSender | undefined {
    const s = sender as unknown as WeriftRtpSender;
    const fast = fastSrtpOf(s.dtlsTransport as never);
    if (!fast) return undefined;
    if ((s.headerExtensions?.length ?? 0) > 0 || s.redRedundantPayloadType !== undefined) return undefined;
    if (typeof s.runRtcp !== "function" || typeof s.onGenericNack?.subscribe !== "function") return undefined;
    if (typeof s.seqOffset !== "number" || typeof s.timestampOffset !== "number") return undefined;
    return new DirectRtpSender(s, fast);
  }

  /**
   * Sends one RTP packet: `payload` (read only, kept for NACK), under werift's sender SSRC. Does
   * nothing before the transport is connected or after it closed (as werift).
   */
  send(payload: Uint8Array, payloadType: number, sequenceNumber: number, timestamp: number, marker: boolean): void {
    const s = this.#sender;
    if (s.dtlsTransport.state !== "connected") return;
    const seq = (sequenceNumber + s.seqOffset) & 0xffff;
    const ts = (timestamp + s.timestampOffset) >>> 0;
    const second = (marker ? 0x80 : 0) | (payloadType & 0x7f);
    const slot = seq % DIRECT_RTP_HISTORY;
    this.#payloads[slot] = payload;
    this.#seqs[slot] = seq;
    this.#timestamps[slot] = ts;
    this.#second[slot] = second;
    s.sequenceNumber = seq;
    s.timestamp = ts;
    s.rtpTimestamp = ts;
    s.octetCount += payload.length;
    s.headerBytesSent += RTP_HEADER + (this.headerExtension?.length ?? 0);
    s.packetCount = (s.packetCount + 1) >>> 0;
    this.#write(payload, second, seq, ts);
    if (!this.#rtcpStarted) {
      this.#rtcpStarted = true;
      s.runRtcp().catch(ignore);
    }
  }

  /** Stops answering NACKs and lets the history go. Idempotent. */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#payloads.fill(undefined);
    this.#seqs.fill(-1);
  }

  #nack(feedback: { lost?: number[] }): void {
    const lost = feedback.lost;
    if (!lost || this.#unsubscribe === undefined || this.#sender.dtlsTransport.state !== "connected") return;
    for (let i = 0; i < lost.length; i++) {
      const seq = lost[i] & 0xffff;
      const slot = seq % DIRECT_RTP_HISTORY;
      const payload = this.#payloads[slot];
      if (payload === undefined || this.#seqs[slot] !== seq) continue;
      this.#write(payload, this.#second[slot], seq, this.#timestamps[slot]);
      this.retransmitted++;
      this.#sender.retransmittedPacketsSent++;
      this.#sender.retransmittedBytesSent += payload.length;
    }
  }

  #write(payload: Uint8Array, second: number, seq: number, ts: number): void {
    const ssrc = this.#sender.ssrc;
    const extension = this.headerExtension;
    const header = extension === undefined ? RTP_HEADER : RTP_HEADER + extension.length;
    // SRTP_HMAC_HEADROOM scratch bytes first, where the protector hashes the key's inner pad.
    const size = SRTP_HMAC_HEADROOM + header + payload.length + SRTP_AUTH_TAG_LENGTH;
    let buffer = scratch;
    scratch = undefined;
    if (buffer === undefined || buffer.length < size) buffer = allocUnfilled(size < SCRATCH_SIZE ? SCRATCH_SIZE : size);
    const o = SRTP_HMAC_HEADROOM;
    buffer[o] = extension === undefined ? 0x80 : 0x90; // version 2, no padding or CSRC; X when extended
    buffer[o + 1] = second;
    buffer[o + 2] = seq >>> 8;
    buffer[o + 3] = seq & 0xff;
    writeU32BE(buffer, o + 4, ts);
    writeU32BE(buffer, o + 8, ssrc);
    if (extension !== undefined) buffer.set(extension, o + RTP_HEADER);
    buffer.set(payload, o + header);
    try {
      const length = this.#fast.protector.protect(buffer, header, payload.length, ssrc, seq, o);
      // Sent at once (the usual case): the next packet, of any viewer, is written into the same bytes.
      if (this.#fast.send(buffer.subarray(o, o + length))) scratch = buffer;
    } catch {
      // As werift: a packet that cannot be sent is dropped, never thrown into the fan-out.
    }
  }
}
