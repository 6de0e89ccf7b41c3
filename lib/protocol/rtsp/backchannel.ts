/**
 * The ONVIF backchannel of an RTSP camera (ONVIF Streaming Spec section 5.3): the `a=sendonly`
 * audio media a camera describes when asked with `Require: www.onvif.org/ver20/backchannel`, on
 * which the client sends RTP (interleaved over the RTSP connection, or over UDP) after PLAY.
 *
 * One {@link RtspBackchannel} per set-up media and codec. Talkers (a browser microphone, an RTSP
 * viewer's backchannel, a file) attach a Sender each; one talks at a time: a talker that starts
 * while another spoke less than {@link TALK_HOLD_MS} ago is dropped until that one falls silent.
 * Outgoing packets get the backchannel's own SSRC, sequence numbers and payload type, and
 * timestamps continuous across talkers (a new talker starts where the last one left off, plus the
 * wall-clock time in between), so the camera sees one well-formed RTP stream.
 *
 * ```text
 * talker Receiver -> Sender (bounded queue) -> write() -> packetize (raw frames) -> RTP header -> send(channel)
 * ```
 *
 * Packets written before the camera answered PLAY, or while the media is being set up, are held
 * (at most {@link MAX_HELD_PACKETS}) and sent by {@link RtspBackchannel.flush}, so the first words
 * of a talker are not lost.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { type Receiver, Sender } from "../../core/fanout.ts";
import { G711Packetizer, g711PayloadType } from "../../codec/g711/rtp.ts";
import { createPacketizer, type FramePacketizer } from "./pay.ts";

/** A talker that spoke within this many ms keeps the backchannel; others wait. */
export const TALK_HOLD_MS = 500;

/** Packets kept while the camera has not answered PLAY yet (go2rtc waits for it too): 1 s of 20 ms. */
export const MAX_HELD_PACKETS = 50;

/**
 * Where a backchannel's packets go: `send(channel, framed)`, where `framed` is 4 spare bytes (room
 * for the RTSP interleaved header) followed by the RTP packet. Returns false when the packet could
 * not be sent (not playing yet, connection gone).
 */
export type BackchannelSend = (channel: number, framed: Uint8Array) => boolean;

/**
 * A camera's backchannel media, set up on one RTP channel.
 *
 * @example
 * ```ts
 * const bc = new RtspBackchannel(2, media, { name: "PCMA", clockRate: 8000, payloadType: 8 }, (ch, framed) => client.sendFramedRtp(ch, framed));
 * bc.channel = await client.setup(sdpMedia);
 * bc.attach(talkerReceiver);
 * ```
 */
export class RtspBackchannel {
  /** Index of the media in the camera's SDP. */
  readonly index: number;
  readonly media: Media;
  readonly codec: Codec;
  /** RTP channel from SETUP (-1 until set up). */
  channel = -1;
  /** RTP packets sent. */
  packets = 0;
  /** Payload bytes sent. */
  bytes = 0;
  /** Frames or packets dropped: before SETUP, while another talker held the backchannel, or held too long before PLAY. */
  drops = 0;
  readonly senders: Sender[] = [];
  /**
   * Called when a talker's audio arrives and the media is not set up (channel -1): the owner sets
   * it up then (RTSP needs a reconnect for that once the camera plays), and the audio is held
   * meanwhile. So a reader that could talk but never does costs the camera nothing.
   */
  onSetupNeeded: (() => void) | undefined;
  /** Whether the owner should SETUP this media on its next (re)connect. */
  setupWanted = false;
  readonly #held: Uint8Array[] = [];

  readonly #send: BackchannelSend;
  readonly #payloadType: number;
  readonly #ssrc: number;
  readonly #clockRate: number;
  readonly #pay: FramePacketizer;
  #seq: number;
  #active: Sender | undefined;
  #activeAt = 0;
  /** Added to the talker's timestamps; recomputed when the talker changes. */
  #offset = 0;
  #resync = true;
  #lastTs: number;
  #lastAt = 0;

