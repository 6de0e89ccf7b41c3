/**
 * Viewer process of the WebRTC fan-out bench (webrtc_fanout.ts): either werift peers that play a
 * stream over WHEP, or plain UDP sockets for the raw UDP relay (the reference). Each counts the RTP
 * bytes it receives. Driven by lines on stdin, answers JSON lines on stdout:
 *
 *   whep <url> <count>   connect `count` WHEP viewers one after another; answers
 *                        {"event":"connected","ok":n,"failed":n,"errors":[...],"firstPacketMs":[...]}
 *                        (firstPacketMs: from the POST to the first RTP datagram, per viewer)
 *   udp <count>          bind `count` UDP sockets on 127.0.0.1; answers {"event":"udp","ports":[...]}
 *   start                zero the counters; answers {"event":"started"}
 *   stop                 answers {"event":"stats","seconds":s,"bytes":[...per viewer]}
 *   quit                 closes everything and exits
 *
 * The WHEP viewers do not decrypt: werift's SRTP receive path (decrypt, parse, jitter buffer) is
 * replaced by a counter on the ICE connection's datagrams, so that this process, which shares the
 * 2-core machine with the server, costs little. The DTLS handshake, ICE consent and RTCP receiver
 * reports stay werift's. A viewer's bytes are its SRTP packets less the 10-byte auth tag: the RTP
 * bytes, comparable to what the raw relay sends.
 *
 *   node --import tsx scripts/bench/webrtc_viewer.ts
 *
 * @module
 */
import * as dgram from "node:dgram";
import { createInterface } from "node:readline";
import { RTCPeerConnection, RtcpRrPacket } from "werift";
import { H264_OFFER } from "../../tests/webrtc/_peer.ts";

const SRTP_AUTH_TAG = 10;
const out = (ev: Record<string, unknown>) => console.log(JSON.stringify(ev));

interface Counted {
  /** Where the connection got to, for the error of a viewer that gets no RTP. */
  state(): string;
  bytes: number;
  close(): Promise<void> | void;
  /** WHEP viewers: when each set-up step was reached, ms after the offer was made. */
  phases?: () => string;
}

const viewers: Counted[] = [];
let startedAt = performance.now();

/** Whether a datagram is RTP (not RTCP, STUN or DTLS; RFC 7983 and RFC 5761 demultiplexing). */
function isRtp(d: Uint8Array): boolean {
  if (d.length < 12 || d[0] < 128 || d[0] > 191) return false;
  const pt = d[1];
  return pt < 192 || pt > 223;
}

interface DtlsLike {
  srtpStarted: boolean;
  updateSrtpSession(): void;
  startSrtp(): void;
  sendRtcp(packets: unknown[]): Promise<void>;
  iceTransport: { connection: { onData: { subscribe(fn: (d: Uint8Array) => void): unknown } } };
}

