import { describe, expect, it } from "bun:test";
import { redirectTarget } from "./redirect.ts";
import { RtspUrlError } from "./url.ts";

describe("redirectTarget (following an RTSP 3xx)", () => {
  it("an absolute path stays on the server, with the credentials and source options", () => {
    expect(
      redirectTarget("rtsp://admin:p%40ss@10.0.0.5:554/old?x=1#transport=udp#timeout=5", "/new/stream?y=2"),
    )
      .toBe("rtsp://admin:p%40ss@10.0.0.5:554/new/stream?y=2#transport=udp#timeout=5");
  });

  it("another URL on the same host and port keeps the credentials (the default port counts as given)", () => {
    expect(redirectTarget("rtsp://u:p@cam.lan/a", "rtsp://cam.lan:554/b")).toBe("rtsp://u:p@cam.lan:554/b");
    expect(redirectTarget("rtsps://u:p@cam.lan/a", "rtsps://CAM.lan:322/b")).toBe(
      "rtsps://u:p@CAM.lan:322/b",
    );
  });

  it("another server gets no credentials unless the Location carries its own", () => {
    expect(redirectTarget("rtsp://u:p@10.0.0.5/a", "rtsp://10.0.0.6/a")).toBe("rtsp://10.0.0.6/a");
    expect(redirectTarget("rtsp://u:p@10.0.0.5/a", "rtsp://10.0.0.5:8554/a")).toBe("rtsp://10.0.0.5:8554/a");
    expect(redirectTarget("rtsp://u:p@10.0.0.5/a", "rtsp://v:q@10.0.0.6/a")).toBe("rtsp://v:q@10.0.0.6/a");
    expect(redirectTarget("rtsp://u:p@[fd00::5]/a#media=video", "rtsp://[fd00::5]/b")).toBe(
      "rtsp://u:p@[fd00::5]/b#media=video",
    );
  });

  it("a TLS source sent to plain RTSP does not take its credentials along", () => {
    expect(redirectTarget("rtsps://u:p@cam/a", "rtsp://cam:322/a")).toBe("rtsp://cam:322/a");
  });

  it("refuses a Location that is not RTSP", () => {
    expect(() => redirectTarget("rtsp://cam/a", "http://cam/a")).toThrow(RtspUrlError);
    expect(() => redirectTarget("rtsp://cam/a", "exec:rm -rf /")).toThrow(
      /not an rtsp:\/\/ URL or an absolute path/,
    );
    expect(() => redirectTarget("rtsp://cam/a", "//evil/a")).toThrow(RtspUrlError);
  });
});
