/**
 * RTCP sender reports for the tracks of an RTSP viewer (RFC 3550 section 6.4.1).
 *
 * A sender report ties one instant of a track's RTP clock to one wallclock (NTP) instant. Every track
 * of a viewer session is reported against the same wallclock, which is how a player lines audio up
 * with video: it maps each track's RTP timestamps to NTP time and plays what has the same NTP time
 * together. Without reports players fall back to "first packet of each track starts at 0", which is
 * off by however far apart the tracks' first packets were (the GOP cache alone makes that seconds).
 *
 * The mapping comes from a clock per track (kept by the consumer, advanced here): {@link lateness}
 * measures frames against it, {@link clockCorrection} says how far a report may move it.
 *
 * Each report goes out as a compound packet (section 6.1): the SR, then an SDES with the session's
 * CNAME, one CNAME shared by all tracks of the session (section 6.5.1: the CNAME is what binds the
 * tracks of one participant for synchronisation).
 *
 * ```text
 *  SR (PT 200, section 6.4.1), 28 bytes without report blocks:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|  RC=0   |   PT=SR=200   |           length=6            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     SSRC of the track                         |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |              NTP timestamp, most significant word             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |             NTP timestamp, least significant word             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          RTP timestamp (same instant, track's clock)          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     sender's packet count                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      sender's octet count                     |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *  SDES (PT 202, section 6.5): one chunk, SSRC + CNAME item + END + padding
 * ```
 *
 * @module
 */
import { bytesToBase64 } from "../../core/bytes.ts";
import {
  ntpFromMs,
  type RtcpSenderReport,
  rtcpSize,
  type RtcpSourceDescription,
  SdesItemType,
  writeRtcp,
} from "../../rtp/rtcp.ts";

/**
 * Milliseconds between two sender reports of a track.
 *
 * RFC 3550 section 6.2 derives the RTCP interval from the session bandwidth and the number of
 * members, with a 5 s minimum, and randomises it (x0.5..1.5, section 6.3.1) so that many members of
 * one (multicast) session do not send in lockstep. An RTSP viewer session is a unicast session with
 * two members (strom and the viewer) and a few tracks: the computed interval is the 5 s minimum and
 * there is no group to desynchronise, so a fixed 5 s is what the algorithm would give anyway. It is
 * also what live555 and mediamtx send at, and what players expect.
 */
export const SENDER_REPORT_INTERVAL_MS = 5000;

/** The numbers of one sender report. */
export interface SenderReportInfo {
  ssrc: number;
  /** The wallclock instant of the report, as Unix milliseconds (sent as NTP). */
  wallClockMs: number;
  /** The track's RTP timestamp at that same instant. */
  rtpTimestamp: number;
  /** RTP packets sent so far (wraps at 2^32). */
  packetCount: number;
  /** RTP payload octets sent so far, headers and padding excluded (wraps at 2^32). */
  octetCount: number;
}

/**
 * The track's RTP clock at `nowMs`, extrapolated from a timestamp that went out at `anchorMs`
 * (both on the same millisecond clock, e.g. `performance.now()`), modulo 2^32.
 *
 * @example
 * ```ts
 * extrapolateRtpTimestamp(90000, 1000, 1500, 90000); // 135000: half a second later at 90 kHz
 * ```
 */
export function extrapolateRtpTimestamp(
  anchorTimestamp: number,
  anchorMs: number,
  nowMs: number,
  clockRate: number,
): number {
  return (anchorTimestamp + Math.round(((nowMs - anchorMs) * clockRate) / 1000)) >>> 0;
}

/** Most a report moves a track's clock earlier, in milliseconds (see {@link clockCorrection}). */
export const MAX_BACKWARD_STEP_MS = 10;

/**
 * How late (in clock ticks) a frame with output timestamp `timestamp` goes out at `nowMs`, on the
 * clock where `clockTimestamp` is the instant `clockMs`: negative when it is ahead of the clock.
 * Jitter and bursts only ever make frames late, so the lowest lateness over a while is the error of
 * the clock.
 *
 * @example
 * ```ts
 * lateness(0, 1000, 1100, 90000, 4500); // 4500: stamped 50 ms on, sent 100 ms on
 * ```
 */