async function whepViewer(url: string): Promise<{ viewer: Counted; firstPacketMs: Promise<number> }> {
  const pc = new RTCPeerConnection({
    bundlePolicy: "max-bundle",
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ["127.0.0.1"],
    iceInterfaceAddresses: { udp4: "127.0.0.1" } as never,
    codecs: {
      video: H264_OFFER,
      audio: [],
    },
  });
  const t = pc.addTransceiver("video", { direction: "recvonly" });
  let reports: ReturnType<typeof setInterval> | undefined;
  const counted: Counted = {
    state: () =>
      `connection ${pc.connectionState}, ICE ${pc.iceConnectionState}, DTLS ${
        (t.dtlsTransport as unknown as { state?: string })?.state ?? "none"
      }, SRTP ${(t.dtlsTransport as unknown as DtlsLike)?.srtpStarted ? "started" : "not started"}`,
    bytes: 0,
    close: async () => {
      clearInterval(reports);
      const dtls = t.dtlsTransport;
      await pc.close().catch(() => {});
      await dtls?.stop().catch(() => {});
    },
  };
  let firstResolve: (ms: number) => void = () => {};
  const firstPacketMs = new Promise<number>((r) => (firstResolve = r));
  const t0 = performance.now();
  // When each step of the set-up was reached (ms from t0), for a viewer whose first RTP came late.
  const phases: Record<string, number> = {};
  const mark = (name: string) => (phases[name] ??= Math.round(performance.now() - t0));
  pc.iceConnectionStateChange.subscribe((s) => mark(`ice ${s}`));
  pc.connectionStateChange.subscribe((s) => mark(`pc ${s}`));
  counted.phases = () => Object.entries(phases).map(([k, v]) => `${k} ${v}`).join(", ");
  await pc.setLocalDescription(await pc.createOffer());
  // The same 1 MiB receive buffer as the raw relay's sockets get (the default 208 KiB overflows
  // on a keyframe burst while this process serves 25 peers on a busy machine).
  for (const ice of pc.iceTransports) {
    const conn = ice.connection as unknown as { protocols?: { transport?: { socket?: dgram.Socket } }[] };
    for (const p of conn.protocols ?? []) {
      try {
        p.transport?.socket?.setRecvBufferSize(1 << 20);
      } catch { /* not bound */ }
    }
  }
  // Count instead of decrypting (see the module doc); srtcp stays set up for receiver reports.
  const dtls = t.dtlsTransport as unknown as DtlsLike;
  dtls.startSrtp = function (this: DtlsLike) {
    if (this.srtpStarted) return;
    this.srtpStarted = true;
    mark("srtp");
    this.updateSrtpSession();
    // werift's receiver, which would send receiver reports, never sees a packet now: send an
    // empty one every second, so the server hears from its peer (strom closes silent peers).
    reports = setInterval(
      () => void this.sendRtcp([new RtcpRrPacket({ ssrc: 0x5eed, reports: [] })]).catch(() => {}),
      1000,
    );
    let first = true;
    this.iceTransport.connection.onData.subscribe((d) => {
      if (!isRtp(d)) return;
      counted.bytes += d.length - SRTP_AUTH_TAG;
      if (first) {
        first = false;
        mark("first rtp");
        firstResolve(performance.now() - t0);
      }
    });
  };
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/sdp" },
    body: pc.localDescription!.sdp,
  });
  const answer = await res.text();
  if (res.status !== 201) {
    await counted.close();
    throw new Error(`WHEP answered ${res.status}: ${answer.slice(0, 200)}`);
  }
  mark("answer");
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
  return { viewer: counted, firstPacketMs };
}

async function connectWhep(url: string, count: number): Promise<void> {
  let ok = 0;
  const errors: string[] = [];
  const firsts: number[] = [];
  const slow: string[] = [];
  for (let i = 0; i < count; i++) {
    try {
      const { viewer, firstPacketMs } = await whepViewer(url);
      viewers.push(viewer);
      const ms = await Promise.race([
        firstPacketMs,
        new Promise<number>((r) => setTimeout(() => r(-1), 15_000)),
      ]);
      if (ms < 0) throw new Error(`no RTP within 15 s of the answer (${viewer.state()})`);
      firsts.push(ms);
      if (ms > 1000) slow.push(`viewer ${i}: ${viewer.phases?.() ?? ""}`);
      ok++;
    } catch (e) {
      errors.push(String((e as Error)?.message ?? e));
    }
  }
  out({
    event: "connected",
    ok,
    failed: count - ok,
    errors: errors.slice(0, 5),
    firstPacketMs: firsts,
    slow: slow.slice(0, 5),
  });
}

async function bindUdp(count: number): Promise<void> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = dgram.createSocket({ type: "udp4", recvBufferSize: 1 << 20 } as dgram.SocketOptions);
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
    const counted: Counted = { state: () => "plain UDP", bytes: 0, close: () => void s.close() };
    s.on("message", (m: Uint8Array) => {
      if (isRtp(m)) counted.bytes += m.length;
    });
    viewers.push(counted);
    ports.push(s.address().port);
  }
  out({ event: "udp", ports });
}

async function quit(): Promise<never> {
  await Promise.race([Promise.all(viewers.map((v) => v.close())), new Promise((r) => setTimeout(r, 3000))]);
  process.exit(0);
}

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const [cmd, a, b] = line.trim().split(/\s+/);
  switch (cmd) {
    case "whep":
      void connectWhep(a, Number(b));
      return;
    case "udp":
      void bindUdp(Number(a));
      return;
    case "start":
      for (const v of viewers) v.bytes = 0;
      startedAt = performance.now();
      out({ event: "started" });
      return;
    case "stop":
      out({
        event: "stats",
        seconds: (performance.now() - startedAt) / 1000,
        bytes: viewers.map((v) => v.bytes),
      });
      return;
    case "quit":
      void quit();
      return;
  }
});
rl.on("close", () => void quit());
process.on("SIGTERM", () => process.exit(0));
