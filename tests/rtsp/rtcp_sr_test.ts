/**
 * RTCP sender reports from strom's RTSP server (RFC 3550 section 6.4.1), against real peers: ffmpeg
 * publishes H.264 + AAC into a stream; a hand-written RTSP viewer reads it over TCP interleaved and
 * over UDP and checks each track's reports (timing, SSRC, counts, and that their NTP <-> RTP mapping
 * predicts when the media packets arrive); ffmpeg reads it over TCP and UDP without RTCP complaints.
 * The viewer also sends receiver reports and a BYE, which must not disturb the session.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { StreamHub } from "../../lib/core/hub.ts";
import { type NetAddr, type TcpConn, tcpConnect, type UdpSocket } from "../../lib/runtime/mod.ts";
import { parseRtp } from "../../lib/rtp/packet.ts";
import { ntpToMs, parseRtcp, serializeRtcp } from "../../lib/rtp/rtcp.ts";
import { bodyText, interleavedFrame, type RtspResponse } from "../../lib/protocol/rtsp/message.ts";
import { parseCameraSdp } from "../../lib/protocol/rtsp/sdp_fix.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { bindUdpPair } from "../../lib/protocol/rtsp/udp_pair.ts";
import { hasEncoder, run } from "../_support/ffmpeg.ts";
import { H264_AAC_CAMERA, publish, publishAndWait, readRtspReplies, sleep, waitFor } from "./_helpers.ts";

const haveX264 = await hasEncoder("libx264");
const enc = new TextEncoder();

/** Wallclock ms with sub-ms resolution (what the server stamps its reports with). */
const now = (): number => performance.timeOrigin + performance.now();

interface RtpArrival {
  at: number;
  ssrc: number;
  timestamp: number;
  payloadBytes: number;
}

interface SrArrival {
  at: number;
  ssrc: number;
  ntpMs: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  cname: string;
  /** RTP packets of the track received before this report (TCP keeps the order). */
  rtpBefore: number;
  octetsBefore: number;
}

/** What one viewer track received. */
class TrackLog {
  readonly rtp: RtpArrival[] = [];
  readonly sr: SrArrival[] = [];
  octets = 0;
  clockRate = 0;
  /** The SSRC announced in the SETUP response's Transport header. */
  ssrc = -1;

  onRtp(data: Uint8Array, at: number): void {
    const p = parseRtp(data);
    this.rtp.push({ at, ssrc: p.ssrc, timestamp: p.timestamp, payloadBytes: p.payload.length });
    this.octets += p.payload.length;
  }

  onRtcp(data: Uint8Array, at: number): void {
    const packets = parseRtcp(data);
    const sr = packets[0];
    if (sr.type !== "sr") throw new Error(`an RTCP compound packet must start with SR here, got ${sr.type}`);
    const sdes = packets.find((p) => p.type === "sdes");
    const cname = sdes?.type === "sdes"
      ? sdes.chunks.find((c) => c.ssrc === sr.ssrc)?.items.find((i) => i.type === 1)?.text ?? ""
      : "";
    this.sr.push({
      at,
      ssrc: sr.ssrc,
      ntpMs: ntpToMs(sr.ntpSeconds, sr.ntpFraction),
      rtpTimestamp: sr.rtpTimestamp,
      packetCount: sr.packetCount,
      octetCount: sr.octetCount,
      cname,
      rtpBefore: this.rtp.length,
      octetsBefore: this.octets,
    });
  }

  /**
   * For every RTP packet that arrived after the track's first report: arrival time minus the time
   * the latest report before it predicts for its timestamp. Packets before the first report are the
   * GOP cache burst, sent late on purpose.
   */
  predictionErrorsMs(): number[] {
    const errors: number[] = [];
    let k = -1;
    for (const p of this.rtp) {
      while (k + 1 < this.sr.length && this.sr[k + 1].at <= p.at) k++;
      if (k < 0) continue;
      const sr = this.sr[k];
      const predicted = sr.ntpMs + (((p.timestamp - sr.rtpTimestamp) | 0) / this.clockRate) * 1000;
      errors.push(p.at - predicted);
    }
    return errors;
  }
}

/** A hand-written RTSP viewer on one TCP connection. */
class RawViewer {
  readonly conn: TcpConn;
  readonly #responses: RtspResponse[] = [];
  /** Interleaved frames by channel (TCP transport). */
  onInterleaved: ((channel: number, data: Uint8Array, at: number) => void) | undefined;
  ended = false;
  #cseq = 0;
  session = "";

