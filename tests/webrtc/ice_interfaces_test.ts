/**
 * `webrtc.filters.interfaces` (go2rtc): only the named interfaces' addresses are announced. The
 * runtime's interface list on every runtime; the config turned into a policy against a made-up
 * host; and strom serve in a network namespace with two interfaces, where naming one keeps the
 * other's address out of the answer and a LAN viewer still plays.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { announceCandidates } from "../../lib/protocol/webrtc/ice_policy.ts";
import { networkInterfaces } from "../../lib/runtime/interfaces.ts";
import type { WebrtcConfig } from "../../server/config/types.ts";
import { icePolicyFromConfig } from "../../server/modules/webrtc.ts";
import { canUseNetns, TestNetns } from "../_support/netns.ts";
import { run } from "../_support/process.ts";
import { until, Viewer } from "./_peer.ts";

const netnsOk = await canUseNetns();

const HOST = [
  { name: "lo", address: "127.0.0.1", family: "IPv4" as const, internal: true, netmask: "255.0.0.0" },
  { name: "eth0", address: "192.168.1.10", family: "IPv4" as const, internal: false, netmask: "255.255.255.0" },
  { name: "wg0", address: "10.8.0.2", family: "IPv4" as const, internal: false, netmask: "255.255.255.0" },
];
const GATHERED = [
  "candidate:a 1 udp 2130706431 192.168.1.10 50000 typ host",
  "candidate:b 1 udp 2130706431 10.8.0.2 50000 typ host",
  "candidate:c 1 udp 2130706431 127.0.0.1 50000 typ host",
];

function policyFor(filters: Partial<WebrtcConfig["filters"]>) {
  return icePolicyFromConfig({ listen: ":8555", filters } as Partial<WebrtcConfig>, () => HOST);
}

describe("the runtime's interface list", () => {
  test("has loopback with 127.0.0.1", () => {
    const lo = networkInterfaces().find((a) => a.address === "127.0.0.1");
    expect(lo?.internal).toBe(true);
    expect(lo?.family).toBe("IPv4");
    expect(lo?.name.length).toBeGreaterThan(0);
  });
});

describe("filters.interfaces in the ICE policy", () => {
  test("only the named interface's addresses are announced", () => {
    const { policy, notes } = policyFor({ interfaces: ["wg0"] });
    expect(notes).toEqual([]);
    expect(announceCandidates(GATHERED, policy).map((c) => c.split(" ")[4])).toEqual(["10.8.0.2"]);
  });

  test("naming the loopback interface announces loopback (unless filters.loopback is false)", () => {
    const lo = policyFor({ interfaces: ["lo", "eth0"] }).policy;
    expect(lo.loopback).toBe(true);
    expect(announceCandidates(GATHERED, lo).map((c) => c.split(" ")[4])).toEqual(["192.168.1.10", "127.0.0.1"]);
    expect(policyFor({ interfaces: ["lo"], loopback: false }).policy.loopback).toBe(false);
  });

  test("an unknown name is warned about, naming what the host has", () => {
    const { policy, notes } = policyFor({ interfaces: ["eth9"] });
    expect(notes.length).toBe(1);
    expect(notes[0]).toContain('"eth9"');
    expect(notes[0]).toContain("lo, eth0, wg0");
    expect(notes[0]).toContain("no local address is announced");
    expect(announceCandidates(GATHERED, policy)).toEqual([]);
  });

  test("other filters still apply (ips narrows further)", () => {
    const { policy } = policyFor({ interfaces: ["eth0", "wg0"], ips: ["192.168.1.10"] });
    expect(announceCandidates(GATHERED, policy).map((c) => c.split(" ")[4])).toEqual(["192.168.1.10"]);
  });
});

async function whepAnswer(base: string, viewer: Viewer): Promise<string> {
  const res = await fetch(`${base}/api/webrtc?src=demo`, {
    method: "POST",
    headers: { "Content-Type": "application/sdp" },
    body: await viewer.offer(),
  });
  const answer = await res.text();
  if (res.status !== 201) throw new Error(`WHEP answered ${res.status}: ${answer}`);
  return answer;
}

describe.skipIf(!netnsOk)("filters.interfaces on a host with two interfaces (network namespace)", () => {
  let ns: TestNetns;
  let other: string;
  beforeAll(async () => {
    ns = await TestNetns.create();
    // A second interface in the namespace, with an address of its own (198.19.0.0/16 is in RFC 2544's range).
    other = `198.19.${ns.address.split(".")[2]}.1`;
    for (
      const args of [
        ["link", "add", "sx0", "type", "veth", "peer", "name", "sx1"],
        ["addr", "add", `${other}/30`, "dev", "sx0"],
        ["link", "set", "sx0", "up"],
        ["link", "set", "sx1", "up"],
      ]
    ) {
      const res = await run("ip", ["netns", "exec", ns.name, "ip", ...args], 10_000);
      if (res.code !== 0) throw new Error(`ip ${args.join(" ")}: ${res.stderr}`);
    }
  }, 20_000);
  afterAll(() => ns?.close(), 20_000);

  test("naming the LAN interface keeps the other's address out; the LAN viewer plays", async () => {
    const serve = (api: number, ice: number, filters: Record<string, unknown>) => {
      const config = JSON.stringify({
        api: { listen: `:${api}` },
        rtsp: { listen: "" },
        rtmp: { listen: "" },
        webrtc: { listen: `:${ice}`, filters },
        streams: { demo: "demo:" },
      });
      return ns.serveStrom(config, api);
    };
    const [filtered, open] = await Promise.all([serve(1984, 8555, { interfaces: [ns.link] }), serve(1985, 8556, {})]);
    const addresses = (sdp: string) =>
      [...new Set(sdp.split(/\r?\n/).filter((l) => l.startsWith("a=candidate:")).map((l) => l.split(" ")[4]))].sort();

    // Without the filter both interfaces are announced: the filter is what leaves one out.
    const probe = new Viewer({ audio: false, bindAddress: ns.hostAddress });
    try {
      expect(addresses(await whepAnswer(open, probe))).toEqual([ns.address, other].sort());
    } finally {
      await probe.close();
    }

    const viewer = new Viewer({ audio: false, bindAddress: ns.hostAddress });
    try {
      const answer = await whepAnswer(filtered, viewer);
      expect(addresses(answer)).toEqual([ns.address]);
      await viewer.accept(answer);
      await until("video through the named interface", () => viewer.packets.video > 20, 20_000);
    } finally {
      await viewer.close();
    }
  }, 90_000);
});
