/**
 * An RTSP viewer as a strom consumer: one track per matched media, written as RTP over the viewer's
 * TCP connection (interleaved) or UDP.
 *
 * Per frame: the frame's own RTP packets are forwarded when it came from RTP (camera, publisher),
 * else it is packetized. Every packet gets the payload type of our SDP, this track's SSRC, a sequence
 * number that continues without gaps, and a timestamp mapped onto one continuous timeline (the
 * source may reconnect). The packets of one frame go out as ONE socket write.
 *
 * Backpressure: when the socket buffer is above its high-water mark the frame handler returns the
 * drain promise, so the Sender (lib/core/node.ts) queues and then drops per its policy; a slow viewer
 * never stalls the camera or other viewers, and memory stays bounded.
 *
 * @module
 */
import { type Codec, CodecName } from "../../core/codec.ts";
import { type ConnectionInfo, type Consumer, nextConnectionId } from "../../core/connection.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type Media, mediaToString, toSdp } from "../../core/media.ts";
import { Receiver, Sender } from "../../core/node.ts";
import type { TcpConn, UdpSocket } from "../../runtime/mod.ts";
import { type RtpPacket, rtpSize, writeRtp } from "../../rtp/packet.ts";
import { TimestampRewriter } from "../../rtp/rtp_rewriter.ts";
import { createDepacketizer, type FrameDepacketizer } from "./depay.ts";
import { writeInterleavedHeader } from "./message.ts";
import { createPacketizer, type FramePacketizer } from "./pay.ts";

/** Where one track's packets go. */
export type TrackTransport =
  | { type: "tcp"; channel: number }
  | { type: "udp"; rtp: UdpSocket; rtcp: UdpSocket; host: string; port: number; rtcpPort: number };

/** One track of an RTSP viewer, in SDP order. */
export class ViewerTrack {
  readonly index: number;
  /** Our media (sendonly for video/audio to the viewer, recvonly for its backchannel). */
  readonly media: Media;
  /** The codec as written in our SDP (payload type set). */
  readonly codec: Codec;
  readonly payloadType: number;
  readonly ssrc: number;
  transport: TrackTransport | undefined;
  /** Viewer -> source (backchannel) tracks have a receiver we push into. */
  readonly inbound: { receiver: Receiver; depay: FrameDepacketizer } | undefined;
  sender: Sender | undefined;
  source: Receiver | undefined;
  /** Next sequence number. */
  seq: number;
  readonly timestamps: TimestampRewriter;
  /** The first RTP timestamp this track writes (for RTP-Info). */
  readonly initialTimestamp: number;
  packetizer: FramePacketizer | undefined;
  lastInputSsrc = -1;
  packetsOut = 0;

  constructor(index: number, media: Media, codec: Codec, inbound?: ViewerTrack["inbound"]) {
    this.index = index;
    this.media = media;
    this.codec = codec;
    this.payloadType = codec.payloadType ?? 96;
    this.ssrc = (Math.random() * 0x100000000) >>> 0;
    this.seq = (Math.random() * 0x10000) & 0xffff;
    this.initialTimestamp = (Math.random() * 0x100000000) >>> 0;
    this.timestamps = new TimestampRewriter({ initial: this.initialTimestamp, clockRate: codec.clockRate });
    this.inbound = inbound;
  }

  /** The control path of this track (`trackID=N`). */
  get control(): string {
    return `trackID=${this.index}`;
  }
}

/** Options of {@link RtspViewerConsumer}. */
export interface RtspViewerOptions {
  conn: TcpConn;
  /** Medias asked for (from the URL query). */
  medias: Media[];
  url?: string;
  userAgent?: string;
  log?: Logger;
  /** Frames are not written while more than this many bytes wait in the socket. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** MTU for packetizing non-RTP sources. Default 1200. */
  mtu?: number;
  /**
   * The source URL this viewer stands for (`?source=` in the URL, set by strom's ffmpeg sources
   * reading their own stream back): the stream never feeds it from that source (loop protection).
   */
  source?: string;
}

const STATIC_PT: Record<string, number> = { PCMU: 0, PCMA: 8, G722: 9 };

