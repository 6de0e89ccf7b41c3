// strom as an ONVIF device (POST /onvif/device_service), as NVRs add go2rtc: an independent ONVIF
// client (the npm `onvif` package, run with node: tests/_support/onvif_peer.cjs) connects as to a
// camera and reads every stream's profile, RTSP and snapshot address; ffprobe plays the RTSP address
// it got; strom's own onvif:// source pulls a stream through it; and raw SOAP requests check the
// login (WS-Security digest and text, viewer accounts, clock window, replayed tokens) and the faults.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { fileURLToPath } from "node:url";
import { bytesToBase64, concatBytes } from "../../lib/core/bytes.ts";
import { silentLogger } from "../../lib/core/log.ts";
import { resolveOnvifUrl } from "../../lib/protocol/onvif/mod.ts";
import { elementText, envelope, securityHeader } from "../../lib/protocol/onvif/soap.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool, runText } from "../_support/process.ts";

const hasFfprobe = await hasTool("ffprobe");
const PEER = fileURLToPath(new URL("../_support/onvif_peer.cjs", import.meta.url));
const DEVICE = "http://www.onvif.org/ver10/device/wsdl";
const MEDIA = "http://www.onvif.org/ver10/media/wsdl";
const PROFILES = `<GetProfiles xmlns="${MEDIA}"/>`;

interface PeerResult {
  error?: string;
  info?: { manufacturer: string; firmwareVersion: string };
  profiles?: { token: string; name: string; uri: string; snapshot: string }[];
}

// The npm onvif client against strom's device on 127.0.0.1:<port>.
async function peer(port: number, user?: string, password?: string): Promise<PeerResult> {
  const args = [PEER, "127.0.0.1", String(port), ...(user ? [user, password ?? ""] : [])];
  const res = await runText("node", args, { timeoutMs: 20_000, label: "the onvif npm client" });
  const line = res.stdout.trim().split("\n").at(-1);
  if (!line) throw new Error(`the onvif npm client printed nothing (exit ${res.code}): ${res.stderr}`);
  return JSON.parse(line) as PeerResult;
}

async function start(config: Record<string, unknown>): Promise<{ server: RunningServer; port: number }> {
  const server = await startServer({
    configSources: [JSON.stringify({ webrtc: { listen: "" }, ...config })],
    log: silentLogger,
    handleSignals: false,
  });
  return { server, port: Number(new URL(server.urls[0]).port) };
}

// A WS-Security digest header with a chosen nonce and Created (securityHeader draws its own nonce).
async function digestHeader(user: string, password: string, nonce: Uint8Array, created: string) {
  const input = concatBytes([nonce, new TextEncoder().encode(created + password)]);
  const digest = bytesToBase64(new Uint8Array(await crypto.subtle.digest("SHA-1", input)));
  const nonceText = bytesToBase64(nonce);
  return `<s:Header><Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` +
    `<UsernameToken><Username>${user}</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/` +
    `oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</Password>` +
    `<Nonce>${nonceText}</Nonce><Created>${created}</Created></UsernameToken></Security></s:Header>`;
}

