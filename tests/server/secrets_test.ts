// Source passwords and tokens never leave strom: a real server with failing sources that carry
// passwords (RTSP answered 404 by strom's own RTSP server, HTTP and RTMP refused), a `${VAR}` secret
// outside any URL password, and a source added through the API; then every output a user or an
// operator sees is searched for each secret: the log file, /api/log, /api/streams, streams.dot,
// /metrics, API error bodies, and /api/config for a viewer. The admin's /api/config is the file
// itself, on purpose (it exists to edit it).
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../lib/core/_testing.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { freePort } from "../_support/net.ts";

const SECRETS = ["RtspPw1x", "HttpPw2x", "T0kenV4lue", "RtmpKey3x", "EnvS3cret", "ApiPw4x", "StreamKey9x"];
const basic = (user: string, pass: string) => ({ authorization: `Basic ${btoa(`${user}:${pass}`)}` });
const admin = basic("admin", "admin-pw");
const viewer = basic("viewer", "viewer-pw");

const dir = mkdtempSync(join(tmpdir(), "strom-secrets-"));
let server: RunningServer;
let base = "";
const logPath = join(dir, "strom.log");

function expectClean(where: string, text: string): void {
  for (const secret of SECRETS) expect({ where, leaked: text.includes(secret) ? secret : "" }).toEqual({ where, leaked: "" });
}

