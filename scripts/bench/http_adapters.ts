// Throughput of a streaming HTTP response (64 KiB chunks, as MP4/MPEG-TS viewers get them) through
// strom's HTTP adapter (server/serve/node.ts: node:http on every runtime, the one server that
// enforces the limits: timeouts on all three), against the runtime's own server (Deno.serve,
// Bun.serve) serving the same Hono app in the same run. Best of 3 rounds of 512 MiB on loopback.
//
//   node --import tsx scripts/bench/http_adapters.ts
//   deno run -A scripts/bench/http_adapters.ts
//   bun scripts/bench/http_adapters.ts
import { Hono } from "hono";
import { runtimeName } from "../../lib/runtime/env.ts";
import type { HttpServer, ServeAdapter } from "../../server/serve/types.ts";

const CHUNK = 64 * 1024;
const TOTAL = 512 * 1024 * 1024;
const ROUNDS = 3;

function app(): Hono {
  const a = new Hono();
  const chunk = new Uint8Array(CHUNK);
  a.get("/stream", () => {
    let sent = 0;
    return new Response(new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= TOTAL) return c.close();
        sent += CHUNK;
        c.enqueue(chunk);
      },
    }, { highWaterMark: 0 }));
  });
  return a;
}

type Start = (app: Hono) => Promise<HttpServer>;

async function measure(start: Start): Promise<number> {
  const server = await start(app());
  try {
    let best = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${server.addr.port}/stream`);
      let bytes = 0;
      for await (const c of res.body!) bytes += c.byteLength;
      best = Math.max(best, bytes / 1e6 / ((performance.now() - t0) / 1000));
    }
    return best;
  } finally {
    await server.close();
  }
}

// The runtime's own server, with nothing but the app (no limits, no WebSocket tracking).
interface Own {
  Deno?: { serve(o: object, h: Hono["fetch"]): { addr: { port: number }; shutdown(): Promise<void> } };
  Bun?: { serve(o: object): { port: number; stop(force: boolean): Promise<void> | void } };
}
const g = globalThis as unknown as Own;
const runtime = runtimeName();
const own: Start | undefined = runtime === "deno"
  ? (a) => {
    const s = g.Deno!.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, a.fetch);
    return Promise.resolve({ addr: { hostname: "127.0.0.1", port: s.addr.port }, close: () => s.shutdown() });
  }
  : runtime === "bun"
  ? (a) => {
    const s = g.Bun!.serve({ hostname: "127.0.0.1", port: 0, fetch: a.fetch });
    return Promise.resolve({ addr: { hostname: "127.0.0.1", port: s.port }, close: async () => void (await s.stop(true)) });
  }
  : undefined;

// Own server first: @hono/node-server replaces the global Response once loaded.
const viaOwn = own ? await measure(own) : 0;
const adapter: ServeAdapter = (await import("../../server/serve/node.ts")).adapter;
const viaNode = await measure((a) => adapter.serve(a, { hostname: "127.0.0.1", port: 0 }));
console.log(`${runtime}: strom's node:http adapter ${viaNode.toFixed(0)} MB/s`);
if (own) console.log(`${runtime}: ${runtime === "deno" ? "Deno" : "Bun"}.serve ${viaOwn.toFixed(0)} MB/s; adapter / own = ${(viaNode / viaOwn).toFixed(2)}`);
