import { describe, expect, it } from "bun:test";
import { H264, MemoryProducer, videoMedia } from "./_testing.ts";
import { UnknownSchemeError } from "./errors.ts";
import {
  dialSource,
  hasScheme,
  registerRedirect,
  registerSource,
  schemeOf,
  unregisterSource,
} from "./registry.ts";

describe("registry", () => {
  it("dials through registered schemes and redirects", async () => {
    const producer = new MemoryProducer([videoMedia("recvonly", H264)]);
    let dialed = "";
    registerSource("regtest", (url) => {
      dialed = url;
      return Promise.resolve(producer);
    });
    registerRedirect("regalias", (url) => url.replace(/^regalias:/, "regtest://"));
    const ctx = { streamName: "s", signal: new AbortController().signal };
    expect(await dialSource("regalias:cam", ctx)).toBe(producer);
    expect(dialed).toBe("regtest://cam");
    expect(hasScheme("regtest")).toBe(true);
    unregisterSource("regtest");
    unregisterSource("regalias");
    await expect(dialSource("regtest://x", ctx)).rejects.toBeInstanceOf(UnknownSchemeError);
  });

  it("reads schemes of URLs and go2rtc-style sources", () => {
    expect(schemeOf("rtsp://cam")).toBe("rtsp");
    expect(schemeOf("ffmpeg:cam#video=h264")).toBe("ffmpeg");
    expect(schemeOf("just-a-name")).toBe("");
  });
});

describe("redactUrl", () => {
  it("masks passwords of URLs anywhere in a source, keeping the user", async () => {
    const { redactUrl } = await import("./errors.ts");
    expect(redactUrl("rtsp://admin:secret@cam/1")).toBe("rtsp://admin:***@cam/1");
    expect(redactUrl("ffmpeg:rtsp://admin:secret@cam/1#audio=opus")).toBe(
      "ffmpeg:rtsp://admin:***@cam/1#audio=opus",
    );
    expect(redactUrl("rtsp://cam/1")).toBe("rtsp://cam/1");
  });
});
