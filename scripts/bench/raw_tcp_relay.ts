/**
 * The raw TCP fan-out reference: the least work a relay on this runtime can do. It plays the camera
 * once (RTSP, TCP interleaved) and writes every access unit it receives, byte for byte as
 * interleaved frames, to every connected TCP client. No RTSP towards the readers, no parsing beyond
 * frame boundaries, one socket write per client per video frame (the RTP marker bit ends a frame),
 * which is the same write granularity strom uses. The readers parse what they get exactly like RTSP
 * interleaved data, so bitrate and latency are measured the same way as for the real servers.
 *
 *   node --import tsx scripts/bench/raw_tcp_relay.ts --source rtsp://127.0.0.1:9000/cam [--port 0]
 *
 * Prints `{"event":"listening","port":N}` on stdout.
 *
 * @module
 */
import * as net from "node:net";
import { playRtsp } from "./_rtsp_wire.ts";

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const source = arg("source")!;
const port = Number(arg("port", "0"));
/** A client whose kernel + user buffers hold more than this stopped reading: drop it. */
const MAX_QUEUED = 8 << 20;

const clients = new Set<net.Socket>();
const pending = new Uint8Array(1 << 20);
let pendingLen = 0;

function flush(): void {
  const frame = pending.slice(0, pendingLen);
  pendingLen = 0;
  for (const c of clients) {
    if (c.writableLength > MAX_QUEUED) {
      c.destroy();
      continue;
    }
    c.write(frame);
  }
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on("error", () => {});
  socket.on("close", () => clients.delete(socket));
  socket.on("data", () => {}); // ignore anything a client sends
  clients.add(socket);
});

let upstream: net.Socket | undefined;
async function connectUpstream(): Promise<void> {
  const s = await playRtsp(source, {
    onFrame: (channel, buf, start, end) => {
      const total = end - start + 4;
      if (pendingLen + total > pending.length) pendingLen = 0; // cannot happen with sane frames
      pending.set(buf.subarray(start - 4, end), pendingLen);
      pendingLen += total;
      // RTP marker bit on the video channel ends an access unit (RFC 6184 §5.1); RTCP goes with the next one.
      if (channel === 0 && buf[start + 1] & 0x80) flush();
    },
  });
  upstream = s.socket;
  setInterval(() => s.keepAlive(), 20_000).unref();
  s.socket.on("close", () => {
    if (!stopping) {
      console.error("raw_tcp_relay: upstream closed");
      process.exit(1);
    }
  });
}

let stopping = false;
function stop(): void {
  stopping = true;
  upstream?.destroy();
  for (const c of clients) c.destroy();
  server.close();
  setTimeout(() => process.exit(0), 50);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

await connectUpstream();
server.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "listening", port: (server.address() as net.AddressInfo).port }));
});
