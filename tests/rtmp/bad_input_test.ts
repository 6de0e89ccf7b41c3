/**
 * strom's RTMP server under bad input and bad peers: random bytes after the handshake, a huge Set
 * Chunk Size, a message longer than the limit, undecodable AMF, a non-RTMP handshake, a peer that
 * stops mid-message, a player that stops reading. Each bad connection is closed with a logged
 * error naming what was wrong, and the server goes on serving others.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { connect, type Socket } from "node:net";
import { StreamHub } from "../../lib/core/hub.ts";
import { createLogger, type LogRecord } from "../../lib/core/log.ts";
import { registerDemoSource } from "../../lib/protocol/demo/mod.ts";
import { ChunkWriter } from "../../lib/protocol/rtmp/chunk_writer.ts";
import { RtmpHandshake } from "../../lib/protocol/rtmp/handshake.ts";
import { controlMessage, encodeCommand, RtmpMessageType } from "../../lib/protocol/rtmp/messages.ts";
import { RtmpClientProducer } from "../../lib/protocol/rtmp/producer.ts";
import { RtmpServer } from "../../lib/protocol/rtmp/server.ts";
import { type TcpConn, tcpConnect } from "../../lib/runtime/mod.ts";
import { seededRandom } from "../_support/fixtures.ts";
import { waitFor } from "./_helpers.ts";

const records: LogRecord[] = [];
const log = createLogger({ level: "debug", write: (_line, record) => records.push(record) });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Connects and completes the handshake by hand; returns the connection for raw writes. */
async function handshaken(port: number): Promise<TcpConn> {
  const conn = await tcpConnect({ hostname: "127.0.0.1", port });
  let done!: () => void;
  const ready = new Promise<void>((r) => (done = r));
  const hs = new RtmpHandshake("client", (b) => conn.write(b));
  conn.read((chunk) => {
    if (!hs.done && hs.push(chunk) !== undefined) done();
  }, () => done());
  hs.start();
  await ready;
  return conn;
}

/** Waits until the server closed `conn` (bounded). */
async function closedByServer(conn: TcpConn, ms = 5000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ok = await Promise.race([
    conn.closed.then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ]);
  clearTimeout(timer);
  conn.destroy();
  if (!ok) throw new Error(`the server did not close the connection within ${ms} ms`);
}

function warnings(): string {
  return records.filter((r) => r.level === "warn").map((r) => `${r.msg}: ${String(r.fields.error ?? "")}`).join("\n");
}

