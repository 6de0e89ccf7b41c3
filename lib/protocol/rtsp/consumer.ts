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
 * drain promise, so the Sender (lib/core/fanout.ts) queues and then drops per its policy; a slow viewer
 * never stalls the camera or other viewers, and memory stays bounded.
 *
 * RTCP sender reports (RFC 3550 section 6.4.1, see sender_report.ts): each track sends an SR + SDES
 * CNAME compound packet right after its first RTP packets, then every 5 s, on the track's RTCP
 * channel (RTP channel + 1) over TCP or from our RTCP socket to the client's RTCP port over UDP.
 * A report maps the track's output RTP clock (the rewritten timeline the viewer sees) to the
 * wallclock, one wallclock for every track: players (ffmpeg, VLC, Frigate) line audio up with
 * video by it. Each track keeps a clock, output timestamp T is wallclock instant W:
 * - set at PLAY so that RTP-Info's rtptime is the PLAY instant on every track (what RFC 2326
 *   12.33 says it is); ffmpeg times packets from rtptime until the first report, so the report
 *   agrees with what it already did and no timestamp jumps;
 * - the first frames (the GOP cache, or a burst) are placed on it so that the newest is "now"
 *   (the newest cached frame a frame interval before: it came in before PLAY);
 * - corrected at each report from the live frames since the last one (the earliest-arriving
 *   frame tells the truth: jitter and bursts only delay), later at once, earlier by at most
 *   10 ms per report so a player's timestamps never step back by a frame.
 * A source reconnect continues the timeline where the clock is, so the mapping stays continuous.
 * One timer per viewer, running while playing; per frame only a few numbers on the track change.
 *
 * RTCP from the viewer (receiver reports, SDES, BYE) is read and ignored by the session apart from
 * keeping a UDP session alive; a BYE does not end the session. RTSP owns the session's lifetime
 * (TEARDOWN, the connection closing, the session timeout), and RFC 3550 section 8.2 has a client
 * send BYE for an SSRC it merely replaces, so ending on BYE could cut off a viewer that is still
 * watching. Clients that leave send TEARDOWN or close the connection after their BYE; a UDP client
 * that vanishes sends no more RTCP and times out.
 *
 * @module
 */
