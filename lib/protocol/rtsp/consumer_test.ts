import { afterEach, describe, expect, it } from "bun:test";
import type { Codec } from "../../core/codec.ts";
import type { Media } from "../../core/media.ts";
import { Receiver } from "../../core/fanout.ts";
import { type TcpConn, tcpConnect, tcpListen } from "../../runtime/mod.ts";
import { parseRtp, type RtpPacket } from "../../rtp/packet.ts";
import { ntpToMs, parseRtcp, type RtcpSenderReport, type RtcpSourceDescription } from "../../rtp/rtcp.ts";
import { RtspViewerConsumer } from "./consumer.ts";
import { viewerMedias } from "./viewer_query.ts";
import { RtspMessageParser } from "./message.ts";
import { parseMediaQuery } from "../../core/media.ts";

/** A TcpConn stand-in: records writes; `stuck` makes it behave like a peer that never reads. */
class FakeConn {
  chunks: Uint8Array[] = [];
  buffered = 0;
  stuck = false;
  readonly remoteAddr = { hostname: "127.0.0.1", port: 5000 };
  readonly localAddr = { hostname: "127.0.0.1", port: 8554 };
  get bufferedAmount(): number {
    return this.buffered;
  }
  write(chunk: Uint8Array): boolean {
    // A socket that reports nothing buffered has handed the bytes to the kernel: keep a copy, as
    // the caller may reuse its buffer then.
    this.chunks.push(this.stuck ? chunk : chunk.slice());
    if (this.stuck) {
      this.buffered += chunk.length;
      return this.buffered < 16 * 1024;
    }
    return true;
  }
  drained(): Promise<void> {
    return this.stuck ? new Promise(() => {}) : Promise.resolve();
  }
}

const H264: Codec = { name: "H264", clockRate: 90000, payloadType: 100, fmtp: "packetization-mode=1" };
const video: Media = { kind: "video", direction: "recvonly", codecs: [H264] };

