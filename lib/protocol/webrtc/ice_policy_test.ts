import { describe, expect, test } from "bun:test";
import type { IceUdpMux } from "./ice_mux.ts";
import { acceptRemoteCandidate, announceCandidates, candidateHost, weriftIceConfig } from "./ice_policy.ts";

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

describe("the shared port with ICE-TCP", () => {
  const mux = { port: 8555, tcp: true } as IceUdpMux;
  const udpOnly = { port: 8555, tcp: false } as IceUdpMux;

  test("each UDP host address also gets a passive TCP candidate on the port, ranked below UDP", () => {
    const out = announceCandidates(LOCAL, { mux, extraCandidates: ["203.0.113.7"] });
    expect(out.map((c) => c.split(" ").slice(2, 8).join(" "))).toEqual([
      "udp 2130706432 203.0.113.7 8555 typ host",
      "udp 2130706431 192.168.1.10 8555 typ host",
      "tcp 1518338815 203.0.113.7 8555 typ host",
      "tcp 1518338559 192.168.1.10 8555 typ host",
    ]);
    for (const c of out.filter((c) => c.includes(" tcp "))) expect(c.endsWith("tcptype passive")).toBe(true);
    const lowestUdp = Math.min(...out.filter((c) => c.includes(" udp ")).map((c) => Number(c.split(" ")[3])));
    for (const c of out.filter((c) => c.includes(" tcp "))) expect(Number(c.split(" ")[3])).toBeLessThan(lowestUdp);
  });

  test("werift gathers no TCP of its own and gets no TCP candidate of the peer", () => {
    expect(weriftIceConfig({ mux, networks: ["udp4", "tcp4"] }).iceUseTcp).toBe(false);
    expect(weriftIceConfig({ mux: udpOnly, networks: ["udp4", "tcp4"] }).iceUseTcp).toBe(true);
    const tcp = "candidate:1 1 tcp 1518280447 192.168.1.7 9 typ host tcptype active";
    expect(acceptRemoteCandidate(tcp, { mux })).toBe(false);
    expect(acceptRemoteCandidate(tcp, { mux: udpOnly })).toBe(true);
  });

  test("without TCP on the port, no TCP candidate is made up", () => {
    expect(announceCandidates(LOCAL, { mux: udpOnly }).filter((c) => c.includes("tcptype passive"))).toEqual([]);
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
