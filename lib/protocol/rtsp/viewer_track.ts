/**
 * One track of an RTSP viewer session (one SDP media): what the viewer was told in DESCRIBE and
 * SETUP, where its packets go, and the per-track state the writer (viewer_rtp_writer.ts) and the
 * report clock (track_clock.ts) keep while it plays. Plain state: the RtspViewerConsumer
 * (consumer.ts) drives it.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import type { Receiver, Sender } from "../../core/fanout.ts";
import type { UdpSocket } from "../../runtime/mod.ts";
import { TimestampRewriter } from "../../rtp/rtp_rewriter.ts";
import type { FrameDepacketizer } from "./depay.ts";
import type { FramePacketizer } from "./pay.ts";
import { TrackClock } from "./track_clock.ts";

/**
 * Where one track's packets go: interleaved on the RTSP connection (`channel` for RTP, `channel + 1`
 * for RTCP), or UDP to the client's RTP and RTCP ports.
 */
export type TrackTransport =
  | { type: "tcp"; channel: number }
  | { type: "udp"; rtp: UdpSocket; rtcp: UdpSocket; host: string; port: number; rtcpPort: number };

/** A backchannel track's way in: the viewer's RTP is depacketized into frames for `receiver`. */
export interface Backchannel {
  receiver: Receiver;
  depacketizer: FrameDepacketizer;
}

/**
 * One track of an RTSP viewer, in SDP order.
 *
 * @example
 * ```ts
 * const track = new ViewerTrack(0, media, { name: "H264", clockRate: 90000, payloadType: 96 });
 * track.transport = { type: "tcp", channel: 0 }; // SETUP
 * track.control; // "trackID=0"
 * ```
 */
export class ViewerTrack {
  /** Position in the SDP; the control URL is `trackID=<index>`. */
  readonly index: number;
  /** Our media (sendonly for video/audio to the viewer, recvonly for its backchannel). */
  readonly media: Media;
  /** The codec as written in our SDP (payload type set). */
  readonly codec: Codec;
  /** The payload type every packet of this track carries (the one in our SDP). */
  readonly payloadType: number;
  /** Our SSRC for this track (random, RFC 3550 section 8.1). */
  readonly ssrc: number;
  /** Set by SETUP; frames are written only to a track that has one. */
  transport: TrackTransport | undefined;
  /** Viewer -> source tracks (backchannel) only. */
  readonly backchannel: Backchannel | undefined;
  /** Source -> viewer tracks: the bounded queue that feeds this track's frames to the writer. */
  sender: Sender | undefined;
  /** The source's receiver the sender is attached to at PLAY (and detached from at PAUSE). */
  sourceReceiver: Receiver | undefined;

  /** Sequence number of the next packet written (continues without gaps across sources). */
  nextSequence: number;
  /** The RTP timestamp at the first PLAY instant (RTP-Info `rtptime`, npt=0). */
  readonly initialTimestamp: number;
  /**
   * Source timestamps -> the viewer's continuous timeline. Replaced once, when the first frames
   * are placed on it (consumer.ts), and continued across source reconnects.
   */
  timeline: TimestampRewriter;
  /** Output RTP timestamp of the last packet written. */
  lastRtpTimestamp = 0;
  /** SSRC of the source packets last forwarded, to notice a new source connection; -1 before. */
  sourceSsrc = -1;
  /**
   * The receiver the last frame came through: another one means the stream moved this track to a
   * new connection (a reconnect, or its source was replaced), and the timeline must continue.
   */
  lastFrameReceiver: Receiver | undefined;
  /** Built on the first frame that has to be packetized (non-RTP source, or `pkt_size`). */
  packetizer: FramePacketizer | undefined;

  /** The clock the RTCP sender reports of this track are made from. */
  readonly clock: TrackClock;
  /** RTP packets sent (the sender report's packet count). */
  packetsSent = 0;
  /** RTP payload octets sent, headers excluded (the sender report's octet count). */
  payloadOctetsSent = 0;
  /** RTCP sender reports sent. */
  reportsSent = 0;

  /**
   * The first frames, held for one microtask until they are placed on the timeline together
   * (consumer.ts); undefined before the first frame and once they are out.
   */
  firstFrames: Frame[] | undefined;
  /** While the first frames wait for the socket: what the sender waits on meanwhile. */
  firstFramesWait: Promise<void> | undefined;
  /** Whether the first frames were placed on the timeline: later frames are written straight. */
  onTimeline = false;
  /**
   * `sender.frames` once the frames queued before PLAY (the GOP cache) are out: frames after that
   * are live, and only live frames correct the report clock.
   */
  framesBeforeLive = 0;

  constructor(index: number, media: Media, codec: Codec, backchannel?: Backchannel) {
    this.index = index;
    this.media = media;
    this.codec = codec;
    this.payloadType = codec.payloadType ?? 96;
    this.ssrc = (Math.random() * 0x100000000) >>> 0;
    this.nextSequence = (Math.random() * 0x10000) & 0xffff;
    this.initialTimestamp = (Math.random() * 0x100000000) >>> 0;
    this.timeline = new TimestampRewriter({ initial: this.initialTimestamp, clockRate: codec.clockRate });
    this.clock = new TrackClock(codec.clockRate);
    this.backchannel = backchannel;
  }

  /** The control path of this track (`trackID=N`). */
  get control(): string {
    return `trackID=${this.index}`;
  }

  /** Attaches the sender to the source's receiver; frames queued now (the GOP cache) are not live. */
  attach(): void {
    const sender = this.sender;
    if (!sender || !this.sourceReceiver) return;
    // Video starts from the cached GOP. Audio starts live: RTSP players line tracks up by the RTCP
    // sender reports, and each track's report clock takes its newest first frame as "now", which
    // replayed audio (cached with its bursts) would put up to a burst early.
    this.sourceReceiver.addSender(sender, { fromCache: this.media.kind !== "audio" });
    this.framesBeforeLive = sender.frames + sender.queued;
  }
}
