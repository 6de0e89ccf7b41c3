import { describe, expect, test } from "bun:test";
import {
  formatCandidate,
  keepInactiveBundled,
  parseCandidate,
  replaceCandidates,
  restrictOffer,
  sdpCandidates,
} from "./sdp.ts";

const OFFER = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103",
  "a=mid:0",
  "a=candidate:1 1 udp 2113937151 10.0.0.2 50000 typ host",
  "a=ice-ufrag:abcd",
  "a=rtpmap:96 VP8/90000",
  "a=rtcp-fb:96 nack",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=rtpmap:102 H264/90000",
  "a=rtcp-fb:102 nack pli",
  "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f",
  "a=rtpmap:103 rtx/90000",
  "a=fmtp:103 apt=102",
  "a=rtcp-fb:* transport-cc",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
  "a=mid:1",
  "a=rtpmap:111 opus/48000/2",
  "a=rtpmap:0 PCMU/8000",
  "",
].join("\r\n");

describe("restrictOffer", () => {
  test("keeps only the chosen payload types of listed sections, other sections untouched", () => {
    const out = restrictOffer(OFFER, new Map([["0", [102]]]));
    expect(out).toContain("m=video 9 UDP/TLS/RTP/SAVPF 102\r\n");
    expect(out).not.toContain("VP8");
    expect(out).not.toContain("a=fmtp:103");
    expect(out).not.toContain("a=rtcp-fb:96");
    expect(out).toContain("a=rtcp-fb:102 nack pli");
    expect(out).toContain("a=rtcp-fb:* transport-cc");
    expect(out).toContain("a=candidate:1 1 udp 2113937151 10.0.0.2 50000 typ host");
    expect(out).toContain("m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n");
    expect(out.endsWith("\r\n")).toBe(true);
  });
});

describe("candidates", () => {
  test("parse and format round trip, with and without prefixes", () => {
    const line = "candidate:842163049 1 udp 1677729535 203.0.113.7 50001 typ srflx raddr 10.0.0.2 rport 50001 generation 0";
    const c = parseCandidate(`a=${line}`)!;
    expect(c).toMatchObject({ protocol: "udp", address: "203.0.113.7", port: 50001, type: "srflx" });
    expect(formatCandidate(c)).toBe(line);
    expect(parseCandidate("candidate:1 1 TCP 1 10.0.0.2 9 typ host tcptype active")?.protocol).toBe("tcp");
    expect(parseCandidate("not a candidate")).toBeUndefined();
  });

  test("replaceCandidates puts the given list where candidates (or ICE credentials) were", () => {
    const out = replaceCandidates(OFFER, ["candidate:x 1 udp 1 127.0.0.1 4000 typ host"]);
    expect(sdpCandidates(out)).toEqual(["candidate:x 1 udp 1 127.0.0.1 4000 typ host"]);
    // The audio section has neither: it shares the video section's transport (BUNDLE).
    expect(out.split("a=candidate:x").length - 1).toBe(1);
    expect(out).not.toContain("10.0.0.2");
  });
});

describe("restrictOffer order and keepInactiveBundled", () => {
  test("payload types come out in the order given (the microphone's first)", () => {
    const out = restrictOffer(OFFER, new Map([["1", [0, 111]]]));
    expect(out).toContain("m=audio 9 UDP/TLS/RTP/SAVPF 0 111\r\n");
  });

  test("an inactive bundled section keeps port 9; one outside the group keeps port 0", () => {
    const answer = "v=0\r\na=group:BUNDLE 0 1\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\na=inactive\r\na=mid:0\r\n" +
      "m=audio 9 UDP/TLS/RTP/SAVPF 8\r\na=sendonly\r\na=mid:1\r\nm=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=inactive\r\na=mid:2\r\n";
    const out = keepInactiveBundled(answer);
    expect(out).toContain("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
    expect(out).toContain("m=audio 9 UDP/TLS/RTP/SAVPF 8\r\n");
    expect(out).toContain("m=audio 0 UDP/TLS/RTP/SAVPF 0\r\n");
    expect(out).toContain("a=group:BUNDLE 0 1\r\n");
  });
});
