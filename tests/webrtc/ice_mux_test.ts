/**
 * One UDP port for every WebRTC peer (`webrtc.listen`, go2rtc's ":8555"): strom's answers name only
 * that port, several werift viewers play through it at once, a LAN host in its own network namespace
 * plays with no STUN server, a taken port falls back to per-peer ports with a warning, and stray
 * datagrams are dropped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import type { WebRtcConsumer } from "../../lib/protocol/webrtc/consumer.ts";
import { fastSrtpOf } from "../../lib/protocol/webrtc/fast_srtp.ts";
import { IceUdpMux, stunUsername } from "../../lib/protocol/webrtc/ice_mux.ts";
import { udpBind } from "../../lib/runtime/udp.ts";
import type { NetAddr } from "../../lib/runtime/net_error.ts";
import { webrtcModule } from "../../server/modules/webrtc.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { canUseNetns, TestNetns } from "../_support/netns.ts";
import { freePort } from "../_support/net.ts";
import { until, Viewer } from "./_peer.ts";

const netnsOk = await canUseNetns();

/** A STUN binding request with a USERNAME attribute (RFC 8489 layout, no integrity: enough to route). */
function bindingRequest(username: string): Uint8Array {
  const name = new TextEncoder().encode(username);
  const padded = (name.length + 3) & ~3;
  const out = new Uint8Array(20 + 4 + padded);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0x0001);
  view.setUint16(2, 4 + padded);
  view.setUint32(4, 0x2112a442);
  crypto.getRandomValues(out.subarray(8, 20));
  view.setUint16(20, 0x0006);
  view.setUint16(22, name.length);
  out.set(name, 24);
  return out;
}

/** The ports of the `a=candidate` lines of an SDP. */
function candidatePorts(sdp: string): number[] {
  return sdp.split(/\r?\n/).filter((l) => l.startsWith("a=candidate:")).map((l) => Number(l.split(" ")[5]));
}

async function whep(base: string, viewer: Viewer): Promise<{ answer: string; location: string }> {
  const res = await fetch(`${base}/api/webrtc?src=demo`, {
    method: "POST",
    headers: { "Content-Type": "application/sdp" },
    body: await viewer.offer(),
  });
  const answer = await res.text();
  if (res.status !== 201) throw new Error(`WHEP answered ${res.status}: ${answer}`);
  await viewer.accept(answer);
  return { answer, location: res.headers.get("location") ?? "" };
}

describe("STUN USERNAME parsing (what routes a new peer to its session)", () => {
  test("reads the USERNAME of a binding request; anything else is not routed", () => {
    expect(stunUsername(bindingRequest("abcd:efgh"))).toBe("abcd:efgh");
    const rtp = new Uint8Array(40);
    rtp[0] = 0x80;
    expect(stunUsername(rtp)).toBeUndefined();
    const response = bindingRequest("abcd:efgh");
    response[1] = 0x01;
    response[0] = 0x01; // binding success response: not a request
    expect(stunUsername(response)).toBeUndefined();
    const truncated = bindingRequest("abcd:efgh").subarray(0, 26);
    expect(stunUsername(truncated)).toBeUndefined();
    const lying = bindingRequest("abcd:efgh");
    new DataView(lying.buffer).setUint16(22, 500); // attribute longer than the message
    expect(stunUsername(lying)).toBeUndefined();
    expect(stunUsername(new Uint8Array(0))).toBeUndefined();
  });
});

