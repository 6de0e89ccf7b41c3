import { describe, expect, test } from "bun:test";
import { announceCandidates, candidateHost, weriftIceConfig } from "./ice_policy.ts";

const LOCAL = [
  "candidate:a 1 udp 2130706431 192.168.1.10 50000 typ host",
  "candidate:b 1 udp 2130706431 127.0.0.1 50002 typ host",
  "candidate:c 1 udp 1694498815 203.0.113.9 50000 typ srflx raddr 192.168.1.10 rport 50000",
  "candidate:d 1 tcp 1518280447 192.168.1.10 9 typ host tcptype active",
];

describe("announceCandidates", () => {
  test("by default: every non-loopback candidate, active TCP never", () => {
    expect(announceCandidates(LOCAL, {}).map((c) => c.split(" ")[4])).toEqual(["192.168.1.10", "203.0.113.9"]);
  });

  test("a bound address announces only itself (plus srflx)", () => {
    const out = announceCandidates(LOCAL, { bindAddress: "127.0.0.1", loopback: true });
    expect(out.map((c) => c.split(" ")[4])).toEqual(["127.0.0.1", "203.0.113.9"]);
  });

  test("extra candidates come first, with each local UDP host candidate's port", () => {
    const out = announceCandidates(LOCAL, { extraCandidates: ["198.51.100.4:8555", "cam.example.com", "stun:8555"] });
    expect(out.slice(0, 2)).toEqual([
      "candidate:x0 1 udp 2130706433 198.51.100.4 50000 typ host",
      "candidate:x1 1 udp 2130706432 cam.example.com 50000 typ host",
    ]);
  });

  test("filters: ips and candidates", () => {
    expect(announceCandidates(LOCAL, { ips: ["10.0.0.1"] }).map((c) => c.split(" ")[7])).toEqual(["srflx"]);
    const only = announceCandidates(LOCAL, { onlyCandidates: ["198.51.100.4"], extraCandidates: ["198.51.100.4"] });
    expect(only).toEqual(["candidate:x0 1 udp 2130706432 198.51.100.4 50000 typ host"]);
  });
});

describe("weriftIceConfig", () => {
  test("no STUN by default, udp4 only; bind, loopback, port range, tcp", () => {
    expect(weriftIceConfig({})).toEqual({ iceServers: [], iceUseIpv4: true, iceUseIpv6: false, iceUseTcp: false });
    const c = weriftIceConfig({ bindAddress: "127.0.0.1", portRange: [50000, 50000], networks: ["udp4", "tcp4"] });
    expect(c.iceInterfaceAddresses).toEqual({ udp4: "127.0.0.1" });
    expect(c.iceAdditionalHostAddresses).toEqual(["127.0.0.1"]);
    expect(c.icePortRange).toEqual([50000, 50001]);
    expect(c.iceUseTcp).toBe(true);
  });

  test("candidateHost reads the host of each candidates form", () => {
    expect(candidateHost("1.2.3.4:8555")).toBe("1.2.3.4");
    expect(candidateHost("[2001:db8::1]:8555")).toBe("2001:db8::1");
    expect(candidateHost("example.com")).toBe("example.com");
    expect(candidateHost("stun:8555")).toBeUndefined();
  });
});
