/**
 * The RTSP server against hand-written requests: malformed input, wrong state, unsupported
 * transports, timeouts, publishing with strom's own client, and session bookkeeping.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Codec } from "../../lib/core/codec.ts";
import { StreamHub } from "../../lib/core/hub.ts";
import { MemoryProducer } from "../../lib/core/_testing.ts";
import { registerSource, unregisterSource } from "../../lib/core/registry.ts";
import { type TcpConn, tcpConnect, udpBind } from "../../lib/runtime/mod.ts";
import { serializeRtp } from "../../lib/rtp/packet.ts";
import { RtspClient } from "../../lib/protocol/rtsp/client.ts";
import { bodyText, type RtspResponse } from "../../lib/protocol/rtsp/message.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { readRtspReplies, sleep, waitFor } from "./_helpers.ts";

const H264: Codec = { name: "H264", clockRate: 90000, payloadType: 96, fmtp: "packetization-mode=1" };
const PCMA: Codec = { name: "PCMA", clockRate: 8000, payloadType: 8 };
const enc = new TextEncoder();

/** A raw RTSP connection: write text, read responses in order. */
class Raw {
  readonly conn: TcpConn;
  readonly responses: RtspResponse[] = [];
  interleaved = 0;
  ended = false;
  constructor(conn: TcpConn) {
    this.conn = conn;
    readRtspReplies(conn, {
      response: (res) => this.responses.push(res),
      interleaved: () => this.interleaved++,
    }).then(() => (this.ended = true));
  }
  static async open(port: number): Promise<Raw> {
    return new Raw(await tcpConnect({ hostname: "127.0.0.1", port }));
  }
  send(text: string | Uint8Array): void {
    this.conn.write(typeof text === "string" ? enc.encode(text) : text);
  }
  async next(timeoutMs = 3000): Promise<RtspResponse> {
    const want = this.responses.length ? 0 : 1;
    await waitFor(
      "an RTSP response",
      () => this.responses.length >= want && this.responses.length > 0,
      timeoutMs,
    );
    return this.responses.shift()!;
  }
  close(): void {
    this.conn.destroy();
  }
}