describe("IceUdpMux on its own", () => {
  test("forwards a registered session both ways by address; drops strangers; unregister closes the relay", async () => {
    const mux = await IceUdpMux.bind({ hostname: "127.0.0.1", port: 0 });
    const werift = await udpBind({ hostname: "127.0.0.1", port: 0 });
    const peer = await udpBind({ hostname: "127.0.0.1", port: 0 });
    const stranger = await udpBind({ hostname: "127.0.0.1", port: 0 });
    try {
      const atWerift: { data: Uint8Array; port: number }[] = [];
      const atPeer: Uint8Array[] = [];
      werift.onMessage = (data, from) => atWerift.push({ data: data.slice(), port: from.port });
      peer.onMessage = (data) => atPeer.push(data.slice());
      const unregister = mux.register("srv1", { hostname: "127.0.0.1", port: werift.addr.port });

      stranger.send(new Uint8Array([0x80, 1, 2, 3]), mux.port, "127.0.0.1"); // RTP from nobody
      stranger.send(bindingRequest("nope:x"), mux.port, "127.0.0.1"); // a ufrag nobody registered
      peer.send(bindingRequest("srv1:peer"), mux.port, "127.0.0.1");
      await until("the check at werift", () => atWerift.length === 1, 3000);
      expect(stunUsername(atWerift[0].data)).toBe("srv1:peer");
      // Later datagrams of that peer follow by address, whatever they are.
      peer.send(new Uint8Array([0x80, 9]), mux.port, "127.0.0.1");
      await until("the RTP at werift", () => atWerift.length === 2, 3000);
      expect([...atWerift[1].data]).toEqual([0x80, 9]);
      // werift answers to the relay address it saw; the peer gets it from the mux port.
      werift.send(new Uint8Array([7, 7]), atWerift[0].port, "127.0.0.1");
      await until("the reply at the peer", () => atPeer.length === 1, 3000);
      expect([...atPeer[0]]).toEqual([7, 7]);
      expect(mux.stats()).toEqual({ sessions: 1, relays: 1, tcpRelays: 0, dropped: 2 });

      unregister();
      expect(mux.stats().sessions).toBe(0);
      peer.send(new Uint8Array([0x80, 10]), mux.port, "127.0.0.1");
      await new Promise((r) => setTimeout(r, 200));
      expect(atWerift.length).toBe(2);
      expect(() => mux.register("a", { hostname: "127.0.0.1", port: 1 })).not.toThrow();
      expect(() => mux.register("a", { hostname: "127.0.0.1", port: 1 })).toThrow(/already registered/);
    } finally {
      mux.close();
      werift.close();
      peer.close();
      stranger.close();
    }
  });
});

describe("IceUdpMux in-process delivery (target.direct)", () => {
  test("the peer's datagrams reach deliver() as from the relay; sends to the relay leave the mux port; unregister detaches", async () => {
    const mux = await IceUdpMux.bind({ hostname: "127.0.0.1", port: 0 });
    const werift = await udpBind({ hostname: "127.0.0.1", port: 0 });
    const peer = await udpBind({ hostname: "127.0.0.1", port: 0 });
    try {
      const delivered: { data: Uint8Array; from: NetAddr }[] = [];
      const overLoopback: Uint8Array[] = [];
      const atPeer: Uint8Array[] = [];
      let link: { relay: NetAddr; send: (data: Uint8Array) => void } | undefined;
      let detached = false;
      werift.onMessage = (data) => overLoopback.push(data.slice());
      peer.onMessage = (data) => atPeer.push(data.slice());
      const unregister = mux.register("dir1", {
        hostname: "127.0.0.1",
        port: werift.addr.port,
        direct: {
          deliver: (data, from) => delivered.push({ data: data.slice(), from }),
          attach: (l) => {
            if (l) link = l;
            else detached = true;
          },
        },
      });
      peer.send(bindingRequest("dir1:peer"), mux.port, "127.0.0.1");
      await until("the check delivered", () => delivered.length === 1, 3000);
      expect(stunUsername(delivered[0].data)).toBe("dir1:peer");
      expect(link).toBeDefined();
      expect(delivered[0].from).toEqual(link!.relay);
      peer.send(new Uint8Array([0x80, 5]), mux.port, "127.0.0.1");
      await until("the RTP delivered", () => delivered.length === 2, 3000);
      expect([...delivered[1].data]).toEqual([0x80, 5]);
      link!.send(new Uint8Array([6, 6]));
      await until("the reply at the peer", () => atPeer.length === 1, 3000);
      expect([...atPeer[0]]).toEqual([6, 6]);
      expect(overLoopback.length).toBe(0); // nothing took the loopback hop
      unregister();
      expect(detached).toBe(true);
    } finally {
      mux.close();
      werift.close();
      peer.close();
    }
  });
});

