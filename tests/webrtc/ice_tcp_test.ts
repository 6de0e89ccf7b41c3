/**
 * ICE-TCP on the shared ICE port (`webrtc.listen`, as go2rtc: UDP and TCP on one port number):
 * RFC 4571 framing, the mux routing a TCP connection by the USERNAME of its first STUN request, and
 * headless Chromium that may not use UDP (`disable_non_proxied_udp`, as a network that blocks UDP)
 * playing through the port over TCP, frames decoding.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { IceUdpMux, stunUsername } from "../../lib/protocol/webrtc/ice_mux.ts";
import { FrameReader, frameOf } from "../../lib/protocol/webrtc/ice_tcp_framing.ts";
import { tcpConnect } from "../../lib/runtime/tcp.ts";
import { udpBind } from "../../lib/runtime/udp.ts";
import { webrtcModule } from "../../server/modules/webrtc.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { hasChromium, launchBrowser, whepInPage } from "../_support/browser.ts";
import { freePort } from "../_support/net.ts";
import { until } from "./_peer.ts";

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

describe("RFC 4571 framing", () => {
  test("frames split anywhere across chunks come out whole and in order", () => {
    const packets = [new Uint8Array([1, 2, 3]), new Uint8Array(300).fill(7), new Uint8Array([9])];
    const stream = new Uint8Array(packets.reduce((n, p) => n + p.length + 2, 0));
    let at = 0;
    for (const p of packets) {
      stream.set(frameOf(p), at);
      at += p.length + 2;
    }
    for (const cut of [1, 2, 3, 4, 150, stream.length - 1]) {
      const reader = new FrameReader();
      const out: number[][] = [];
      const onFrame = (f: Uint8Array) => (out.push([...f]), true);
      reader.push(stream.subarray(0, cut), onFrame);
      // one byte at a time for a stretch, then the rest
      for (let i = cut; i < Math.min(cut + 5, stream.length); i++) reader.push(stream.subarray(i, i + 1), onFrame);
      reader.push(stream.subarray(Math.min(cut + 5, stream.length)), onFrame);
      expect(out).toEqual(packets.map((p) => [...p]));
    }
    expect(() => frameOf(new Uint8Array(0x10000))).toThrow(/at most 65535/);
  });

  test("returning false stops the chunk", () => {
    const reader = new FrameReader();
    const seen: number[] = [];
    const two = new Uint8Array([...frameOf(new Uint8Array([1])), ...frameOf(new Uint8Array([2]))]);
    reader.push(two, (f) => (seen.push(f[0]), false));
    expect(seen).toEqual([1]);
  });
});

describe("IceUdpMux over TCP", () => {
  test("a TCP peer naming a session is bridged both ways; strangers are closed", async () => {
    const mux = await IceUdpMux.bind({ hostname: "127.0.0.1", port: 0 });
    const werift = await udpBind({ hostname: "127.0.0.1", port: 0 });
    expect(mux.tcp).toBe(true);
    const atWerift: { data: Uint8Array; port: number }[] = [];
    werift.onMessage = (data, from) => atWerift.push({ data: data.slice(), port: from.port });
    const unregister = mux.register("srv1", { hostname: "127.0.0.1", port: werift.addr.port });
    const stranger = await tcpConnect({ hostname: "127.0.0.1", port: mux.port });
    const peer = await tcpConnect({ hostname: "127.0.0.1", port: mux.port });
    try {
      // A connection whose first frame names no session is closed.
      stranger.write(frameOf(bindingRequest("nope:x")));
      await Promise.race([stranger.closed, new Promise((r) => setTimeout(r, 3000))]);
      expect(mux.stats().dropped).toBe(1);

      const atPeer: number[][] = [];
      const reader = new FrameReader();
      peer.read((chunk) => reader.push(chunk, (f) => (atPeer.push([...f]), true)), () => {});
      // The check and an RTP packet in one write, the second split over two.
      const check = frameOf(bindingRequest("srv1:peer"));
      const rtp = frameOf(new Uint8Array([0x80, 9, 8, 7]));
      peer.write(new Uint8Array([...check, ...rtp.subarray(0, 3)]));
      await until("the check at werift", () => atWerift.length === 1, 3000);
      peer.write(rtp.subarray(3));
      await until("the RTP at werift", () => atWerift.length === 2, 3000);
      expect(stunUsername(atWerift[0].data)).toBe("srv1:peer");
      expect([...atWerift[1].data]).toEqual([0x80, 9, 8, 7]);
      expect(mux.stats()).toEqual({ sessions: 1, relays: 1, tcpRelays: 1, dropped: 1 });

      // werift answers the relay address; the TCP peer gets it framed.
      werift.send(new Uint8Array([5, 6]), atWerift[0].port, "127.0.0.1");
      await until("the reply at the peer", () => atPeer.length === 1, 3000);
      expect(atPeer[0]).toEqual([5, 6]);

      // A second connection for a session already carried is refused.
      const late = await tcpConnect({ hostname: "127.0.0.1", port: mux.port });
      late.write(frameOf(bindingRequest("srv1:other")));
      await Promise.race([late.closed, new Promise((r) => setTimeout(r, 3000))]);
      expect(mux.stats().dropped).toBe(2);

      // Unregistering the session closes its connection.
      unregister();
      await Promise.race([peer.closed, new Promise((r) => setTimeout(r, 3000))]);
      expect(mux.stats()).toEqual({ sessions: 0, relays: 0, tcpRelays: 0, dropped: 2 });
    } finally {
      stranger.destroy();
      peer.destroy();
      mux.close();
      werift.close();
    }
  });
});

describe.skipIf(!hasChromium)("Chromium that may not use UDP plays through the shared port over ICE-TCP", () => {
  let server: RunningServer;
  let fixedTcp: RunningServer;
  let port: number;
  let tcpPort: number;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  const serve = (listen: string) =>
    startServer({
      configSources: [JSON.stringify({ streams: { demo: "demo:" }, webrtc: { listen } })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
      modules: [webrtcModule],
    });
  beforeAll(async () => {
    port = await freePort();
    tcpPort = await freePort();
    server = await serve(`127.0.0.1:${port}`);
    // go2rtc's ":8555/tcp": the TCP port is fixed, the UDP one is picked.
    fixedTcp = await serve(`127.0.0.1:${tcpPort}/tcp`);
    // What a network that blocks UDP leaves a browser: TCP only.
    browser = await launchBrowser(["--webrtc-ip-handling-policy=disable_non_proxied_udp"]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fixedTcp?.close();
  }, 30_000);

  /** WHEP from a page of `s`; waits for decoded frames; returns the answer and what getStats says. */
  async function playOverTcp(s: RunningServer) {
    const page = await browser!.context.newPage();
    try {
      await page.goto(`${s.urls[0]}/`, { timeout: 15_000 });
      const whep = await whepInPage(page, "/api/webrtc?src=demo", ["video"]);
      const offerUdp = / udp /i.test(whep.offer.split("\n").filter((l) => l.startsWith("a=candidate")).join("\n"));
      const result = { ...whep, offerUdp };
      expect(result.status).toBe(201);
      expect(result.offerUdp).toBe(false); // the browser really has no UDP candidate

      const stats = () =>
        page.evaluate(async () => {
          const pc = (window as unknown as { whep: RTCPeerConnection }).whep;
          const report = await pc.getStats();
          let frames = 0;
          let pairLocal = "";
          let protocol = "";
          report.forEach((s) => {
            if (s.type === "inbound-rtp" && s.kind === "video") frames = s.framesDecoded ?? 0;
            if (s.type === "transport" && s.selectedCandidatePairId) pairLocal = report.get(s.selectedCandidatePairId)?.localCandidateId;
          });
          if (pairLocal) protocol = report.get(pairLocal)?.protocol ?? "";
          return { frames, protocol, state: pc.connectionState };
        });
      let st = await stats();
      for (let i = 0; i < 300 && st.frames <= 10; i++) {
        await new Promise((r) => setTimeout(r, 100));
        st = await stats();
      }
      const candidates = result.answer.split(/\r?\n/).filter((l) => l.startsWith("a=candidate:"));
      return { candidates, ...st };
    } finally {
      await page.close();
    }
  }

  test("WHEP: the answer offers TCP on the listen port, the pair is TCP, frames decode", async () => {
    const got = await playOverTcp(server);
    expect(got.candidates.some((c) => / tcp /.test(c) && c.includes(` 127.0.0.1 ${port} typ host tcptype passive`))).toBe(true);
    for (const c of got.candidates) expect(c.split(" ")[5]).toBe(String(port));
    expect(got.frames).toBeGreaterThan(10);
    expect(got.state).toBe("connected");
    expect(got.protocol).toBe("tcp");
    await until("the viewer gone with the page", () => (server.hub.get("demo")?.consumers().length ?? 0) === 0, 20_000);
  }, 90_000);

  test('listen ":port/tcp": TCP on that port, UDP on one other port; plays over TCP', async () => {
    const got = await playOverTcp(fixedTcp);
    const tcp = got.candidates.filter((c) => c.split(" ")[2] === "tcp");
    const udp = got.candidates.filter((c) => c.split(" ")[2] === "udp");
    expect(tcp.length).toBeGreaterThan(0);
    for (const c of tcp) expect(c.split(" ")[5]).toBe(String(tcpPort));
    expect(udp.length).toBeGreaterThan(0);
    expect(new Set(udp.map((c) => c.split(" ")[5])).size).toBe(1);
    expect(udp[0].split(" ")[5]).not.toBe(String(tcpPort));
    expect(got.frames).toBeGreaterThan(10);
    expect(got.protocol).toBe("tcp");
  }, 90_000);
});