// One frame buffer shared by every TCP viewer in the process. A viewer takes it, serializes its
// frame into it and writes it; when the socket took the write whole (nothing queued), the runtime
// holds no reference any more and the buffer goes back for the next viewer. The fan-out is
// synchronous, so with 200 viewers of one camera this is one buffer the size of the largest frame
// instead of 200 (a keyframe per viewer: ~170 KB x 200 = 34 MB at 1080p 4 Mbit/s). A buffer the
// socket kept is simply left to it; the next write takes a fresh one.
let sharedFrameBuffer: Uint8Array | undefined;

/**
 * The consumer of one RTSP viewer session.
 *
 * @example
 * ```ts
 * const viewer = new RtspViewerConsumer({ conn, medias: parseMediaQuery(query) });
 * await stream.addConsumer(viewer);
 * const sdp = viewer.sdp("127.0.0.1");
 * // SETUP: viewer.tracks[i].transport = { type: "tcp", channel: 0 }
 * viewer.play();
 * ```
 */
export class RtspViewerConsumer implements Consumer {
  readonly id = nextConnectionId();
  readonly tracks: ViewerTrack[] = [];
  readonly source?: string;
  /** Times a frame had to wait because the socket was over its buffer bound. */
  waits = 0;
  bytesOut = 0;
  bytesIn = 0;
  readonly #conn: TcpConn;
  readonly #medias: Media[];
  readonly #options: RtspViewerOptions;
  readonly #log: Logger;
  readonly #maxBuffered: number;
  readonly #startedAt = new Date().toISOString();
  #playing = false;
  #stopped = false;
  #nextPt = 96;

  constructor(options: RtspViewerOptions) {
    this.#conn = options.conn;
    this.#medias = options.medias;
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    if (options.source) this.source = options.source;
  }

  medias(): Media[] {
    return this.#medias;
  }