export function lateness(
  clockTimestamp: number,
  clockMs: number,
  nowMs: number,
  clockRate: number,
  timestamp: number,
): number {
  return ((nowMs - clockMs) * clockRate) / 1000 - ((timestamp - clockTimestamp) | 0);
}

/**
 * The step (clock ticks, subtracted from the clock's timestamp) that corrects a track's clock for
 * the lowest lateness seen since the last report.
 *
 * Frames that were all late move the clock later at once: a player sees its timestamps step
 * forward, which is harmless. Frames ahead of the clock move it earlier by at most
 * {@link MAX_BACKWARD_STEP_MS} per report, so a player's timestamps (ffmpeg times packets from the
 * latest report) never step back by as much as one audio frame (20 ms), which would make them
 * non-monotonic. Past a second ahead the source's timeline jumped: followed at once.
 *
 * @example
 * ```ts
 * clockCorrection(900, 90000);   // 900: frames 10 ms late, the clock moves 10 ms later
 * clockCorrection(-9000, 90000); // -900: frames 100 ms early, the clock moves 10 ms earlier
 * ```
 */
export function clockCorrection(minLate: number, clockRate: number): number {
  if (minLate === Infinity || !(clockRate > 0)) return 0;
  let step = minLate;
  if (step < 0 && step > -clockRate) step = Math.max(step, (-MAX_BACKWARD_STEP_MS * clockRate) / 1000);
  return Math.round(step);
}

/**
 * Wallclock Unix milliseconds for a `performance.now()` reading. Reports use this instead of
 * `Date.now()` so that the NTP time of successive reports never jumps when the system clock is
 * stepped: players compute presentation times from it.
 *
 * @example
 * ```ts
 * const now = performance.now();
 * const wall = wallClockMs(now); // close to Date.now()
 * ```
 */
export function wallClockMs(monotonicMs: number): number {
  return performance.timeOrigin + monotonicMs;
}

/**
 * A random canonical name for one viewer session (RFC 7022 section 4.1: 96 random bits, base64),
 * shared by all its tracks and not revealing any host or user name.
 *
 * @example
 * ```ts
 * randomCname(); // "m3rXo5d1W0Jc9Zt+"
 * ```
 */
export function randomCname(): string {
  return bytesToBase64(crypto.getRandomValues(new Uint8Array(12)));
}

/**
 * One compound RTCP packet, SR + SDES(CNAME), in a new buffer with `headroom` free bytes in front
 * (4 for an RTSP interleaved header, so TCP needs no copy). Sent every few seconds per track, so it
 * allocates freely; the buffer is never reused (a socket may hold it after `write`/`send`).
 *
 * @example
 * ```ts
 * const out = senderReport({ ssrc, wallClockMs: Date.now(), rtpTimestamp, packetCount, octetCount }, cname, 4);
 * writeInterleavedHeader(out, 0, rtpChannel + 1, out.length - 4);
 * conn.write(out);
 * ```
 */
export function senderReport(info: SenderReportInfo, cname: string, headroom = 0): Uint8Array {
  const ntp = ntpFromMs(info.wallClockMs);
  const sr: RtcpSenderReport = {
    type: "sr",
    ssrc: info.ssrc,
    ntpSeconds: ntp.seconds,
    ntpFraction: ntp.fraction,
    rtpTimestamp: info.rtpTimestamp,
    packetCount: info.packetCount,
    octetCount: info.octetCount,
    reports: [],
  };
  const sdes: RtcpSourceDescription = {
    type: "sdes",
    chunks: [{ ssrc: info.ssrc, items: [{ type: SdesItemType.CNAME, text: cname }] }],
  };
  const out = new Uint8Array(headroom + rtcpSize(sr) + rtcpSize(sdes));
  const n = writeRtcp(sr, out, headroom);
  writeRtcp(sdes, out, headroom + n);
  return out;
}
