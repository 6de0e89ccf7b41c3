/**
 * CPU microseconds per 1200-byte UDP send to loopback, for each socket the current runtime offers:
 * `node:dgram`, strom's `udpBind` (lib/runtime/udp.ts), `Deno.listenDatagram` (with
 * `--unstable-net`), and on Bun `Bun.udpSocket`'s `send` and `sendMany` in batches of 10 and 50
 * (each batch to that many different ports, as a fan-out to viewers would be).
 *
 *   node --import tsx scripts/bench/udp_send_cost.ts
 *   node_modules/.bin/deno run -A --unstable-net scripts/bench/udp_send_cost.ts
 *   node_modules/.bin/bun scripts/bench/udp_send_cost.ts
 *
 * CPU is `process.cpuUsage()` (user + system, all threads) over a round, including the wait for
 * asynchronous sends to complete (Deno's promises; dgram's callbacks run in the yields between chunks). The 50 destination ports belong to a
 * child process that binds them and then blocks without reading, so no receiving is counted here
 * and each send ends in the kernel (queued, or dropped once that port's queue is full). Kinds
 * alternate within each round, in an order rotated per round; the table gives the median of 5
 * rounds and the min-max spread.
 *
 * @module
 */
import { spawn } from "node:child_process";
import * as dgram from "node:dgram";
import { udpBind } from "../../lib/runtime/udp.ts";

const HOST = "127.0.0.1";
const PER_ROUND = 5000;
const CHUNK = 500; // Sends between yields to the event loop (Deno's sends complete there).
const ROUNDS = 5;
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const pkt = new Uint8Array(1200).fill(0xab);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Destination ports: bound by a child that never reads them (Atomics.wait blocks its event loop).
const SINK = `import("node:dgram").then(async ({ createSocket }) => {
  const ports = [];
  for (let i = 0; i < 50; i++) {
    const s = createSocket("udp4");
    await new Promise((r) => s.bind(0, "${HOST}", r));
    ports.push(s.address().port);
  }
  console.log(ports.join(","));
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600000);
});`;
const sinkArgs = runtime === "deno" ? ["eval", SINK] : ["-e", SINK];
const sink = spawn(process.execPath, sinkArgs, { stdio: ["ignore", "pipe", "inherit"] });
const ports: number[] = await new Promise((resolve) => {
  let out = "";
  sink.stdout!.on("data", (d: Uint8Array) => {
    out += new TextDecoder().decode(d);
    if (out.includes("\n")) resolve(out.trim().split(",").map(Number));
  });
});

/** `run` sends `n` datagrams round-robin over `ports` (the caller then yields so callbacks run). */
type Kind = { name: string; run: (n: number) => Promise<void> | void; close: () => void };
const kinds: Kind[] = [];

{
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, HOST, r));
  s.on("error", () => {});
  const ignore = () => {};
  kinds.push({
    name: "node:dgram send",
    run: (n) => {
      for (let i = 0; i < n; i++) s.send(pkt, ports[i % ports.length], HOST, ignore);
    },
    close: () => s.close(),
  });
}

{
  const s = await udpBind({ hostname: HOST, port: 0 });
  const g = globalThis as { Deno?: { listenDatagram?: unknown }; Bun?: unknown };
  const which = typeof g.Deno?.listenDatagram === "function"
    ? "Deno.listenDatagram"
    : g.Bun && process.env.STROM_BUN_UDP !== "dgram"
    ? "Bun.udpSocket"
    : "node:dgram";
  kinds.push({
    name: `strom udpBind (${which})`,
    run: (n) => {
      for (let i = 0; i < n; i++) s.send(pkt, ports[i % ports.length], HOST);
    },
    close: () => s.close(),
  });
}

interface DenoConn {
  send(p: Uint8Array, a: { transport: "udp"; hostname: string; port: number }): Promise<number>;
  close(): void;
}
const deno = (globalThis as { Deno?: { listenDatagram?: (o: object) => DenoConn } }).Deno;
if (typeof deno?.listenDatagram === "function") {
  const s = deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
  const addrs = ports.map((port) => ({ transport: "udp" as const, hostname: HOST, port }));
  kinds.push({
    name: "Deno.listenDatagram send",
    run: async (n) => {
      const sent: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) sent.push(s.send(pkt, addrs[i % addrs.length]).catch(() => {}));
      await Promise.all(sent);
    },
    close: () => s.close(),
  });
}

interface BunUdp {
  send(data: Uint8Array, port: number, address: string): boolean;
  sendMany(packets: readonly (Uint8Array | number | string)[]): number;
  close(): void;
}
const bun = (globalThis as { Bun?: { udpSocket(o: object): Promise<BunUdp> } }).Bun;
if (bun) {
  const s = await bun.udpSocket({ hostname: HOST, port: 0, socket: { data() {}, error() {} } });
  kinds.push({
    name: "Bun.udpSocket send",
    run: (n) => {
      for (let i = 0; i < n; i++) s.send(pkt, ports[i % ports.length], HOST);
    },
    close: () => s.close(),
  });
  for (const k of [10, 50]) {
    // One flat [data, port, address, ...] array per batch, refilled in place as a fan-out would.
    const batch: (Uint8Array | number | string)[] = [];
    kinds.push({
      name: `Bun.udpSocket sendMany x${k}`,
      run: (n) => {
        for (let i = 0; i < n; i += k) {
          for (let j = 0; j < k; j++) {
            batch[3 * j] = pkt;
            batch[3 * j + 1] = ports[j];
            batch[3 * j + 2] = HOST;
          }
          s.sendMany(batch);
        }
      },
      close: () => s.close(),
    });
  }
}

const results = new Map<string, number[]>(kinds.map((k) => [k.name, []]));
for (const k of kinds) await k.run(CHUNK); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round: whichever kind runs first in a round measured slower on Bun.
  for (let j = 0; j < kinds.length; j++) {
    const k = kinds[(round + j) % kinds.length];
    await sleep(20);
    const before = process.cpuUsage();
    for (let sent = 0; sent < PER_ROUND; sent += CHUNK) {
      await k.run(CHUNK);
      await sleep(0);
    }
    await sleep(5);
    const cpu = process.cpuUsage(before);
    results.get(k.name)!.push((cpu.user + cpu.system) / PER_ROUND);
  }
}

console.log(`${runtime}: CPU us per 1200-byte datagram to loopback, median of ${ROUNDS} rounds [min-max]`);
for (const [name, us] of results) {
  us.sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(2);
  console.log(
    `  ${name.padEnd(36)} ${f(us[us.length >> 1]).padStart(7)}  [${f(us[0])}-${f(us[us.length - 1])}]`,
  );
}
for (const k of kinds) k.close();
sink.kill();
process.exit(0);