import { type Codec, CodecName } from "../../core/codec.ts";
import { type ConnectionInfo, type Consumer, nextConnectionId } from "../../core/connection.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type Media, mediaToString, toSdp } from "../../core/media.ts";
import { Receiver, Sender } from "../../core/fanout.ts";
import type { TcpConn, UdpSocket } from "../../runtime/mod.ts";
import { type RtpPacket, rtpSize, writeRtp } from "../../rtp/packet.ts";
import { TimestampRewriter } from "../../rtp/rtp_rewriter.ts";
import { createDepacketizer, type FrameDepacketizer } from "./depay.ts";
import { writeInterleavedHeader } from "./message.ts";
import { createPacketizer, type FramePacketizer } from "./pay.ts";
import {
  clockCorrection,
  extrapolateRtpTimestamp,
  lateness,
  randomCname,
  SENDER_REPORT_INTERVAL_MS,
  senderReport,
  wallClockMs,
} from "./sender_report.ts";

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
  /** Input -> output timestamps; replaced once when the first frames are placed on the timeline. */
  timestamps: TimestampRewriter;
  /** The RTP timestamp at the first PLAY instant (RTP-Info `rtptime`, npt=0). */
  readonly initialTimestamp: number;
  packetizer: FramePacketizer | undefined;
  lastInputSsrc = -1;
  /** RTP packets sent (the sender report's packet count). */
  packetsOut = 0;
  /** RTP payload octets sent, headers excluded (the sender report's octet count). */
  octetsOut = 0;
  /** Output RTP timestamp of the last packet written. */
  lastTimestamp = 0;
  /**
   * The track's clock: output RTP timestamp `clockTimestamp` is the wallclock instant
   * `clockAt` (`performance.now()` ms), advancing at the codec clock rate. Set at PLAY (so that
   * RTP-Info's rtptime of every track is the same instant), corrected at each report; -1 before.
   */
  clockTimestamp = 0;
  clockAt = -1;
  /**
   * Lowest lateness (clock ticks) of a live frame against the clock since the last report:
   * `Infinity` when none. Jitter and bursts only make frames late, so the lowest is the truth.
   */
  minLate = Infinity;
  /** Whether the first frames were placed on the timeline (see `#place`). */
  placed = false;
  /** The first frames, held until they are placed (see `#place`), and the socket wait while writing them. */
  held: Frame[] | undefined;
  heldWait: Promise<void> | undefined;
  /** `sender.frames` once the frames queued before PLAY (the GOP cache) are out: later ones are live. */
  liveAfter = 0;
  /** RTCP sender reports sent. */
  reportsSent = 0;

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
   * go2rtc's `pkt_size`: re-packetize every frame into RTP packets of at most this many bytes
   * (header included), even when the source's own packets could be forwarded. Unset: forward them.
   */
  packetSize?: number;
  /**
   * The source URL this viewer stands for (`?source=` in the URL, set by strom's ffmpeg sources
   * reading their own stream back): the stream never feeds it from that source (loop protection).
   */
  source?: string;
  /**
   * Milliseconds between RTCP sender reports of each track (the first goes out with the first
   * frame). Default 5000 ({@link SENDER_REPORT_INTERVAL_MS}); 0 sends none.
   */
  senderReportIntervalMs?: number;
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
  /** RTCP CNAME shared by the tracks of this session (RFC 3550 section 6.5.1). */
  readonly #cname = randomCname();
  readonly #reportIntervalMs: number;
  #reportTimer: ReturnType<typeof setInterval> | undefined;
  #playing = false;
  #stopped = false;
  #nextPt = 96;

  constructor(options: RtspViewerOptions) {
    this.#conn = options.conn;
    this.#medias = options.medias;
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.#reportIntervalMs = options.senderReportIntervalMs ?? SENDER_REPORT_INTERVAL_MS;
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
    if (this.#playing) {
      receiver.addSender(track.sender);
      track.liveAfter = track.sender.frames + track.sender.queued;
    }
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
   * Starts sending. Returns the `RTP-Info` header value (RFC 2326 section 12.33): per set-up track
   * the next sequence number and the RTP timestamp of this instant (the Range start, npt=0), the
   * same instant on every track.
   */
  play(baseUrl: string): string {
    const info: string[] = [];
    const now = performance.now();
    for (const t of this.tracks) {
      if (!t.transport || t.inbound) continue;
      // rtptime is "the RTP timestamp corresponding to the time value in the Range response
      // header": one instant (now, npt=0) for every track, on the clock the sender reports use.
      // Players (ffmpeg) time packets from it until the first report; aligned this way, the
      // reports never make their timestamps jump.
      let rtptime = t.initialTimestamp;
      if (t.clockAt < 0) {
        t.clockTimestamp = rtptime;
        t.clockAt = now;
      } else if (t.codec.clockRate > 0) {
        rtptime = extrapolateRtpTimestamp(t.clockTimestamp, t.clockAt, now, t.codec.clockRate);
      }
      info.push(`url=${baseUrl.replace(/\/+$/, "")}/${t.control};seq=${t.seq};rtptime=${rtptime}`);
    }
    return info.join(",");
  }

  /** Attaches the senders; called after the PLAY response is written. */
  startSending(): void {
    if (this.#playing || this.#stopped) return;
    this.#playing = true;
    if (this.#reportIntervalMs > 0) {
      this.#reportTimer = setInterval(this.#sendReports, this.#reportIntervalMs);
    }
    for (const t of this.tracks) {
      if (t.sender && t.source && t.transport) {
        t.source.addSender(t.sender);
        t.liveAfter = t.sender.frames + t.sender.queued;
      }
    }
  }

  /** PAUSE: detaches the senders (the tracks and their state stay). */
  pause(): void {
    if (!this.#playing) return;
    this.#playing = false;
    clearInterval(this.#reportTimer);
    this.#reportTimer = undefined;
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
    if (!t.transport || this.#stopped) return;
    if (t.placed) return this.#writeFrame(t, frame);
    // The first frames of a track are held for one microtask, then placed (see #place).
    const held = (t.held ??= []);
    held.push(frame);
    if (held.length === 1 && t.heldWait === undefined) queueMicrotask(() => this.#guard(t, 0));
    // While held frames wait for the socket, the sender waits too (its queue bounds memory).
    return t.heldWait;
  }

  // The first frames of a track (the GOP cache at PLAY, or a burst from the source: everything
  // handed over before this microtask) are placed on the timeline so that the newest is "now" on
  // the track's clock and the older ones lie before it, then written in order. Placing the first
  // frame at "now" instead would put a burst's newest frame up to the burst's length in the future,
  // and the clock would need long to come back. Runs once per track.
  #place(t: ViewerTrack): void {
    const frames = t.held;
    if (this.#stopped || !frames?.length) return;
    const now = performance.now();
    const rate = t.codec.clockRate;
    if (t.clockAt < 0) {
      t.clockTimestamp = t.initialTimestamp;
      t.clockAt = now;
    }
    let newest = rate > 0
      ? extrapolateRtpTimestamp(t.clockTimestamp, t.clockAt, now, rate)
      : t.clockTimestamp;
    const sender = t.sender;
    if (sender !== undefined && sender.frames <= t.liveAfter) {
      // The GOP cache: its newest frame came in up to a frame interval before PLAY. Placing it a
      // full interval back errs on the side the clock corrects at once (frames look late).
      let interval = 0;
      for (let i = 1; i < frames.length; i++) {
        const d = (frames[i].timestamp - frames[i - 1].timestamp) | 0;
        if (d > 0 && (interval === 0 || d < interval)) interval = d;
      }
      newest = (newest - interval) >>> 0;
    }
    const span = (frames[frames.length - 1].timestamp - frames[0].timestamp) | 0;
    t.timestamps = new TimestampRewriter({ initial: (newest - Math.max(0, span)) >>> 0, clockRate: rate });
    this.#writeHeld(t, 0);
  }

  // Places (from 0) or goes on writing the held frames outside the sender's drain, so a failure
  // closes the track's sender the way a failing frame handler does.
  #guard(t: ViewerTrack, from: number): void {
    try {
      if (from === 0) this.#place(t);
      else this.#writeHeld(t, from);
    } catch (error) {
      t.held = undefined;
      t.sender?.close();
      this.#log.debug("rtsp viewer track failed", { error: String(error) });
    }
  }

  // Writes the held frames in order, including any handed over while it waited for the socket.
  #writeHeld(t: ViewerTrack, from: number): void {
    const frames = t.held;
    if (!frames || this.#stopped) return;
    for (let i = from; i < frames.length; i++) {
      const wait = this.#writeFrame(t, frames[i]);
      if (wait) {
        t.heldWait = wait.then(() => {
          t.heldWait = undefined;
          this.#guard(t, i + 1);
        });
        return;
      }
    }
    t.held = undefined;
    t.placed = true;
  }

  #writeFrame(t: ViewerTrack, frame: Frame): void | Promise<void> {
    const transport = t.transport;
    if (!transport || this.#stopped) return;
    let packets = this.#options.packetSize === undefined ? frame.packets : undefined;
    if (!packets) {
      t.packetizer ??= createPacketizer(
        t.codec,
        t.media.kind,
        this.#options.packetSize ?? this.#options.mtu ?? 1200,
      );
      packets = t.packetizer.packetize(frame);
    } else if (packets.length && packets[0].ssrc !== t.lastInputSsrc) {
      // A new source connection: continue the timeline instead of jumping, at the point the
      // wallclock says it has reached, so the mapping in our sender reports stays continuous.
      if (t.lastInputSsrc !== -1) this.#continueTimeline(t);
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
        return conn.drained().then(() => this.#writeFrame(t, frame), () => {});
      }
      let total = 0;
      for (let i = 0; i < n; i++) total += 4 + rtpSize(packets[i]);
      let buf = sharedFrameBuffer;
      if (!buf || buf.length < total) buf = new Uint8Array(Math.max(total, 4096));
      sharedFrameBuffer = undefined;
      let off = 0;
      let written = 0;
      let octets = 0;
      for (let i = 0; i < n; i++) {
        const pkt = packets[i];
        const size = rtpSize(pkt);
        if (size > 0xffff) continue;
        writeInterleavedHeader(buf, off, transport.channel, size);
        writeRtp(pkt, buf, off + 4);
        this.#patch(t, buf, off + 4, pkt);
        off += 4 + size;
        written++;
        octets += pkt.payload.length;
      }
      this.bytesOut += off;
      t.packetsOut += written;
      t.octetsOut += octets;
      const accepted = conn.write(buf.subarray(0, off));
      // Nothing queued means the bytes went to the kernel and the runtime holds no reference to buf
      // (checked on Node, Deno and Bun: consumer_test.ts "shares one frame buffer").
      const queued = conn.bufferedAmount !== 0;
      if (!queued) sharedFrameBuffer = buf;
      // After the frame's write and after the buffer went back: a sender report is its own write
      // from its own buffer, never inside a frame.
      if (written) this.#afterFrame(t);
      // write() says "above the high-water mark" for any chunk larger than the mark (Node's
      // Writable compares before writing), even when the socket took it whole. Nothing queued
      // means nothing to wait for: waiting would cost a promise per frame per viewer and delay
      // the next frame to the 'drain' event.
      if (queued && !accepted) return conn.drained().catch(() => {});
      return;
    }
    let total = 0;
    for (let i = 0; i < n; i++) total += rtpSize(packets[i]);
    const buf = new Uint8Array(total);
    let off = 0;
    let octets = 0;
    for (let i = 0; i < n; i++) {
      const pkt = packets[i];
      const size = writeRtp(pkt, buf, off);
      this.#patch(t, buf, off, pkt);
      transport.rtp.send(buf.subarray(off, off + size), transport.port, transport.host);
      off += size;
      octets += pkt.payload.length;
    }
    this.bytesOut += off;
    t.packetsOut += n;
    t.octetsOut += octets;
    this.#afterFrame(t);
  }

  // Once per frame, after its packets went out: measures how late the frame is on the track's
  // clock and sends the track's first report. Numbers only; nothing allocated unless a report goes.
  #afterFrame(t: ViewerTrack): void {
    const now = performance.now();
    const rate = t.codec.clockRate;
    if (rate > 0) {
      // Keep the clock's reference recent, so tick counts stay far inside 32 bits.
      if (now - t.clockAt > 10_000) {
        t.clockTimestamp = extrapolateRtpTimestamp(t.clockTimestamp, t.clockAt, now, rate);
        t.clockAt = now;
      }
      const sender = t.sender;
      // Frames out of the GOP cache or a backlog (newer ones queued behind) are late on purpose.
      if (sender === undefined || (sender.frames > t.liveAfter && sender.queued === 0)) {
        const late = lateness(t.clockTimestamp, t.clockAt, now, rate, t.lastTimestamp);
        if (late < t.minLate) t.minLate = late;
      }
    }
    // The first report right after the track's first packets, so a player syncs from the start.
    if (t.reportsSent === 0 && this.#reportIntervalMs > 0) this.#sendReport(t, now);
  }

  // Moves the track's clock by what the live frames since the last report showed (later at once,
  // earlier 10 ms a report: see clockCorrection).
  #correctClock(t: ViewerTrack): void {
    const step = clockCorrection(t.minLate, t.codec.clockRate);
    t.minLate = Infinity;
    if (step !== 0) t.clockTimestamp = (t.clockTimestamp - step) >>> 0;
  }

  #continueTimeline(t: ViewerTrack): void {
    if (t.clockAt < 0 || !(t.codec.clockRate > 0)) {
      t.timestamps.reset();
      return;
    }
    const now = extrapolateRtpTimestamp(t.clockTimestamp, t.clockAt, performance.now(), t.codec.clockRate);
    // A step of 0 or less (the clock is behind the highest output) falls back to one frame.
    t.timestamps.reset({ delta: (now - t.timestamps.highest) | 0 });
  }

  readonly #sendReports = (): void => {
    if (this.#stopped || !this.#playing) return;
    const now = performance.now();
    for (const t of this.tracks) {
      if (!t.placed) continue;
      this.#correctClock(t);
      this.#sendReport(t, now);
    }
  };

  // One SR + SDES compound packet for a track, its RTP timestamp extrapolated to `now`.
  #sendReport(t: ViewerTrack, now: number): void {
    const transport = t.transport;
    if (!transport || t.inbound || t.clockAt < 0 || !(t.codec.clockRate > 0) || this.#stopped) return;
    const info = {
      ssrc: t.ssrc,
      wallClockMs: wallClockMs(now),
      rtpTimestamp: extrapolateRtpTimestamp(t.clockTimestamp, t.clockAt, now, t.codec.clockRate),
      packetCount: t.packetsOut,
      octetCount: t.octetsOut,
    };
    if (transport.type === "tcp") {
      const conn = this.#conn;
      // A viewer that stopped reading gets no more reports piled up behind its frames.
      if (conn.bufferedAmount > this.#maxBuffered) return;
      const out = senderReport(info, this.#cname, 4);
      writeInterleavedHeader(out, 0, transport.channel + 1, out.length - 4);
      conn.write(out);
      this.bytesOut += out.length;
    } else {
      const out = senderReport(info, this.#cname);
      transport.rtcp.send(out, transport.rtcpPort, transport.host);
      this.bytesOut += out.length;
    }
    t.reportsSent++;
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
    t.lastTimestamp = ts;
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
    clearInterval(this.#reportTimer);
    this.#reportTimer = undefined;
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
