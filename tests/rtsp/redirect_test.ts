// RtspServerOptions.redirect (a cluster's load balancer): DESCRIBE answers 302 with the other
// server's URL for the stream, the query kept and marked; a marked request, the server's own
// ffmpeg reader (source=) and another strom are served where they arrive.
import { afterEach, describe, expect, it } from "bun:test";
import { H264, MemoryProducer, videoMedia } from "../../lib/core/_testing.ts";
import { StreamHub } from "../../lib/core/hub.ts";
import { registerSource, unregisterSource } from "../../lib/core/registry.ts";
import { RtspError, RtspServer } from "../../lib/protocol/rtsp/mod.ts";
import { RtspClientProducer } from "../../lib/protocol/rtsp/producer.ts";
import { type TcpConn, tcpListen, type TcpListener } from "../../lib/runtime/mod.ts";
import { rawExchange } from "../_support/net.ts";

describe("RTSP redirect", () => {
  it("302 to the chosen server on DESCRIBE, with the viewer's address; marked and internal readers stay", async () => {
    const hub = new StreamHub({ graceMs: 50 });
    hub.set("cam", []);
    const asked: string[] = [];
    const server = new RtspServer({
      hub,
      listen: { hostname: "127.0.0.1", port: 0 },
      redirect: (stream, client) => (asked.push(`${stream} ${client}`), "rtsp://10.0.0.3:8554/"),
    });
    await server.listen();
    const port = server.addr.port;
    const describe = (path: string, extra = "") =>
      rawExchange(port, `DESCRIBE rtsp://127.0.0.1:${port}/${path} RTSP/1.0\r\nCSeq: 2\r\n${extra}\r\n`, { untilHead: true, timeoutMs: 2000 });
    try {
      const moved = await describe("cam?video&audio");
      expect(moved.startsWith("RTSP/1.0 302 Moved Temporarily\r\n")).toBe(true);
      expect(moved).toContain("Location: rtsp://10.0.0.3:8554/cam?video=&audio=&cluster_hop=1\r\n");
      expect(moved).toContain("CSeq: 2");
      expect(asked).toEqual(["cam 127.0.0.1"]);
      // Marked as balanced, or the server's own ffmpeg: not sent on (the stream has no source: 5xx/4xx here).
      for (const path of ["cam?cluster_hop=1", "cam?video&source=ffmpeg%3Acam"]) {
        expect(await describe(path)).not.toContain(" 302 ");
      }
      // Another strom (an edge or relay: one connection for all its viewers): not sent on either.
      expect(await describe("cam", "User-Agent: strom\r\n")).not.toContain(" 302 ");
      expect(asked.length).toBe(1);
      // ffmpeg is.
      expect(await describe("cam", "User-Agent: Lavf61.7.100\r\n")).toContain(" 302 ");
      // A stream that does not exist is 404, not a redirect.
      expect((await describe("nope")).startsWith("RTSP/1.0 404")).toBe(true);
    } finally {
      await server.close();
      await hub.close();
    }
  });
});

describe("RTSP client following redirects", () => {
  const closers: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  /** A strom RTSP server with stream `cam` from an in-memory H.264 camera, no auth; counts the camera's dials. */
  async function camera(): Promise<{ server: RtspServer; dials: () => number }> {
    let dials = 0;
    registerSource("redircam", () => {
      dials++;
      return Promise.resolve(new MemoryProducer([videoMedia("recvonly", H264)]));
    });
    closers.push(() => unregisterSource("redircam"));
    const hub = new StreamHub({ graceMs: 50 });
    hub.set("cam", ["redircam://x"]);
    const server = new RtspServer({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
    await server.listen();
    closers.push(() => hub.close(), () => server.close());
    return { server, dials: () => dials };
  }

  it("follows a 302 from a load balancer to the server that has the stream", async () => {
    const cam = await camera();
    const hub = new StreamHub({ graceMs: 50 });
    hub.set("cam", []);
    const balancer = new RtspServer({
      hub,
      listen: { hostname: "127.0.0.1", port: 0 },
      redirect: () => `rtsp://127.0.0.1:${cam.server.addr.port}/`,
    });
    await balancer.listen();
    closers.push(() => hub.close(), () => balancer.close());
    // ffmpeg's User-Agent: a strom client would be served where it asks.
    const producer = await RtspClientProducer.dial(`rtsp://127.0.0.1:${balancer.addr.port}/cam#timeout=5`, { userAgent: "Lavf61.7.100" });
    closers.push(() => producer.stop());
    // The camera's server answered the DESCRIBE: its stream was dialed, and its medias are the producer's.
    expect(cam.dials()).toBe(1);
    expect(producer.medias().map((m) => `${m.kind} ${m.codecs.map((c) => c.name).join()}`)).toEqual(["video H264"]);
    // The source keeps the URL it was configured with.
    expect(producer.url).toBe(`rtsp://127.0.0.1:${balancer.addr.port}/cam#timeout=5`);
  });

  it("stops after 3 redirects with an error that says so", async () => {
    // A server that always sends the client one path further on itself.
    let hops = 0;
    const open = new Set<TcpConn>();
    const loop: TcpListener = await tcpListen({
      hostname: "127.0.0.1",
      port: 0,
      onConnection: (conn) => {
        open.add(conn);
        let text = "";
        conn.read((chunk) => {
          text += new TextDecoder().decode(chunk);
          let end;
          while ((end = text.indexOf("\r\n\r\n")) >= 0) {
            const head = text.slice(0, end);
            text = text.slice(end + 4);
            const cseq = /CSeq: *(\d+)/i.exec(head)?.[1] ?? "0";
            const reply = head.startsWith("OPTIONS")
              ? `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n`
              : `RTSP/1.0 302 Moved Temporarily\r\nCSeq: ${cseq}\r\nLocation: /hop${++hops}\r\n\r\n`;
            conn.write(new TextEncoder().encode(reply));
          }
        }, () => open.delete(conn));
      },
    });
    closers.push(() => loop.close(), () => { for (const c of open) c.close(); });
    const error = await RtspClientProducer.dial(`rtsp://u:p@127.0.0.1:${loop.addr.port}/start#backchannel=0`).then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(RtspError);
    expect((error as Error).message).toMatch(/302 redirected again\. strom follows 3 redirects at most; give the final URL \(the last Location was \/hop4\)/);
    expect(hops).toBe(4);
  });
});
