import { describe, expect, it } from "bun:test";
import { parseRtspUrl, requestPath, resolveControl, RtspUrlError } from "./url.ts";

describe("parseRtspUrl", () => {
  it("splits credentials, host, port, path and fragment options", () => {
    const u = parseRtspUrl(
      "rtsp://admin:p%40ss@10.0.0.5:8554/Streaming/Channels/101?transportmode=unicast#transport=udp#timeout=10",
    );
    expect(u.username).toBe("admin");
    expect(u.password).toBe("p@ss");
    expect(u.hostname).toBe("10.0.0.5");
    expect(u.port).toBe(8554);
    expect(u.href).toBe("rtsp://10.0.0.5:8554/Streaming/Channels/101?transportmode=unicast");
    expect(u.options.get("transport")).toBe("udp");
    expect(u.options.get("timeout")).toBe("10");
  });

  it("takes the last '@' before the path as the end of the userinfo", () => {
    const u = parseRtspUrl("rtsp://admin:p@ss@cam/live");
    expect(u.password).toBe("p@ss");
    expect(u.hostname).toBe("cam");
    expect(u.port).toBe(554);
    expect(u.href).toBe("rtsp://cam/live");
  });

  it("handles IPv6, rtsps, rtspx and no path", () => {
    const a = parseRtspUrl("rtsp://[::1]:8554");
    expect(a.hostname).toBe("::1");
    expect(a.href).toBe("rtsp://[::1]:8554/");
    const b = parseRtspUrl("rtspx://cam/x");
    expect(b.tls).toBe(true);
    expect(b.port).toBe(322);
    expect(b.href).toBe("rtsps://cam/x");
  });

  it("rejects other schemes and bad ports", () => {
    expect(() => parseRtspUrl("http://cam/")).toThrow(RtspUrlError);
    expect(() => parseRtspUrl("rtsp://cam:99999/")).toThrow("bad port");
    expect(() => parseRtspUrl("rtsp://u:secret@:1/")).not.toThrow("secret");
  });
});

describe("resolveControl", () => {
  it("appends relative controls with one slash and keeps the query", () => {
    expect(resolveControl("rtsp://cam/live", "trackID=1")).toBe("rtsp://cam/live/trackID=1");
    expect(resolveControl("rtsp://cam/live/", "trackID=1")).toBe("rtsp://cam/live/trackID=1");
    expect(resolveControl("rtsp://cam/live?ch=1", "trackID=1")).toBe("rtsp://cam/live?ch=1/trackID=1");
  });

  it("keeps absolute controls and maps '*' and missing to the base", () => {
    expect(resolveControl("rtsp://cam/live", "rtsp://other/t1")).toBe("rtsp://other/t1");
    expect(resolveControl("rtsp://cam/live", "*")).toBe("rtsp://cam/live");
    expect(resolveControl("rtsp://cam/live", undefined)).toBe("rtsp://cam/live");
  });
});

describe("requestPath", () => {
  it("extracts the stream name and query", () => {
    const r = requestPath("rtsp://127.0.0.1:8554/cam?video=h264&audio");
    expect(r.name).toBe("cam");
    expect(r.query.get("video")).toBe("h264");
    expect(requestPath("rtsp://h/cam/trackID=1").name).toBe("cam");
    expect(requestPath("rtsp://h/cam?video/trackID=0").query.has("video")).toBe(true);
    expect(requestPath("rtsp://h/a/b/").name).toBe("a/b");
    expect(requestPath("/cam").name).toBe("cam");
  });
});
