/**
 * CPU microseconds per 20 KB write to one of 100 loopback TCP connections whose readers drain fast,
 * on Deno: `node:net` (what lib/runtime/tcp.ts uses on every runtime) against Deno's own
 * `Deno.Conn` (`Deno.listen`, at most one `conn.write` in flight per connection, the rest queued in
 * order, partial writes resumed: the least a native `TcpConn` would have to do), and strom's
 * `tcpListen` itself. The question it answers (issue 15): would a `TcpConn` on `Deno.Conn` bring
 * strom's RTSP fan-out on Deno closer to the C relay, whose CPU it costs 2-3x?
 *
 *   node_modules/.bin/deno run -A scripts/bench/tcp_write_cost.ts
 *   node_modules/.bin/deno run -A scripts/bench/tcp_write_cost.ts --conns 200 --frame 20000
 *   node --import tsx scripts/bench/tcp_write_cost.ts     (node:net only, for reference)
 *
 * Each kind listens on its own port; a Node child connects `--conns` sockets to each port and
 * reads everything (so the writer never waits on a full socket), and its CPU is not counted. A
 * round writes one frame to every connection of a kind every 10 ms (a 100 fps fan-out), `--ticks`
 * times, then waits until every queue is empty; CPU is `process.cpuUsage()` of this process (user +
 * system, all threads) over the round, divided by the writes; user and system medians apart too.
 * Kinds alternate within each round, in an order rotated per round; the table gives the median of
 * the rounds and the min-max spread.
 *
 * Result (Deno 2.9.6, 2 shared cores, 2026-12-04, `--ticks 300`): it does not pay. At 100
 * connections node:net 13.3-13.6 us per write, Deno.Conn 11.5-12.5 (8-14 % less: 1.5 us less user
 * time, as much system time or more); at 200 connections 10.8 against 10.6. A C program making the
 * same blocking `write()`s costs 6-8 us per write (0.5-1 us of it user time), so both JavaScript
 * paths sit at 1.6-2x the C floor before strom does anything else, and Deno.Conn removes about a
 * sixth of the gap. A native `TcpConn` would also have every write in flight when write() returns,
 * so the RTSP writer's shared frame buffer (viewer_rtp_writer.ts, reused when nothing is queued)
 * could never be reused: a fresh frame buffer per viewer per frame.
 *
 * @module
 */
import { spawn } from "node:child_process";
import * as net from "node:net";
import { parseArgs } from "node:util";
import { type TcpConn, tcpListen } from "../../lib/runtime/tcp.ts";

const { values: args } = parseArgs({
  options: {
    conns: { type: "string", default: "100" },
    frame: { type: "string", default: "20000" },
    ticks: { type: "string", default: "200" },
    rounds: { type: "string", default: "5" },
  },
});
const HOST = "127.0.0.1";
const CONNS = Number(args.conns);
const TICKS = Number(args.ticks);
const ROUNDS = Number(args.rounds);
const TICK_MS = 10;
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const frame = new Uint8Array(Number(args.frame)).fill(0xab);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `tick` writes `frame` to every connection; `queued` is the bytes not yet handed to the kernel. */
type Kind = { name: string; port: number; tick: () => void; queued: () => number; close: () => void };
const kinds: Kind[] = [];

{
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on("error", () => {});
    s.on("data", () => {});
    sockets.push(s);
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  kinds.push({
    name: "node:net socket.write",
    port: (server.address() as net.AddressInfo).port,
    tick: () => {
      for (let i = 0; i < sockets.length; i++) sockets[i].write(frame);
    },
    queued: () => sockets.reduce((n, s) => n + s.writableLength, 0),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  });
}

{
  const conns: TcpConn[] = [];
  const listener = await tcpListen({ hostname: HOST, port: 0, onConnection: (c) => conns.push(c) });
  kinds.push({
    name: "strom tcpListen (node:net)",
    port: listener.addr.port,
    tick: () => {
      for (let i = 0; i < conns.length; i++) conns[i].write(frame);
    },
    queued: () => conns.reduce((n, c) => n + c.bufferedAmount, 0),
    close: () => {
      for (const c of conns) c.destroy();
      void listener.close();
    },
  });
}

interface DenoTcpConn {
  write(p: Uint8Array): Promise<number>;
  read(p: Uint8Array): Promise<number | null>;
  setNoDelay(on?: boolean): void;
  close(): void;
}
interface DenoListener extends AsyncIterable<DenoTcpConn> {
  readonly addr: { port: number };
  close(): void;
}
const deno = (globalThis as { Deno?: { listen(o: object): DenoListener } }).Deno;

