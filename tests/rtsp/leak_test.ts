// After readers, bad clients and a shutdown, the RTSP server leaves no socket or timer behind.
// Counts come from tests/_support/resources.ts (Node and Deno; Bun reports nothing, so the
// test is skipped there).
import { describe, expect, it } from "bun:test";
import { StreamHub } from "../../lib/core/hub.ts";
import { registerDemoSource } from "../../lib/protocol/demo/mod.ts";
import { RtspServer } from "../../lib/protocol/rtsp/mod.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { rawExchange } from "../_support/net.ts";
import { resources, resourcesMeasurable as measurable } from "../_support/resources.ts";

describe("RTSP server resources", () => {
  it.skipIf(!measurable)("releases every socket and timer after readers, bad input and close", async () => {
    registerDemoSource();
    await new Promise((r) => setTimeout(r, 50));
    const before = resources();
    const hub = new StreamHub({ graceMs: 50 });
    hub.set("demo", ["demo:"]);
    const server = new RtspServer({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
    await server.listen();
    const url = `rtsp://127.0.0.1:${server.addr.port}`;
    try {
      await Promise.all([
        ffprobe(`${url}/demo`, ["-rtsp_transport", "tcp"]),
        ffprobe(`${url}/demo`, ["-rtsp_transport", "udp"]),
      ]);
      const notFound = await rawExchange(server.addr.port, `DESCRIBE ${url}/nope RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
      expect(notFound).toContain("404");
      const garbage = await rawExchange(server.addr.port, "\x00\x01garbage\r\n\r\nGET / HTTP/1.1\r\n\r\n");
      expect(garbage).toMatch(/RTSP\/1.0 4\d\d|^$/);
      // A truncated interleaved frame, then the client vanishes.
      await rawExchange(server.addr.port, new Uint8Array([0x24, 0, 0x10, 0x00, 1, 2, 3]));
    } finally {
      await server.close();
      await hub.close();
    }
    const deadline = Date.now() + 3000;
    let after = resources();
    const leaked = () =>
      Object.entries(after).filter(([name, n]) => n > (before[name] ?? 0)).map(([name, n]) =>
        `${name}: ${before[name] ?? 0} -> ${n}`
      );
    while (leaked().length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      after = resources();
    }
    expect(leaked()).toEqual([]);
  }, 30_000);
});