  #payloadType(codec: Codec): number {
    const fixed = STATIC_PT[codec.name];
    if (fixed !== undefined && codec.clockRate === 8000 && (codec.channels ?? 1) <= 1) return fixed;
    return this.#nextPt++;
  }

  /** A source track for the viewer: becomes one SDP media. */
  addTrack(media: Media, codec: Codec, receiver: Receiver): void {
    if (this.#stopped) return;
    const sdpCodec: Codec = { ...codec, payloadType: this.#payloadType(codec) };
    const track = new ViewerTrack(this.tracks.length, {
      kind: media.kind,
      direction: "sendonly",
      codecs: [sdpCodec],
    }, sdpCodec);
    track.source = receiver;
    track.sender = new Sender(track.media, codec, (frame) => this.#write(track, frame), {
      onError: (error) => this.#log.debug("rtsp viewer track failed", { error: String(error) }),
    });
    this.tracks.push(track);
    // Attached at PLAY, so the GOP cache is delivered after the PLAY response.
    if (this.#playing) receiver.addSender(track.sender);
  }

  /** Backchannel: the viewer sends audio (a `recvonly` media of ours); returns its receiver. */
  track(media: Media, codec: Codec): Receiver {
    const sdpCodec: Codec = { ...codec, payloadType: this.#payloadType(codec) };
    const ours: Media = { kind: media.kind, direction: "recvonly", codecs: [sdpCodec] };
    const receiver = new Receiver(ours, codec);
    const depay = createDepacketizer(codec, media.kind, (frame) => receiver.push(frame));
    this.tracks.push(new ViewerTrack(this.tracks.length, ours, sdpCodec, { receiver, depay }));
    return receiver;
  }

  /**
   * The SDP answer for DESCRIBE. Media we send carry no direction attribute (sendrecv, as ffmpeg
   * and most cameras write it); a backchannel carries `a=sendonly` in the ONVIF sense (the client
   * sends), which is how go2rtc and strom's client recognise it.
   */
  sdp(address: string): string {
    return toSdp(
      this.tracks.map((t) => ({
        ...t.media,
        direction: t.inbound ? "sendonly" as const : "sendrecv" as const,
        id: t.control,
      })),
      { address, sessionName: "strom", attributes: ["control:*", "range:npt=0-"] },
    );
  }

  /** The track a SETUP/PLAY URL names (`.../trackID=N`), or the first track not set up yet. */
  trackFor(uri: string): ViewerTrack | undefined {
    const m = /trackID=(\d+)\s*$/i.exec(uri);
    if (m) return this.tracks[Number(m[1])];
    return this.tracks.find((t) => !t.transport);
  }

  /** Whether PLAY is on. */
  get playing(): boolean {
    return this.#playing;
  }

  /**
   * Starts sending. Returns the `RTP-Info` header value (RFC 2326 section 12.33): the first
   * sequence number and RTP timestamp of each set-up track.
   */
  play(baseUrl: string): string {
    const info: string[] = [];
    for (const t of this.tracks) {
      if (!t.transport || t.inbound) continue;
      info.push(
        `url=${baseUrl.replace(/\/+$/, "")}/${t.control};seq=${t.seq};rtptime=${
          t.packetsOut ? t.timestamps.highest : t.initialTimestamp
        }`,
      );
    }
    return info.join(",");
  }

  /** Attaches the senders; called after the PLAY response is written. */
  startSending(): void {
    if (this.#playing || this.#stopped) return;
    this.#playing = true;
    for (const t of this.tracks) {
      if (t.sender && t.source && t.transport) t.source.addSender(t.sender);
    }
  }

  /** PAUSE: detaches the senders (the tracks and their state stay). */
  pause(): void {
    if (!this.#playing) return;
    this.#playing = false;
    for (const t of this.tracks) {
      if (t.sender) t.sender.receiver?.removeSender(t.sender);
    }
  }

  /** RTP from the viewer on a channel (backchannel audio). */
  onRtp(channel: number, pkt: RtpPacket): void {
    for (const t of this.tracks) {
      if (t.inbound && t.transport?.type === "tcp" && t.transport.channel === channel) {
        t.inbound.depay.push(pkt);
        return;
      }
    }
  }

  #write(t: ViewerTrack, frame: Frame): void | Promise<void> {
    const transport = t.transport;
    if (!transport || this.#stopped) return;
    let packets = frame.packets;
    if (!packets) {
      t.packetizer ??= createPacketizer(t.codec, t.media.kind, this.#options.mtu ?? 1200);
      packets = t.packetizer.packetize(frame);
    } else if (packets.length && packets[0].ssrc !== t.lastInputSsrc) {
      // A new source connection: continue the timeline instead of jumping.
      if (t.lastInputSsrc !== -1) t.timestamps.reset();
      t.lastInputSsrc = packets[0].ssrc;
    }
    const n = packets.length;
    if (n === 0) return;
    const conn = this.#conn;
    if (transport.type === "tcp") {
      if (conn.bufferedAmount > this.#maxBuffered) {
        // Over the bound (several tracks share the socket): wait before writing this frame; the
        // sender's queue fills meanwhile and drops by its keyframe-aware policy.
        this.waits++;
        return conn.drained().then(() => this.#write(t, frame), () => {});
      }
      let total = 0;
      for (let i = 0; i < n; i++) total += 4 + rtpSize(packets[i]);
      let buf = sharedFrameBuffer;
      if (!buf || buf.length < total) buf = new Uint8Array(Math.max(total, 4096));
      sharedFrameBuffer = undefined;
      let off = 0;
      for (let i = 0; i < n; i++) {
        const pkt = packets[i];
        const size = rtpSize(pkt);
        if (size > 0xffff) continue;
        writeInterleavedHeader(buf, off, transport.channel, size);
        writeRtp(pkt, buf, off + 4);
        this.#patch(t, buf, off + 4, pkt);
        off += 4 + size;
      }
      this.bytesOut += off;
      t.packetsOut += n;
      const accepted = conn.write(buf.subarray(0, off));
      // Nothing queued means the bytes went to the kernel and the runtime holds no reference to buf
      // (checked on Node, Deno and Bun: consumer_test.ts "shares one frame buffer").
      if (conn.bufferedAmount === 0) {
        sharedFrameBuffer = buf;
        // write() says "above the high-water mark" for any chunk larger than the mark (Node's
        // Writable compares before writing), even when the socket took it whole. Nothing is
        // queued, so there is nothing to wait for: waiting would cost a promise per frame per
        // viewer and delay the next frame to the 'drain' event.
        return;
      }
      if (!accepted) return conn.drained().catch(() => {});
      return;
    }
    let total = 0;
    for (let i = 0; i < n; i++) total += rtpSize(packets[i]);
    const buf = new Uint8Array(total);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const pkt = packets[i];
      const size = writeRtp(pkt, buf, off);
      this.#patch(t, buf, off, pkt);
      transport.rtp.send(buf.subarray(off, off + size), transport.port, transport.host);
      off += size;
    }
    this.bytesOut += off;
    t.packetsOut += n;
  }

  // Rewrites PT, sequence number, timestamp and SSRC in a serialized header (the source packet is
  // shared with other viewers and is never modified).
  #patch(t: ViewerTrack, buf: Uint8Array, at: number, pkt: RtpPacket): void {
    buf[at + 1] = (buf[at + 1] & 0x80) | t.payloadType;
    const seq = t.seq;
    t.seq = (seq + 1) & 0xffff;
    buf[at + 2] = seq >> 8;
    buf[at + 3] = seq & 0xff;
    const ts = t.timestamps.rewrite(pkt.timestamp);
    buf[at + 4] = ts >>> 24;
    buf[at + 5] = (ts >>> 16) & 0xff;
    buf[at + 6] = (ts >>> 8) & 0xff;
    buf[at + 7] = ts & 0xff;
    const ssrc = t.ssrc;
    buf[at + 8] = ssrc >>> 24;
    buf[at + 9] = (ssrc >>> 16) & 0xff;
    buf[at + 10] = (ssrc >>> 8) & 0xff;
    buf[at + 11] = ssrc & 0xff;
  }

  /** Detaches from every receiver. The session closes the connection. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#playing = false;
    for (const t of this.tracks) t.sender?.close();
  }

  /** Whether {@link stop} was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  info(): ConnectionInfo {
    const remote = this.#conn.remoteAddr;
    const udp = this.tracks.some((t) => t.transport?.type === "udp");
    return {
      id: this.id,
      format: "rtsp",
      protocol: udp ? "rtsp+udp" : "rtsp+tcp",
      remoteAddr: `${
        remote.hostname.includes(":") ? `[${remote.hostname}]` : remote.hostname
      }:${remote.port}`,
      url: this.#options.url,
      userAgent: this.#options.userAgent,
      medias: this.tracks.map((t) => mediaToString(t.media)),
      bytesOut: this.bytesOut,
      bytesIn: this.bytesIn,
      drops: this.tracks.reduce((n, t) => n + (t.sender?.drops ?? 0), 0),
      startedAt: this.#startedAt,
    };
  }
}

/**
 * The medias a viewer asks for with go2rtc's RTSP query: `?video=h264&audio=aac`, `?video=all`,
 * `?mp4` (H.264/H.265 + AAC), `?backchannel=1` (adds the viewer's audio towards the source).
 * An empty query uses `defaultQuery` (go2rtc's `video&audio`).
 *
 * @example
 * ```ts
 * viewerMedias(new URLSearchParams("mp4"), "video&audio");
 * // [video sendonly H264,H265], [audio sendonly MPEG4-GENERIC]
 * ```
 */
export function viewerMedias(
  query: URLSearchParams,
  defaultQuery: string,
  parse: (q: URLSearchParams) => Media[],
): Media[] {
  const filtered = new URLSearchParams();
  for (const [k, v] of query) {
    if (k === "video" || k === "audio" || k === "mp4" || k === "backchannel") filtered.append(k, v);
  }
  const q = [...filtered.keys()].some((k) => k !== "backchannel")
    ? filtered
    : new URLSearchParams(defaultQuery);
  let medias: Media[];
  if (q.has("mp4")) {
    medias = [
      {
        kind: "video",
        direction: "sendonly",
        codecs: [{ name: CodecName.H264, clockRate: 90000 }, { name: CodecName.H265, clockRate: 90000 }],
      },
      { kind: "audio", direction: "sendonly", codecs: [{ name: CodecName.AAC, clockRate: 0 }] },
    ];
  } else {
    medias = parse(q);
  }
  const bc = query.get("backchannel");
  if (bc === "1" || bc === "true") {
    // What a viewer's microphone can be turned into for a camera speaker (go2rtc's list).
    medias.push({
      kind: "audio",
      direction: "recvonly",
      codecs: [
        { name: CodecName.OPUS, clockRate: 48000, channels: 2 },
        { name: CodecName.PCMA, clockRate: 16000 },
        { name: CodecName.PCMU, clockRate: 16000 },
        { name: CodecName.PCMA, clockRate: 8000 },
        { name: CodecName.PCMU, clockRate: 8000 },
        { name: CodecName.AAC, clockRate: 16000 },
        { name: CodecName.AAC, clockRate: 8000 },
      ],
    });
  }
  return medias;
}
