import { describe, expect, test } from "bun:test";
import { candidateStreamNames, parseRtmpUrl } from "./url.ts";

describe("parseRtmpUrl", () => {
  test("splits app and stream as ffmpeg does", () => {
    const u = parseRtmpUrl("rtmp://a.rtmp.youtube.com/live2/abcd-1234");
    expect([u.hostname, u.port, u.app, u.stream, u.tcUrl]).toEqual([
      "a.rtmp.youtube.com",
      1935,
      "live2",
      "abcd-1234",
      "rtmp://a.rtmp.youtube.com:1935/live2",
    ]);
    expect(parseRtmpUrl("rtmp://host/cam")).toMatchObject({ app: "", stream: "cam" });
    expect(parseRtmpUrl("rtmp://host:1936/a/b/c?x=/y#opt=1")).toMatchObject({ port: 1936, app: "a/b", stream: "c?x=/y" });
    expect(parseRtmpUrl("rtmp://[::1]:2000/live/k").tcUrl).toBe("rtmp://[::1]:2000/live");
  });

  test("rtmps is TLS on 443, rtmpx skips certificate checks", () => {
    expect(parseRtmpUrl("rtmps://live-api-s.facebook.com/rtmp/KEY")).toMatchObject({ port: 443, tls: true });
    expect(parseRtmpUrl("rtmpx://host/app/key").tls).toEqual({ rejectUnauthorized: false });
  });

  test("names what is wrong", () => {
    expect(() => parseRtmpUrl("http://host/app/key")).toThrow(/expected rtmp:\/\/host/);
    expect(() => parseRtmpUrl("rtmp://user:secret@host/")).toThrow(/no stream name/);
    expect(() => parseRtmpUrl("rtmp://user:secret@host/")).not.toThrow(/secret/);
  });
});

describe("candidateStreamNames", () => {
  test("stream name, then app/stream, then app", () => {
    expect(candidateStreamNames("live", "cam?token=1")).toEqual(["cam", "live/cam", "live"]);
    expect(candidateStreamNames("", "cam")).toEqual(["cam"]);
    expect(candidateStreamNames("cam", "")).toEqual(["cam"]);
    expect(candidateStreamNames("", "bad%zz")).toEqual(["bad%zz"]);
    // ffmpeg with rtmp://host/cam?user=u&pass=p sends the query in the app.
    expect(candidateStreamNames("cam?user=u&pass=p", "")).toEqual(["cam"]);
  });
});
