/**
 * N RTSP readers in one process (the load generator of the fan-out bench), plus one "tap" reading the
 * camera directly for the source bitrate and the latency reference (see _latency.ts).
 *
 *   node --import tsx scripts/bench/rtsp_reader.ts --target rtsp://127.0.0.1:8554/cam \
 *     --tap rtsp://127.0.0.1:9000/cam --readers 200
 *   --target tcp://127.0.0.1:9100     raw TCP relay: no handshake, the bytes are interleaved frames
 *
 * With `--readers N` it opens N readers at once and reports "ready". The driver can instead place
 * readers step by step (to interleave latency probes from a second process with the bulk readers
 * in the server's fan-out order):
 *   <- connect N                                      -> {"event":"connected", total, failed}
 *   <- ready                                          -> {"event":"ready", ...}
 *
 * Protocol with the driver (one JSON object per stdout line; commands on stdin, one per line):
 *   -> {"event":"ready", connected, failed, errors}   all readers play and got a first packet (or timed out)
 *   <- start                                          -> {"event":"started"}  counters reset, window opens
 *   <- stop                                           -> {"event":"stats", ...} window closes
 *   <- quit (or stdin EOF)                            closes everything and exits
 *
 * Per reader: bytes and RTP packets on the video channel, sequence gaps (packets the relay dropped),
 * and latency samples into one shared histogram. Hot path: one `performance.now()` per chunk, no
 * allocation per packet.
 *
 * @module
 */
import * as net from "node:net";
import { createInterface } from "node:readline";
import { LatencyMatcher, sliceEndKey } from "./_latency.ts";
import { connectReading, InterleavedReader, playRtsp } from "./_rtsp_wire.ts";

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const target = arg("target")!;
const tapUrl = arg("tap");
const count = Number(arg("readers", "0"));
const concurrency = Number(arg("concurrency", "16"));
const readyTimeoutMs = Number(arg("ready-timeout", "60000"));
if (!target) {
  console.error("usage: rtsp_reader.ts --target rtsp://...|tcp://... [--tap rtsp://camera] --readers N");
  process.exit(2);
}

const matcher = new LatencyMatcher();
let now = 0;

/** Counters of one connection on its video channel (0). */
class Counter {
  bytes = 0;
  packets = 0;
  lost = 0;
  lastSeq = -1;
  firstPacketAt = -1;
  closed = false;
  error: string | undefined;
  keepAlive: (() => void) | undefined;
  socket: net.Socket | undefined;

  constructor(readonly isTap: boolean) {}

  readonly onFrame = (channel: number, buf: Uint8Array, start: number, end: number): void => {
    if (channel !== 0) return;
    const len = end - start;
    this.bytes += len;
    this.packets++;
    if (this.firstPacketAt < 0) this.firstPacketAt = now;
    const seq = (buf[start + 2] << 8) | buf[start + 3];
    if (this.lastSeq >= 0) {
      const gap = (seq - this.lastSeq - 1) & 0xffff;
      if (gap > 0 && gap < 0x8000) this.lost += gap;
    }
    this.lastSeq = seq;
    const key = sliceEndKey(buf, start, end);
    if (key < 0) return;
    if (this.isTap) matcher.tap(key, now);
    else matcher.reader(key, now);
  };

  readonly onData = (): void => {
    now = performance.now();
  };

  reset(): void {
    this.bytes = 0;
    this.packets = 0;
    this.lost = 0;
  }
}

async function openRtsp(url: string, c: Counter): Promise<void> {
  const s = await playRtsp(url, { onFrame: c.onFrame, onData: c.onData, timeoutMs: 20_000 });
  c.socket = s.socket;
  c.keepAlive = s.keepAlive;
  s.socket.on("close", () => (c.closed = true));
  s.socket.on("error", (e) => (c.error ??= e.message));
}

async function openRaw(url: string, c: Counter): Promise<void> {
  const u = new URL(url);
  const reader = new InterleavedReader();
  reader.onFrame = c.onFrame;
  const socket = connectReading(u.hostname, Number(u.port), (chunk) => {
    now = performance.now();
    try {
      reader.push(chunk);
    } catch (e) {
      c.error ??= (e as Error).message;
      socket.destroy();
    }
  });
  c.socket = socket;
  socket.on("close", () => (c.closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", (e) => {
      c.error ??= e.message;
      reject(e);
    });
  });
}