beforeAll(async () => {
  const rtspPort = await freePort();
  const closed = await freePort(); // nothing listens here
  const yaml = [
    "api:",
    '  listen: "127.0.0.1:0"',
    "  local_auth: true",
    "  username: admin",
    "  password: admin-pw",
    "  auth:",
    "    max_failed_logins: 0",
    "    users:",
    "      viewer: { password: viewer-pw, streams: ['*'] }",
    "rtsp:",
    `  listen: "127.0.0.1:${rtspPort}"`,
    "metrics:",
    "  enabled: true",
    "log:",
    "  level: debug",
    `  output: "file:${logPath}"`,
    "env:",
    "  CAM_PW: EnvS3cret",
    "streams:",
    `  rtsp_cam: rtsp://admin:RtspPw1x@127.0.0.1:${rtspPort}/nosuch`,
    `  http_cam: http://user:HttpPw2x@127.0.0.1:${closed}/snap.jpg?token=T0kenV4lue`,
    `  rtmp_cam: rtmp://127.0.0.1:${closed}/live/cam?key=RtmpKey3x`,
    `  env_cam: http://127.0.0.1:${closed}/snap.jpg?u=admin&p=\${CAM_PW}`,
    '  demo_cam: "demo:"',
    "publish:",
    // A stream key in the path is as secret as a password (YouTube, Twitch).
    `  demo_cam: rtmp://127.0.0.1:${closed}/live2/StreamKey9x`,
    "preload:",
    "  rtsp_cam:",
    "  http_cam:",
    "  rtmp_cam:",
    "  env_cam:",
    "",
  ].join("\n");
  const configPath = join(dir, "strom.yaml");
  writeFileSync(configPath, yaml);
  server = await startServer({ configSources: [configPath], handleSignals: false });
  base = server.urls[0];
  // Each source has failed at least once (its error is what might embed the URL).
  await waitFor(
    () =>
      ["rtsp_cam", "http_cam", "rtmp_cam", "env_cam"].every((name) =>
        server.hub.get(name)!.info().producers.some((p) => (p as { error?: string }).error)
      ),
    15_000,
  );
  // The publish destination has failed too.
  await waitFor(() => JSON.stringify(server.hub.get("demo_cam")!.info()).includes('"error"'), 15_000);
}, 45_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("secrets are masked in every output", () => {
  it("/api/streams shows the URLs and errors with *** instead of passwords and tokens", async () => {
    const res = await fetch(`${base}/api/streams`, { headers: admin });
    expect(res.status).toBe(200);
    const text = await res.text();
    expectClean("/api/streams", text);
    const body = JSON.parse(text);
    expect(body.rtsp_cam.producers[0].url).toBe(`rtsp://admin:***@127.0.0.1:${server.config.rtsp.listen!.split(":")[1]}/nosuch`);
    expect(body.http_cam.producers[0].url).toContain("http://user:***@127.0.0.1:");
    expect(body.http_cam.producers[0].url).toContain("?token=***");
    expect(body.rtmp_cam.producers[0].url).toContain("?key=***");
    expect(body.env_cam.producers[0].url).toContain("&p=***");
    expect(JSON.stringify(body.demo_cam.consumers)).toContain("rtmp://127.0.0.1:");
    expect(JSON.stringify(body.demo_cam.consumers)).toContain("/live2/***");
    for (const name of ["rtsp_cam", "http_cam", "rtmp_cam", "env_cam"]) {
      expect(typeof body[name].producers[0].error).toBe("string");
    }
    expectClean("/api/streams?src=", await (await fetch(`${base}/api/streams?src=http_cam`, { headers: admin })).text());
  });

  it("streams.dot", async () => {
    const res = await fetch(`${base}/api/streams.dot`, { headers: admin });
    expect(res.status).toBe(200);
    const dot = await res.text();
    expect(dot).toContain("rtsp://admin:***@");
    expectClean("streams.dot", dot);
  });

  it("metrics labels", async () => {
    const res = await fetch(`${base}/metrics`, { headers: admin });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('url="rtsp://admin:***@');
    expectClean("/metrics", text);
  });

  it("error bodies of failing requests and of a source added through the API", async () => {
    const frame = await fetch(`${base}/api/frame.jpeg?src=rtsp_cam`, { headers: admin });
    expect(frame.status).toBeGreaterThanOrEqual(400);
    expectClean("/api/frame.jpeg error", await frame.text());

    const added = await fetch(
      `${base}/api/streams?name=api_cam&src=${encodeURIComponent("rtsp://admin:ApiPw4x@127.0.0.1:1/x?token=T0kenV4lue")}`,
      { method: "PUT", headers: admin },
    );
    expectClean("PUT /api/streams", await added.text());
    const mp4 = await fetch(`${base}/api/stream.mp4?src=api_cam`, { headers: admin });
    expect(mp4.status).toBeGreaterThanOrEqual(400);
    expectClean("/api/stream.mp4 error", await mp4.text());
    expectClean("/api/streams after PUT", await (await fetch(`${base}/api/streams`, { headers: admin })).text());
  }, 20_000);

  it("the log file and /api/log, with each failing source's error line", async () => {
    const res = await fetch(`${base}/api/log`, { headers: admin });
    expect(res.status).toBe(200);
    const memory = await res.text();
    expectClean("/api/log", memory);
    const file = readFileSync(logPath, "utf8");
    expectClean("log file", file);
    // The failures are logged (with masked URLs), not silently dropped.
    expect(file).toMatch(/rtsp:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/nosuch/);
    expect(file).toMatch(/http:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/snap\.jpg\?token=\*\*\*/);
    expect(file).toMatch(/rtmp:\/\/127\.0\.0\.1:\d+\/live\/cam\?key=\*\*\*/);
    expect(file).toMatch(/rtmp:\/\/127\.0\.0\.1:\d+\/live2\/\*\*\*/);
  });

  it("/api/config and /api/log: 403 for a viewer; the admin gets the file to edit", async () => {
    for (const path of ["/api/config", "/api/log"]) {
      const asViewer = await fetch(`${base}${path}`, { headers: viewer });
      expect({ path, status: asViewer.status }).toEqual({ path, status: 403 });
      expectClean(`${path} as viewer`, await asViewer.text());
    }
    // A viewer still reads stream info (masked).
    const streams = await fetch(`${base}/api/streams`, { headers: viewer });
    expect(streams.status).toBe(200);
    expectClean("/api/streams as viewer", await streams.text());
    const asAdmin = await fetch(`${base}/api/config`, { headers: admin });
    expect(asAdmin.status).toBe(200);
    expect(await asAdmin.text()).toContain("RtspPw1x");
  });
});
