import { describe, expect, it } from "bun:test";
import { redactSecrets, redactStreamKey, redactUrl } from "./redact.ts";

describe("redactUrl", () => {
  it("masks userinfo passwords anywhere, nested and with @ inside the password", () => {
    expect(redactUrl("rtsp://admin:secret@cam/1")).toBe("rtsp://admin:***@cam/1");
    expect(redactUrl("ffmpeg:rtsp://admin:secret@cam/1#video=h264")).toBe("ffmpeg:rtsp://admin:***@cam/1#video=h264");
    expect(redactUrl("rtsp://admin:p@ss@10.0.0.5:554/s")).toBe("rtsp://admin:***@10.0.0.5:554/s");
    expect(redactUrl('dial "rtmp://u:pw@h/app" failed; then http://x:y@h2/a')).toBe(
      'dial "rtmp://u:***@h/app" failed; then http://x:***@h2/a',
    );
    expect(redactUrl("webrtc:http://u:pw@h/api/webrtc?src=cam")).toBe("webrtc:http://u:***@h/api/webrtc?src=cam");
  });

  it("masks token-like query and # parameters but not ordinary ones", () => {
    expect(redactUrl("http://cam/snap.jpg?user=a&password=b")).toBe("http://cam/snap.jpg?user=a&password=***");
    expect(redactUrl("https://h/live.m3u8?token=abc.def&x=1")).toBe("https://h/live.m3u8?token=***&x=1");
    expect(redactUrl("rtsp://h/s?access_token=T&pwd=P&key=K#audio=opus")).toBe(
      "rtsp://h/s?access_token=***&pwd=***&key=***#audio=opus",
    );
    expect(redactUrl("ffmpeg:cam#video=h264#hardware#width=640")).toBe("ffmpeg:cam#video=h264#hardware#width=640");
    expect(redactUrl("rtsp://h/s?channel=1&subtype=0")).toBe("rtsp://h/s?channel=1&subtype=0");
  });

  it("masks the bare userinfo of schemes where it is the password", () => {
    expect(redactUrl("tapo://cloudpw@192.168.1.2")).toBe("tapo://***@192.168.1.2");
    expect(redactUrl("tapo://admin:pw@192.168.1.2")).toBe("tapo://admin:***@192.168.1.2");
    expect(redactUrl("rtsp://admin@cam/1")).toBe("rtsp://admin@cam/1");
  });

  it("leaves text without URLs alone", () => {
    expect(redactUrl("")).toBe("");
    expect(redactUrl("a=fmtp:96 packetization-mode=1;profile-level-id=42e01f")).toBe(
      "a=fmtp:96 packetization-mode=1;profile-level-id=42e01f",
    );
  });
});

describe("redactSecrets", () => {
  it("masks configured values, also JSON-escaped, and ignores values shorter than 3", () => {
    expect(redactSecrets('pw hunter2 and "qu\\"ote"', ["hunter2", 'qu"ote', "ab"])).toBe('pw *** and "***"');
  });
});

describe("redactStreamKey", () => {
  it("masks the key of rtmp(s)://host/app/<key> destinations, in URLs and in messages", () => {
    expect(redactStreamKey("rtmp://a.rtmp.youtube.com/live2/abcd-1234")).toBe("rtmp://a.rtmp.youtube.com/live2/***");
    expect(redactStreamKey("rtmps://u:pw@live.example/app/key?x=1")).toBe("rtmps://u:***@live.example/app/***?x=1");
    expect(redactStreamKey('Publishing cam to rtmp://h:1935/live/k3y ended: refused')).toBe(
      "Publishing cam to rtmp://h:1935/live/*** ended: refused",
    );
    expect(redactStreamKey("rtsp://h/live/cam")).toBe("rtsp://h/live/cam");
    expect(redactStreamKey("rtmp://h/app")).toBe("rtmp://h/app");
  });
});
