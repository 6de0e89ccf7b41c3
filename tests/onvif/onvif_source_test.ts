// onvif:// sources against a test ONVIF camera: an HTTP SOAP device (GetCapabilities, GetProfiles,
// GetStreamUri) that checks every request's WS-Security password digest the way cameras do, in
// front of an RTSP server with the demo stream as the camera's main and sub streams.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamHub } from "../../lib/core/hub.ts";
import { silentLogger } from "../../lib/core/log.ts";
import { registerDemoSource } from "../../lib/protocol/demo/mod.ts";
import { OnvifError, resolveOnvifUrl } from "../../lib/protocol/onvif/mod.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { hasTool } from "../_support/process.ts";
import { freePort } from "../_support/net.ts";

const hasFfprobe = await hasTool("ffprobe");

interface TestCamera {
  port: number;
  requests: string[];
  /** What GetStreamUri answers for a profile token (default: the RTSP server's /main or /sub). */
  uriFor: (token: string) => string;
  close(): Promise<void>;
}

/** The text of the first element named `local` (any prefix) in a SOAP body. */
const pick = (xml: string, local: string) =>
  new RegExp(`<(?:\\w+:)?${local}(?:\\s[^>]*)?>([^<]*)</(?:\\w+:)?${local}>`).exec(xml)?.[1];

const fault = (reason: string) =>
  `<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault>` +
  `<env:Code><env:Value>env:Sender</env:Value></env:Code><env:Reason><env:Text xml:lang="en">${reason}</env:Text>` +
  `</env:Reason></env:Fault></env:Body></env:Envelope>`;

const answer = (body: string) =>
  `<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" ` +
  `xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" ` +
  `xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><env:Body>${body}</env:Body></env:Envelope>`;

const profile = (token: string, name: string, w: number, h: number) =>
  `<trt:Profiles token="${token}" fixed="true"><tt:Name>${name}</tt:Name><tt:VideoEncoderConfiguration token="v${token}">` +
  `<tt:Name>v</tt:Name><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>${w}</tt:Width>` +
  `<tt:Height>${h}</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>`;