describe("webrtc.listen: one port for every peer (werift viewers over WHEP)", () => {
  let server: RunningServer;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    server = await startServer({
      configSources: [JSON.stringify({ streams: { demo: "demo:" }, webrtc: { listen: `127.0.0.1:${port}` } })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
      modules: [webrtcModule],
    });
  }, 30_000);
  afterAll(() => server?.close(), 30_000);

  test("three viewers at once: every answer names only the shared port, and all play", async () => {
    const viewers = [new Viewer({ audio: false }), new Viewer({ audio: false }), new Viewer({ audio: false })];
    try {
      const answers = await Promise.all(viewers.map((v) => whep(server.urls[0], v)));
      // strom's own ICE credentials (ice_credentials.ts), one ufrag per session on the shared port:
      // werift's 4-hex-digit ufrags collided about once in 50 sessions, and that viewer never played.
      const ufrags = answers.map(({ answer }) => /^a=ice-ufrag:(\S+)/m.exec(answer)?.[1] ?? "");
      for (const u of ufrags) expect(u).toMatch(/^[A-Za-z0-9]{8}$/);
      expect(new Set(ufrags).size).toBe(3);
      for (const { answer } of answers) {
        expect(/^a=ice-pwd:(\S+)/m.exec(answer)?.[1]).toHaveLength(24);
        const ports = candidatePorts(answer);
        expect(ports.length).toBeGreaterThan(0);
        expect(new Set(ports)).toEqual(new Set([port]));
      }
      for (const [i, v] of viewers.entries()) await until(`video at viewer ${i}`, () => v.packets.video > 20, 20_000);
      // Each viewer's RTP leaves through strom's own path (direct_rtp.ts) straight to the mux socket.
      const consumers = (server.hub.get("demo")?.consumers() ?? []) as unknown as WebRtcConsumer[];
      expect(consumers.length).toBe(3);
      for (const c of consumers) {
        const track = c.tracks[0];
        expect(track.direct).toBeDefined();
        expect(fastSrtpOf(track.rtp!.dtlsTransport)!.sentToMux).toBeGreaterThan(20);
      }
      const deleted = await Promise.all(
        answers.map(({ location }) => fetch(new URL(location, `${server.urls[0]}/api/webrtc`), { method: "DELETE" })),
      );
      expect(deleted.map((r) => r.status)).toEqual([200, 200, 200]);
      await until("no WebRTC consumers left", () => (server.hub.get("demo")?.consumers().length ?? 0) === 0, 10_000);
    } finally {
      await Promise.all(viewers.map((v) => v.close()));
    }
  }, 60_000);
});

describe("webrtc.listen on a port that is taken", () => {
  test("the server starts, warns, and each peer gets its own port", async () => {
    const blocker = await udpBind({ hostname: "127.0.0.1", port: 0 });
    const lines: string[] = [];
    const log = {
      ...silentLogger,
      warn: (msg: string) => void lines.push(msg),
      child: () => log,
    } as typeof silentLogger;
    const server = await startServer({
      configSources: [JSON.stringify({
        streams: { demo: "demo:" },
        webrtc: { listen: `127.0.0.1:${blocker.addr.port}`, filters: { loopback: true } },
      })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log,
      modules: [webrtcModule],
    });
    const viewer = new Viewer({ audio: false });
    try {
      expect(lines.some((l) => l.includes(`127.0.0.1:${blocker.addr.port}`) && l.includes("own UDP port"))).toBe(true);
      const { answer } = await whep(server.urls[0], viewer);
      expect(candidatePorts(answer)).not.toContain(blocker.addr.port);
      await until("video", () => viewer.packets.video > 20, 20_000);
    } finally {
      await viewer.close();
      await server.close();
      blocker.close();
    }
  }, 60_000);
});

describe.skipIf(!netnsOk)("a LAN host, no STUN server: strom serve in its own network namespace", () => {
  let ns: TestNetns;
  beforeAll(async () => {
    ns = await TestNetns.create();
  }, 20_000);
  afterAll(() => ns?.close(), 20_000);

  test("a werift viewer on the LAN plays through <ns address>:8555 only", async () => {
    const config = JSON.stringify({
      api: { listen: ":1984" },
      rtsp: { listen: "" },
      rtmp: { listen: "" },
      webrtc: { listen: ":8555" },
      streams: { demo: "demo:" },
    });
    const base = await ns.serveStrom(config);
    const viewer = new Viewer({ audio: false, bindAddress: ns.hostAddress });
    try {
      const { answer } = await whep(base, viewer);
      const candidates = answer.split(/\r?\n/).filter((l) => l.startsWith("a=candidate:"));
      expect(candidates.length).toBeGreaterThan(0);
      for (const c of candidates) {
        const [, , , , address, p] = c.split(" ");
        expect(`${address}:${p}`).toBe(`${ns.address}:8555`);
      }
      await until("video from the namespace", () => viewer.packets.video > 20, 20_000);
    } finally {
      await viewer.close();
    }
  }, 90_000);
});
