// onvif:// sources against a test ONVIF camera (tests/_support/onvif_camera.ts) in front of an RTSP
// server with the demo stream as the camera's main and sub streams.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { OnvifError, resolveOnvifUrl } from "../../lib/protocol/onvif/mod.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { hasTool } from "../_support/process.ts";
import { freePort } from "../_support/net.ts";
import { startDemoOnvifCamera, type TestCamera } from "../_support/onvif_camera.ts";

const hasFfprobe = await hasTool("ffprobe");

describe("onvif:// source", () => {
  let camera: TestCamera & { rtspPort: number };
  const rtspPort = () => camera.rtspPort;

  beforeAll(async () => {
    camera = await startDemoOnvifCamera("admin", "s3cret&more");
  });
  afterAll(() => camera.close());

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

  it("a camera that names its media service by another address (NAT, port forward) is asked where it was reached", async () => {
    // The camera knows itself as "localhost" on a port nothing listens on; strom reached it at
    // 127.0.0.1:<port>: the media service's path is asked there, and the stream still resolves.
    const elsewhere = await freePort();
    camera.mediaXAddr = () => `http://localhost:${elsewhere}/onvif/media_service`;
    try {
      const before = camera.requests.length;
      expect(await resolveOnvifUrl(onvif("?subtype=sub"), { timeoutMs: 3000 })).toBe(
        `rtsp://admin:s3cret%26more@127.0.0.1:${rtspPort()}/sub`,
      );
      expect(camera.requests.slice(before)).toEqual([
        "/onvif/device_service GetCapabilities",
        "/onvif/media_service GetProfiles",
        "/onvif/media_service GetStreamUri",
      ]);
    } finally {
      camera.mediaXAddr = (port) => `http://127.0.0.1:${port}/onvif/media_service`;
    }
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

    const invalid = await error(resolveOnvifUrl("onvif://admin:topsecret@[bad"));
    expect(invalid.message).toContain("write onvif://user:password@host");
    expect(invalid.message).not.toContain("topsecret");

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

  it("GET /api/onvif?src= lists the camera's profiles as sources to add, as go2rtc's", async () => {
    const server: RunningServer = await startServer({
      configSources: [JSON.stringify({ api: { listen: "127.0.0.1:0" }, rtsp: { listen: "" } })],
      log: silentLogger,
      handleSignals: false,
    });
    try {
      const api = (query: string) => fetch(`${server.urls[0]}/api/onvif${query}`);
      const res = await api(`?src=${encodeURIComponent(onvif("?subtype=1#backchannel=0"))}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        sources: [
          { name: "mainStream (profile 0)", url: onvif("?subtype=main"), info: "H264 1280x720" },
          { name: "subStream (profile 1)", url: onvif("?subtype=sub"), info: "H264 640x360" },
        ],
      });
      // (Without src= it searches the LAN: tests/onvif/onvif_discovery_test.ts, in a network namespace.)
      let bad = await api(`?src=${encodeURIComponent(onvif("", "admin:nope"))}`);
      expect(bad.status).toBe(502);
      expect(await bad.text()).toContain("Check the user name and password");
      bad = await api(`?src=${encodeURIComponent("rtsp://127.0.0.1/x")}`);
      expect(bad.status).toBe(400);
    } finally {
      await server.close();
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
