/**
 * The RTSP client and producer against a scripted camera that behaves like the buggy ones in the
 * field: Digest auth, an SDP with a missing rtpmap and mixed absolute/relative controls, no
 * GET_PARAMETER support, a short session timeout, UDP transport, and connections that go quiet.
 */
import { afterEach, describe, expect, it } from "bun:test";
import type { Frame } from "../../lib/core/frame.ts";
import { Receiver } from "../../lib/core/fanout.ts";
import { type TcpConn, tcpListen, type TcpListener, udpBind } from "../../lib/runtime/mod.ts";
import { serializeRtp } from "../../lib/rtp/packet.ts";
import { RtspAuthServer } from "../../lib/protocol/rtsp/auth.ts";
import { RtspHeaders } from "../../lib/protocol/rtsp/headers.ts";
import {
  interleavedFrame,
  RtspMessageParser,
  type RtspRequest,
  serializeResponse,
} from "../../lib/protocol/rtsp/message.ts";
import { registerRtspSources, RtspClientProducer } from "../../lib/protocol/rtsp/producer.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { StreamHub } from "../../lib/core/hub.ts";
import { parseTransport } from "../../lib/protocol/rtsp/transport.ts";
import { sleep, waitFor } from "./_helpers.ts";

const enc = new TextEncoder();

interface CameraOptions {
  /** Stop sending media after this many packets (to test read timeouts). */
  quietAfter?: number;
  /** Close the connection after this many packets (to test EOF). */
  closeAfter?: number;
  sessionTimeout?: number;
  /** How to answer `Require: www.onvif.org/ver20/backchannel`. */
  backchannel?: "accept" | "refuse";
}

/** A scripted camera. Records every request. */
class FakeCamera {
  readonly requests: { conn: number; req: RtspRequest }[] = [];
  /** Interleaved RTP received from the client, by channel. */
  readonly received = new Map<number, number>();
  readonly auth = new RtspAuthServer({ username: "admin", password: "pa ss", realm: "IP Camera" });
  listener!: TcpListener;
  conns = 0;
  readonly #open = new Set<TcpConn>();
  readonly #timers = new Set<ReturnType<typeof setInterval>>();
  readonly options: CameraOptions;

  constructor(options: CameraOptions = {}) {
    this.options = options;
  }

  get port(): number {
    return this.listener.addr.port;
  }

