/**
 * N RTMP players in one process for the RTMP fan-out bench. Each does the handshake, `connect`,
 * `createStream` and `play`, then only counts the bytes it receives (no parsing: the readers must
 * cost far less than the server under test).
 *
 *   node --import tsx scripts/bench/rtmp_reader.ts --url rtmp://127.0.0.1:1935/live/cam --n 50 \
 *     --warmup 3 --seconds 10
 *
 * Events on stdout: `{"event":"playing"}` once every player got media, `{"event":"window"}` when the
 * measurement window starts, `{"event":"result","mbps":[...]}` (per player, sorted) at its end.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import { ChunkWriter } from "../../lib/protocol/rtmp/chunk_writer.ts";
import { RtmpHandshake } from "../../lib/protocol/rtmp/handshake.ts";
import { encodeCommand } from "../../lib/protocol/rtmp/messages.ts";
import { parseRtmpUrl } from "../../lib/protocol/rtmp/url.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const url = parseRtmpUrl(arg("url", "rtmp://127.0.0.1:1935/live/cam"));
const n = Number(arg("n", "1"));
const warmup = Number(arg("warmup", "3"));
const seconds = Number(arg("seconds", "10"));

const writer = new ChunkWriter();
const command = (streamId: number, name: string, tid: number, ...values: Parameters<typeof encodeCommand>[2][]) =>
  writer.encode({
    csid: 3,
    type: 20,
    streamId,
    timestamp: 0,
    payload: encodeCommand(name, tid, values[0] ?? null, ...values.slice(1)),
  });

const received = new Float64Array(n);
const sockets: Socket[] = [];

function player(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: url.hostname, port: url.port });
    sockets.push(s);
    s.setNoDelay(true);
    s.on("error", reject);
    const hs = new RtmpHandshake("client", (b) => s.write(b));
    let started = false;
    s.on("data", (chunk: Buffer) => {
      if (!hs.done) {
        if (hs.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)) === undefined) return;
        s.write(command(0, "connect", 1, { app: url.app, tcUrl: url.tcUrl, flashVer: "LNX 9,0,124,2" }));
        s.write(command(0, "createStream", 2, null));
        s.write(command(1, "play", 0, null, url.stream));
        return;
      }
      received[i] += chunk.length;
      // Well past the command answers: media flows.
      if (!started && received[i] > 64 * 1024) {
        started = true;
        resolve();
      }
    });
    s.once("connect", () => hs.start());
  });
}

const deadline = setTimeout(() => {
  console.log(JSON.stringify({ event: "error", message: "players did not all get media within 60 s" }));
  process.exit(1);
}, 60_000);
// Connect in small batches, as viewers arrive.
for (let i = 0; i < n; i += 10) {
  await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, k) => player(i + k)));
}
clearTimeout(deadline);
console.log(JSON.stringify({ event: "playing" }));
await new Promise((r) => setTimeout(r, warmup * 1000));
const start = Float64Array.from(received);
const t0 = performance.now();
console.log(JSON.stringify({ event: "window" }));
await new Promise((r) => setTimeout(r, seconds * 1000));
const dt = (performance.now() - t0) / 1000;
const mbps = Array.from(received, (b, i) => ((b - start[i]) * 8) / dt / 1e6).sort((a, b) => a - b);
console.log(JSON.stringify({ event: "result", mbps }));
for (const s of sockets) s.destroy();
process.exit(0);