describe("rtmp server with bad input", () => {
  let hub: StreamHub;
  let server: RtmpServer;
  let port = 0;
  const writer = new ChunkWriter();

  beforeAll(async () => {
    registerDemoSource();
    hub = new StreamHub({ graceMs: 200, log });
    hub.set("cam", ["demo:"]);
    server = await RtmpServer.listen({
      hub,
      log,
      listen: { hostname: "127.0.0.1", port: 0 },
      maxMessageBytes: 1024 * 1024,
      sessionTimeoutMs: 3000,
      maxBufferedBytes: 256 * 1024,
    });
    port = server.addr.port;
  });

  afterAll(async () => {
    await server?.close();
    await hub?.close();
  });

  it("closes a connection that sends random bytes after the handshake, naming the problem", async () => {
    const random = seededRandom(7);
    const junk = new Uint8Array(64 * 1024);
    for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(random() * 256);
    const conn = await handshaken(port);
    conn.write(junk);
    await closedByServer(conn);
    await waitFor("the warning", () => /rtmp session closed on bad input: Cannot/.test(warnings()));
  });

  it("closes a connection that sets a huge chunk size", async () => {
    const conn = await handshaken(port);
    conn.write(writer.encode(controlMessage(RtmpMessageType.SET_CHUNK_SIZE, 0x7fffffff)));
    await closedByServer(conn);
    await waitFor("the warning", () => /Set Chunk Size at byte \d+: 2147483647 is outside/.test(warnings()));
  });

  it("closes a connection that announces a message over the size limit", async () => {
    const conn = await handshaken(port);
    // fmt 0 on chunk stream 6: length 0xFFFFFF, type 9 (video).
    conn.write(new Uint8Array([0x06, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0, 1, 2, 3]));
    await closedByServer(conn);
    await waitFor("the warning", () => /16777215-byte message \(type 9\), over the 1048576-byte limit/.test(warnings()));
  });

  it("closes a connection whose command has an unknown AMF type", async () => {
    const conn = await handshaken(port);
    const bad = concat([encodeCommand("connect", 1, null), new Uint8Array([0x0e])]);
    conn.write(writer.encode({ csid: 3, type: RtmpMessageType.COMMAND_AMF0, streamId: 0, timestamp: 0, payload: bad }));
    await closedByServer(conn);
    await waitFor("the warning", () => /Cannot decode RTMP command \(message type 20\).*unknown type marker 0x0e/.test(warnings()));
  });

  it("closes a connection that speaks HTTP instead of RTMP", async () => {
    const conn = await tcpConnect({ hostname: "127.0.0.1", port });
    conn.read(() => {}, () => {});
    conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await closedByServer(conn);
    await waitFor("the warning", () => /version byte 0x47 looks like HTTP/.test(warnings()));
  });

  it("releases a session whose peer leaves in the middle of a message", async () => {
    const conn = await handshaken(port);
    const connectCmd = writer.encode({
      csid: 3,
      type: RtmpMessageType.COMMAND_AMF0,
      streamId: 0,
      timestamp: 0,
      payload: encodeCommand("connect", 1, { app: "live", tcUrl: "rtmp://127.0.0.1/live" }),
    });
    conn.write(connectCmd.subarray(0, 20));
    await new Promise((r) => setTimeout(r, 100));
    conn.destroy();
    await waitFor("every session released", () => server.sessions.size === 0);
  });

  it("keeps playing to a reader while another player stops reading", async () => {
    // The stalled player: handshake, connect, createStream, play, then never reads again.
    const stalled: Socket = connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      stalled.once("connect", () => resolve());
      stalled.once("error", reject);
    });
    stalled.on("error", () => {});
    const hs = new RtmpHandshake("client", (b) => stalled.write(b));
    const handshakeDone = new Promise<void>((resolve) => {
      stalled.on("data", (chunk: Uint8Array) => {
        if (!hs.done && hs.push(new Uint8Array(chunk)) !== undefined) resolve();
      });
    });
    hs.start();
    await handshakeDone;
    const cmd = (streamId: number, name: string, tid: number, ...args: (string | number | null)[]) =>
      writer.encode({
        csid: 3,
        type: RtmpMessageType.COMMAND_AMF0,
        streamId,
        timestamp: 0,
        payload: encodeCommand(name, tid, ...(args as [null])),
      });
    stalled.write(cmd(0, "connect", 1, { app: "", tcUrl: `rtmp://127.0.0.1:${port}/` } as unknown as null));
    stalled.write(cmd(0, "createStream", 2, null));
    stalled.write(cmd(1, "play", 0, null, "cam"));
    await waitFor("the stalled player to play", () => [...server.sessions].some((s) => s.role === "player"));
    stalled.pause();

    // A good reader meanwhile gets frames at the normal rate (demo: 25 fps).
    const producer = await RtmpClientProducer.dial(`rtmp://127.0.0.1:${port}/cam`);
    try {
      const video = producer.medias().find((m) => m.kind === "video")!;
      const receiver = producer.track(video, video.codecs[0]);
      const before = receiver.frames;
      void producer.start().catch(() => {});
      await new Promise((r) => setTimeout(r, 3000));
      expect(receiver.frames - before).toBeGreaterThanOrEqual(50);
    } finally {
      await producer.stop();
      stalled.destroy();
    }
    await waitFor("every session released", () => server.sessions.size === 0);
  }, 20_000);

  it("hangs up on a player when its stream is deleted", async () => {
    hub.set("doomed", ["demo:"]);
    const producer = await RtmpClientProducer.dial(`rtmp://127.0.0.1:${port}/doomed`);
    let ended = false;
    producer.start().then(() => (ended = true), () => (ended = true));
    hub.delete("doomed");
    await waitFor("the player's connection to end", () => ended, 5000);
    await producer.stop();
    await waitFor("every session released", () => server.sessions.size === 0);
  });

  it("still serves a good player after all that", async () => {
    const producer = await RtmpClientProducer.dial(`rtmp://127.0.0.1:${port}/cam`);
    try {
      expect(producer.medias().map((m) => m.codecs[0].name).sort()).toEqual(["H264", "MPEG4-GENERIC"]);
    } finally {
      await producer.stop();
    }
  });
});
