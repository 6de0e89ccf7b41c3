import { describe, expect, it } from "bun:test";
import { RtspHeaders } from "./headers.ts";
import {
  bodyText,
  interleavedFrame,
  type RtspEvent,
  RtspMessageParser,
  serializeRequest,
  serializeResponse,
} from "./message.ts";

const enc = new TextEncoder();

function drain(parser: RtspMessageParser): RtspEvent[] {
  const out: RtspEvent[] = [];
  // Interleaved events are reused by the parser: copy them.
  for (let ev = parser.next(); ev; ev = parser.next()) out.push(ev.type === "interleaved" ? { ...ev } : ev);
  return out;
}

function rtp(seq: number, size = 20): Uint8Array {
  const b = new Uint8Array(size);
  b[0] = 0x80;
  b[1] = 96;
  b[2] = seq >> 8;
  b[3] = seq & 0xff;
  for (let i = 12; i < size; i++) b[i] = i & 0xff;
  return b;
}

describe("RtspMessageParser", () => {
  it("parses pipelined requests in one chunk", () => {
    const p = new RtspMessageParser();
    p.push(enc.encode(
      "OPTIONS rtsp://h/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n" +
        "DESCRIBE rtsp://h/cam RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n",
    ));
    const evs = drain(p);
    expect(evs.length).toBe(2);
    expect(evs[0].type === "request" && evs[0].request.method).toBe("OPTIONS");
    expect(evs[1].type === "request" && evs[1].request.headers.get("cseq")).toBe("2");
  });

  it("parses a response with a body split byte by byte", () => {
    const sdp = "v=0\r\nm=video 0 RTP/AVP 96\r\n";
    const text =
      `RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
    const p = new RtspMessageParser();
    const evs: RtspEvent[] = [];
    for (const b of enc.encode(text)) {
      p.push(new Uint8Array([b]));
      evs.push(...drain(p));
    }
    expect(evs.length).toBe(1);
    const ev = evs[0];
    expect(ev.type).toBe("response");
    if (ev.type !== "response") return;
    expect(ev.response.status).toBe(200);
    expect(bodyText(ev.response)).toBe(sdp);
  });

  it("splits interleaved frames across chunks and between messages", () => {
    const a = interleavedFrame(0, rtp(1, 1000));
    const b = interleavedFrame(1, rtp(2, 30));
    const msg = enc.encode("GET_PARAMETER rtsp://h/cam RTSP/1.0\r\nCSeq: 9\r\n\r\n");
    const all = new Uint8Array(a.length + msg.length + b.length);
    all.set(a);
    all.set(msg, a.length);
    all.set(b, a.length + msg.length);
    for (const cut of [1, 2, 3, 4, 5, 500, a.length - 1, a.length + 3, a.length + msg.length + 2]) {
      const p = new RtspMessageParser();
      p.push(all.subarray(0, cut));
      const evs = drain(p);
      p.push(all.subarray(cut));
      evs.push(...drain(p));
      expect(evs.map((e) => e.type)).toEqual(["interleaved", "request", "interleaved"]);
      const f0 = evs[0] as { channel: number; data: Uint8Array };
      expect(f0.channel).toBe(0);
      expect(f0.data.length).toBe(1000);
      expect(f0.data[999]).toBe(999 & 0xff);
      expect((evs[2] as { channel: number }).channel).toBe(1);
      expect(p.skippedBytes).toBe(0);
    }
  });

  it("skips garbage and truncated frames and resynchronises", () => {
    const good = interleavedFrame(0, rtp(5, 40));
    const garbage = new Uint8Array([0x00, 0xff, 0x24, 0x00, 0x00, 0x10, 0x13, 0x01, 0x02]); // '$' + non-RTP payload
    const p = new RtspMessageParser();
    p.push(garbage);
    p.push(good);
    const evs = drain(p);
    expect(evs.length).toBe(1);
    expect(evs[0].type).toBe("interleaved");
    expect(p.skippedBytes).toBe(garbage.length);
  });

  it("reports a bad start line as a recoverable error and continues", () => {
    const p = new RtspMessageParser();
    p.push(enc.encode("HELLO\r\nOPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"));
    const evs = drain(p);
    expect(evs[0].type).toBe("error");
    expect(evs[0].type === "error" && evs[0].error.fatal).toBe(false);
    expect(evs[1].type).toBe("request");
  });

  it("fails fatally on oversize headers", () => {
    const p = new RtspMessageParser({ maxHeaderBytes: 1024 });
    p.push(enc.encode("OPTIONS * RTSP/1.0\r\n" + "X-Pad: " + "a".repeat(2000)));
    const evs = drain(p);
    expect(evs.length).toBe(1);
    expect(evs[0].type === "error" && evs[0].error.fatal).toBe(true);
    expect(evs[0].type === "error" && evs[0].error.message).toContain("header larger than 1024");
    expect(p.next()).toBeUndefined();
  });

  it("fails fatally on a bad Content-Length", () => {
    const p = new RtspMessageParser();
    p.push(enc.encode("ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -5\r\n\r\n"));
    const evs = drain(p);
    expect(evs[0].type === "error" && evs[0].error.fatal).toBe(true);
  });

  it("keeps repeated and folded header fields", () => {
    const p = new RtspMessageParser();
    p.push(enc.encode(
      'RTSP/1.0 401 Unauthorized\nCSeq: 1\nWWW-Authenticate: Digest realm="r",\n  nonce="n"\nWWW-Authenticate: Basic realm="r"\n\n',
    ));
    const [ev] = drain(p);
    expect(ev.type).toBe("response");
    if (ev.type !== "response") return;
    expect(ev.response.headers.getAll("www-authenticate")).toEqual([
      'Digest realm="r", nonce="n"',
      'Basic realm="r"',
    ]);
  });

  it("round-trips serialized messages", () => {
    const body = enc.encode("v=0\r\n");
    const req = serializeRequest({
      method: "ANNOUNCE",
      uri: "rtsp://h/cam",
      headers: new RtspHeaders({ CSeq: 4, "Content-Type": "application/sdp" }),
      body,
    });
    const res = serializeResponse({ status: 200, reason: "OK", headers: new RtspHeaders({ CSeq: 4 }), body });
    const p = new RtspMessageParser();
    p.push(req);
    p.push(res);
    const evs = drain(p);
    expect(evs.length).toBe(2);
    if (evs[0].type !== "request" || evs[1].type !== "response") throw new Error("wrong types");
    expect(evs[0].request.headers.get("content-length")).toBe("5");
    expect(bodyText(evs[1].response)).toBe("v=0\r\n");
  });
});