async function startTestCamera(rtspPort: number, user: string, password: string): Promise<TestCamera> {
  const requests: string[] = [];
  const camera: Partial<TestCamera> = {
    requests,
    uriFor: (token) => `rtsp://127.0.0.1:${rtspPort}/${token}`,
  };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => body += d);
    req.on("end", () => {
      const op = /<(?:\w+:)?Body>\s*<(?:\w+:)?(\w+)/.exec(body)?.[1] ?? "?";
      requests.push(`${req.url} ${op}`);
      // WS-Security UsernameToken: Password = base64(SHA-1(nonce + created + password)).
      const nonce = Buffer.from(pick(body, "Nonce") ?? "", "base64");
      const created = pick(body, "Created") ?? "";
      const digest = createHash("sha1").update(Buffer.concat([nonce, Buffer.from(created + password)]))
        .digest("base64");
      const send = (status: number, xml: string) => {
        res.writeHead(status, { "Content-Type": "application/soap+xml; charset=utf-8" });
        res.end(xml);
      };
      if (pick(body, "Username") !== user || pick(body, "Password") !== digest) {
        return send(400, fault("Sender not Authorized"));
      }
      const { port } = server.address() as AddressInfo;
      if (op === "GetCapabilities" && req.url === "/onvif/device_service") {
        return send(
          200,
          answer(
            `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>http://127.0.0.1:${port}/onvif/media_service` +
              `</tt:XAddr></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>`,
          ),
        );
      }
      if (op === "GetProfiles" && req.url === "/onvif/media_service") {
        return send(
          200,
          answer(
            `<trt:GetProfilesResponse>${profile("main", "mainStream", 1280, 720)}${
              profile("sub", "subStream", 640, 360)
            }` +
              `</trt:GetProfilesResponse>`,
          ),
        );
      }
      if (op === "GetStreamUri" && req.url === "/onvif/media_service") {
        const uri = camera.uriFor!(pick(body, "ProfileToken") ?? "").replace(/&/g, "&amp;");
        return send(
          200,
          answer(
            `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>${uri}</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>`,
          ),
        );
      }
      send(400, fault(`unexpected ${op} at ${req.url}`));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  camera.port = (server.address() as AddressInfo).port;
  camera.close = () => new Promise<void>((r) => server.close(() => r()));
  return camera as TestCamera;
}

describe("onvif:// source", () => {
  let hub: StreamHub;
  let rtsp: RtspServer;
  let camera: TestCamera;
  const rtspPort = () => rtsp.addr.port;

  beforeAll(async () => {
    registerDemoSource();
    hub = new StreamHub();
    hub.set("main", ["demo:"]);
    hub.set("sub", ["demo:"]);
    rtsp = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
    camera = await startTestCamera(rtspPort(), "admin", "s3cret&more");
  });
  afterAll(async () => {
    await camera.close();
    await rtsp.close();
    await hub.close();
  });

  const onvif = (query = "", auth = "admin:s3cret%26more") =>
    `onvif://${auth}@127.0.0.1:${camera.port}${query}`;

  it("finds the RTSP URI of the profile subtype= names: by position, token or name", async () => {
    const base = `rtsp://admin:s3cret%26more@127.0.0.1:${rtspPort()}`;
    expect(await resolveOnvifUrl(onvif())).toBe(`${base}/main`);
    expect(await resolveOnvifUrl(onvif("?subtype=1"))).toBe(`${base}/sub`);
    expect(await resolveOnvifUrl(onvif("?subtype=sub"))).toBe(`${base}/sub`);
    expect(await resolveOnvifUrl(onvif("?subtype=mainStream#backchannel=0"))).toBe(
      `${base}/main#backchannel=0`,
    );
    // Device service first (where the media service is), then the media service.
    expect(camera.requests.slice(0, 3)).toEqual([
      "/onvif/device_service GetCapabilities",
      "/onvif/media_service GetProfiles",
      "/onvif/media_service GetStreamUri",
    ]);
  });

  it("says what is wrong: password, profile, address, and a URI that is not RTSP", async () => {
    const error = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (e) => e);
      expect(e).toBeInstanceOf(OnvifError);
      return e as OnvifError;
    };
    const auth = await error(resolveOnvifUrl(onvif("", "admin:wrong")));
    expect(auth.message).toContain('"Sender not Authorized"');
    expect(auth.message).toContain("Check the user name and password");
    expect(auth.step).toBe("GetCapabilities");

    const missing = await error(resolveOnvifUrl(onvif("?subtype=7")));
    expect(missing.message).toContain('no profile "7"');
    expect(missing.message).toContain('0: main "mainStream" H264 1280x720; 1: sub "subStream" H264 640x360');

    const dead = await error(
      resolveOnvifUrl(`onvif://a:b@127.0.0.1:${await freePort()}`, { timeoutMs: 2000 }),
    );
    expect(dead.message).toContain("Check the camera's address and ONVIF port");

    // A device on the network must never make strom dial a program-running scheme.
    camera.uriFor = () => "exec:touch /tmp/strom-onvif-pwned";
    try {
      const exec = await error(resolveOnvifUrl(onvif()));
      expect(exec.message).toContain("gave no RTSP stream URI");
    } finally {
      camera.uriFor = (token) => `rtsp://127.0.0.1:${rtspPort()}/${token}`;
    }
  });

  it.skipIf(!hasFfprobe)("strom serves an onvif:// stream over RTSP (ffprobe reads H.264)", async () => {
    const port = await freePort();
    const server: RunningServer = await startServer({
      configSources: [JSON.stringify({
        api: { listen: "127.0.0.1:0" },
        rtsp: { listen: `127.0.0.1:${port}` },
        streams: { door: onvif("?subtype=1") },
      })],
      log: silentLogger,
      handleSignals: false,
    });
    try {
      const probe = await ffprobe(`rtsp://127.0.0.1:${port}/door`, ["-rtsp_transport", "tcp"], 15_000);
      expect(probe.streams.find((s) => s.codec_type === "video")?.codec_name).toBe("h264");
      expect(camera.requests.at(-1)).toBe("/onvif/media_service GetStreamUri");
    } finally {
      await server.close();
    }
  }, 30_000);
});