  async start(): Promise<this> {
    this.listener = await tcpListen({ hostname: "127.0.0.1", port: 0, onConnection: (c) => this.#serve(c) });
    return this;
  }

  sdp(backchannel = false): string {
    const lines = [
      "v=0",
      "o=- 1 1 IN IP4 127.0.0.1",
      "s=Camera",
      "t=0 0",
      "a=control:*",
      "m=video 0 RTP/AVP 96",
      // No a=rtpmap for 96: the client must guess H264 from the fmtp.
      "a=fmtp:96 packetization-mode=1;profile-level-id=42e01f",
      `a=control:rtsp://127.0.0.1:${this.port}/live/track1`,
      "m=audio 0 RTP/AVP 8",
      "a=control:track2",
    ];
    if (backchannel) {
      lines.push("m=audio 0 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=sendonly", "a=control:track3");
    }
    return lines.join("\r\n") + "\r\n";
  }

  async #serve(conn: TcpConn): Promise<void> {
    const id = ++this.conns;
    this.#open.add(conn);
    const parser = new RtspMessageParser();
    const reader = conn.readable.getReader();
    let channels: number[] = [];
    const udpTargets: { port: number }[] = [];
    const udp = await udpBind({ hostname: "127.0.0.1", port: 0 });
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
        for (let ev = parser.next(); ev; ev = parser.next()) {
          if (ev.type === "interleaved") {
            this.received.set(ev.channel, (this.received.get(ev.channel) ?? 0) + 1);
          }
          if (ev.type !== "request") continue;
          const req = ev.request;
          this.requests.push({ conn: id, req });
          const headers = new RtspHeaders({ CSeq: req.headers.get("CSeq") ?? "0" });
          let status = 200;
          let body = "";
          if (!this.auth.verify(req.method, req.headers.get("Authorization"))) {
            status = 401;
            headers.append("WWW-Authenticate", this.auth.challenges()[0]);
          } else if (req.method === "OPTIONS") {
            // Advertises GET_PARAMETER but answers it with 501, as some cameras do.
            headers.set("Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER");
          } else if (
            req.method === "DESCRIBE" && req.headers.has("Require") && this.options.backchannel !== "accept"
          ) {
            status = 551;
            headers.set("Unsupported", req.headers.get("Require")!);
          } else if (req.method === "DESCRIBE") {
            headers.set("Content-Base", `rtsp://127.0.0.1:${this.port}/live/`);
            headers.set("Content-Type", "application/sdp");
            body = this.sdp(req.headers.has("Require"));
          } else if (req.method === "SETUP") {
            const t = parseTransport(req.headers.get("Transport")!)[0];
            headers.set("Session", `DEADBEEF;timeout=${this.options.sessionTimeout ?? 60}`);
            if (t.lower === "tcp") {
              channels.push(t.interleaved![0]);
              headers.set(
                "Transport",
                `RTP/AVP/TCP;unicast;interleaved=${t.interleaved![0]}-${t.interleaved![1]}`,
              );
            } else {
              udpTargets.push({ port: t.clientPort![0] });
              channels.push(-1);
              headers.set(
                "Transport",
                `RTP/AVP;unicast;client_port=${t.clientPort![0]}-${
                  t.clientPort![1]
                };server_port=${udp.addr.port}-${udp.addr.port + 1}`,
              );
            }
          } else if (req.method === "PLAY") {
            this.#stream(conn, channels, udpTargets, udp);
          } else if (req.method === "TEARDOWN") {
            channels = [];
          } else {
            status = 501; // no GET_PARAMETER on this camera
          }
          conn.write(
            serializeResponse({
              status,
              reason: status === 200 ? "OK" : "Nope",
              headers,
              body: enc.encode(body),
            }),
          );
        }
      }
    } catch {
      /* client went away */
    } finally {
      udp.close();
      this.#open.delete(conn);
    }
  }

  #stream(
    conn: TcpConn,
    channels: number[],
    udpTargets: { port: number }[],
    udp: { send(d: Uint8Array, p: number, h: string): void },
  ): void {
    let n = 0;
    let seq = 100;
    const timer = setInterval(() => {
      n++;
      if (this.options.closeAfter && n > this.options.closeAfter) {
        clearInterval(timer);
        conn.close();
        return;
      }
      if (this.options.quietAfter && n > this.options.quietAfter) return;
      // Video: SPS, PPS, IDR as three single-NAL packets; audio: 160 bytes of PCMA.
      const ts = n * 3600;
      const nals = [
        new Uint8Array([0x67, 0x42, 0xe0, 0x1f, 0xda, 0x02, 0x80, 0xf6, 0x40]),
        new Uint8Array([0x68, 0xce, 0x3c, 0x80]),
        new Uint8Array([0x65, 0x88, 0x84, 0x00, 0x33, 0xff]),
      ];
      const video = nals.map((payload, i) =>
        serializeRtp({
          payloadType: 96,
          sequenceNumber: seq++,
          timestamp: ts,
          ssrc: 1,
          marker: i === 2,
          payload,
        })
      );
      const audio = serializeRtp({
        payloadType: 8,
        sequenceNumber: seq,
        timestamp: n * 160,
        ssrc: 2,
        marker: false,
        payload: new Uint8Array(160).fill(0xd5),
      });
      channels.forEach((ch, i) => {
        if (i > 1) return; // the backchannel carries nothing from the camera
        const pkts = i === 0 ? video : [audio];
        for (const p of pkts) {
          if (ch >= 0) conn.write(interleavedFrame(ch, p));
          else {udp.send(
              p,
              udpTargets[udpTargets.length - channels.length + i]?.port ?? udpTargets[i].port,
              "127.0.0.1",
            );}
        }
      });
    }, 40);
    this.#timers.add(timer);
    conn.closed.then(() => clearInterval(timer));
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    for (const c of this.#open) c.destroy();
    await this.listener?.close();
  }
}

