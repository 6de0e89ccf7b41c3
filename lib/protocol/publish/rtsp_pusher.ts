/**
 * Publishes a stream to a remote RTSP server (RFC 2326 section 10.11 RECORD), as
 * `ffmpeg -f rtsp rtsp://host/path` does: a consumer whose tracks go out as RTP over the RTSP
 * connection (TCP interleaved), for the server's `publish:` and `strom relay <src> rtsp://host/path`.
 *
 * ```text
 * OPTIONS -> ANNOUNCE (our SDP) -> SETUP per track (interleaved=2n-2n+1;mode=record) -> RECORD -> RTP...
 * ```
 *
 * Frames that came from RTP are forwarded packet by packet; others are packetized. Every packet
 * gets our payload type, SSRC, a gap-free sequence number and a timestamp on one continuous
 * timeline (the source may reconnect underneath). The source packets are shared with other
 * consumers, so each one is serialized into its own buffer and patched there.
 *
 * @module
 */
import { type Codec, CodecName } from "../../core/codec.ts";
import { type ConnectionInfo, type Consumer, nextConnectionId } from "../../core/connection.ts";
import { redactUrl } from "../../core/errors.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type Media, mediaToString, type SdpMedia, toSdp } from "../../core/media.ts";
import { type Receiver, Sender } from "../../core/fanout.ts";
import { RtspClient } from "../rtsp/client.ts";
import { createPacketizer, type FramePacketizer } from "../rtsp/pay.ts";
import { rtpSize, writeRtp } from "../../rtp/packet.ts";
import { TimestampRewriter } from "../../rtp/rtp_rewriter.ts";

/** Options of an {@link RtspPusher}. */
export interface RtspPusherOptions {
  /** Connect and per-request timeout, ms. Default 5000. */
  timeoutMs?: number;
  /** Frames wait while more than this many bytes sit in the socket (then the sender drops). Default 4 MiB. */
  maxBufferedBytes?: number;
  log?: Logger;
  /** User-Agent header. Default `strom relay`. */
  userAgent?: string;
}

const STATIC_PT: Record<string, number> = { PCMU: 0, PCMA: 8, G722: 9 };

interface PushTrack {
  media: SdpMedia;
  codec: Codec;
  source: Receiver;
  sender: Sender;
  channel: number;
  payloadType: number;
  ssrc: number;
  seq: number;
  timestamps: TimestampRewriter;
  packetizer: FramePacketizer | undefined;
  lastInputSsrc: number;
}

/**
 * A consumer that publishes to an RTSP server.
 *
 * @example
 * ```ts
 * const pusher = new RtspPusher("rtsp://127.0.0.1:8554/live");
 * await stream.addConsumer(pusher);
 * await pusher.connect();              // ANNOUNCE, SETUP, RECORD; frames flow from here
 * const error = await pusher.closed;   // the server went away (or stop() was called)
 * ```
 */
export class RtspPusher implements Consumer {
  readonly id = nextConnectionId();
  readonly url: string;
  readonly client: RtspClient;
  /** Resolves when the connection is gone: `undefined` after stop(), else the error. */
  readonly closed: Promise<Error | undefined>;
  bytesOut = 0;
  waits = 0;
  readonly #tracks: PushTrack[] = [];
  readonly #options: RtspPusherOptions;
  readonly #log: Logger;
  readonly #startedAt = new Date().toISOString();
  #nextPt = 96;
  #stopped = false;

  /** @throws {RtspUrlError} for a URL that is not rtsp:// or rtsps://. */
  constructor(url: string, options: RtspPusherOptions = {}) {
    this.url = url;
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.client = new RtspClient(url, {
      timeoutMs: options.timeoutMs ?? 5000,
      log: this.#log,
      userAgent: options.userAgent ?? "strom relay",
    });
    this.closed = this.client.closed;
  }

  medias(): Media[] {
    return [
      { kind: "video", direction: "sendonly", codecs: [{ name: CodecName.ANY, clockRate: 0 }] },
      { kind: "audio", direction: "sendonly", codecs: [{ name: CodecName.ANY, clockRate: 0 }] },
    ];
  }