describe("strom as an ONVIF device", () => {
  describe("without accounts", () => {
    let server: RunningServer;
    let port: number;
    let rtspPort: number;

    beforeAll(async () => {
      rtspPort = await freePort();
      ({ server, port } = await start({
        api: { listen: "127.0.0.1:0" },
        rtsp: { listen: `127.0.0.1:${rtspPort}` },
        streams: { cam: "demo:", "door one": "demo:" },
      }));
    });
    afterAll(() => server?.close());

    it(
      "an ONVIF client (npm onvif) finds one profile per stream with its RTSP and snapshot address",
      async () => {
        const result = await peer(port);
        expect(result.error).toBeUndefined();
        expect(result.info).toEqual({ manufacturer: "strom", firmwareVersion: expect.any(String) });
        expect(result.profiles).toEqual([
          {
            token: "cam",
            name: "cam",
            uri: `rtsp://127.0.0.1:${rtspPort}/cam`,
            snapshot: `http://127.0.0.1:${port}/api/frame.jpeg?src=cam`,
          },
          {
            token: "door one",
            name: "door one",
            uri: `rtsp://127.0.0.1:${rtspPort}/door%20one`,
            snapshot: `http://127.0.0.1:${port}/api/frame.jpeg?src=door%20one`,
          },
        ]);
      },
      30_000,
    );

    it.skipIf(!hasFfprobe)(
      "the RTSP address it gives plays (ffprobe reads H.264), and strom's onvif:// source resolves it",
      async () => {
        const [profile] = (await peer(port)).profiles!;
        const probe = await ffprobe(profile.uri, ["-rtsp_transport", "tcp"], 15_000);
        expect(probe.streams.find((s) => s.codec_type === "video")?.codec_name).toBe("h264");
        expect(await resolveOnvifUrl(`onvif://127.0.0.1:${port}?subtype=1`)).toBe(
          `rtsp://127.0.0.1:${rtspPort}/door%20one`,
        );
        const list = await fetch(
          `http://127.0.0.1:${port}/api/onvif?src=${encodeURIComponent(`onvif://127.0.0.1:${port}`)}`,
        );
        expect((await list.json()).sources.map((s: { url: string }) => s.url)).toEqual([
          `onvif://127.0.0.1:${port}?subtype=cam`,
          `onvif://127.0.0.1:${port}?subtype=door%20one`,
        ]);
      },
      30_000,
    );

    it("answers a request it cannot serve with a SOAP fault that says why, and keeps serving", async () => {
      const soap = async (body: string) => {
        const res = await fetch(`http://127.0.0.1:${port}/onvif/device_service`, {
          method: "POST",
          headers: { "Content-Type": "application/soap+xml" },
          body,
        });
        const text = await res.text();
        return {
          status: res.status,
          type: res.headers.get("content-type"),
          text,
          reason: elementText(text, "Text"),
        };
      };
      let res = await soap(envelope("", `<GetNetworkInterfaces xmlns="${DEVICE}"/>`));
      expect(res.status).toBe(400);
      expect(res.type).toContain("application/soap+xml");
      expect(res.text).toContain("ter:ActionNotSupported");
      expect(res.reason).toContain("does not implement GetNetworkInterfaces");
      res = await soap(
        envelope("", `<GetStreamUri xmlns="${MEDIA}"><ProfileToken>nope</ProfileToken></GetStreamUri>`),
      );
      expect(res.status).toBe(400);
      expect(res.reason).toContain('No profile "nope"');
      res = await soap("<not-soap");
      expect(res.status).toBe(400);
      expect(res.reason).toContain("not a SOAP envelope");
      res = await soap(envelope("", `<GetSystemDateAndTime xmlns="${DEVICE}"/>`));
      expect(res.status).toBe(200);
      expect(res.text).toContain(`<tt:Year>${new Date().getUTCFullYear()}</tt:Year>`);
    });
  });

  describe("with accounts", () => {
    let server: RunningServer;
    let port: number;
    const soap = async (body: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/onvif/device_service`, { method: "POST", body });
      const text = await res.text();
      // A fault's reason, as a client shows it.
      return { status: res.status, text, reason: elementText(text, "Text") };
    };
    const profilesAs = async (user: string, password: string, now?: Date) =>
      await soap(envelope(await securityHeader(user, password, now), `<GetProfiles xmlns="${MEDIA}"/>`));

    beforeAll(async () => {
      ({ server, port } = await start({
        // local_auth: loopback clients (this test) log in too.
        api: {
          listen: "127.0.0.1:0",
          local_auth: true,
          auth: {
            max_failed_logins: 0,
            users: {
              admin: { password: "adm&n pw", role: "admin" },
              guest: { password: "guest", role: "viewer", streams: ["front"] },
              hashed: {
                // bcrypt of "hashed-pw" (cost 4)
                password_hash: "$2b$04$Ytws0P1EaFJJXzRzKLSg6u6WCnQ.uo5gcfWzv3kYHIasYfQ/QL4Pu",
                role: "admin",
              },
            },
          },
        },
        rtsp: { listen: "" },
        streams: { front: "demo:", back: "demo:" },
      }));
    });
    afterAll(() => server?.close());

    it(
      "the ONVIF client logs in with the WS-Security digest; a wrong password gets NotAuthorized",
      async () => {
        // The client logs in (GetProfiles), then asks for a stream address: the RTSP server is off
        // here, so it gets a fault that says so.
        const admin = await peer(port, "admin", "adm&n pw");
        expect(admin.error).toContain("The RTSP server is off");
        const wrong = await peer(port, "admin", "wrong");
        expect(wrong.error).toBeDefined();
        const raw = await profilesAs("admin", "wrong");
        expect(raw.status).toBe(400);
        expect(raw.text).toContain("ter:NotAuthorized");
        expect(raw.reason).toContain('Login as "admin" failed: the password digest does not match');
      },
      30_000,
    );

    it("a viewer sees only its streams; GetSystemDateAndTime needs no login; other requests do", async () => {
      const guest = await profilesAs("guest", "guest");
      expect(guest.status).toBe(200);
      expect(guest.text).toContain('token="front"');
      expect(guest.text).not.toContain('token="back"');
      const other = await soap(envelope(
        await securityHeader("guest", "guest"),
        `<GetSnapshotUri xmlns="${MEDIA}"><ProfileToken>back</ProfileToken></GetSnapshotUri>`,
      ));
      expect(other.reason).toContain('No profile "back"');

      const time = await soap(envelope("", `<GetSystemDateAndTime xmlns="${DEVICE}"/>`));
      expect(time.status).toBe(200);
      const anonymous = await soap(envelope("", `<GetProfiles xmlns="${MEDIA}"/>`));
      expect(anonymous.status).toBe(400);
      expect(anonymous.reason).toContain("needs a WS-Security UsernameToken");
      // The HTTP API itself still wants its own login (only POST /onvif/ is exempt).
      expect((await fetch(`http://127.0.0.1:${port}/api/streams`)).status).toBe(401);
    });

    it("a digest made 10 minutes off this clock is refused with the reason; a bcrypt account logs in with PasswordText", async () => {
      const stale = await profilesAs("admin", "adm&n pw", new Date(Date.now() - 10 * 60_000));
      expect(stale.status).toBe(400);
      expect(stale.reason).toContain("s ago by this device's clock");

      const digest = await profilesAs("hashed", "hashed-pw");
      expect(digest.reason).toContain("cannot be checked against a password_hash");
      const text = envelope(
        `<s:Header><Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` +
          `<UsernameToken><Username>hashed</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/` +
          `oasis-200401-wss-username-token-profile-1.0#PasswordText">hashed-pw</Password></UsernameToken></Security></s:Header>`,
        `<GetProfiles xmlns="${MEDIA}"/>`,
      );
      const ok = await soap(text);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('token="back"');
      // PasswordText sends the password itself: sending the same token again is no replay to catch.
      expect((await soap(text)).status).toBe(200);
    });

    it("a digest token sent again (a replay) is refused with NotAuthorized and why; a wrong password does not use up a nonce", async () => {
      const request = envelope(await securityHeader("guest", "guest"), PROFILES);
      const first = await soap(request);
      expect(first.status).toBe(200);
      expect(first.text).toContain('token="front"');
      const replay = await soap(request);
      expect(replay.status).toBe(400);
      expect(replay.text).toContain("ter:NotAuthorized");
      expect(replay.reason).toContain('Login as "guest" failed: the token was replayed');
      expect(replay.reason).toContain("the client must send a fresh Nonce and Created with every request");
      // A fresh token from the same user still logs in.
      expect((await profilesAs("guest", "guest")).status).toBe(200);

      // A wrong password does not use up its nonce: the right password's token with it still logs in.
      const nonce = crypto.getRandomValues(new Uint8Array(16));
      const created = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const withNonce = async (password: string) =>
        await soap(envelope(await digestHeader("admin", password, nonce, created), PROFILES));
      const wrong = await withNonce("wrong");
      expect(wrong.reason).toContain("the password digest does not match");
      const right = await withNonce("adm&n pw");
      expect(right.status).toBe(200);
    });
  });
});
