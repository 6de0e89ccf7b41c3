/**
 * The benchmark's "camera": a minimal RTSP endpoint that takes one publisher (ffmpeg with
 * `-f rtsp -rtsp_transport tcp`, ANNOUNCE + RECORD) and serves its packets verbatim to a handful of
 * players (DESCRIBE/SETUP/PLAY over TCP interleaved): the servers under test, which relay it, and the
 * latency tap. It forwards every interleaved frame as ffmpeg sent it (same RTP packets, same pacing),
 * so every relay pulls the very same bytes from the same upstream.
 *
 *   node --import tsx scripts/bench/rtsp_camera.ts [--port 0]
 *
 * Prints one JSON line `{"event":"listening","port":N}` on stdout, then `{"event":"publishing"}` once
 * the first RTP packet of a publisher arrived.
 *
 * @module
 */
import * as net from "node:net";
import { formatMessage, InterleavedReader, type RtspMessage } from "./_rtsp_wire.ts";

interface Player {
  socket: net.Socket;
  rtpChannel: number;
  playing: boolean;
}

const args = process.argv.slice(2);
const port = Number(args[args.indexOf("--port") + 1] || 0) || 0;

let sdp: string | undefined;
let publisher: net.Socket | undefined;
/** Publisher's RTP channel of its first (video) track; its RTCP channel is this + 1. */
let pubChannel = 0;
let announcedPublishing = false;
const players = new Set<Player>();
let sessionIds = 0;

function reply(
  socket: net.Socket,
  req: RtspMessage,
  status: string,
  headers: Record<string, string> = {},
  body?: Uint8Array,
) {
  socket.write(
    formatMessage(`RTSP/1.0 ${status}`, { CSeq: req.headers.get("cseq") ?? "0", ...headers }, body),
  );
}

function forward(channel: number, buf: Uint8Array, start: number, end: number): void {
  if (!announcedPublishing) {
    announcedPublishing = true;
    console.log(JSON.stringify({ event: "publishing" }));
  }
  if (channel !== pubChannel && channel !== pubChannel + 1) return;
  // The frame may live in the reader's reusable carry buffer: copy once, share among players.
  const frame = buf.slice(start - 4, end);
  for (const p of players) {
    if (!p.playing) continue;
    // Over 8 MB queued means a relay stopped reading: drop it rather than grow without bound.
    if (p.socket.writableLength > 8 << 20) {
      p.socket.destroy();
      continue;
    }
    const ch = p.rtpChannel + (channel - pubChannel);
    let out = frame;
    if (ch !== frame[1]) {
      out = frame.slice();
      out[1] = ch;
    }
    p.socket.write(out);
  }
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  const reader = new InterleavedReader();
  const session = String(100000 + ++sessionIds);
  let player: Player | undefined;
  let isPublisher = false;
  let waitingDescribe: RtspMessage | undefined;
  reader.onFrame = (channel, buf, start, end) => {
    if (isPublisher) forward(channel, buf, start, end);
  };
  reader.onMessage = (req) => {
    const [method, uri] = req.startLine.split(" ");
    const base = uri.replace(/\/$/, "").replace(/\/(streamid|trackID|track)=?\d+$/i, "");
    switch (method) {
      case "OPTIONS":
        return reply(socket, req, "200 OK", {
          Public: "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER",
        });
      case "ANNOUNCE":
        sdp = new TextDecoder().decode(req.body);
        isPublisher = true;
        publisher?.destroy();
        publisher = socket;
        for (const p of players) p.socket.destroy(); // a new publisher means a new SDP
        return reply(socket, req, "200 OK");
      case "DESCRIBE": {
        const send = () => {
          if (!sdp) return reply(socket, req, "404 Not Found");
          reply(
            socket,
            req,
            "200 OK",
            { "Content-Type": "application/sdp", "Content-Base": `${base}/` },
            new TextEncoder().encode(sdp),
          );
        };
        if (sdp) return send();
        // The relays may ask before ffmpeg has announced: wait for it a little.
        waitingDescribe = req;
        const start = Date.now();
        const poll = setInterval(() => {
          if (sdp || Date.now() - start > 10_000 || socket.destroyed) {
            clearInterval(poll);
            if (waitingDescribe === req) send();
          }
        }, 50);
        return;
      }
      case "SETUP": {
        const transport = req.headers.get("transport") ?? "";
        const m = /interleaved=(\d+)/.exec(transport);
        if (!/TCP/i.test(transport) || !m) return reply(socket, req, "461 Unsupported Transport");
        const channel = Number(m[1]);
        if (isPublisher) pubChannel = channel;
        else player = { socket, rtpChannel: channel, playing: false };
        return reply(socket, req, "200 OK", {
          Session: session,
          Transport: `RTP/AVP/TCP;unicast;interleaved=${channel}-${channel + 1}${
            isPublisher ? ";mode=record" : ""
          }`,
        });
      }
      case "PLAY":
        if (!player) return reply(socket, req, "455 Method Not Valid In This State");
        reply(socket, req, "200 OK", { Session: session, Range: "npt=0.000-" });
        player.playing = true;
        players.add(player);
        return;
      case "RECORD":
        return reply(socket, req, "200 OK", { Session: session });
      case "TEARDOWN":
        reply(socket, req, "200 OK", { Session: session });
        socket.end();
        return;
      case "GET_PARAMETER":
      case "SET_PARAMETER":
        return reply(socket, req, "200 OK", { Session: session });
      default:
        if (method.startsWith("RTSP/")) return; // a response (to nothing we sent): ignore
        return reply(socket, req, "501 Not Implemented");
    }
  };
  socket.on("data", (chunk: Uint8Array) => {
    try {
      reader.push(chunk);
    } catch {
      socket.destroy();
    }
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    if (player) players.delete(player);
    if (publisher === socket) {
      publisher = undefined;
      announcedPublishing = false;
    }
  });
});

server.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "listening", port: (server.address() as net.AddressInfo).port }));
});
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