  /** Records a track; its sender is attached once RECORD succeeded. */
  addTrack(media: Media, codec: Codec, receiver: Receiver): void {
    if (this.#stopped) return;
    const fixed = STATIC_PT[codec.name];
    const payloadType = fixed !== undefined && codec.clockRate === 8000 && (codec.channels ?? 1) <= 1
      ? fixed
      : this.#nextPt++;
    const sdpCodec: Codec = { ...codec, payloadType };
    const index = this.#tracks.length;
    const sender = new Sender(media, codec, (frame) => this.#send(this.#tracks[index], frame), {
      onError: (error) => this.#log.debug("rtsp push track failed", { error: String(error) }),
    });
    const track: PushTrack = {
      media: {
        kind: media.kind,
        direction: "sendrecv",
        codecs: [sdpCodec],
        id: `trackID=${index}`,
        port: 0,
        protocol: "RTP/AVP",
        attributes: [],
      },
      codec: sdpCodec,
      source: receiver,
      sender,
      channel: -1,
      payloadType,
      ssrc: (Math.random() * 0x100000000) >>> 0,
      seq: (Math.random() * 0x10000) & 0xffff,
      timestamps: new TimestampRewriter({ clockRate: codec.clockRate }),
      packetizer: undefined,
      lastInputSsrc: -1,
    };
    this.#tracks.push(track);
  }

  /** The SDP we ANNOUNCE. */
  sdp(): string {
    return toSdp(this.#tracks.map((t) => t.media), {
      sessionName: "strom",
      address: "0.0.0.0",
      attributes: ["control:*"],
    });
  }

  /** Connects, announces, sets up every track and starts RECORD; then frames flow. */
  async connect(): Promise<void> {
    if (!this.#tracks.length) {
      throw new Error("RtspPusher.connect() needs at least one track; add it to a stream first");
    }
    const client = this.client;
    await client.connect();
    // Some servers answer OPTIONS with an error before ANNOUNCE; that must not stop the publish.
    await client.optionsRequest().catch(() => {});
    await client.announce(this.sdp());
    for (const t of this.#tracks) t.channel = await client.setup(t.media, ";mode=record");
    await client.record();
    if (this.#stopped) return;
    for (const t of this.#tracks) t.source.addSender(t.sender);
  }

  #send(t: PushTrack, frame: Frame): void | Promise<void> {
    if (this.#stopped || !this.client.playing) return;
    const max = this.#options.maxBufferedBytes ?? 4 * 1024 * 1024;
    if (this.client.bufferedAmount > max) {
      // The server reads slower than we send: wait (the sender queues, then drops by its
      // keyframe-aware policy) instead of growing the socket buffer without bound.
      this.waits++;
      return this.#drained(max / 4).then(() => this.#send(t, frame));
    }
    let packets = frame.packets;
    if (!packets) {
      t.packetizer ??= createPacketizer(t.codec, t.media.kind);
      packets = t.packetizer.packetize(frame);
    } else if (packets.length && packets[0].ssrc !== t.lastInputSsrc) {
      // A new source connection: continue the timeline instead of jumping.
      if (t.lastInputSsrc !== -1) t.timestamps.reset();
      t.lastInputSsrc = packets[0].ssrc;
    }
    for (const pkt of packets) {
      const size = rtpSize(pkt);
      if (size > 0xffff) continue;
      const buf = new Uint8Array(size);
      writeRtp(pkt, buf, 0);
      const view = new DataView(buf.buffer);
      buf[1] = (buf[1] & 0x80) | t.payloadType;
      view.setUint16(2, t.seq);
      t.seq = (t.seq + 1) & 0xffff;
      view.setUint32(4, t.timestamps.rewrite(pkt.timestamp));
      view.setUint32(8, t.ssrc);
      this.client.sendRtp(t.channel, buf);
      this.bytesOut += size + 4;
    }
  }

  /** Resolves once the socket buffer fell below `low` bytes or the connection closed (bounded polling). */
  async #drained(low: number): Promise<void> {
    for (
      let i = 0;
      i < 500 && !this.#stopped && this.client.playing && this.client.bufferedAmount > low;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Detaches from the stream, sends TEARDOWN (short wait) and closes. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#tracks) t.sender.close();
    await this.client.teardown().catch(() => {});
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      format: "rtsp/push",
      protocol: "rtsp+tcp",
      remoteAddr: this.client.remoteAddr,
      url: redactUrl(this.url),
      medias: this.#tracks.map((t) => mediaToString({ ...t.media, direction: "sendonly" })),
      bytesOut: this.bytesOut,
      drops: this.#tracks.reduce((n, t) => n + t.sender.drops, 0),
      startedAt: this.#startedAt,
    };
  }
}
