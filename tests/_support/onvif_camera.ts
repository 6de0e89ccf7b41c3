/**
 * A test ONVIF camera: an HTTP SOAP device (GetCapabilities on /onvif/device_service, GetProfiles and
 * GetStreamUri on /onvif/media_service) that checks every request's WS-Security password digest the
 * way cameras do (a SOAP fault "Sender not Authorized" otherwise). Two H.264 profiles, `main`
 * ("mainStream", 1280x720) and `sub` ("subStream", 640x360), whose stream URIs point at
 * `rtsp://127.0.0.1:<rtspPort>/<token>`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { StreamHub } from "../../lib/core/hub.ts";
import { registerDemoSource } from "../../lib/protocol/demo/mod.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A running test camera. */
export interface TestCamera {
  port: number;
  requests: string[];
  /** What GetStreamUri answers for a profile token (default: the RTSP server's /main or /sub). */
  uriFor: (token: string) => string;
  /** The media service address GetCapabilities reports (default: this camera's own /onvif/media_service). */
  mediaXAddr: (port: number) => string;
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

/** Starts a test camera on a free loopback port; `user`/`password` are the ONVIF credentials. */
export async function startTestCamera(rtspPort: number, user: string, password: string): Promise<TestCamera> {
  const requests: string[] = [];
  const camera: Partial<TestCamera> = {
    requests,
    uriFor: (token) => `rtsp://127.0.0.1:${rtspPort}/${token}`,
    mediaXAddr: (port) => `http://127.0.0.1:${port}/onvif/media_service`,
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
            `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>${camera.mediaXAddr!(port)}` +
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
  camera.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      // Clients' keep-alive connections would hold close() until they time out.
      server.closeAllConnections();
    });
  return camera as TestCamera;
}

/**
 * A test camera in front of its own RTSP server, whose `main` and `sub` streams are the demo
 * stream; `close()` stops both.
 */
export async function startDemoOnvifCamera(
  user: string,
  password: string,
): Promise<TestCamera & { rtspPort: number }> {
  registerDemoSource();
  const hub = new StreamHub();
  hub.set("main", ["demo:"]);
  hub.set("sub", ["demo:"]);
  const rtsp = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
  const camera = await startTestCamera(rtsp.addr.port, user, password);
  const closeCamera = camera.close;
  return Object.assign(camera, {
    rtspPort: rtsp.addr.port,
    close: async () => {
      await closeCamera();
      await rtsp.close();
      await hub.close();
    },
  });
}
