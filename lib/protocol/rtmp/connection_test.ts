import { afterEach, describe, expect, test } from "bun:test";
import { type TcpConn, tcpConnect, tcpListen, type TcpListener } from "../../runtime/mod.ts";
import { RtmpConnection } from "./connection.ts";
import { controlMessage, type RtmpMessage, RtmpMessageType, userControl, UserControlEvent } from "./messages.ts";

async function pair(): Promise<{ client: RtmpConnection; server: RtmpConnection; listener: TcpListener }> {
  let accepted!: (c: TcpConn) => void;
  const got = new Promise<TcpConn>((r) => (accepted = r));
  const listener = await tcpListen({ hostname: "127.0.0.1", port: 0, onConnection: (c) => accepted(c) });
  const clientConn = await tcpConnect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = new RtmpConnection(await got, { role: "server" });
  const client = new RtmpConnection(clientConn, { role: "client" });
  await Promise.all([server.start(), client.start()]);
  return { client, server, listener };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("RtmpConnection over TCP", () => {
  const open: { client: RtmpConnection; server: RtmpConnection; listener: TcpListener }[] = [];
  afterEach(async () => {
    for (const p of open.splice(0)) {
      p.client.fail(undefined);
      p.server.fail(undefined);
      await p.listener.close();
    }
  });

  test("acknowledges every window of bytes the peer asked for", async () => {
    const p = await pair();
    open.push(p);
    const got: RtmpMessage[] = [];
    p.server.onMessage = (m) => got.push(m);
    // The client asks for an acknowledgement every 10 000 bytes, then sends 35 000 bytes of video.
    p.client.send(controlMessage(RtmpMessageType.WINDOW_ACK_SIZE, 10_000));
    p.client.setChunkSize(4096);
    for (let i = 0; i < 7; i++) {
      p.client.send({ csid: 6, type: 9, streamId: 1, timestamp: i * 40, payload: new Uint8Array(5000) });
    }
    await until(() => got.length === 7 && p.client.peerAcked > 30_000);
    // One acknowledgement per read that crossed a window; it carries every byte received so far.
    expect(p.server.acksSent).toBeGreaterThanOrEqual(1);
    expect(p.client.peerAcked).toBe(p.server.bytesIn);
    expect(got.map((m) => m.timestamp)).toEqual([0, 40, 80, 120, 160, 200, 240]);
  });

  test("answers a ping request with a ping response carrying its timestamp", async () => {
    const p = await pair();
    open.push(p);
    const got: RtmpMessage[] = [];
    p.client.onMessage = (m) => got.push(m);
    p.client.send(userControl(UserControlEvent.PING_REQUEST, 123456));
    // The server answers; a ping response is a user control event the client hands on.
    await until(() => got.length === 1);
    const v = new DataView(got[0].payload.buffer, got[0].payload.byteOffset, 6);
    expect([v.getUint16(0), v.getUint32(2)]).toEqual([UserControlEvent.PING_RESPONSE, 123456]);
  });
});