const readers: Counter[] = [];
const tap = tapUrl ? new Counter(true) : undefined;
const rotation = setInterval(() => matcher.rotate(), 2000);
// RTSP servers may expire sessions without traffic from the client (RFC 2326 §12.37: 60 s default).
const keepAlive = setInterval(() => {
  for (const r of readers) r.keepAlive?.();
  tap?.keepAlive?.();
}, 20_000);

function emit(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

let windowStart = 0;
let closing = false;

function shutdown(code = 0): void {
  if (closing) return;
  closing = true;
  clearInterval(rotation);
  clearInterval(keepAlive);
  for (const r of readers) r.socket?.destroy();
  tap?.socket?.destroy();
  setTimeout(() => process.exit(code), 50);
}

const errors = new Map<string, number>();
let tapOpened: Promise<void> | undefined;

/** Opens `n` more readers, `concurrency` handshakes at a time. */
async function connect(n: number): Promise<void> {
  if (tap) await (tapOpened ??= openRtsp(tapUrl!, tap));
  const open = target.startsWith("tcp://") ? openRaw : openRtsp;
  let left = n;
  const worker = async () => {
    while (left > 0) {
      left--;
      const c = new Counter(false);
      readers.push(c);
      try {
        await open(target, c);
      } catch (e) {
        c.error ??= (e as Error).message;
        c.closed = true;
        const msg = (e as Error).message;
        errors.set(msg, (errors.get(msg) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

/** Waits until every open reader got its first packet (or the timeout), then reports. */
async function waitPlaying(): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline && readers.some((r) => !r.closed && r.firstPacketAt < 0)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const playing = readers.filter((r) => !r.closed && r.firstPacketAt >= 0).length;
  emit({
    event: "ready",
    connected: playing,
    failed: readers.length - playing,
    errors: Object.fromEntries(errors),
  });
}

async function main(): Promise<void> {
  if (count > 0) {
    await connect(count);
    await waitPlaying();
  }
}

function stats(): unknown {
  const seconds = (performance.now() - windowStart) / 1000;
  const kbps = readers.map((r) => (r.bytes * 8) / seconds / 1000).sort((a, b) => a - b);
  const sum = kbps.reduce((a, b) => a + b, 0);
  const lat = matcher.histogram.summary();
  return {
    event: "stats",
    seconds,
    readers: readers.length,
    alive: readers.filter((r) => !r.closed).length,
    sourceKbps: tap ? (tap.bytes * 8) / seconds / 1000 : NaN,
    sourcePackets: tap?.packets ?? 0,
    minKbps: kbps[0] ?? 0,
    avgKbps: kbps.length ? sum / kbps.length : 0,
    maxKbps: kbps[kbps.length - 1] ?? 0,
    kbps,
    packets: readers.reduce((a, r) => a + r.packets, 0),
    lostPackets: readers.reduce((a, r) => a + r.lost, 0),
    latency: lat,
    unmatched: matcher.unmatched,
    errors: readers.filter((r) => r.error).map((r) => r.error).slice(0, 5),
  };
}

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const cmd = line.trim();
  const connectCmd = /^connect (\d+)$/.exec(cmd);
  if (connectCmd) {
    connect(Number(connectCmd[1])).then(
      () =>
        emit({ event: "connected", total: readers.length, failed: readers.filter((r) => r.closed).length }),
      (e) => emit({ event: "error", message: (e as Error).message }),
    );
  } else if (cmd === "ready") {
    void waitPlaying();
  } else if (cmd === "start") {
    for (const r of readers) r.reset();
    tap?.reset();
    matcher.start();
    windowStart = performance.now();
    emit({ event: "started" });
  } else if (cmd === "stop") {
    matcher.stop();
    emit(stats());
  } else if (cmd === "quit") {
    shutdown(0);
  }
});
rl.on("close", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));

main().catch((e) => {
  emit({ event: "error", message: (e as Error).message });
  shutdown(1);
});