describe("RtspClientProducer against a scripted camera", () => {
  let camera: FakeCamera | undefined;
  afterEach(async () => {
    await camera?.close();
    camera = undefined;
  });

  async function collect(producer: RtspClientProducer): Promise<{ video: Frame[]; audio: Frame[] }> {
    const got = { video: [] as Frame[], audio: [] as Frame[] };
    for (const media of producer.medias()) {
      const receiver = await producer.track(media, media.codecs[0]);
      const kind = media.kind;
      // A minimal sender stand-in: read frames straight off the receiver.
      const origPush = receiver.push.bind(receiver);
      receiver.push = (f: Frame) => {
        got[kind].push(f);
        origPush(f);
      };
    }
    return got;
  }

  it(
    "authenticates with Digest, repairs the SDP, resolves controls and receives frames until EOF",
    async () => {
      camera = await new FakeCamera({ closeAfter: 10 }).start();
      const producer = await RtspClientProducer.dial(`rtsp://admin:pa%20ss@127.0.0.1:${camera.port}/live`);
      const medias = producer.medias();
      expect(medias.map((m) => `${m.kind}:${m.direction}:${m.codecs[0].name}`)).toEqual([
        "video:recvonly:H264",
        "audio:recvonly:PCMA",
      ]);
      const got = await collect(producer);
      const setups = camera.requests.filter((r) => r.req.method === "SETUP").map((r) => r.req.uri);
      expect(setups).toEqual([
        `rtsp://127.0.0.1:${camera.port}/live/track1`,
        `rtsp://127.0.0.1:${camera.port}/live/track2`,
      ]);
      // The first request (OPTIONS) got 401 and was retried once with credentials; later ones carry them.
      const [first, second, third] = camera.requests.map((r) => r.req);
      expect([first.method, first.headers.has("Authorization")]).toEqual(["OPTIONS", false]);
      expect([second.method, second.headers.get("Authorization")?.startsWith("Digest ")]).toEqual([
        "OPTIONS",
        true,
      ]);
      expect([third.method, third.headers.get("Authorization")?.includes('username="admin"')]).toEqual([
        "DESCRIBE",
        true,
      ]);
      await producer.start(); // resolves on EOF
      expect(got.video.length).toBeGreaterThan(3);
      expect(got.video[0].keyframe).toBe(true);
      expect(got.video[0].packets?.length).toBe(3);
      expect(got.audio.length).toBeGreaterThan(3);
      expect(got.audio[0].data.length).toBe(160);
      await producer.stop();
    },
    10_000,
  );

  it("is not closed when the dial signal aborts after the dial", async () => {
    camera = await new FakeCamera().start();
    const abort = new AbortController();
    const producer = await RtspClientProducer.dial(`rtsp://admin:pa%20ss@127.0.0.1:${camera.port}/live`, {
      signal: abort.signal,
    });
    const video = await producer.track(producer.medias()[0], producer.medias()[0].codecs[0]);
    let frames = 0;
    const push = video.push.bind(video);
    video.push = (f) => {
      frames++;
      push(f);
    };
    const run = producer.start();
    abort.abort(new Error("dial timeout elapsed"));
    await waitFor("frames after the abort", () => frames > 5, 3_000);
    await producer.stop();
    await run;
  });

  it("keeps the session alive, falling back from GET_PARAMETER to OPTIONS", async () => {
    camera = await new FakeCamera({ sessionTimeout: 2 }).start();
    const producer = await RtspClientProducer.dial(`rtsp://admin:pa%20ss@127.0.0.1:${camera.port}/live`);
    await producer.track(producer.medias()[0], producer.medias()[0].codecs[0]);
    const run = producer.start();
    const after = (method: string) =>
      camera!.requests.filter((r) => r.req.method === method && r.req.headers.has("Session"));
    await waitFor(
      "a GET_PARAMETER then OPTIONS keep-alives",
      () => after("GET_PARAMETER").length >= 1 && after("OPTIONS").length >= 1,
      5_000,
    );
    expect(after("GET_PARAMETER").length).toBe(1);
    expect(after("GET_PARAMETER")[0].req.headers.get("Session")).toBe("DEADBEEF");
    await producer.stop();
    await run;
  }, 10_000);

  it("keeps only the media asked for with #media=", async () => {
    camera = await new FakeCamera().start();
    const producer = await RtspClientProducer.dial(
      `rtsp://admin:pa%20ss@127.0.0.1:${camera.port}/live#media=audio`,
    );
    expect(producer.medias().map((m) => m.kind)).toEqual(["audio"]);
    await producer.stop();
  });

  it("rejects start() when the camera goes quiet (#timeout)", async () => {
    camera = await new FakeCamera({ quietAfter: 3 }).start();
    const producer = await RtspClientProducer.dial(
      `rtsp://admin:pa%20ss@127.0.0.1:${camera.port}/live#timeout=1`,
    );
    await producer.track(producer.medias()[0], producer.medias()[0].codecs[0]);
    const started = Date.now();
    await expect(producer.start()).rejects.toThrow("no data");
    expect(Date.now() - started).toBeLessThan(4_000);
    await producer.stop();
  }, 10_000);

  it("reconnects when a track is added after PLAY", async () => {
    camera = await new FakeCamera().start();
    const producer = await RtspClientProducer.dial(`rtsp://admin:pa%20ss@127.0.0.1:${camera.port}/live`);
    const [video, audio] = producer.medias();
    const vr = await producer.track(video, video.codecs[0]);
    let videoFrames = 0;
    const push = vr.push.bind(vr);
    vr.push = (f) => {
      videoFrames++;
      push(f);
    };
    const run = producer.start();
    await waitFor("video frames", () => videoFrames > 2, 3_000);
    const ar = await producer.track(audio, audio.codecs[0]);
    let audioFrames = 0;
    const apush = ar.push.bind(ar);
    ar.push = (f) => {
      audioFrames++;
      apush(f);
    };
    const before = videoFrames;
    await waitFor(
      "audio and video after the reconnect",
      () => audioFrames > 2 && videoFrames > before + 2,
      3_000,
    );
    expect(camera.conns).toBe(2);
    expect(camera.requests.filter((r) => r.conn === 2 && r.req.method === "SETUP").length).toBe(2);
    await sleep(100);
    expect(camera.requests.some((r) => r.conn === 1 && r.req.method === "TEARDOWN")).toBe(true);
    await producer.stop();
    await run;
  }, 10_000);

  it("receives over UDP with #transport=udp", async () => {
    camera = await new FakeCamera().start();
    const producer = await RtspClientProducer.dial(
      `rtsp://admin:pa%20ss@127.0.0.1:${camera.port}/live#transport=udp`,
    );
    const got = await collect(producer);
    const run = producer.start();
    await waitFor("frames over UDP", () => got.video.length > 3 && got.audio.length > 3, 5_000);
    const setup = camera.requests.find((r) => r.req.method === "SETUP")!;
    expect(setup.req.headers.get("Transport")).toMatch(/^RTP\/AVP;unicast;client_port=\d+-\d+$/);
    expect(producer.info().protocol).toBe("rtsp+udp");
    await producer.stop();
    await run;
  }, 10_000);

  it("sets up the ONVIF backchannel with #backchannel=1 and sends audio to the camera", async () => {
    camera = await new FakeCamera({ backchannel: "accept" }).start();
    const producer = await RtspClientProducer.dial(
      `rtsp://admin:pa%20ss@127.0.0.1:${camera.port}/live#backchannel=1`,
    );
    const medias = producer.medias();
    expect(medias.map((m) => `${m.kind}:${m.direction}:${m.codecs[0].name}`)).toEqual([
      "video:recvonly:H264",
      "audio:recvonly:PCMA",
      "audio:sendonly:PCMU",
    ]);
    await producer.track(medias[0], medias[0].codecs[0]);
    const mic = new Receiver(
      { kind: "audio", direction: "recvonly", codecs: [medias[2].codecs[0]] },
      medias[2].codecs[0],
    );
    await producer.addTrack(medias[2], medias[2].codecs[0], mic);
    const setup = camera.requests.filter((r) => r.req.method === "SETUP");
    expect(setup[1].req.uri).toBe(`rtsp://127.0.0.1:${camera.port}/live/track3`);
    const channel = parseTransport(setup[1].req.headers.get("Transport")!)[0].interleaved![0];
    const run = producer.start();
    await waitFor("PLAY", () => camera!.requests.some((r) => r.req.method === "PLAY"), 3_000);
    await sleep(50);
    for (let i = 0; i < 5; i++) {
      mic.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160).fill(0xff) });
    }
    await waitFor(
      "backchannel packets at the camera",
      () => (camera!.received.get(channel) ?? 0) >= 5,
      3_000,
    );
    await producer.stop();
    await run;
  }, 10_000);

  it("describes again without the backchannel when the camera refuses it", async () => {
    camera = await new FakeCamera({ backchannel: "refuse" }).start();
    const producer = await RtspClientProducer.dial(
      `rtsp://admin:pa%20ss@127.0.0.1:${camera.port}/live#backchannel=1`,
    );
    expect(producer.medias().length).toBe(2);
    const describes = camera.requests.filter((r) => r.req.method === "DESCRIBE").map((r) =>
      r.req.headers.has("Require")
    );
    expect(describes).toEqual([true, false]);
    await producer.stop();
  }, 10_000);

  it("passes a viewer's backchannel through strom's server to the camera", async () => {
    camera = await new FakeCamera({ backchannel: "accept" }).start();
    registerRtspSources();
    const hub = new StreamHub({ graceMs: 100 });
    hub.set("door", [`rtsp://admin:pa%20ss@127.0.0.1:${camera.port}/live#backchannel=1`]);
    const server = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
    try {
      // strom's client as the viewer: its Require header asks for the backchannel.
      const viewer = await RtspClientProducer.dial(`rtsp://127.0.0.1:${server.addr.port}/door#backchannel=1`);
      const medias = viewer.medias();
      expect(medias.map((m) => `${m.kind}:${m.direction}:${m.codecs[0].name}`)).toEqual([
        "video:recvonly:H264",
        "audio:recvonly:PCMA",
        "audio:sendonly:PCMU",
      ]);
      const video = await viewer.track(medias[0], medias[0].codecs[0]);
      let frames = 0;
      const push = video.push.bind(video);
      video.push = (f) => {
        frames++;
        push(f);
      };
      const mic = new Receiver(
        { kind: "audio", direction: "recvonly", codecs: [medias[2].codecs[0]] },
        medias[2].codecs[0],
      );
      await viewer.addTrack(medias[2], medias[2].codecs[0], mic);
      const run = viewer.start();
      await waitFor("video through the server", () => frames > 2, 5_000);
      const bcSetup = camera.requests.filter((r) => r.req.method === "SETUP" && r.req.uri.endsWith("track3"));
      expect(bcSetup.length).toBe(1);
      const channel = parseTransport(bcSetup[0].req.headers.get("Transport")!)[0].interleaved![0];
      for (let i = 0; i < 5; i++) {
        mic.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160).fill(0xff) });
      }
      await waitFor(
        "the viewer's audio at the camera",
        () => (camera!.received.get(channel) ?? 0) >= 5,
        5_000,
      );
      await viewer.stop();
      await run;
    } finally {
      await server.close();
      await hub.close();
      // The rtsp schemes stay registered: other test files in this process (Bun) dial them too.
    }
  }, 15_000);
});
