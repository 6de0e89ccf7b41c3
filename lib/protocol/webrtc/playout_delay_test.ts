import { describe, expect, it } from "bun:test";
import { parseSdp } from "../../core/media.ts";
import {
  PLAYOUT_DELAY_URI,
  playoutDelayExtension,
  playoutDelayIds,
  playoutDelayOf,
  withPlayoutDelay,
} from "./playout_delay.ts";

// The shape of Chromium 156's recvonly offer (extension ids as it numbers them).
const OFFER = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "a=extmap-allow-mixed",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 0.0.0.0",
  "a=mid:0",
  "a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
  `a=extmap:5 ${PLAYOUT_DELAY_URI}`,
  "a=recvonly",
  "a=rtpmap:96 H264/90000",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "c=IN IP4 0.0.0.0",
  "a=mid:1",
  `a=extmap:5 ${PLAYOUT_DELAY_URI}`,
  "a=recvonly",
  "a=rtpmap:111 opus/48000/2",
  "",
].join("\r\n");

const ANSWER = [
  "v=0",
  "o=- 3 4 IN IP4 0.0.0.0",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 0.0.0.0",
  "a=sendonly",
  "a=mid:0",
  "a=rtpmap:96 H264/90000",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "c=IN IP4 0.0.0.0",
  "a=inactive",
  "a=mid:1",
  "a=rtpmap:111 opus/48000/2",
  "",
].join("\r\n");

describe("playout delay (webrtc.jitter_buffer)", () => {
  it("seconds become 10 ms steps, min = max; out of the extension's range is refused with the fix", () => {
    expect(playoutDelayOf(0)).toEqual({ minMs: 0, maxMs: 0 });
    expect(playoutDelayOf(0.2)).toEqual({ minMs: 200, maxMs: 200 });
    expect(playoutDelayOf(0.123)).toEqual({ minMs: 120, maxMs: 120 });
    expect(playoutDelayOf(40.95)).toEqual({ minMs: 40_950, maxMs: 40_950 });
    expect(() => playoutDelayOf(200)).toThrow(/0 to 40\.95 s .*write milliseconds as "200ms"/);
    expect(() => playoutDelayOf(-1)).toThrow(RangeError);
    expect(() => playoutDelayOf(Number.NaN)).toThrow(RangeError);
  });

  it("reads the id of video sections only, one-byte ids only", () => {
    expect(playoutDelayIds(parseSdp(OFFER))).toEqual(new Map([["0", 5]]));
    expect(
      playoutDelayIds(
        parseSdp(OFFER.replace(`extmap:5 ${PLAYOUT_DELAY_URI}`, `extmap:15 ${PLAYOUT_DELAY_URI}`)),
      ).size,
    )
      .toBe(0);
    expect(playoutDelayIds(parseSdp(OFFER.replace(/a=extmap:5 [^\r]*\r\n/g, ""))).size).toBe(0);
  });

  it("adds the extmap after a sending section's mid, once, keeping line endings", () => {
    const out = withPlayoutDelay(ANSWER, new Map([["0", 5], ["1", 5]]));
    const lines = out.split("\r\n");
    expect(lines[lines.indexOf("a=mid:0") + 1]).toBe(`a=extmap:5 ${PLAYOUT_DELAY_URI}`);
    // The inactive audio section sends nothing: left alone.
    expect(out.match(/playout-delay/g)?.length).toBe(1);
    expect(out.endsWith("\r\n")).toBe(true);
    expect(withPlayoutDelay(out, new Map([["0", 5]]))).toBe(out);
    expect(withPlayoutDelay(ANSWER, new Map())).toBe(ANSWER);
    const lf = withPlayoutDelay(ANSWER.replaceAll("\r\n", "\n"), new Map([["0", 3]]));
    expect(lf).toContain(`a=mid:0\na=extmap:3 ${PLAYOUT_DELAY_URI}\n`);
    expect(lf).not.toContain("\r");
  });

  it("writes RFC 8285's one-byte form: 0xBEDE, one word, id and length 3, 12-bit min and max", () => {
    expect([...playoutDelayExtension(5, { minMs: 0, maxMs: 0 })]).toEqual([0xbe, 0xde, 0, 1, 0x52, 0, 0, 0]);
    expect([...playoutDelayExtension(7, { minMs: 250, maxMs: 250 })]).toEqual([
      0xbe,
      0xde,
      0,
      1,
      0x72,
      0x01,
      0x90,
      0x19,
    ]);
    expect([...playoutDelayExtension(1, { minMs: 40_950, maxMs: 40_950 })]).toEqual([
      0xbe,
      0xde,
      0,
      1,
      0x12,
      0xff,
      0xff,
      0xff,
    ]);
    // A maximum below the minimum is raised to it.
    expect([...playoutDelayExtension(1, { minMs: 100, maxMs: 0 })].slice(5)).toEqual([0x00, 0xa0, 0x0a]);
  });
});
