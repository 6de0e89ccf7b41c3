// RtspServerOptions.redirect (a cluster's load balancer): DESCRIBE answers 302 with the other
// server's URL for the stream, the query kept and marked; a marked request, the server's own
// ffmpeg reader (source=) and another strom are served where they arrive.
import { describe, expect, it } from "bun:test";
import { StreamHub } from "../../lib/core/hub.ts";
import { RtspServer } from "../../lib/protocol/rtsp/mod.ts";
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
      // Another strom (an edge or relay; its client does not follow redirects): not sent on either.
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
