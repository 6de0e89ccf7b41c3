import { describe, expect, test } from "bun:test";
import { HANDSHAKE_SIZE, RtmpHandshake } from "./handshake.ts";
import { RtmpError } from "./messages.ts";

describe("RtmpHandshake", () => {
  test("client and server complete it byte by byte and keep what follows", () => {
    const toServer: Uint8Array[] = [];
    const toClient: Uint8Array[] = [];
    const client = new RtmpHandshake("client", (b) => toServer.push(b));
    const server = new RtmpHandshake("server", (b) => toClient.push(b));
    client.start();
    expect(toServer[0].length).toBe(1 + HANDSHAKE_SIZE);
    expect(toServer[0][0]).toBe(3);
    // C0+C1 one byte at a time.
    for (const b of toServer.shift()!) expect(server.push(new Uint8Array([b]))).toBeUndefined();
    expect(toClient[0].length).toBe(1 + 2 * HANDSHAKE_SIZE);
    const rest = client.push(toClient.shift()!);
    expect(client.done).toBe(true);
    expect(rest!.length).toBe(0);
    const c2 = toServer.shift()!;
    const extra = new Uint8Array([0x03, 1, 2]);
    const after = new Uint8Array(c2.length + extra.length);
    after.set(c2);
    after.set(extra, c2.length);
    expect(server.push(after)).toEqual(extra);
    expect(server.done).toBe(true);
  });

  test("refuses other versions with what they look like", () => {
    const s = new RtmpHandshake("server", () => {}, "10.0.0.9:5000");
    expect(() => s.push(new TextEncoder().encode("GET / HTTP/1.1\r\n"))).toThrow(/10\.0\.0\.9:5000: version byte 0x47 looks like HTTP/);
    const e = new RtmpHandshake("server", () => {});
    let error: unknown;
    try {
      e.push(new Uint8Array([6]));
    } catch (x) {
      error = x;
    }
    expect(error).toBeInstanceOf(RtmpError);
    expect((error as Error).message).toMatch(/RTMPE/);
  });
});
