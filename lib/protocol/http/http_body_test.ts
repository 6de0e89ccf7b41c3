import { describe, expect, it } from "bun:test";
import { HttpBody } from "./http_body.ts";

describe("HttpBody", () => {
  it("asks the writer to wait above the high-water mark and wakes it when the client reads", async () => {
    const body = new HttpBody({ highWaterMark: 10 });
    expect(body.write(new Uint8Array(4))).toBeUndefined();
    const wait = body.write(new Uint8Array(8));
    expect(wait).toBeInstanceOf(Promise);
    let woke = false;
    wait!.then(() => (woke = true));
    const reader = body.readable.getReader();
    await reader.read();
    await reader.read();
    await new Promise((r) => setTimeout(r, 0));
    expect(woke).toBe(true);
    expect(body.bytes).toBe(12);
  });

  it("reports a client cancel once and ignores later writes", async () => {
    let cancels = 0;
    const body = new HttpBody({ onCancel: () => cancels++ });
    body.write(new Uint8Array(3));
    await body.readable.cancel("gone");
    await body.readable.cancel("again").catch(() => {});
    expect(cancels).toBe(1);
    expect(body.closed).toBe(true);
    expect(body.write(new Uint8Array(3))).toBeUndefined();
    expect(body.bytes).toBe(3);
  });

  it("close() ends the stream after the queued bytes and releases waiting writers", async () => {
    const body = new HttpBody({ highWaterMark: 1 });
    const wait = body.write(new Uint8Array([1, 2]));
    body.close();
    await wait;
    const reader = body.readable.getReader();
    expect((await reader.read()).value).toEqual(new Uint8Array([1, 2]));
    expect((await reader.read()).done).toBe(true);
  });
});