function packets(n: number, seq0: number, ts: number, ssrc: number, size = 1000): RtpPacket[] {
  return Array.from({ length: n }, (_, i) => ({
    payloadType: 100,
    sequenceNumber: (seq0 + i) & 0xffff,
    timestamp: ts,
    ssrc,
    marker: i === n - 1,
    payload: new Uint8Array(size).fill(i),
  }));
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

async function waitUntil(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("RtspViewerConsumer", () => {
  it("forwards a frame's packets as one write with our PT, SSRC and continuous sequence numbers", async () => {
    const conn = new FakeConn();
    const viewer = new RtspViewerConsumer({
      conn: conn as unknown as TcpConn,
      medias: viewerMedias(new URLSearchParams(), "video", parseMediaQuery),
      senderReportIntervalMs: 0, // counts writes: RTP only
    });
    const receiver = new Receiver(video, H264);
    viewer.addTrack(viewer.medias()[0], H264, receiver);
    expect(viewer.sdp("127.0.0.1")).toContain("a=rtpmap:96 H264/90000");
    viewer.tracks[0].transport = { type: "tcp", channel: 4 };
    viewer.play("rtsp://h/cam");
    viewer.startSending();
    receiver.push({
      timestamp: 1000,
      keyframe: true,
      data: new Uint8Array(1),
      packets: packets(3, 65534, 1000, 7),
    });
    // A source reconnect: new SSRC, unrelated sequence numbers and timestamps.
    receiver.push({ timestamp: 5, keyframe: true, data: new Uint8Array(1), packets: packets(2, 10, 5, 8) });
    await flush();
    expect(conn.chunks.length).toBe(2);
    const parser = new RtspMessageParser();
    for (const c of conn.chunks) parser.push(c);
    const out: RtpPacket[] = [];
    for (let ev = parser.next(); ev; ev = parser.next()) {
      if (ev.type !== "interleaved") throw new Error("unexpected " + ev.type);
      expect(ev.channel).toBe(4);
      out.push(parseRtp(ev.data));
    }
    expect(out.length).toBe(5);
    const t = viewer.tracks[0];
    for (let i = 0; i < out.length; i++) {
      expect(out[i].payloadType).toBe(96);
      expect(out[i].ssrc).toBe(t.ssrc);
      if (i) expect(out[i].sequenceNumber).toBe((out[i - 1].sequenceNumber + 1) & 0xffff);
    }
    // RTP-Info's rtptime is the PLAY instant: the first frame, pushed a moment later, is just after it.
    expect((out[0].timestamp - t.initialTimestamp) >>> 0).toBeLessThan(90 * 50);
    // After the reconnect the timeline continues forward instead of jumping back.
    expect(((out[3].timestamp - out[0].timestamp) | 0) > 0).toBe(true);
    expect(out[2].marker).toBe(true);
    viewer.stop();
  });

  it("packetizes frames without RTP packets", async () => {
    const conn = new FakeConn();
    const viewer = new RtspViewerConsumer({
      conn: conn as unknown as TcpConn,
      medias: [],
      senderReportIntervalMs: 0,
    });
    const receiver = new Receiver(video, H264);
    viewer.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
    viewer.tracks[0].transport = { type: "tcp", channel: 0 };
    viewer.startSending();
    // AVCC: one 3000-byte IDR NAL unit -> FU-A packets.
    const nal = new Uint8Array(3004);
    new DataView(nal.buffer).setUint32(0, 3000);
    nal[4] = 0x65;
    receiver.push({ timestamp: 0, keyframe: true, data: nal });
    await flush();
    expect(conn.chunks.length).toBe(1);
    const parser = new RtspMessageParser();
    parser.push(conn.chunks[0]);
    let n = 0;
    for (let ev = parser.next(); ev; ev = parser.next()) n++;
    expect(n).toBeGreaterThan(2);
    viewer.stop();
  });

  it("continues the timeline when the stream moves it to another source's receiver (frames without RTP)", async () => {
    const conn = new FakeConn();
    const viewer = new RtspViewerConsumer({ conn: conn as unknown as TcpConn, medias: [], senderReportIntervalMs: 0 });
    const first = new Receiver(video, H264);
    viewer.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, first);
    viewer.tracks[0].transport = { type: "tcp", channel: 0 };
    viewer.startSending();
    const nal = new Uint8Array([0, 0, 0, 1, 0x65]);
    first.push({ timestamp: 900_000, keyframe: true, data: nal });
    await flush();
    first.push({ timestamp: 903_600, keyframe: false, data: nal });
    // The source was replaced: its clock starts over at 0.
    const second = new Receiver(video, H264);
    first.replace(second);
    second.push({ timestamp: 0, keyframe: true, data: nal });
    await flush();
    const parser = new RtspMessageParser();
    for (const c of conn.chunks) parser.push(c);
    const ts: number[] = [];
    for (let ev = parser.next(); ev; ev = parser.next()) if (ev.type === "interleaved") ts.push(parseRtp(ev.data).timestamp);
    expect(ts.length).toBe(3);
    expect((ts[1] - ts[0]) | 0).toBe(3600);
    // Forward from the last frame, not 903600 ticks back.
    expect((ts[2] - ts[1]) | 0).toBeGreaterThan(0);
    // PAUSE then PLAY resumes from the receiver it was moved to.
    viewer.pause();
    viewer.startSending();
    expect(second.senders.length).toBe(1);
    expect(first.senders.length).toBe(0);
    viewer.stop();
  });

  it("a viewer that stops reading drops frames and never holds the source or other viewers", async () => {
    const slowConn = new FakeConn();
    slowConn.stuck = true;
    const fastConn = new FakeConn();
    const slow = new RtspViewerConsumer({
      conn: slowConn as unknown as TcpConn,
      medias: [],
      senderReportIntervalMs: 0,
    });
    const fast = new RtspViewerConsumer({
      conn: fastConn as unknown as TcpConn,
      medias: [],
      senderReportIntervalMs: 0,
    });
    const receiver = new Receiver(video, H264, { gop: false });
    for (const v of [slow, fast]) {
      v.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
      v.tracks[0].transport = { type: "tcp", channel: 0 };
      v.startSending();
    }
    for (let i = 0; i < 1000; i++) {
      receiver.push({
        timestamp: i * 3600,
        keyframe: i % 25 === 0,
        data: new Uint8Array(5000),
        packets: packets(5, i * 5, i * 3600, 1),
      });
      if (i % 50 === 0) await flush();
    }
    await flush();
    expect(fastConn.chunks.length).toBe(1000);
    // The stuck socket took writes only until it reported backpressure; the rest was dropped.
    expect(slowConn.chunks.length).toBeLessThan(5);
    expect(slow.info().drops!).toBeGreaterThan(800);
    expect(slow.tracks[0].sender!.queued).toBeLessThanOrEqual(128);
    slow.stop();
    fast.stop();
    expect(receiver.senders.length).toBe(0);
  });
});

describe("RtspViewerConsumer shared frame buffer", () => {
  function parseAll(chunks: Uint8Array[]): RtpPacket[] {
    const parser = new RtspMessageParser();
    for (const c of chunks) parser.push(c);
    const out: RtpPacket[] = [];
    for (let ev = parser.next(); ev; ev = parser.next()) {
      if (ev.type !== "interleaved") throw new Error("unexpected " + ev.type);
      if (ev.channel & 1) continue; // sender reports
      out.push(parseRtp(ev.data));
    }
    return out;
  }

  it("never rewrites a buffer a socket still holds", async () => {
    // The first viewer's socket keeps every write queued (no copy); the others take theirs whole
    // and the shared buffer goes round them. The queued bytes must stay the first viewer's.
    const keeping = new FakeConn();
    keeping.stuck = true;
    const others = [new FakeConn(), new FakeConn()];
    const receiver = new Receiver(video, H264, { gop: false });
    const viewers = [keeping, ...others].map((conn) => {
      const v = new RtspViewerConsumer({ conn: conn as unknown as TcpConn, medias: [] });
      v.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
      v.tracks[0].transport = { type: "tcp", channel: 0 };
      v.startSending();
      return v;
    });
    try {
      for (let i = 0; i < 3; i++) {
        receiver.push({
          timestamp: i * 3600,
          keyframe: true,
          data: new Uint8Array(1),
          packets: packets(2, i * 2, i * 3600, 1),
        });
        await flush();
      }
      const kept = parseAll(keeping.chunks);
      expect(kept.length).toBeGreaterThan(0);
      for (const p of kept) expect(p.ssrc).toBe(viewers[0].tracks[0].ssrc);
      for (let k = 0; k < others.length; k++) {
        const got = parseAll(others[k].chunks);
        expect(got.length).toBe(6);
        for (const p of got) expect(p.ssrc).toBe(viewers[k + 1].tracks[0].ssrc);
      }
    } finally {
      for (const v of viewers) v.stop(); // also when an assertion failed: a playing viewer keeps its timer
    }
  });

  it("serializes a source frame once for all viewers; each still gets its own channel, SSRC, sequence and timeline", async () => {
    const receiver = new Receiver(video, H264, { gop: false });
    const conns = [new FakeConn(), new FakeConn(), new FakeConn()];
    const vs = conns.map((conn, i) => {
      const v = new RtspViewerConsumer({ conn: conn as unknown as TcpConn, medias: [], senderReportIntervalMs: 0 });
      v.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
      v.tracks[0].transport = { type: "tcp", channel: 2 * i };
      v.startSending();
      return v;
    });
    await flush();
    // Two timestamps in one frame, and a packet too large to interleave (left out, no sequence
    // number spent on it).
    const pk = packets(4, 100, 9000, 5, 500);
    pk[1] = { ...pk[1], timestamp: 9090 };
    pk[2] = { ...pk[2], payload: new Uint8Array(70_000) };
    receiver.push({ timestamp: 9000, keyframe: true, data: new Uint8Array(1), packets: pk });
    await flush();
    receiver.push({ timestamp: 12600, keyframe: false, data: new Uint8Array(1), packets: packets(2, 104, 12600, 5, 300) });
    await flush();
    conns.forEach((conn, i) => {
      expect(conn.chunks.length).toBe(2);
      const parser = new RtspMessageParser();
      for (const c of conn.chunks) parser.push(c);
      const out: RtpPacket[] = [];
      for (let ev = parser.next(); ev; ev = parser.next()) {
        if (ev.type !== "interleaved") throw new Error("unexpected " + ev.type);
        expect(ev.channel).toBe(2 * i);
        out.push(parseRtp(ev.data));
      }
      expect(out.map((p) => p.payload.length)).toEqual([500, 500, 500, 300, 300]);
      expect(out.map((p) => p.payload[0])).toEqual([0, 1, 3, 0, 1]);
      const t = vs[i].tracks[0];
      for (let j = 0; j < out.length; j++) {
        expect(out[j].ssrc).toBe(t.ssrc);
        expect(out[j].payloadType).toBe(96);
        if (j) expect(out[j].sequenceNumber).toBe((out[j - 1].sequenceNumber + 1) & 0xffff);
      }
      expect(out.map((p) => p.marker)).toEqual([false, false, true, false, true]);
      // Source timestamp steps survive the viewer's own offset.
      const d = (a: number, b: number) => (out[a].timestamp - out[b].timestamp) >>> 0;
      expect([d(1, 0), d(2, 0), d(3, 0)]).toEqual([90, 0, 3600]);
      expect(t.packetsSent).toBe(5);
      expect(t.payloadOctetsSent).toBe(3 * 500 + 2 * 300);
    });
    // Their own sequence spaces and SSRCs (random per viewer).
    expect(new Set(vs.map((v) => v.tracks[0].ssrc)).size).toBe(3);
    for (const v of vs) v.stop();
  });

  it("shares one frame buffer among viewers on real sockets without mixing their bytes", async () => {
    // Checks the runtime property the sharing relies on: once write() returned and nothing is
    // queued, the socket no longer reads the caller's buffer (Node, Deno and Bun).
    const viewers = 3, frames = 60;
    const received: Uint8Array[][] = [];
    const conns: TcpConn[] = [];
    const listener = await tcpListen({ hostname: "127.0.0.1", port: 0, onConnection: (c) => conns.push(c) });
    const clients: TcpConn[] = [];
    const reads: Promise<void>[] = [];
    try {
      for (let i = 0; i < viewers; i++) {
        const c = await tcpConnect({ hostname: "127.0.0.1", port: listener.addr.port });
        clients.push(c);
        const chunks: Uint8Array[] = [];
        received.push(chunks);
        reads.push(
          (async () => {
            for await (const chunk of c.readable) chunks.push(chunk.slice());
          })().catch(() => {}),
        );
      }
      for (let i = 0; i < 200 && conns.length < viewers; i++) await new Promise((r) => setTimeout(r, 5));
      expect(conns.length).toBe(viewers);
      const receiver = new Receiver(video, H264, { gop: false });
      const vs = conns.map((conn) => {
        const v = new RtspViewerConsumer({ conn, medias: [] });
        v.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
        v.tracks[0].transport = { type: "tcp", channel: 0 };
        v.startSending();
        return v;
      });
      for (let i = 0; i < frames; i++) {
        // Sizes vary (a big keyframe now and then) so the shared buffer grows and is reused.
        const n = i % 10 === 0 ? 60 : 1 + (i % 7);
        const pk = packets(n, i * 64, i * 3600, 1, 1400).map((p, j) => ({
          ...p,
          payload: p.payload.fill((i + j) & 0xff),
        }));
        receiver.push({ timestamp: i * 3600, keyframe: true, data: new Uint8Array(1), packets: pk });
        await flush();
      }
      for (const c of conns) c.close();
      await Promise.race([Promise.all(reads), new Promise((r) => setTimeout(r, 5000))]);
      for (let k = 0; k < viewers; k++) {
        const got = parseAll(received[k]);
        let at = 0;
        for (let i = 0; i < frames; i++) {
          const n = i % 10 === 0 ? 60 : 1 + (i % 7);
          for (let j = 0; j < n; j++, at++) {
            const p = got[at];
            expect(p.ssrc).toBe(vs[k].tracks[0].ssrc);
            if (at) expect(p.sequenceNumber).toBe((got[at - 1].sequenceNumber + 1) & 0xffff);
            expect(p.payload.length).toBe(1400);
            expect(p.payload[0]).toBe((i + j) & 0xff);
            expect(p.payload[1399]).toBe((i + j) & 0xff);
          }
        }
        expect(got.length).toBe(at);
      }
      for (const v of vs) v.stop();
    } finally {
      for (const c of [...conns, ...clients]) c.destroy();
      await listener.close();
    }
  });
});

describe("RtspViewerConsumer sender reports", () => {
  const AAC: Codec = { name: "MPEG4-GENERIC", clockRate: 48000, channels: 2, fmtp: "config=1190" };
  // Stopped after each test even when an assertion failed: a viewer left playing keeps its report
  // timer, and the process, alive.
  const created: RtspViewerConsumer[] = [];
  afterEach(() => {
    for (const v of created.splice(0)) v.stop();
  });

  /** Interleaved frames of a fake connection: RTP on even channels, RTCP on odd ones. */
  function frames(conn: FakeConn): { channel: number; data: Uint8Array; chunk: number }[] {
    const out: { channel: number; data: Uint8Array; chunk: number }[] = [];
    conn.chunks.forEach((c, chunk) => {
      const parser = new RtspMessageParser();
      parser.push(c);
      for (let ev = parser.next(); ev; ev = parser.next()) {
        if (ev.type !== "interleaved") throw new Error("unexpected " + ev.type);
        out.push({ channel: ev.channel, data: ev.data, chunk });
      }
    });
    return out;
  }

  function reports(conn: FakeConn, channel: number): { sr: RtcpSenderReport; sdes: RtcpSourceDescription }[] {
    return frames(conn).filter((f) => f.channel === channel).map((f) => {
      const [sr, sdes, ...rest] = parseRtcp(f.data);
      expect(rest.length).toBe(0);
      if (sr.type !== "sr" || sdes.type !== "sdes") {
        throw new Error(`expected SR + SDES, got ${sr.type} ${sdes.type}`);
      }
      return { sr, sdes };
    });
  }

  function viewerWith(
    conn: FakeConn,
    senderReportIntervalMs?: number,
    maxBufferedBytes?: number,
  ): RtspViewerConsumer {
    const v = new RtspViewerConsumer({
      conn: conn as unknown as TcpConn,
      medias: [],
      senderReportIntervalMs,
      maxBufferedBytes,
    });
    created.push(v);
    return v;
  }

  it("sends SR + SDES(CNAME) on the RTCP channel right after the first frame, as a write of its own", async () => {
    const conn = new FakeConn();
    const viewer = viewerWith(conn);
    const receiver = new Receiver(video, H264, { gop: false });
    viewer.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
    const t = viewer.tracks[0];
    t.transport = { type: "tcp", channel: 2 };
    viewer.startSending();
    const before = Date.now();
    receiver.push({
      timestamp: 1000,
      keyframe: true,
      data: new Uint8Array(1),
      packets: packets(3, 100, 1000, 7, 500),
    });
    await flush();
    expect(conn.chunks.length).toBe(2);
    const all = frames(conn);
    expect(all.map((f) => `${f.channel}@${f.chunk}`)).toEqual(["2@0", "2@0", "2@0", "3@1"]);
    const [{ sr, sdes }] = reports(conn, 3);
    expect(sr.ssrc).toBe(t.ssrc);
    expect(sr.packetCount).toBe(3);
    expect(sr.octetCount).toBe(1500);
    expect(sr.reports.length).toBe(0);
    // The RTP clock at the report's instant: the frame's output timestamp, a few ms later at most.
    const ahead = (sr.rtpTimestamp - t.initialTimestamp) | 0;
    expect(ahead).toBeGreaterThanOrEqual(0);
    expect(ahead).toBeLessThan(90 * 50);
    const wall = ntpToMs(sr.ntpSeconds, sr.ntpFraction);
    expect(Math.abs(wall - before)).toBeLessThan(200);
    expect(sdes.chunks).toEqual([{ ssrc: t.ssrc, items: [{ type: 1, text: expect.any(String) }] }]);
    expect(sdes.chunks[0].items[0].text.length).toBe(16);
    // More frames: no more reports until the interval.
    receiver.push({
      timestamp: 4600,
      keyframe: false,
      data: new Uint8Array(1),
      packets: packets(1, 103, 4600, 7),
    });
    await flush();
    expect(reports(conn, 3).length).toBe(1);
    viewer.stop();
  });

  it("starts RTP-Info, the GOP cache and the clock at the PLAY instant; reports right after the first frame", async () => {
    const conn = new FakeConn();
    const viewer = viewerWith(conn);
    const receiver = new Receiver(video, H264);
    for (let i = 0; i < 10; i++) {
      receiver.push({
        timestamp: i * 3600,
        keyframe: i === 0,
        data: new Uint8Array(1),
        packets: packets(1, i, i * 3600, 7),
      });
    }
    viewer.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
    const t = viewer.tracks[0];
    t.transport = { type: "tcp", channel: 0 };
    const info = viewer.play("rtsp://h/cam");
    expect(info).toBe(`url=rtsp://h/cam/trackID=0;seq=${t.nextSequence};rtptime=${t.initialTimestamp}`);
    viewer.startSending();
    await flush();
    const all = frames(conn);
    const rtp = all.filter((f) => f.channel === 0).map((f) => parseRtp(f.data));
    expect(rtp.length).toBe(10);
    // The first report went out right after the first frame, before the rest of the cache.
    expect(all.findIndex((f) => f.channel === 1)).toBe(1);
    const [{ sr }] = reports(conn, 1);
    // The newest cached frame came in before PLAY: it is placed one frame interval (3600) before
    // "now" (PLAY, a moment ago), the older ones before it.
    const newest = (rtp[9].timestamp - t.initialTimestamp) | 0;
    expect(newest).toBeGreaterThanOrEqual(-3600);
    expect(newest).toBeLessThan(-3600 + 90 * 50);
    for (let i = 0; i < 10; i++) expect((rtp[9].timestamp - rtp[i].timestamp) | 0).toBe((9 - i) * 3600);
    // The report is on that same clock.
    const ahead = (sr.rtpTimestamp - t.initialTimestamp) | 0;
    expect(ahead).toBeGreaterThanOrEqual(0);
    expect(ahead).toBeLessThan(90 * 50);
    viewer.stop();
  });

  it("places a burst so that its newest frame is now, not its oldest", async () => {
    const conn = new FakeConn();
    const viewer = viewerWith(conn);
    const audio: Media = { kind: "audio", direction: "recvonly", codecs: [AAC] };
    const receiver = new Receiver(audio, AAC);
    viewer.addTrack({ kind: "audio", direction: "sendonly", codecs: [AAC] }, AAC, receiver);
    const t = viewer.tracks[0];
    t.transport = { type: "tcp", channel: 0 };
    viewer.play("rtsp://h/cam");
    viewer.startSending();
    // Eight AAC frames (170 ms) at once, as ffmpeg's muxers send them.
    for (let i = 0; i < 8; i++) {
      receiver.push({
        timestamp: i * 1024,
        keyframe: true,
        data: new Uint8Array(1),
        packets: packets(1, i, 5000 + i * 1024, 3),
      });
    }
    await flush();
    const rtp = frames(conn).filter((f) => f.channel === 0).map((f) => parseRtp(f.data));
    expect(rtp.length).toBe(8);
    const newest = (rtp[7].timestamp - t.initialTimestamp) | 0;
    expect(newest).toBeGreaterThanOrEqual(0);
    expect(newest).toBeLessThan(48 * 50);
    expect((rtp[7].timestamp - rtp[0].timestamp) | 0).toBe(7 * 1024);
    viewer.stop();
  });

  it("corrects the clock at each report: later at once, earlier 10 ms a report, a jump past a second at once", async () => {
    const conn = new FakeConn();
    const viewer = viewerWith(conn, 40);
    const receiver = new Receiver(video, H264, { gop: false });
    viewer.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
    const t = viewer.tracks[0];
    t.transport = { type: "tcp", channel: 0 };
    viewer.startSending();
    receiver.push({ timestamp: 0, keyframe: true, data: new Uint8Array(1), packets: packets(1, 0, 0, 7) });
    await flush();
    const out0 = parseRtp(frames(conn)[0].data).timestamp;
    let seq = 1;
    // A frame whose output timestamp is `aheadMs` ahead of the track's clock right now.
    const pushAhead = (aheadMs: number) => {
      const now = (t.clock.rtpTimestamp + Math.round(((performance.now() - t.clock.atMs) * 90000) / 1000)) >>> 0;
      const out = (now + aheadMs * 90) >>> 0;
      receiver.push({
        timestamp: 0,
        keyframe: false,
        data: new Uint8Array(1),
        packets: packets(1, seq++, (out - out0) >>> 0, 7),
      });
    };
    const nextReport = async () => {
      const n = t.reportsSent;
      await waitUntil(() => t.reportsSent > n);
    };
    await nextReport(); // the window of the first frame
    const steps: number[] = [];
    for (const ahead of [-100, 100, 100, 2000]) {
      const before = t.clock.rtpTimestamp;
      pushAhead(ahead);
      await flush();
      await nextReport();
      steps.push((t.clock.rtpTimestamp - before) | 0);
    }
    // 100 ms late: 9000 ticks later at once. 100 ms early: 10 ms (900 ticks) per report. 2 s
    // early: the source's timeline jumped, followed at once.
    expect(Math.abs(steps[0] + 9000)).toBeLessThan(90 * 5);
    expect(steps[1]).toBe(900);
    expect(steps[2]).toBe(900);
    expect(Math.abs(steps[3] - 180000)).toBeLessThan(90 * 5);
    viewer.stop();
  });

  it("reports every interval from ONE timer per viewer, and stops on pause and stop", async () => {
    const conn = new FakeConn();
    const viewer = viewerWith(conn, 40);
    const vr = new Receiver(video, H264, { gop: false });
    const audio: Media = { kind: "audio", direction: "recvonly", codecs: [AAC] };
    const ar = new Receiver(audio, AAC);
    viewer.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, vr);
    viewer.addTrack({ kind: "audio", direction: "sendonly", codecs: [AAC] }, AAC, ar);
    viewer.tracks[0].transport = { type: "tcp", channel: 0 };
    viewer.tracks[1].transport = { type: "tcp", channel: 2 };
    const realSetInterval = globalThis.setInterval;
    let timers = 0;
    globalThis.setInterval = ((fn: () => void, ms?: number) => {
      timers++;
      return realSetInterval(fn, ms);
    }) as typeof setInterval;
    try {
      viewer.startSending();
    } finally {
      globalThis.setInterval = realSetInterval;
    }
    expect(timers).toBe(1);
    vr.push({ timestamp: 0, keyframe: true, data: new Uint8Array(1), packets: packets(1, 0, 0, 7) });
    ar.push({ timestamp: 0, keyframe: true, data: new Uint8Array(1), packets: packets(1, 0, 0, 9, 300) });
    await flush();
    await new Promise((r) => setTimeout(r, 230));
    const video1 = reports(conn, 1);
    const audio1 = reports(conn, 3);
    expect(video1.length).toBeGreaterThanOrEqual(3);
    expect(audio1.length).toBeGreaterThanOrEqual(3);
    expect(audio1[0].sr.ssrc).toBe(viewer.tracks[1].ssrc);
    expect(audio1[0].sr.octetCount).toBe(300);
    // Both tracks share one CNAME; each report's RTP clock runs with its wallclock at the codec rate.
    expect(audio1[0].sdes.chunks[0].items[0].text).toBe(video1[0].sdes.chunks[0].items[0].text);
    for (const [list, rate] of [[video1, 90000], [audio1, 48000]] as const) {
      for (let i = 1; i < list.length; i++) {
        const dWall = ntpToMs(list[i].sr.ntpSeconds, list[i].sr.ntpFraction) -
          ntpToMs(list[i - 1].sr.ntpSeconds, list[i - 1].sr.ntpFraction);
        const dRtp = ((list[i].sr.rtpTimestamp - list[i - 1].sr.rtpTimestamp) | 0) / rate * 1000;
        expect(Math.abs(dWall - dRtp)).toBeLessThan(2);
      }
    }
    viewer.pause();
    const paused = reports(conn, 1).length;
    await new Promise((r) => setTimeout(r, 120));
    expect(reports(conn, 1).length).toBe(paused);
    viewer.startSending();
    await new Promise((r) => setTimeout(r, 100));
    expect(reports(conn, 1).length).toBeGreaterThan(paused);
    viewer.stop();
    const stopped = reports(conn, 1).length;
    await new Promise((r) => setTimeout(r, 120));
    expect(reports(conn, 1).length).toBe(stopped);
  });

  it("reports on the rewritten timeline the viewer sees, across a source reconnect", async () => {
    const conn = new FakeConn();
    const viewer = viewerWith(conn, 30);
    const receiver = new Receiver(video, H264, { gop: false });
    viewer.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
    viewer.tracks[0].transport = { type: "tcp", channel: 0 };
    viewer.startSending();
    receiver.push({
      timestamp: 0,
      keyframe: true,
      data: new Uint8Array(1),
      packets: packets(1, 0, 123456789, 7),
    });
    await flush();
    await new Promise((r) => setTimeout(r, 200));
    // The camera reconnects: new SSRC, an unrelated timestamp base.
    receiver.push({ timestamp: 0, keyframe: true, data: new Uint8Array(1), packets: packets(1, 50, 5, 8) });
    await flush();
    const rtp = frames(conn).filter((f) => f.channel === 0).map((f) => parseRtp(f.data));
    expect(rtp.length).toBe(2);
    // The new source continues where the wallclock is: ~200 ms (18000 ticks) later.
    const step = (rtp[1].timestamp - rtp[0].timestamp) | 0;
    expect(step).toBeGreaterThan(90 * 150);
    expect(step).toBeLessThan(90 * 400);
    const before = reports(conn, 1).length;
    await new Promise((r) => setTimeout(r, 80));
    const srs = reports(conn, 1);
    expect(srs.length).toBeGreaterThan(before);
    // The latest report is on the output timeline, tens of ms past the last packet: never near the
    // source's own timestamps (5 or 123456789).
    const last = srs[srs.length - 1].sr;
    const past = (last.rtpTimestamp - rtp[1].timestamp) | 0;
    expect(past).toBeGreaterThanOrEqual(0);
    expect(past).toBeLessThan(90 * 200);
    // The mapping before and after the reconnect agree (within the scheduling slack).
    const first = srs[0].sr;
    const dWall = ntpToMs(last.ntpSeconds, last.ntpFraction) - ntpToMs(first.ntpSeconds, first.ntpFraction);
    const dRtp = ((last.rtpTimestamp - first.rtpTimestamp) | 0) / 90;
    expect(Math.abs(dWall - dRtp)).toBeLessThan(30);
    viewer.stop();
  });

  it("keeps the clock on late frames and B-frames (decode order), between and at reports", async () => {
    const conn = new FakeConn();
    const viewer = viewerWith(conn, 0);
    const receiver = new Receiver(video, H264, { gop: false });
    viewer.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
    const t = viewer.tracks[0];
    t.transport = { type: "tcp", channel: 0 };
    viewer.startSending();
    const push = async (ts: number, seq: number) => {
      receiver.push({
        timestamp: ts,
        keyframe: seq === 0,
        data: new Uint8Array(1),
        packets: packets(1, seq, ts, 7),
      });
      await flush();
    };
    await push(0, 0); // I
    const clock = [t.clock.rtpTimestamp, t.clock.atMs];
    await push(3 * 3600, 1); // P, 120 ms ahead: measured, applied at the next report only
    await push(1 * 3600, 2); // B
    await push(2 * 3600, 3); // B
    expect([t.clock.rtpTimestamp, t.clock.atMs]).toEqual(clock);
    expect(Math.round(t.clock.minLateness)).toBeLessThanOrEqual(-3 * 3600 + 90 * 20);
    expect(reports(conn, 1).length).toBe(0); // interval 0: no reports at all
    viewer.stop();
  });

  it("sends over UDP from the RTCP socket to the client's RTCP port", async () => {
    const sent: { socket: string; port: number; host: string; data: Uint8Array }[] = [];
    const fakeSocket = (name: string) => ({
      addr: { hostname: "127.0.0.1", port: 0 },
      onMessage: undefined,
      send(data: Uint8Array, port: number, host: string) {
        sent.push({ socket: name, port, host, data: data.slice() });
        return true;
      },
      close() {},
      [Symbol.dispose]() {},
    });
    const viewer = viewerWith(new FakeConn());
    const receiver = new Receiver(video, H264, { gop: false });
    viewer.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
    const t = viewer.tracks[0];
    t.transport = {
      type: "udp",
      rtp: fakeSocket("rtp"),
      rtcp: fakeSocket("rtcp"),
      host: "127.0.0.1",
      port: 6000,
      rtcpPort: 6001,
    };
    viewer.startSending();
    receiver.push({
      timestamp: 0,
      keyframe: true,
      data: new Uint8Array(1),
      packets: packets(2, 0, 0, 7, 100),
    });
    await flush();
    expect(sent.map((s) => `${s.socket}:${s.port}`)).toEqual(["rtp:6000", "rtp:6000", "rtcp:6001"]);
    const [sr] = parseRtcp(sent[2].data);
    expect(sr).toMatchObject({ type: "sr", ssrc: t.ssrc, packetCount: 2, octetCount: 200 });
    viewer.stop();
  });

  it("writes no report to a socket over its buffer bound", async () => {
    const conn = new FakeConn();
    conn.stuck = true;
    conn.buffered = 1 << 20;
    const viewer = viewerWith(conn, 20, 1000);
    const receiver = new Receiver(video, H264, { gop: false });
    viewer.addTrack({ kind: "video", direction: "sendonly", codecs: [H264] }, H264, receiver);
    viewer.tracks[0].transport = { type: "tcp", channel: 0 };
    viewer.startSending();
    receiver.push({ timestamp: 0, keyframe: true, data: new Uint8Array(1), packets: packets(1, 0, 0, 7) });
    await new Promise((r) => setTimeout(r, 80));
    expect(conn.chunks.length).toBe(0);
    viewer.stop();
  });
});
