// WS-Discovery both ways, on a LAN of its own: a network namespace joined to this machine by a veth
// pair (tests/_support/netns.ts), so multicast goes nowhere else. strom runs there, on this test's
// runtime, with `onvif.discovery: true`; NVR-side clients search for it: the npm `onvif` package's
// Discovery (an independent client, run with node), strom's own discoverOnvif() from this machine's
// end of the link, and `GET /api/onvif` of a second strom on the same LAN (go2rtc's answer shape).
// What is found is used: its onvif:// address resolves the profiles, and ffprobe plays the stream;
// in headless Chromium, the Add page's "Search the LAN" finds it and the stream added from it plays.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildProbe,
  discoverOnvif,
  onvifSourceUrl,
  readAnnouncement,
  readProbeMatches,
  resolveOnvifProfiles,
  resolveOnvifUrl,
  WS_DISCOVERY_GROUP,
  WS_DISCOVERY_PORT,
} from "../../lib/protocol/onvif/mod.ts";
import type { ChildProcess } from "../../lib/runtime/mod.ts";
import { multicastBind, type MulticastSocket } from "../../lib/runtime/multicast.ts";
import { hasChromium, launchBrowser, waitForPlayerPlaying } from "../_support/browser.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { canUseNetns, TestNetns } from "../_support/netns.ts";
import { hasTool, runText } from "../_support/process.ts";
import { stromCommand } from "../_support/strom_command.ts";

const netnsOk = await canUseNetns();
const hasFfprobe = await hasTool("ffprobe");
const PEER = fileURLToPath(new URL("../_support/onvif_discovery_peer.cjs", import.meta.url));
const NETWORK_WSDL = "http://www.onvif.org/ver10/network/wsdl";

interface PeerDevice {
  endpoint: string;
  types: string[];
  scopes: string[];
  xaddrs: string[];
}

