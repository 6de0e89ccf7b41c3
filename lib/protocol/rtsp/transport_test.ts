import { describe, expect, it } from "bun:test";
import { formatTransport, parseTransport, TransportError } from "./transport.ts";

describe("parseTransport", () => {
  it("parses TCP interleaved", () => {
    const [t] = parseTransport("RTP/AVP/TCP;unicast;interleaved=0-1");
    expect(t.lower).toBe("tcp");
    expect(t.interleaved).toEqual([0, 1]);
    expect(t.unicast).toBe(true);
  });

  it("parses UDP with ports, ssrc and quoted mode", () => {
    const [t] = parseTransport(
      'RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=0A1B2C3D;mode="PLAY"',
    );
    expect(t.lower).toBe("udp");
    expect(t.clientPort).toEqual([5000, 5001]);
    expect(t.serverPort).toEqual([6970, 6971]);
    expect(t.ssrc).toBe(0x0a1b2c3d);
    expect(t.mode).toBe("play");
  });

  it("parses ffmpeg's record offer and several alternatives", () => {
    const ts = parseTransport(
      "RTP/AVP/UDP;unicast;client_port=20000-20001;mode=record, RTP/AVP/TCP;interleaved=0-1",
    );
    expect(ts.length).toBe(2);
    expect(ts[0].lower).toBe("udp");
    expect(ts[0].mode).toBe("record");
    expect(ts[1].lower).toBe("tcp");
  });

  it("accepts a single interleaved channel and keeps unknown params", () => {
    const [t] = parseTransport("RTP/AVP/TCP;interleaved=4;foo=bar;multicast");
    expect(t.interleaved).toEqual([4, 5]);
    expect(t.params).toEqual({ foo: "bar" });
    expect(t.unicast).toBe(false);
  });

  it("rejects garbage", () => {
    expect(() => parseTransport("")).toThrow(TransportError);
    expect(() => parseTransport("hello world")).toThrow(TransportError);
    expect(() => parseTransport("RTP/AVP;client_port=a-b")).toThrow("client_port");
  });

  it("round-trips", () => {
    const text = "RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=0000ABCD;mode=play";
    expect(formatTransport(parseTransport(text)[0])).toBe(text);
  });
});