describe("rtsp server: requests, states and sessions", () => {
  let hub: StreamHub;
  let server: RtspServer;
  let port = 0;
  let source: MemoryProducer | undefined;
  let url = "";

  beforeAll(async () => {
    registerSource("rawtest", () => {
      source = new MemoryProducer([
        { kind: "video", direction: "recvonly", codecs: [H264] },
        { kind: "audio", direction: "recvonly", codecs: [PCMA] },
      ]);
      return Promise.resolve(source);
    });
    hub = new StreamHub({ graceMs: 100 });
    hub.set("cam", ["rawtest:cam"]);
    hub.set("pub", []);
    server = await RtspServer.listen({
      hub,
      listen: { hostname: "127.0.0.1", port: 0 },
      sessionTimeoutMs: 600,
    });
    port = server.addr.port;
    url = `rtsp://127.0.0.1:${port}/cam`;
  });

  afterAll(async () => {
    await server?.close();
    await hub?.close();
    unregisterSource("rawtest");
  });

  it("answers OPTIONS, 501 for unknown methods and 400 for a bad request line without closing", async () => {
    const raw = await Raw.open(port);
    raw.send(`OPTIONS ${url} RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
    const opt = await raw.next();
    expect(opt.status).toBe(200);
    expect(opt.headers.get("Public")).toContain("ANNOUNCE");
    expect(opt.headers.get("CSeq")).toBe("1");
    raw.send(`FROB ${url} RTSP/1.0\r\nCSeq: 2\r\n\r\n`);
    expect((await raw.next()).status).toBe(501);
    raw.send("HELLO THERE\r\n\r\n");
    const bad = await raw.next();
    expect(bad.status).toBe(400);
    expect(bodyText(bad)).toContain("bad start line");
    raw.send(`OPTIONS ${url} RTSP/1.0\r\nCSeq: 3\r\n\r\n`);
    expect((await raw.next()).headers.get("CSeq")).toBe("3");
    raw.close();
  });

  it("answers 400 and closes on oversize headers", async () => {
    const raw = await Raw.open(port);
    raw.send(`OPTIONS ${url} RTSP/1.0\r\nCSeq: 1\r\nX-Big: ${"a".repeat(40_000)}`);
    const res = await raw.next();
    expect(res.status).toBe(400);
    expect(bodyText(res)).toContain("header larger than");
    await waitFor("the connection to close", () => raw.ended, 3000);
    raw.close();
  });

  it("skips garbage and truncated interleaved frames from a client", async () => {
    const raw = await Raw.open(port);
    raw.send(new Uint8Array([0x24, 0, 0, 16, 0x13, 1, 2, 3, 0xff, 0xfe, 0x00, 0x24, 0x01]));
    raw.send(`OPTIONS ${url} RTSP/1.0\r\nCSeq: 7\r\n\r\n`);
    const res = await raw.next();
    expect(res.status).toBe(200);
    expect(res.headers.get("CSeq")).toBe("7");
    raw.close();
  });

  it("rejects wrong states, unsupported transports and foreign sessions", async () => {
    const raw = await Raw.open(port);
    raw.send(`PLAY ${url} RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
    expect((await raw.next()).status).toBe(455);
    raw.send(`SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n`);
    expect((await raw.next()).status).toBe(455);
    raw.send(`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 3\r\n\r\n`);
    const d = await raw.next();
    expect(d.status).toBe(200);
    expect(d.headers.get("Content-Type")).toBe("application/sdp");
    expect(bodyText(d)).toContain("a=rtpmap:8 PCMA/8000");
    raw.send(
      `SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 4\r\nTransport: RTP/AVP;multicast;port=5000-5001\r\n\r\n`,
    );
    expect((await raw.next()).status).toBe(461);
    raw.send(`SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 5\r\nTransport: RTP/SAVP/TCP;interleaved=0-1\r\n\r\n`);
    expect((await raw.next()).status).toBe(461);
    raw.send(`SETUP ${url}/trackID=9 RTSP/1.0\r\nCSeq: 6\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n`);
    expect((await raw.next()).status).toBe(404);
    raw.send(`SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 7\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n`);
    const setup = await raw.next();
    expect(setup.status).toBe(200);
    expect(setup.headers.get("Transport")).toMatch(
      /^RTP\/AVP\/TCP;unicast;interleaved=0-1;ssrc=[0-9A-F]{8}$/,
    );
    const session = setup.headers.get("Session")!.split(";")[0];
    raw.send(`PLAY ${url} RTSP/1.0\r\nCSeq: 8\r\nSession: NOTMINE\r\n\r\n`);
    expect((await raw.next()).status).toBe(454);
    raw.send(`PLAY ${url} RTSP/1.0\r\nCSeq: 9\r\nSession: ${session}\r\n\r\n`);
    const play = await raw.next();
    expect(play.status).toBe(200);
    expect(play.headers.get("RTP-Info")).toMatch(/^url=rtsp:\/\/.*\/cam\/trackID=0;seq=\d+;rtptime=\d+$/);
    // Frames from the source now reach this viewer as interleaved packets.
    source!.push("video", { timestamp: 0, keyframe: true, data: new Uint8Array([0, 0, 0, 2, 0x65, 0x88]) });
    await waitFor("interleaved RTP", () => raw.interleaved > 0, 3000);
    raw.send(`PAUSE ${url} RTSP/1.0\r\nCSeq: 10\r\nSession: ${session}\r\n\r\n`);
    expect((await raw.next()).status).toBe(200);
    raw.send(`GET_PARAMETER ${url} RTSP/1.0\r\nCSeq: 11\r\nSession: ${session}\r\n\r\n`);
    expect((await raw.next()).status).toBe(200);
    raw.send(`TEARDOWN ${url} RTSP/1.0\r\nCSeq: 12\r\nSession: ${session}\r\n\r\n`);
    expect((await raw.next()).status).toBe(200);
    await waitFor("the connection to close after TEARDOWN", () => raw.ended, 3000);
    raw.close();
  });

  it("answers 415 with the codec mismatch and 551 for unknown Require options", async () => {
    const raw = await Raw.open(port);
    raw.send(`DESCRIBE ${url}?video=vp8 RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
    const res = await raw.next();
    expect(res.status).toBe(415);
    expect(bodyText(res)).toContain("codecs not matched");
    raw.send(`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 2\r\nRequire: com.example.magic\r\n\r\n`);
    const req = await raw.next();
    expect(req.status).toBe(551);
    expect(req.headers.get("Unsupported")).toBe("com.example.magic");
    raw.close();
    await waitFor("the viewer to leave", () => hub.get("cam")!.consumers().length === 0, 3000);
  });

  it("times out an idle UDP session and releases it once", async () => {
    const rtp = await udpBind({ hostname: "127.0.0.1", port: 0 });
    let datagrams = 0;
    rtp.onMessage = () => datagrams++;
    const raw = await Raw.open(port);
    try {
      raw.send(`DESCRIBE ${url}?audio RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
      expect((await raw.next()).status).toBe(200);
      raw.send(
        `SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;client_port=${rtp.addr.port}-${
          rtp.addr.port + 1
        }\r\n\r\n`,
      );
      const setup = await raw.next();
      expect(setup.status).toBe(200);
      expect(setup.headers.get("Transport")).toMatch(/server_port=\d+-\d+/);
      const session = setup.headers.get("Session")!.split(";")[0];
      raw.send(`PLAY ${url} RTSP/1.0\r\nCSeq: 3\r\nSession: ${session}\r\n\r\n`);
      expect((await raw.next()).status).toBe(200);
      source!.push("audio", { timestamp: 0, keyframe: true, data: new Uint8Array(160) });
      await waitFor("an RTP datagram", () => datagrams > 0, 3000);
      const s = [...server.sessions].find((x) => x.id === session)!;
      // No requests and no RTCP: released after sessionTimeoutMs (600 ms).
      await waitFor("the UDP session to time out", () => s.released, 3000);
      await waitFor("the connection to close", () => raw.ended, 3000);
      expect(server.sessions.has(s)).toBe(false);
      expect(hub.get("cam")!.consumers().length).toBe(0);
    } finally {
      rtp.close();
      raw.close();
    }
  });

  it("times out a connection that never sends a request", async () => {
    const raw = await Raw.open(port);
    await waitFor("the idle connection to close", () => raw.ended, 3000);
    raw.close();
  });

  it("accepts ANNOUNCE/RECORD from strom's client and serves the published media", async () => {
    const bad = new RtspClient(`rtsp://127.0.0.1:${port}/unknown`);
    await bad.connect();
    await expect(bad.announce("v=0\r\nm=audio 0 RTP/AVP 8\r\n")).rejects.toThrow("404");
    bad.close();

    const pub = new RtspClient(`rtsp://127.0.0.1:${port}/pub`);
    await pub.connect();
    await pub.announce(
      "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:streamid=0\r\n",
    );
    const ch = await pub.setup({
      kind: "audio",
      direction: "sendonly",
      codecs: [PCMA],
      id: "streamid=0",
      port: 0,
      protocol: "RTP/AVP",
      attributes: [],
    }, ";mode=record");
    await pub.record();
    let seq = 1000;
    const timer = setInterval(() => {
      pub.sendRtp(
        ch,
        serializeRtp({
          payloadType: 8,
          sequenceNumber: seq++,
          timestamp: seq * 160,
          ssrc: 9,
          marker: false,
          payload: new Uint8Array(160).fill(0xd5),
        }),
      );
    }, 20);
    try {
      await waitFor("the publisher", () => hub.get("pub")!.producers().length === 1, 3000);
      const viewer = new RtspClient(`rtsp://127.0.0.1:${port}/pub`);
      await viewer.connect();
      const { sdp } = await viewer.describe();
      expect(sdp.medias[0].codecs[0]).toMatchObject({ name: "PCMA", payloadType: 8 });
      const vch = await viewer.setup(sdp.medias[0]);
      const seqs: number[] = [];
      viewer.onRtp = (c, pkt) => {
        if (c === vch) seqs.push(pkt.sequenceNumber);
      };
      await viewer.play();
      await waitFor("published packets at the viewer", () => seqs.length > 10, 3000);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1] + 1) & 0xffff);
      await viewer.teardown();
    } finally {
      clearInterval(timer);
      await pub.teardown();
    }
    await waitFor("the publisher to be removed", () => hub.get("pub")!.producers().length === 0, 3000);
  });

  it("leaves no session behind after many short connections", async () => {
    const conns = await Promise.all(Array.from({ length: 30 }, () => Raw.open(port)));
    for (const [i, c] of conns.entries()) {
      c.send(`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
      if (i % 3 === 0) c.close(); // some hang up mid-request
    }
    await sleep(200);
    for (const c of conns) c.close();
    await waitFor("every session to be released", () => server.sessions.size === 0, 3000);
    await waitFor("every viewer to leave the stream", () => hub.get("cam")!.consumers().length === 0, 3000);
  });
});