describe.skipIf(!netnsOk)("WS-Discovery on a LAN of its own (network namespace)", () => {
  let ns: TestNetns;
  let dir: string;
  let device: ChildProcess;
  const logs: string[] = [];
  // Hello and Bye multicast on the link, heard on this machine's end of it (a socket bound to the
  // group address itself, joined on the link's address: it hears the group on that link only).
  let listener: MulticastSocket;
  const announcements: ReturnType<typeof readAnnouncement>[] = [];

  // Starts `strom serve` in the namespace and waits until its API answers there.
  async function serve(name: string, yaml: string, port: number): Promise<ChildProcess> {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, yaml);
    const [cmd, args] = stromCommand();
    const child = ns.spawn(cmd, [...args, "serve", "-c", file], { NO_COLOR: "1" });
    const decoder = new TextDecoder();
    for (const stream of [child.stdout, child.stderr]) {
      void stream?.pipeTo(
        new WritableStream({ write: (chunk) => void logs.push(`[${name}] ${decoder.decode(chunk)}`) }),
      )
        .catch(() => {});
    }
    for (let i = 0; i < 150; i++) {
      const ok = await fetch(`http://${ns.address}:${port}/api/health/ready`, {
        signal: AbortSignal.timeout(1_000),
      })
        .then((r) => r.ok, () => false);
      if (ok) return child;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`strom ${name} did not start in namespace ${ns.name} within 30 s:\n${logs.join("")}`);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "strom-wsd-"));
    ns = await TestNetns.create();
    listener = await multicastBind({ hostname: WS_DISCOVERY_GROUP, port: WS_DISCOVERY_PORT });
    const joined = listener.join(WS_DISCOVERY_GROUP, ns.hostAddress);
    if (!joined.ok) throw new Error(`cannot join the group on ${ns.hostAddress}: ${joined.error}`);
    listener.onMessage = (data) => {
      const a = readAnnouncement(new TextDecoder().decode(data));
      if (a) announcements.push(a);
    };
    // The device NVRs search for: discovery on, the RTSP server on, one stream.
    device = await serve(
      "device",
      `api:\n  listen: ":1984"\nrtsp:\n  listen: ":8554"\nwebrtc:\n  listen: ""\n` +
        `onvif:\n  discovery: true\n  rescan: 1s\nstreams:\n  cam: "demo:"\n`,
      1984,
    );
    // A second strom on the same LAN, discovery left off (the default): it searches, never answers.
    await serve("searcher", `api:\n  listen: ":1985"\nrtsp:\n  listen: ""\nwebrtc:\n  listen: ""\n`, 1985);
  }, 90_000);

  afterAll(async () => {
    listener?.close();
    await ns?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Whether `text` appears `times` times in the servers' logs within 5 s.
  async function logsReach(text: string, times: number): Promise<boolean> {
    for (let i = 0; i < 50; i++) {
      if (logs.join("").split(text).length - 1 >= times) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  const deviceUrl = () => `http://${ns.address}:1984/onvif/device_service`;

  it("strom announced itself on the LAN with a Hello giving its address there", () => {
    expect(announcements.map((a) => a?.action)).toEqual(["Hello"]);
    expect(announcements[0]!.match.xaddrs).toEqual([deviceUrl()]);
    expect(announcements[0]!.match.scopes).toContain("onvif://www.onvif.org/name/strom");
    expect(announcements[0]!.match.endpoint).toMatch(/^urn:uuid:/);
  });

  it(
    "an independent ONVIF client (npm onvif) probing from the LAN finds strom at its address there",
    async () => {
      const res = await runText("node", [PEER, ns.hostLink, "2500"], {
        timeoutMs: 15_000,
        label: "the onvif npm discovery",
      });
      const line = res.stdout.trim().split("\n").at(-1) ?? "";
      const result = JSON.parse(line || "{}") as { devices?: PeerDevice[]; error?: string };
      expect(result.error).toBeUndefined();
      expect(result.devices).toHaveLength(1);
      const device = result.devices![0];
      expect(device.xaddrs).toEqual([deviceUrl()]);
      expect(device.endpoint).toMatch(
        /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(device.types).toContain("dn:NetworkVideoTransmitter");
      expect(device.scopes).toContain("onvif://www.onvif.org/name/strom");
      expect(device.scopes).toContain("onvif://www.onvif.org/Profile/Streaming");
    },
    20_000,
  );

  it.skipIf(!hasFfprobe)(
    "strom's discoverOnvif() finds it from this machine's end of the link; the address it gives plays",
    async () => {
      const found = await discoverOnvif({ interfaces: [ns.hostLink], timeoutMs: 1_500 });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        xaddrs: [deviceUrl()],
        from: ns.address,
        interface: ns.hostLink,
        name: "strom",
        hardware: "strom",
      });
      // The same device answers every probe with the same endpoint (NVRs key devices by it).
      const again = await discoverOnvif({ interfaces: [ns.hostLink], timeoutMs: 800 });
      expect(again.map((d) => d.endpoint)).toEqual([found[0].endpoint]);

      const source = onvifSourceUrl(found[0]);
      expect(source).toBe(`onvif://user:pass@${ns.address}:1984`);
      const { profiles } = await resolveOnvifProfiles(source!);
      expect(profiles.map((p) => p.token)).toEqual(["cam"]);
      const rtsp = await resolveOnvifUrl(`${source}?subtype=cam`);
      expect(rtsp).toContain(`${ns.address}:8554/cam`);
      const probe = await ffprobe(rtsp, ["-rtsp_transport", "tcp"], 20_000);
      expect(probe.streams.find((s) => s.codec_type === "video")?.codec_name).toBe("h264");
    },
    40_000,
  );

  it(
    "GET /api/onvif on another strom on the LAN lists it as go2rtc does; neither lists itself",
    async () => {
      const res = await fetch(`http://${ns.address}:1985/api/onvif`, { signal: AbortSignal.timeout(15_000) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        sources: [{ name: `${ns.address}:1984`, url: `onvif://user:pass@${ns.address}:1984`, info: "strom" }],
      });
      // The device's own search hears its own answer (multicast loops back) but does not list itself.
      const self = await fetch(`http://${ns.address}:1984/api/onvif`, {
        signal: AbortSignal.timeout(15_000),
      });
      expect(await self.json()).toEqual({ sources: [] });
    },
    20_000,
  );

  it.skipIf(!hasChromium)(
    "the Add page's Search the LAN finds it; the stream added from it plays",
    async () => {
      const browser = await launchBrowser();
      try {
        const page = await browser.context.newPage();
        await page.goto(`http://${ns.address}:1985/add.html`, { timeout: 15_000 });
        await page.click("#onvif-search");
        await page.waitForSelector("#cameras li", { timeout: 15_000 });
        expect(await page.textContent("#onvif-msg")).toContain("1 camera(s)");
        expect(await page.textContent("#cameras li")).toContain(`${ns.address}:1984 strom`);
        await page.click("#cameras li button");
        expect(await page.inputValue("#onvif-src")).toBe(`onvif://user:pass@${ns.address}:1984`);
        await page.click("#onvif button"); // Find profiles
        await page.waitForSelector("#profiles li", { timeout: 10_000 });
        expect(await page.textContent("#profiles li")).toContain("cam (profile 0)");
        await page.click("#profiles li button");
        await page.fill("#name", "found");
        await Promise.all([
          page.waitForURL(/stream\.html\?src=found/, { timeout: 10_000 }),
          page.click("#form button"),
        ]);
        await waitForPlayerPlaying(page);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );

  it("probes for other devices, other scopes and garbage get no answer, and strom answers on", async () => {
    using sock = await multicastBind({
      hostname: ns.hostAddress,
      port: 0,
      multicastInterface: ns.hostAddress,
    });
    const answers: string[] = [];
    sock.onMessage = (data) => void answers.push(new TextDecoder().decode(data));
    const send = (text: string | Uint8Array) =>
      sock.send(
        typeof text === "string" ? new TextEncoder().encode(text) : text,
        WS_DISCOVERY_PORT,
        WS_DISCOVERY_GROUP,
      );
    const probeWith = (id: string, body: string, xmlns = "") =>
      `<?xml version="1.0"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" ` +
      `xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing" ` +
      `xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"${xmlns}><e:Header>` +
      `<w:MessageID>${id}</w:MessageID>` +
      `<w:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action></e:Header>` +
      `<e:Body><d:Probe>${body}</d:Probe></e:Body></e:Envelope>`;

    send(crypto.getRandomValues(new Uint8Array(600)));
    send(new Uint8Array(20_000).fill(0x3c));
    send("<not xml");
    // A printer search (Windows' WSD), another camera's name, a matching rule strom does not know.
    send(
      probeWith(
        "urn:uuid:printer",
        "<d:Types>p:Device</d:Types>",
        ` xmlns:p="http://schemas.xmlsoap.org/ws/2006/02/devprof"`,
      ),
    );
    send(probeWith("urn:uuid:other-name", "<d:Scopes>onvif://www.onvif.org/name/other</d:Scopes>"));
    send(probeWith("urn:uuid:match-by", `<d:Scopes MatchBy="urn:x">onvif://www.onvif.org/name</d:Scopes>`));
    // A probe of strom's name and type by scope prefix (RFC 3986 rule) and a plain ONVIF probe.
    send(
      probeWith(
        "urn:uuid:by-scope",
        "<d:Scopes>onvif://www.onvif.org/name/strom onvif://www.onvif.org/type</d:Scopes>",
      ),
    );
    send(buildProbe("urn:uuid:plain"));

    for (let i = 0; i < 40 && answers.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 600)); // would-be answers to the others come within 250 ms
    const related = answers.map((a) => readProbeMatches(a)?.relatesTo).sort();
    expect(related).toEqual(["urn:uuid:by-scope", "urn:uuid:plain"]);
    const match = readProbeMatches(answers[0])!.matches[0];
    expect(match.xaddrs).toEqual([deviceUrl()]);
    expect(match.types).toContainEqual({ namespace: NETWORK_WSDL, local: "NetworkVideoTransmitter" });
  }, 15_000);
  it("strom discover prints it, and with a login every profile as a source", async () => {
    const [cmd, args] = stromCommand();
    const plain = await runText(cmd, [...args, "discover", "-i", ns.hostLink, "--timeout", "1.5"], {
      timeoutMs: 30_000,
      label: "strom discover",
    });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(`onvif://user:pass@${ns.address}:1984  (strom)\n`);
    const json = await runText(cmd, [
      ...args,
      "discover",
      "-i",
      ns.hostLink,
      "--timeout",
      "1.5",
      "-u",
      "admin",
      "-p",
      "pw",
      "--json",
    ], {
      timeoutMs: 30_000,
      label: "strom discover --json",
    });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({
      url: `onvif://admin:pw@${ns.address}:1984`,
      name: "strom",
      xaddrs: [deviceUrl()],
      profiles: [{
        url: `onvif://admin:pw@${ns.address}:1984?subtype=cam`,
        name: "cam",
        info: expect.stringMatching(/^H264/),
      }],
    })]);
    // An interface without IPv4 (or none of that name): a one-line error and exit 1.
    const bad = await runText(cmd, [...args, "discover", "-i", "no-such-if0"], {
      timeoutMs: 30_000,
      label: "strom discover -i",
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("No IPv4 address on the interface(s) no-such-if0");
  }, 60_000);

  it(
    "an interface that appears later is answered on within the rescan period; one that goes is dropped",
    async () => {
      // A second device told to answer on an interface that does not exist yet: it starts anyway
      // and waits for it (a host whose network comes up after strom).
      const lateLink = `stl${Math.random().toString(16).slice(2, 8)}`;
      await serve(
        "late",
        `api:\n  listen: ":1986"\nrtsp:\n  listen: ""\nwebrtc:\n  listen: ""\n` +
          `onvif:\n  discovery: true\n  interfaces: [${lateLink}]\n  rescan: 1s\n`,
        1986,
      );
      // The module starts once the API listens, so the warning may come just after "ready".
      const waiting = `no IPv4 address on ${lateLink} yet; probes are answered once one comes up`;
      expect(await logsReach(waiting, 1)).toBe(true);
      const extra = await ns.addLink(lateLink);
      try {
        // `onvif.rescan: 1s`: the new link is joined within about a second of its address, by the
        // device (every interface) and by the late one (this interface only).
        const wanted = [
          `http://${extra.address}:1984/onvif/device_service`,
          `http://${extra.address}:1986/onvif/device_service`,
        ];
        let found: Awaited<ReturnType<typeof discoverOnvif>> = [];
        for (let i = 0; i < 10 && found.length < 2; i++) {
          found = await discoverOnvif({ interfaces: [extra.hostLink], timeoutMs: 800 });
        }
        expect(found.map((d) => d.xaddrs[0]).sort()).toEqual(wanted);
        for (const d of found) expect(d).toMatchObject({ from: extra.address, interface: extra.hostLink });
        expect(await logsReach("answering probes on a new interface", 2)).toBe(true);
        // A probe on the first link reaches the late strom too (Linux hands the group's datagrams
        // to every socket on the port once the device joined there), but that link is not one it
        // serves: only the device answers, with its address on that link.
        const first = await discoverOnvif({ interfaces: [ns.hostLink], timeoutMs: 800 });
        expect(first.map((d) => d.xaddrs)).toEqual([[deviceUrl()]]);
      } finally {
        await extra.remove();
      }
      // Both devices drop it at their next rescan.
      expect(await logsReach("interface gone, no longer answering there", 2)).toBe(true);
      // The original link is answered as before, with its own address only.
      const still = await discoverOnvif({ interfaces: [ns.hostLink], timeoutMs: 800 });
      expect(still.map((d) => d.xaddrs)).toEqual([[deviceUrl()]]);
    },
    30_000,
  );

  it("strom says Bye on the LAN when it stops", async () => {
    const endpoint = announcements[0]!.match.endpoint;
    device.kill("SIGTERM");
    for (let i = 0; i < 100 && announcements.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(announcements.map((a) => a?.action)).toEqual(["Hello", "Bye"]);
    expect(announcements[1]!.match.endpoint).toBe(endpoint);
    expect((await device.exited).code).toBe(0);
  }, 15_000);
});