/** The least a native writer must do: FIFO of chunks, one write in flight, partial writes resumed. */
class NativeWriter {
  readonly conn: DenoTcpConn;
  readonly #queue: Uint8Array[] = [];
  #head = 0;
  #inFlight = false;
  queued = 0;
  readonly #onWritten = (n: number) => {
    this.#inFlight = false;
    this.queued -= n;
    const head = this.#queue[this.#head];
    if (n < head.byteLength) this.#queue[this.#head] = head.subarray(n);
    else this.#queue[this.#head++] = undefined as unknown as Uint8Array;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    }
    this.#pump();
  };
  readonly #onError = () => {
    this.#inFlight = false;
  };

  constructor(conn: DenoTcpConn) {
    this.conn = conn;
  }

  write(chunk: Uint8Array): void {
    this.#queue.push(chunk);
    this.queued += chunk.byteLength;
    this.#pump();
  }

  #pump(): void {
    if (this.#inFlight || this.#head === this.#queue.length) return;
    this.#inFlight = true;
    this.conn.write(this.#queue[this.#head]).then(this.#onWritten, this.#onError);
  }
}

if (deno) {
  const listener = deno.listen({ hostname: HOST, port: 0 });
  const writers: NativeWriter[] = [];
  void (async () => {
    for await (const conn of listener) {
      conn.setNoDelay(true);
      writers.push(new NativeWriter(conn));
      void (async () => {
        const buf = new Uint8Array(4096);
        try {
          while ((await conn.read(buf)) !== null) { /* nothing is sent to us */ }
        } catch { /* closed */ }
      })();
    }
  })();
  kinds.push({
    name: "Deno.Conn write (1 in flight)",
    port: listener.addr.port,
    tick: () => {
      for (let i = 0; i < writers.length; i++) writers[i].write(frame);
    },
    queued: () => writers.reduce((n, w) => n + w.queued, 0),
    close: () => {
      for (const w of writers) {
        try {
          w.conn.close();
        } catch { /* already closed */ }
      }
      listener.close();
    },
  });
}

// The readers: one Node process, --conns sockets per port, reading and discarding everything.
const READERS = `const net = require("node:net");
const ports = process.argv[1].split(",").map(Number);
let open = 0;
for (const port of ports) for (let i = 0; i < ${CONNS}; i++) {
  const s = net.connect(port, "${HOST}", () => { if (++open === ports.length * ${CONNS}) console.log("ok"); });
  s.on("data", () => {});
  s.on("error", () => {});
}`;
const readers = spawn("node", ["-e", READERS, kinds.map((k) => k.port).join(",")], {
  stdio: ["ignore", "pipe", "inherit"],
});
await new Promise<void>((resolve) => readers.stdout!.once("data", () => resolve()));
await sleep(200); // the accepts run on our side

async function round(k: Kind): Promise<[number, number]> {
  const before = process.cpuUsage();
  let next = performance.now();
  for (let t = 0; t < TICKS; t++) {
    k.tick();
    next += TICK_MS;
    await sleep(Math.max(0, next - performance.now()));
  }
  while (k.queued() > 0) await sleep(1);
  const cpu = process.cpuUsage(before);
  return [cpu.user / (TICKS * CONNS), cpu.system / (TICKS * CONNS)];
}

const results = new Map<string, [number, number][]>(kinds.map((k) => [k.name, []]));
for (const k of kinds) {
  k.tick(); // warm-up
  while (k.queued() > 0) await sleep(1);
}
for (let r = 0; r < ROUNDS; r++) {
  for (let j = 0; j < kinds.length; j++) {
    const k = kinds[(r + j) % kinds.length];
    await sleep(50);
    results.get(k.name)!.push(await round(k));
  }
}

console.log(
  `${runtime}: CPU us per ${frame.byteLength}-byte write, ${CONNS} loopback connections, ` +
    `median of ${ROUNDS} rounds [min-max]`,
);
console.log(`  ${"".padEnd(36)} ${"total".padStart(7)}  ${"[min-max]".padEnd(11)} ${"user".padStart(6)} ${"system".padStart(6)}`);
for (const [name, rounds] of results) {
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const total = rounds.map(([u, s]) => u + s).sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(1);
  console.log(
    `  ${name.padEnd(36)} ${f(median(total)).padStart(7)}  ${`[${f(total[0])}-${f(total[total.length - 1])}]`.padEnd(11)} ` +
      `${f(median(rounds.map((r) => r[0]))).padStart(6)} ${f(median(rounds.map((r) => r[1]))).padStart(6)}`,
  );
}
for (const k of kinds) k.close();
readers.kill();
process.exit(0);
