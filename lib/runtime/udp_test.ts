import { describe, expect, it } from "bun:test";
import { type NetAddr, NetError } from "./net_error.ts";
import { udpBind } from "./udp.ts";
import { within } from "./_test_util.ts";

const HOST = "127.0.0.1";

describe("udp", () => {
  it("round-trips datagrams and reports the sender", async () => {
    using a = await udpBind({ hostname: HOST, port: 0 });
    using b = await udpBind({ hostname: HOST, port: 0 });
    expect(a.addr.hostname).toBe(HOST);
    expect(a.addr.port).toBeGreaterThan(0);

    const received: { data: Uint8Array; from: NetAddr }[] = [];
    let notify: () => void = () => {};
    b.onMessage = (data, from) => {
      received.push({ data: data.slice(), from });
      if (received.length === 3) notify();
    };
    const all = new Promise<void>((resolve) => (notify = resolve));
    for (let i = 0; i < 3; i++) a.send(new Uint8Array([0x80, 96, i, 1200 >> 8]), b.addr.port, HOST);
    await within(all, 2000, "3 datagrams");
    expect(received.map((r) => r.data[2]).sort()).toEqual([0, 1, 2]);
    expect(received[0].data.constructor).toBe(Uint8Array);
    expect(received[0].from).toEqual({ hostname: HOST, port: a.addr.port });

    // Echo back through the `from` address.
    const back = new Promise<Uint8Array>((resolve) => (a.onMessage = (data) => resolve(data.slice())));
    b.onMessage = (data, from) => b.send(data, from.port, from.hostname);
    a.send(new Uint8Array(1400).fill(9), b.addr.port, HOST);
    const echoed = await within(back, 2000, "echo");
    expect(echoed.byteLength).toBe(1400);
    expect(echoed[1399]).toBe(9);
  });

  it("drops datagrams while onMessage is unset", async () => {
    using a = await udpBind({ hostname: HOST, port: 0 });
    using b = await udpBind({ hostname: HOST, port: 0 });
    a.send(new Uint8Array([1]), b.addr.port, HOST);
    await new Promise((r) => setTimeout(r, 50));
    const got = new Promise<number>((resolve) => (b.onMessage = (data) => resolve(data[0])));
    a.send(new Uint8Array([2]), b.addr.port, HOST);
    expect(await within(got, 2000, "second datagram")).toBe(2);
  });

  it("rejects a port in use with AddrInUse", async () => {
    using a = await udpBind({ hostname: HOST, port: 0 });
    const err = await udpBind({ hostname: HOST, port: a.addr.port }).catch((e) => e);
    expect(err).toBeInstanceOf(NetError);
    expect(err.code).toBe("AddrInUse");
    expect(err.address).toBe(`${HOST}:${a.addr.port}`);
    expect(err.message).toContain("address already in use");
  });

  it("close is idempotent and send after close is a no-op", async () => {
    const a = await udpBind({ hostname: HOST, port: 0 });
    a.close();
    a.close();
    expect(() => a.send(new Uint8Array([1]), 9, HOST)).not.toThrow();
  });

  it("binds IPv4 any by default", async () => {
    using a = await udpBind({ port: 0 });
    expect(a.addr.hostname).toBe("0.0.0.0");
  });
});
