/**
 * The raw UDP fan-out reference of the WebRTC bench (webrtc_fanout.ts): the per-packet floor. It
 * plays the camera once (RTSP, TCP interleaved) and sends every video RTP packet, unencrypted and
 * byte for byte, to each destination UDP port with the runtime's own UDP socket (`node:dgram` on
 * Node, `Deno.listenDatagram` on Deno — run it with `--unstable-net`, else `node:dgram` —, and
 * `Bun.udpSocket` on Bun): one send per packet per viewer, no SRTP, no RTCP, no ICE. The camera's
 * packets are at most 1200 bytes (the bench publishes with `-pkt_size 1200`), the size strom
 * packetizes WebRTC to, so both send the same number of packets.
 *
 * With `--srtp` it is the floor of an SRTP relay instead: each destination gets its own
 * {@link SrtpProtector} (random master key and salt, AES_CM_128_HMAC_SHA1_80, what strom's WebRTC
 * viewers get), and every packet is copied into a new buffer per destination, protected and sent, as
 * strom's RTP path (lib/protocol/webrtc/direct_rtp.ts) does, with nothing else: no RTCP, ICE, DTLS,
 * queues or fan-out. The difference between it and strom is strom's own per-packet overhead.
 *
 * Driven by lines on stdin: `add <port>[,<port>...]` (destinations on 127.0.0.1), `clear`, and
 * `mark`, which answers `{"event":"mark","seconds":s,"packets":n,"bytes":n}`: the camera's RTP since
 * the previous mark (the source bitrate of the bench's window). Prints
 * `{"event":"listening","udp":"<which socket>"}` once it plays the camera.
 *
 *   node --import tsx scripts/bench/raw_udp_relay.ts --source rtsp://127.0.0.1:9000/cam
 *
 * @module
 */
import * as dgram from "node:dgram";
import { createInterface } from "node:readline";
import { playRtsp } from "./_rtsp_wire.ts";
import { allocUnfilled } from "../../lib/runtime/node_buffer.ts";
import { tryParseRtp } from "../../lib/rtp/packet.ts";
import { denoListenDatagram, denoUdpBind } from "../../lib/runtime/_deno_udp.ts";
import type { UdpSocket } from "../../lib/runtime/udp.ts";
import { SRTP_AUTH_TAG_LENGTH, SRTP_HMAC_HEADROOM, SrtpProtector } from "../../lib/protocol/srtp/mod.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const source = arg("source")!;
const forceDgram = process.argv.includes("--dgram");
const srtp = process.argv.includes("--srtp");
let dropped = 0;
type Send = (data: Uint8Array, port: number) => void;

interface BunUdp {
  send(data: Uint8Array, port: number, address: string): boolean;
}

async function makeSender(): Promise<{ send: Send; kind: string }> {
  const g = globalThis as {
    Bun?: { udpSocket(o: { hostname: string; port: number }): Promise<BunUdp> };
  };
  const listenDatagram = denoListenDatagram();
  if (!forceDgram && listenDatagram) {
    // Deno's send is asynchronous: strom's own socket on Deno (lib/runtime/_deno_udp.ts) keeps a
    // bounded number in flight and queues the rest in order, so this floor sends what strom sends.
    const s = denoUdpBind(listenDatagram, "127.0.0.1", 0) as UdpSocket & { dropped: number };
    return {
      kind: "Deno.listenDatagram",
      send: (data, port) => {
        const before = s.dropped;
        s.send(data, port, "127.0.0.1");
        dropped += s.dropped - before;
      },
    };
  }
  if (!forceDgram && g.Bun) {
    const s = await g.Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    return { kind: "Bun.udpSocket", send: (data, port) => void s.send(data, port, "127.0.0.1") };
  }
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  s.on("error", () => {});
  const ignore = () => {};
  return { kind: "node:dgram", send: (data, port) => s.send(data, port, "127.0.0.1", ignore) };
}

const { send, kind } = await makeSender();
let ports: number[] = [];
/** One protector per destination (`--srtp`), in the order of `ports`. */
let protectors: SrtpProtector[] = [];

function newProtector(): SrtpProtector {
  return new SrtpProtector(crypto.getRandomValues(new Uint8Array(16)), crypto.getRandomValues(new Uint8Array(14)));
}

/** Sends `pkt` (one RTP packet) to every destination, each protected under its own keys. */
function sendProtected(pkt: Uint8Array): void {
  const rtp = tryParseRtp(pkt);
  if (!rtp) return;
  const headerLength = rtp.payload.byteOffset - pkt.byteOffset;
  const { ssrc, sequenceNumber: seq } = rtp;
  for (let i = 0; i < ports.length; i++) {
    const buffer = allocUnfilled(SRTP_HMAC_HEADROOM + pkt.length + SRTP_AUTH_TAG_LENGTH);
    buffer.set(pkt, SRTP_HMAC_HEADROOM);
    protectors[i].protect(buffer, headerLength, pkt.length - headerLength, ssrc, seq, SRTP_HMAC_HEADROOM);
    send(buffer.subarray(SRTP_HMAC_HEADROOM), ports[i]);
  }
}
let packets = 0;
let bytes = 0;
let markAt = performance.now();

const session = await playRtsp(source, {
  onFrame: (channel, buf, start, end) => {
    if (channel !== 0) return;
    packets++;
    bytes += end - start;
    if (ports.length === 0) return;
    // The reader reuses its buffer: one copy per packet, shared by every destination.
    const pkt = buf.slice(start, end);
    if (srtp) return sendProtected(pkt);
    for (let i = 0; i < ports.length; i++) send(pkt, ports[i]);
  },
});
setInterval(() => session.keepAlive(), 20_000).unref?.();
session.socket.on("close", () => {
  console.error("raw_udp_relay: camera closed");
  process.exit(1);
});

createInterface({ input: process.stdin }).on("line", (line) => {
  const [cmd, a] = line.trim().split(/\s+/);
  if (cmd === "add") {
    const added = a.split(",").map(Number);
    ports = [...ports, ...added];
    protectors = [...protectors, ...added.map(newProtector)];
  } else if (cmd === "clear") {
    ports = [];
    protectors = [];
  }
  else if (cmd === "mark") {
    const now = performance.now();
    console.log(JSON.stringify({ event: "mark", seconds: (now - markAt) / 1000, packets, bytes, dropped }));
    packets = 0;
    bytes = 0;
    dropped = 0;
    markAt = now;
  } else if (cmd === "quit") process.exit(0);
});
process.on("SIGTERM", () => process.exit(0));
console.log(JSON.stringify({ event: "listening", udp: kind }));
