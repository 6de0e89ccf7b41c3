/**
 * A network that drops UDP: `strom serve` in a network namespace that drops every UDP packet it
 * sends or receives (policy routing to a blackhole, as a firewall that lets only TCP through would),
 * and headless Chromium on this machine with its normal WebRTC settings.
 * The browser offers its UDP candidates as usual; they cannot connect, and it plays over ICE-TCP on
 * strom's shared port (`webrtc.listen`, UDP and TCP on one number, as go2rtc), frames decoding.
 * (tests/webrtc/ice_tcp_test.ts tells the browser not to use UDP instead; this one takes it away.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { hasChromium, launchBrowser, whepInPage } from "../_support/browser.ts";
import { canUseNetns, TestNetns } from "../_support/netns.ts";
import { run } from "../_support/process.ts";
import { udpBind } from "../../lib/runtime/udp.ts";

const netnsOk = await canUseNetns();
const ready = netnsOk && hasChromium;
const reason = !netnsOk ? "needs root and ip netns" : "needs /usr/bin/chromium";

/** Runs `ip` inside the namespace; throws with its output when it fails. */
async function ipIn(ns: string, args: string[]): Promise<void> {
  const res = await run("ip", ["netns", "exec", ns, "ip", ...args], 10_000);
  if (res.code !== 0) throw new Error(`ip ${args.join(" ")} in ${ns} failed (${res.code}): ${res.stderr.trim()}`);
}

/**
 * Makes the namespace drop every UDP packet it sends or receives: a policy-routing rule that sends
 * UDP to a blackhole, placed before the lookup of local addresses (moved from priority 0 to 100) so
 * arriving datagrams are dropped too. (This kernel loads no tc action or netfilter modules.)
 */
async function dropUdp(ns: string): Promise<void> {
  await ipIn(ns, ["rule", "add", "pref", "10", "ipproto", "udp", "blackhole"]);
  await ipIn(ns, ["rule", "add", "pref", "100", "lookup", "local"]);
  await ipIn(ns, ["rule", "del", "pref", "0"]);
}

describe.skipIf(!ready)(`a network that drops UDP: Chromium plays over ICE-TCP (${ready ? "netns, chromium" : reason})`, () => {
  let ns: TestNetns;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  let base = "";

  beforeAll(async () => {
    ns = await TestNetns.create();
    const config = JSON.stringify({
      api: { listen: ":1984" },
      rtsp: { listen: "" },
      rtmp: { listen: "" },
      webrtc: { listen: ":8555" },
      streams: { demo: "demo:" },
    });
    base = await ns.serveStrom(config);
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await ns?.close();
  }, 30_000);

  test("the namespace drops UDP: a datagram from it arrives before the rules, not after", async () => {
    const socket = await udpBind({ hostname: ns.hostAddress, port: 0 });
    try {
      let got = 0;
      socket.onMessage = () => void got++;
      const sendFromNs = async () => {
        const sent = await run("ip", ["netns", "exec", ns.name, "bash", "-c", `echo hi > /dev/udp/${ns.hostAddress}/${socket.addr.port}`], 5_000);
        await new Promise((r) => setTimeout(r, 300));
        return sent.code;
      };
      expect(await sendFromNs()).toBe(0);
      expect(got).toBe(1);
      await dropUdp(ns.name);
      // The blackhole refuses the send itself (bash reports it), and nothing arrives.
      expect(await sendFromNs()).not.toBe(0);
      expect(got).toBe(1);
    } finally {
      socket.close();
    }
  });

  test("the browser offers UDP as usual, and the connection it makes is TCP to the shared port; frames decode", async () => {
    const page = await browser!.context.newPage();
    try {
      await page.goto(`${base}/`, { timeout: 15_000 });
      const whep = await whepInPage(page, "/api/webrtc?src=demo", ["video"]);
      const offered = whep.offer.split("\n").filter((l) => l.startsWith("a=candidate"));
      const result = { ...whep, offerUdp: offered.some((l) => / udp /i.test(l)) };
      expect(result.status).toBe(201);
      expect(result.offerUdp).toBe(true); // nothing told the browser to leave UDP out
      const answered = result.answer.split(/\r?\n/).filter((l) => l.startsWith("a=candidate:"));
      expect(answered.some((l) => / udp .* 8555 typ host/i.test(l))).toBe(true);
      expect(answered.some((l) => / tcp .* 8555 typ host tcptype passive/i.test(l))).toBe(true);

      const stats = () =>
        page.evaluate(async () => {
          const pc = (window as unknown as { whep: RTCPeerConnection }).whep;
          const report = await pc.getStats();
          let frames = 0;
          let remote = "";
          report.forEach((s) => {
            if (s.type === "inbound-rtp" && s.kind === "video") frames = s.framesDecoded ?? 0;
            if (s.type === "transport" && s.selectedCandidatePairId) remote = report.get(s.selectedCandidatePairId)?.remoteCandidateId;
          });
          const candidate = remote ? report.get(remote) : undefined;
          return { frames, protocol: candidate?.protocol ?? "", port: candidate?.port ?? 0, state: pc.connectionState };
        });
      let st = await stats();
      for (let i = 0; i < 300 && st.frames <= 10; i++) {
        await new Promise((r) => setTimeout(r, 100));
        st = await stats();
      }
      expect(st.frames).toBeGreaterThan(10);
      expect(st.state).toBe("connected");
      expect(st.protocol).toBe("tcp");
      expect(st.port).toBe(8555);
    } finally {
      await page.close();
    }
  }, 60_000);
});