  private constructor(conn: TcpConn) {
    this.conn = conn;
    readRtspReplies(conn, {
      response: (res) => this.#responses.push(res),
      // Arrival on the same wallclock as now(): performance.now() plus the time origin.
      interleaved: (channel, data, at) => this.onInterleaved?.(channel, data, performance.timeOrigin + at),
    }).then(() => (this.ended = true));
  }

  static async open(port: number): Promise<RawViewer> {
    return new RawViewer(await tcpConnect({ hostname: "127.0.0.1", port, timeoutMs: 5000 }));
  }

  async request(method: string, url: string, headers: Record<string, string> = {}): Promise<RtspResponse> {
    let text = `${method} ${url} RTSP/1.0\r\nCSeq: ${++this.#cseq}\r\n`;
    if (this.session) text += `Session: ${this.session}\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    this.conn.write(enc.encode(text + "\r\n"));
    await waitFor(`the ${method} response`, () => this.#responses.length > 0, 5000);
    const res = this.#responses.shift()!;
    if (res.status !== 200) throw new Error(`${method} answered ${res.status}: ${bodyText(res)}`);
    const s = res.headers.get("Session");
    if (s) this.session = s.split(";")[0].trim();
    return res;
  }

  /** DESCRIBE: one log per media, with its clock rate from the SDP. */
  async describe(url: string): Promise<TrackLog[]> {
    const res = await this.request("DESCRIBE", url, { Accept: "application/sdp" });
    return parseCameraSdp(bodyText(res)).medias.map((m) => {
      const log = new TrackLog();
      log.clockRate = m.codecs[0].clockRate;
      return log;
    });
  }

  send(data: Uint8Array): void {
    this.conn.write(data);
  }

  close(): void {
    this.conn.destroy();
  }
}

function ssrcOf(res: RtspResponse): number {
  const m = /ssrc=([0-9A-Fa-f]+)/.exec(res.headers.get("Transport") ?? "");
  return m ? parseInt(m[1], 16) : -1;
}

/** A receiver report and a BYE, as a viewer sends them. */
function viewerRtcp(ssrcOfMedia: number): { rr: Uint8Array; bye: Uint8Array } {
  const rr = serializeRtcp([
    {
      type: "rr",
      ssrc: 0x11223344,
      reports: [{
        ssrc: ssrcOfMedia,
        fractionLost: 0,
        packetsLost: 0,
        highestSequence: 1,
        jitter: 0,
        lastSenderReport: 0,
        delaySinceLastSenderReport: 0,
      }],
    },
    { type: "sdes", chunks: [{ ssrc: 0x11223344, items: [{ type: 1, text: "viewer@test" }] }] },
  ]);
  const bye = serializeRtcp({ type: "bye", ssrcs: [0x11223344], reason: "switching SSRC" });
  return { rr, bye };
}

/** The checks both transports share, on one track's log. */
/** Every track keeps receiving media (more than 5 packets within 3 s). */
async function expectMediaGoesOn(logs: TrackLog[]): Promise<void> {
  const before = logs.map((l) => l.rtp.length);
  await waitFor(
    "media after the viewer's RTCP",
    () => logs.every((l, i) => l.rtp.length > before[i] + 5),
    3000,
  );
}

function expectConsistentReports(log: TrackLog, playAt: number, label: string): void {
  expect(log.rtp.length).toBeGreaterThan(10);
  expect(log.sr.length).toBeGreaterThan(0);
  // The first report right after the first packets, well within a second of PLAY.
  expect(log.sr[0].at - playAt).toBeLessThan(1000);
  const ssrc = log.rtp[0].ssrc;
  expect(ssrc).toBe(log.ssrc);
  for (const p of log.rtp) expect(p.ssrc).toBe(ssrc);
  for (const sr of log.sr) {
    expect(sr.ssrc).toBe(ssrc);
    expect(sr.cname.length).toBeGreaterThan(0);
    // The NTP timestamp is the wallclock.
    expect(Math.abs(sr.ntpMs - Date.now()) < 60_000).toBe(true);
    expect(Math.abs(sr.ntpMs - sr.at)).toBeLessThan(50);
  }
  // Each report's (NTP, RTP) pair predicts when the media packets arrive: the mapping a player
  // syncs audio and video with follows the real pace of the stream. Packets may arrive late (jitter;
  // the ffmpeg publisher sends AAC in bursts of ~160 ms), never well before their reported time,
  // and the earliest ones arrive on time.
  const errors = log.predictionErrorsMs().sort((a, b) => a - b);
  expect(errors.length).toBeGreaterThan(10);
  const min = errors[0];
  const p10 = errors[Math.floor(errors.length / 10)];
  if (min < -60 || p10 > 60) {
    throw new Error(
      `${label}: the reports predict arrival off by ${min.toFixed(1)} ms (earliest), ${
        p10.toFixed(1)
      } ms (10th percentile)`,
    );
  }
}

describe.skipIf(!haveX264)(
  haveX264 ? "rtsp server: RTCP sender reports" : "rtsp server: RTCP sender reports (skipped: no libx264)",
  () => {
    let hub: StreamHub;
    let server: RtspServer;
    let base = "";
    let publisher: ReturnType<typeof publish>;

    beforeAll(async () => {
      hub = new StreamHub({ graceMs: 500 });
      hub.set("cam", []);
      server = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      base = `rtsp://127.0.0.1:${server.addr.port}`;
      publisher = await publishAndWait(hub, "cam", `${base}/cam`, H264_AAC_CAMERA);
      // A second of stream, so the GOP cache holds frames a new viewer gets in a burst.
      await sleep(1000);
    }, 20_000);

    afterAll(async () => {
      publisher?.kill("SIGKILL");
      await publisher?.exited;
      await server?.close();
      await hub?.close();
    });

    it("TCP interleaved: SR on channels 1 and 3, consistent with the media, every 5 s", async () => {
      const viewer = await RawViewer.open(server.addr.port);
      try {
        const url = `${base}/cam`;
        const logs = await viewer.describe(url);
        expect(logs.map((l) => l.clockRate)).toEqual([90000, 48000]);
        viewer.onInterleaved = (channel, data, at) => {
          const log = logs[channel >> 1];
          if (!log) throw new Error(`data on unexpected channel ${channel}`);
          if (channel & 1) log.onRtcp(data, at);
          else log.onRtp(data, at);
        };
        for (let i = 0; i < 2; i++) {
          const res = await viewer.request("SETUP", `${url}/trackID=${i}`, {
            Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`,
          });
          logs[i].ssrc = ssrcOf(res);
        }
        await viewer.request("PLAY", url);
        const playAt = now();
        // Past the 5 s interval, so every track has sent a periodic report too.
        await waitFor("a second report on both tracks", () => logs.every((l) => l.sr.length >= 2), 7_000);
        // Receiver reports, a BYE, and RTCP muxed onto the RTP channel: none disturbs the session.
        const { rr, bye } = viewerRtcp(logs[0].ssrc);
        viewer.send(interleavedFrame(1, rr));
        viewer.send(interleavedFrame(3, rr));
        viewer.send(interleavedFrame(1, bye));
        viewer.send(interleavedFrame(0, rr));
        await expectMediaGoesOn(logs);
        expect(viewer.ended).toBe(false);
        await viewer.request("GET_PARAMETER", url);

        expect(logs[0].sr[0].cname).toBe(logs[1].sr[0].cname);
        expect(logs[0].ssrc).not.toBe(logs[1].ssrc);
        for (const [i, log] of logs.entries()) {
          expectConsistentReports(log, playAt, `track ${i}`);
          for (const sr of log.sr) {
            // TCP keeps the order: the counts are exactly what arrived before the report.
            expect(sr.packetCount).toBe(sr.rtpBefore);
            expect(sr.octetCount).toBe(sr.octetsBefore);
          }
          // The periodic report ~5 s later keeps the first one's mapping (no jump for the player).
          const [a, b] = log.sr;
          expect(b.at - a.at).toBeGreaterThan(4000);
          const drift = (b.ntpMs - a.ntpMs) -
            (((b.rtpTimestamp - a.rtpTimestamp) | 0) / log.clockRate) * 1000;
          expect(Math.abs(drift)).toBeLessThan(60);
        }
        // Audio and video report against one wallclock: their first reports went out together.
        expect(Math.abs(logs[0].sr[0].at - logs[1].sr[0].at)).toBeLessThan(1000);
        await viewer.request("TEARDOWN", url);
      } finally {
        viewer.close();
      }
    }, 20_000);

    it("UDP: SR from the server's RTCP port to ours, consistent with the media", async () => {
      const viewer = await RawViewer.open(server.addr.port);
      const sockets: UdpSocket[] = [];
      try {
        const url = `${base}/cam`;
        const logs = await viewer.describe(url);
        const serverRtp: number[] = [];
        const serverRtcp: number[] = [];
        const rtcpFrom: NetAddr[] = [];
        for (let i = 0; i < 2; i++) {
          const [rtp, rtcp] = await bindUdpPair("127.0.0.1");
          sockets.push(rtp, rtcp);
          const log = logs[i];
          rtp.onMessage = (data) => log.onRtp(data, now());
          rtcp.onMessage = (data, from) => {
            rtcpFrom.push(from);
            log.onRtcp(data, now());
          };
          const res = await viewer.request("SETUP", `${url}/trackID=${i}`, {
            Transport: `RTP/AVP;unicast;client_port=${rtp.addr.port}-${rtcp.addr.port}`,
          });
          log.ssrc = ssrcOf(res);
          const m = /server_port=(\d+)-(\d+)/.exec(res.headers.get("Transport") ?? "");
          expect(m).not.toBeNull();
          serverRtp.push(Number(m![1]));
          serverRtcp.push(Number(m![2]));
        }
        await viewer.request("PLAY", url);
        const playAt = now();
        await waitFor("a report on both tracks", () => logs.every((l) => l.sr.length >= 1), 3000);
        // The viewer's own RTCP to both server ports (one as if muxed), then a BYE.
        const { rr, bye } = viewerRtcp(logs[0].ssrc);
        sockets[1].send(rr, serverRtcp[0], "127.0.0.1");
        sockets[0].send(rr, serverRtp[0], "127.0.0.1");
        sockets[1].send(bye, serverRtcp[0], "127.0.0.1");
        await sleep(1500);
        await expectMediaGoesOn(logs);
        expect(viewer.ended).toBe(false);

        // Reports come from the server's RTCP socket of each track.
        for (const from of rtcpFrom) expect(serverRtcp).toContain(from.port);
        expect(logs[0].sr[0].cname).toBe(logs[1].sr[0].cname);
        for (const [i, log] of logs.entries()) {
          expectConsistentReports(log, playAt, `track ${i}`);
          // RTP and RTCP ride different sockets, so a report may be read before packets sent
          // ahead of it: the counts only grow, count at least one packet and never more than came.
          expect(log.sr[0].packetCount).toBeGreaterThan(0);
          for (let k = 1; k < log.sr.length; k++) {
            expect(log.sr[k].packetCount).toBeGreaterThanOrEqual(log.sr[k - 1].packetCount);
          }
          for (const sr of log.sr) {
            expect(sr.packetCount).toBeLessThanOrEqual(log.rtp.length);
            expect(sr.octetCount).toBeLessThanOrEqual(log.octets);
          }
        }
        await viewer.request("TEARDOWN", url);
      } finally {
        for (const s of sockets) s.close();
        viewer.close();
      }
    }, 20_000);

    for (const transport of ["tcp", "udp"] as const) {
      it(`ffmpeg reads and decodes over ${transport.toUpperCase()} without RTCP warnings`, async () => {
        const res = await run("ffmpeg", [
          "-hide_banner",
          "-nostdin",
          "-loglevel",
          "warning",
          "-rtsp_transport",
          transport,
          "-i",
          `${base}/cam`,
          "-t",
          "3",
          "-f",
          "null",
          "-",
        ], 20_000);
        expect(res.timedOut).toBe(false);
        expect(res.code).toBe(0);
        expect(res.stderr).not.toMatch(/rtcp|non[- ]monotonic|backward/i);
      }, 25_000);

      it(
        `ffprobe over ${transport.toUpperCase()}: timestamps never step back, audio and video end together`,
        async () => {
          // ffmpeg times packets from RTP-Info until a track's first report, then from the reports:
          // any disagreement between the two shows up as a step back here.
          const res = await run("ffprobe", [
            "-v",
            "warning",
            "-rtsp_transport",
            transport,
            "-read_intervals",
            "%+3",
            "-show_entries",
            "packet=stream_index,pts_time",
            "-of",
            "csv",
            `${base}/cam`,
          ], 20_000);
          expect(res.timedOut).toBe(false);
          expect(res.code).toBe(0);
          expect(res.stderr).not.toMatch(/rtcp/i);
          const last = new Map<string, number>();
          let packets = 0;
          for (const line of new TextDecoder().decode(res.stdout).trim().split("\n")) {
            const [, stream, pts] = line.split(",");
            const t = Number(pts);
            if (!Number.isFinite(t)) continue;
            const prev = last.get(stream);
            if (prev !== undefined && t <= prev) throw new Error(`stream ${stream}: pts ${t} after ${prev}`);
            last.set(stream, t);
            packets++;
          }
          expect(packets).toBeGreaterThan(50);
          expect(last.size).toBe(2);
          const [a, b] = [...last.values()];
          expect(Math.abs(a - b)).toBeLessThan(0.5);
        },
        25_000,
      );
    }
  },
);
