import { describe, expect, test } from "bun:test";
import { decodeCommand, encodeCommand, RtmpMessageType, statusOf } from "./messages.ts";

describe("RTMP commands", () => {
  test("encode and decode AMF0 and AMF3-wrapped commands", () => {
    const payload = encodeCommand("connect", 1, { app: "live", tcUrl: "rtmp://h/live" }, "extra");
    const cmd = decodeCommand(RtmpMessageType.COMMAND_AMF0, payload);
    expect(cmd).toEqual({ name: "connect", transactionId: 1, object: { app: "live", tcUrl: "rtmp://h/live" }, args: ["extra"] });
    const amf3 = new Uint8Array(payload.length + 1);
    amf3.set(payload, 1);
    expect(decodeCommand(RtmpMessageType.COMMAND_AMF3, amf3).name).toBe("connect");
  });

  test("bad AMF names the message type and the byte", () => {
    expect(() => decodeCommand(20, new Uint8Array([0x02, 0x00, 0x01, 0x61, 0x0e]))).toThrow(
      /Cannot decode RTMP command \(message type 20\): Cannot decode AMF0 at byte 4: unknown type marker 0x0e/,
    );
    expect(() => decodeCommand(20, new Uint8Array([0x00, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/not a name string/);
  });

  test("statusOf reads code and description", () => {
    expect(statusOf({ level: "error", code: "NetStream.Publish.BadName", description: "no" })).toBe(
      "NetStream.Publish.BadName: no",
    );
  });
});
