/**
 * An RTSP viewer as a strom consumer: one track per matched media (viewer_track.ts), written as RTP
 * over the viewer's TCP connection (interleaved) or UDP (viewer_rtp_writer.ts), with RTCP sender
 * reports from each track's clock (track_clock.ts). The medias come from the URL query
 * (viewer_query.ts).
 *
 * Per frame: the frame's own RTP packets are forwarded when it came from RTP (camera, publisher),
 * else it is packetized. The first frames of a track (the GOP cache at PLAY, or a burst) are held
 * for one microtask and placed on the timeline together, so the newest is "now"; later frames are
 * written as they come. A source reconnect (new SSRC) continues the timeline where the track's
 * clock is.
 *
 * Backpressure: when the socket buffer is above its bound the frame handler returns the drain
 * promise, so the Sender (lib/core/fanout.ts) queues and then drops per its policy; a slow viewer
 * never stalls the camera or other viewers, and memory stays bounded.
 *
 * Sender reports: each track sends one right after its first RTP packets, then every 5 s; one timer
 * per viewer, running while playing.
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
import { accessUnitDelimiter } from "../../codec/annexb/access_unit_delimiter.ts";
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, type Consumer, nextConnectionId } from "../../core/connection.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type Media, mediaToString, toSdp } from "../../core/media.ts";
import { Receiver, Sender } from "../../core/fanout.ts";
import type { TcpConn } from "../../runtime/mod.ts";
import { formatAddress } from "../../runtime/address.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { TimestampRewriter } from "../../rtp/rtp_rewriter.ts";
import { createDepacketizer } from "./depay.ts";
import { createPacketizer } from "./pay.ts";
import { randomCname, SENDER_REPORT_INTERVAL_MS, wallClockMs } from "./sender_report.ts";
import { firstFramesStart } from "./track_clock.ts";
import { ViewerRtpWriter } from "./viewer_rtp_writer.ts";
import { ViewerTrack } from "./viewer_track.ts";

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
  bytesIn = 0;
  readonly #conn: TcpConn;
  readonly #writer: ViewerRtpWriter;
  readonly #medias: Media[];
  readonly #options: RtspViewerOptions;
  readonly #log: Logger;
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
    this.#writer = new ViewerRtpWriter(options.conn, options.maxBufferedBytes ?? 4 * 1024 * 1024);
    this.#medias = options.medias;
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#reportIntervalMs = options.senderReportIntervalMs ?? SENDER_REPORT_INTERVAL_MS;
    if (options.source) this.source = options.source;
  }

  /** Bytes written to the viewer (RTP and RTCP). */
  get bytesOut(): number {
    return this.#writer.bytesOut;
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
    track.sourceReceiver = receiver;
    track.sender = new Sender(track.media, codec, (frame) => this.#write(track, frame), {
      onError: (error) => this.#log.debug("rtsp viewer track failed", { error: String(error) }),
    });
    this.tracks.push(track);
    // Attached at PLAY, so the GOP cache is delivered after the PLAY response.
    if (this.#playing) track.attach();
  }

  /** Backchannel: the viewer sends audio (a `recvonly` media of ours); returns its receiver. */
  track(media: Media, codec: Codec): Receiver {
    const sdpCodec: Codec = { ...codec, payloadType: this.#payloadType(codec) };
    const ours: Media = { kind: media.kind, direction: "recvonly", codecs: [sdpCodec] };
    const receiver = new Receiver(ours, codec);
    const depacketizer = createDepacketizer(codec, media.kind, (frame) => receiver.push(frame));
    this.tracks.push(new ViewerTrack(this.tracks.length, ours, sdpCodec, { receiver, depacketizer }));
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
        direction: t.backchannel ? "sendonly" as const : "sendrecv" as const,
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
      if (!t.transport || t.backchannel) continue;
      // rtptime is "the RTP timestamp corresponding to the time value in the Range response
      // header": one instant (now, npt=0) for every track, on the clock the sender reports use.
      // Players (ffmpeg) time packets from it until the first report; aligned this way, the
      // reports never make their timestamps jump.
      if (!t.clock.started) t.clock.start(t.initialTimestamp, now);
      const rtptime = t.clock.rtpTimestampAt(now);
      info.push(`url=${baseUrl.replace(/\/+$/, "")}/${t.control};seq=${t.nextSequence};rtptime=${rtptime}`);
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
      if (t.transport) t.attach();
    }
  }

  /** PAUSE: detaches the senders (the tracks and their state stay). */
  pause(): void {
    if (!this.#playing) return;
    this.#playing = false;
    clearInterval(this.#reportTimer);
    this.#reportTimer = undefined;
    for (const t of this.tracks) {
      const sender = t.sender;
      if (!sender?.receiver) continue;
      // The stream may have moved the sender to another receiver since PLAY: resume from that one.
      t.sourceReceiver = sender.receiver;
      sender.receiver.removeSender(sender);
    }
  }

  /** RTP from the viewer on a channel (backchannel audio). */
  onRtp(channel: number, pkt: RtpPacket): void {
    for (const t of this.tracks) {
      if (t.backchannel && t.transport?.type === "tcp" && t.transport.channel === channel) {
        t.backchannel.depacketizer.push(pkt);
        return;
      }
    }
  }

  #write(t: ViewerTrack, frame: Frame): void | Promise<void> {
    if (!t.transport || this.#stopped) return;
    if (t.onTimeline) return this.#writeFrame(t, frame);
    // The first frames of a track are held for one microtask, then placed (see #place).
    const held = (t.firstFrames ??= []);
    held.push(frame);
    if (held.length === 1 && t.firstFramesWait === undefined) queueMicrotask(() => this.#guard(t, 0));
    // While held frames wait for the socket, the sender waits too (its queue bounds memory).
    return t.firstFramesWait;
  }

  // The first frames of a track (the GOP cache at PLAY, or a burst from the source: everything
  // handed over before this microtask) are placed on the timeline (see firstFramesStart), then
  // written in order. Runs once per track.
  #place(t: ViewerTrack): void {
    const frames = t.firstFrames;
    if (this.#stopped || !frames?.length) return;
    const now = performance.now();
    if (!t.clock.started) t.clock.start(t.initialTimestamp, now);
    const sender = t.sender;
    const fromGopCache = sender !== undefined && sender.frames <= t.framesBeforeLive;
    const start = firstFramesStart(t.clock, frames, now, fromGopCache);
    t.timeline = new TimestampRewriter({ initial: start, clockRate: t.codec.clockRate });
    this.#writeHeld(t, 0);
  }

  // Places (from 0) or goes on writing the held frames outside the sender's drain, so a failure
  // closes the track's sender the way a failing frame handler does.
  #guard(t: ViewerTrack, from: number): void {
    try {
      if (from === 0) this.#place(t);
      else this.#writeHeld(t, from);
    } catch (error) {
      t.firstFrames = undefined;
      t.sender?.close();
      this.#log.debug("rtsp viewer track failed", { error: String(error) });
    }
  }

  // Writes the held frames in order, including any handed over while it waited for the socket.
  #writeHeld(t: ViewerTrack, from: number): void {
    const frames = t.firstFrames;
    if (!frames || this.#stopped) return;
    for (let i = from; i < frames.length; i++) {
      const wait = this.#writeFrame(t, frames[i]);
      if (wait) {
        t.firstFramesWait = wait.then(() => {
          t.firstFramesWait = undefined;
          this.#guard(t, i + 1);
        });
        return;
      }
    }
    t.firstFrames = undefined;
    t.onTimeline = true;
    // The GOP of a source that is down (held): nothing follows it, and ffmpeg's H.264/H.265
    // parsers finish a frame only when the next one starts, so a player would show nothing of a
    // GOP that is one keyframe. An access unit delimiter starts the next access unit.
    const sender = t.sender;
    if (sender?.receiver?.sourceDown && sender.queued === 0) {
      const data = accessUnitDelimiter(t.codec.name);
      const last = frames[frames.length - 1];
      if (data && last) this.#writeFrame(t, { timestamp: last.timestamp + 1, keyframe: false, data });
    }
  }

  #writeFrame(t: ViewerTrack, frame: Frame): void | Promise<void> {
    const transport = t.transport;
    if (!transport || this.#stopped) return;
    // A new source connection (the stream moved the sender to another receiver, or the RTP source
    // changed its SSRC): continue the timeline instead of jumping, at the point the wallclock says
    // it has reached, so the mapping in our sender reports stays continuous.
    let newSource = false;
    const receiver = t.sender?.receiver;
    if (receiver !== t.lastFrameReceiver) {
      newSource = t.lastFrameReceiver !== undefined;
      t.lastFrameReceiver = receiver;
    }
    let packets = this.#options.packetSize === undefined ? frame.packets : undefined;
    const forwarded = packets !== undefined;
    if (!packets) {
      t.packetizer ??= createPacketizer(
        t.codec,
        t.media.kind,
        this.#options.packetSize ?? this.#options.mtu ?? 1200,
      );
      packets = t.packetizer.packetize(frame);
    } else if (packets.length && packets[0].ssrc !== t.sourceSsrc) {
      if (t.sourceSsrc !== -1) newSource = true;
      t.sourceSsrc = packets[0].ssrc;
    }
    if (newSource) this.#continueTimeline(t);
    if (packets.length === 0) return;
    const writer = this.#writer;
    if (transport.type === "tcp" && writer.overBound) {
      // Over the bound (several tracks share the socket): wait before writing this frame; the
      // sender's queue fills meanwhile and drops by its keyframe-aware policy.
      this.waits++;
      return this.#conn.drained().then(() => this.#writeFrame(t, frame), () => {});
    }
    const written = writer.writeFrame(t, packets, forwarded);
    // After the frame's write (and after the shared buffer went back): a sender report is its own
    // write, never inside a frame.
    if (written) this.#afterFrame(t);
    if (writer.mustWait) return this.#conn.drained().catch(() => {});
  }

  // Once per frame, after its packets went out: measures how late the frame is on the track's
  // clock and sends the track's first report. Numbers only; nothing allocated unless a report goes.
  #afterFrame(t: ViewerTrack): void {
    const now = performance.now();
    const sender = t.sender;
    // Frames out of the GOP cache or a backlog (newer ones queued behind) are late on purpose.
    const live = sender === undefined || (sender.frames > t.framesBeforeLive && sender.queued === 0);
    t.clock.observe(t.lastRtpTimestamp, now, live);
    // The first report right after the track's first packets, so a player syncs from the start.
    if (t.reportsSent === 0 && this.#reportIntervalMs > 0) this.#sendReport(t, now);
  }

  #continueTimeline(t: ViewerTrack): void {
    if (!t.clock.started || !t.clock.ticking) {
      t.timeline.reset();
      return;
    }
    const now = t.clock.rtpTimestampAt(performance.now());
    // A step of 0 or less (the clock is behind the highest output) falls back to one frame.
    t.timeline.reset({ delta: (now - t.timeline.highest) | 0 });
  }

  readonly #sendReports = (): void => {
    if (this.#stopped || !this.#playing) return;
    const now = performance.now();
    for (const t of this.tracks) {
      if (!t.onTimeline) continue;
      t.clock.correct();
      this.#sendReport(t, now);
    }
  };

  // One SR + SDES compound packet for a track, its RTP timestamp extrapolated to `now`.
  #sendReport(t: ViewerTrack, now: number): void {
    if (!t.transport || t.backchannel || !t.clock.started || !t.clock.ticking || this.#stopped) return;
    const info = {
      ssrc: t.ssrc,
      wallClockMs: wallClockMs(now),
      rtpTimestamp: t.clock.rtpTimestampAt(now),
      packetCount: t.packetsSent,
      octetCount: t.payloadOctetsSent,
    };
    if (this.#writer.writeSenderReport(t, info, this.#cname)) t.reportsSent++;
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
      remoteAddr: formatAddress(remote.hostname, remote.port),
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
