import { describe, expect, it } from "bun:test";
import type { Codec } from "../../core/codec.ts";
import type { Media } from "../../core/media.ts";
import { Receiver } from "../../core/node.ts";
import { type TcpConn, tcpConnect, tcpListen } from "../../runtime/mod.ts";
import { parseRtp, type RtpPacket } from "../../rtp/packet.ts";
import { RtspViewerConsumer, viewerMedias } from "./consumer.ts";
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

describe("RtspViewerConsumer", () => {
  it("forwards a frame's packets as one write with our PT, SSRC and continuous sequence numbers", async () => {
    const conn = new FakeConn();
    const viewer = new RtspViewerConsumer({
      conn: conn as unknown as TcpConn,
      medias: viewerMedias(new URLSearchParams(), "video", parseMediaQuery),
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
    expect(out[0].timestamp).toBe(t.initialTimestamp);
    // After the reconnect the timeline continues forward instead of jumping back.
    expect(((out[3].timestamp - out[0].timestamp) | 0) > 0).toBe(true);
    expect(out[2].marker).toBe(true);
    viewer.stop();
  });

  it("packetizes frames without RTP packets", async () => {
    const conn = new FakeConn();
    const viewer = new RtspViewerConsumer({ conn: conn as unknown as TcpConn, medias: [] });
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

  it("a viewer that stops reading drops frames and never holds the source or other viewers", async () => {
    const slowConn = new FakeConn();
    slowConn.stuck = true;
    const fastConn = new FakeConn();
    const slow = new RtspViewerConsumer({ conn: slowConn as unknown as TcpConn, medias: [] });
    const fast = new RtspViewerConsumer({ conn: fastConn as unknown as TcpConn, medias: [] });
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
    for (const v of viewers) v.stop();
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

describe("viewerMedias", () => {
  it("uses the default query, ?mp4 and ?backchannel=1", () => {
    const def = viewerMedias(new URLSearchParams(""), "video&audio", parseMediaQuery);
    expect(def.map((m) => m.kind)).toEqual(["video", "audio"]);
    const mp4 = viewerMedias(new URLSearchParams("mp4"), "video&audio", parseMediaQuery);
    expect(mp4[0].codecs.map((c) => c.name)).toEqual(["H264", "H265"]);
    expect(mp4[1].codecs.map((c) => c.name)).toEqual(["MPEG4-GENERIC"]);
    const bc = viewerMedias(new URLSearchParams("video=h264&backchannel=1"), "video&audio", parseMediaQuery);
    expect(bc.map((m) => `${m.kind}:${m.direction}`)).toEqual(["video:sendonly", "audio:recvonly"]);
    // Unrelated keys (source=, pkt_size=) do not turn the default off.
    const other = viewerMedias(new URLSearchParams("source=x"), "video", parseMediaQuery);
    expect(other.map((m) => m.kind)).toEqual(["video"]);
  });
});