  constructor(index: number, media: Media, codec: Codec, send: BackchannelSend) {
    this.index = index;
    this.media = media;
    this.codec = codec;
    this.#send = send;
    this.#payloadType = codec.payloadType ?? g711PayloadType(codec.name, codec.clockRate, codec.channels) ??
      96;
    this.#ssrc = (Math.random() * 0x100000000) >>> 0;
    this.#seq = (Math.random() * 0x10000) & 0xffff;
    this.#lastTs = (Math.random() * 0x100000000) >>> 0;
    this.#clockRate = codec.clockRate || 8000;
    const name = codec.name.toUpperCase();
    // G.711: 20 ms packets (RFC 3551 section 4.5's default packetization), whatever the rate.
    this.#pay = name === "PCMA" || name === "PCMU"
      ? new G711Packetizer({
        payloadType: this.#payloadType,
        ssrc: this.#ssrc,
        samplesPerPacket: Math.max(1, Math.round(this.#clockRate / 50)),
        channels: codec.channels,
      })
      : createPacketizer(codec, "audio");
  }

  /** Attaches a talker's receiver; returns the sender (closed when the talker leaves). */
  attach(receiver: Receiver): Sender {
    for (let i = this.senders.length - 1; i >= 0; i--) if (this.senders[i].closed) this.senders.splice(i, 1);
    const sender: Sender = new Sender(this.media, this.codec, (frame) => this.write(sender, frame), {
      capacity: 64,
    });
    this.senders.push(sender);
    receiver.addSender(sender);
    return sender;
  }

  /** Sends one frame from a talker (the sender's handler). */
  write(from: Sender, frame: Frame): void {
    if (this.channel < 0) {
      if (!this.onSetupNeeded) {
        this.drops++;
        return;
      }
      this.onSetupNeeded();
    }
    const now = performance.now();
    if (from !== this.#active) {
      const holder = this.#active;
      if (holder && !holder.closed && now - this.#activeAt < TALK_HOLD_MS) {
        this.drops++;
        return;
      }
      this.#active = from;
      this.#resync = true;
    }
    this.#activeAt = now;
    if (this.#resync) {
      // Continue from the last timestamp sent, plus the silence since (at least one sample).
      const gap = this.#lastAt ? Math.max(1, Math.round((now - this.#lastAt) * this.#clockRate / 1000)) : 0;
      this.#offset = (this.#lastTs + gap - frame.timestamp) >>> 0;
      this.#resync = false;
    }
    const packets = frame.packets;
    if (packets && packets.length && this.#samePayloadFormat(from)) {
      for (let i = 0; i < packets.length; i++) {
        const p = packets[i];
        this.#packet(p.payload, p.timestamp, p.marker);
      }
      return;
    }
    const out = this.#pay.packetize(frame);
    for (let i = 0; i < out.length; i++) {
      const p = out[i];
      this.#packet(p.payload, p.timestamp, p.marker);
    }
  }

  // RTP packets of the talker can be forwarded as they are when their payload format is ours.
  #samePayloadFormat(from: Sender): boolean {
    const c = from.receiver?.codec ?? from.codec;
    return c.name.toUpperCase() === this.codec.name.toUpperCase() &&
      (c.clockRate || this.#clockRate) === this.#clockRate;
  }

  #packet(payload: Uint8Array, timestamp: number, marker: boolean): void {
    const ts = (timestamp + this.#offset) >>> 0;
    const seq = this.#seq = (this.#seq + 1) & 0xffff;
    const ssrc = this.#ssrc;
    // 4 spare bytes for the interleaved header, then the RTP header (RFC 3550 section 5.1):
    // V=2 P X CC | M PT | sequence number | timestamp | SSRC
    const out = new Uint8Array(16 + payload.length);
    out[4] = 0x80;
    out[5] = (marker ? 0x80 : 0) | (this.#payloadType & 0x7f);
    out[6] = seq >> 8;
    out[7] = seq & 0xff;
    out[8] = ts >>> 24;
    out[9] = (ts >>> 16) & 0xff;
    out[10] = (ts >>> 8) & 0xff;
    out[11] = ts & 0xff;
    out[12] = ssrc >>> 24;
    out[13] = (ssrc >>> 16) & 0xff;
    out[14] = (ssrc >>> 8) & 0xff;
    out[15] = ssrc & 0xff;
    out.set(payload, 16);
    this.#lastTs = ts;
    this.#lastAt = performance.now();
    if (this.channel < 0 || (this.#held.length && !this.flush()) || !this.#send(this.channel, out)) {
      if (this.#held.length >= MAX_HELD_PACKETS) {
        this.#held.shift();
        this.drops++;
      }
      this.#held.push(out);
      return;
    }
    this.packets++;
    this.bytes += payload.length;
  }

  /** Sends the packets held before PLAY; false when they still cannot be sent. */
  flush(): boolean {
    if (this.channel < 0) return this.#held.length === 0;
    while (this.#held.length) {
      const out = this.#held[0];
      if (!this.#send(this.channel, out)) return false;
      this.#held.shift();
      this.packets++;
      this.bytes += out.length - 16;
    }
    return true;
  }

  /** Packets waiting for PLAY. */
  get held(): number {
    return this.#held.length;
  }

  /** Detaches every talker. */
  close(): void {
    for (const s of this.senders.splice(0)) s.close();
    this.#active = undefined;
    this.#held.length = 0;
  }
}
