// One set of accounts on every protocol (issue 12): each route and protocol × {no credentials, wrong
// password, viewer of another stream, viewer, bcrypt viewer that may publish, admin, valid token,
// expired token} gets the exact status a user would see. Loopback is not trusted here
// (api.local_auth: true), so the test client is an ordinary client.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { tcpConnect } from "../../lib/runtime/mod.ts";
import { hashPassword, signToken } from "../../server/access/accounts.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";

const SECRET = "test-secret-0123456789-0123456789-abcdef";
const hasFfprobe = await hasTool("ffprobe");

/** Sends one RTSP request on a new connection and returns the status code of the reply. */
async function rtspStatus(
  port: number,
  method: string,
  path: string,
  authorization?: string,
  body = "",
): Promise<{ status: number; text: string }> {
  const conn = await tcpConnect({ hostname: "127.0.0.1", port, timeoutMs: 5_000 });
  try {
    const headers = [`${method} rtsp://127.0.0.1:${port}/${path} RTSP/1.0`, "CSeq: 1"];
    if (authorization) headers.push(`Authorization: ${authorization}`);
    if (body) headers.push("Content-Type: application/sdp", `Content-Length: ${new TextEncoder().encode(body).length}`);
    const writer = conn.writable.getWriter();
    await writer.write(new TextEncoder().encode(headers.join("\r\n") + "\r\n\r\n" + body));
    writer.releaseLock();
    const reader = conn.readable.getReader();
    let text = "";
    const deadline = Date.now() + 5_000;
    while (!text.includes("\r\n\r\n") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    return { status: Number(/^RTSP\/1\.0 (\d{3})/.exec(text)?.[1] ?? 0), text };
  } finally {
    conn.close();
  }
}

const basic = (user: string, password: string) => "Basic " + btoa(`${user}:${password}`);

const SDP = [
  "v=0",
  "o=- 0 0 IN IP4 127.0.0.1",
  "s=test",
  "t=0 0",
  "m=video 0 RTP/AVP 96",
  "a=rtpmap:96 H264/90000",
  "a=fmtp:96 packetization-mode=1",
  "a=control:trackID=0",
  "",
].join("\r\n");

describe("accounts on every protocol", () => {
  let server: RunningServer;
  let rtspPort = 0;
  let rtmpPort = 0;
  let base = "";
  const who: Record<string, { http?: Record<string, string>; query?: string; rtsp?: string }> = {};

  beforeAll(async () => {
    rtspPort = await freePort();
    rtmpPort = await freePort();
    const hash = await hashPassword("hashed-pw", 4);
    const config = {
      api: {
        listen: "127.0.0.1:0",
        local_auth: true,
        username: "admin",
        password: "admin-pw",
        auth: {
          token_secret: SECRET,
          max_failed_logins: 0,
          users: {
            viewer: { password: "viewer-pw", streams: ["cam1"] },
            publisher: { password_hash: hash, streams: ["cam1"], publish: ["cam1"] },
          },
        },
      },
      rtsp: { listen: `127.0.0.1:${rtspPort}`, username: "rtsp-admin", password: "rtsp-pw" },
      rtmp: { listen: `127.0.0.1:${rtmpPort}` },
      streams: { cam1: "demo:", cam2: "demo:", push: "" },
    };
    server = await startServer({ configSources: [JSON.stringify(config)], log: silentLogger, handleSignals: false });
    base = server.urls[0];
    const valid = await signToken(SECRET, { name: "tok", role: "viewer", streams: ["cam1"], publish: [] }, 3600);
    const expired = await signToken(SECRET, { name: "old", role: "viewer", streams: ["cam1"], publish: [] }, 1);
    await new Promise((r) => setTimeout(r, 2_100));
    const h = (v: string) => ({ authorization: v });
    who.none = {};
    who.wrong = { http: h(basic("viewer", "nope")), rtsp: basic("viewer", "nope") };
    who.viewer = { http: h(basic("viewer", "viewer-pw")), rtsp: basic("viewer", "viewer-pw") };
    who.publisher = { http: h(basic("publisher", "hashed-pw")), rtsp: basic("publisher", "hashed-pw") };
    who.admin = { http: h(basic("admin", "admin-pw")), rtsp: basic("rtsp-admin", "rtsp-pw") };
    who.token = { http: h(`Bearer ${valid}`), rtsp: basic("tok", valid) };
    who.tokenQuery = { query: `token=${valid}` };
    who.expired = { http: h(`Bearer ${expired}`), rtsp: basic("old", expired) };
  }, 30_000);
  afterAll(() => server?.close());

  const httpStatus = async (path: string, id: string, init: RequestInit = {}) => {
    const q = who[id].query ? (path.includes("?") ? "&" : "?") + who[id].query : "";
    const res = await fetch(`${base}${path}${q}`, { ...init, headers: who[id].http ?? {} });
    await res.body?.cancel();
    return res.status;
  };

  // [identity, watch cam1, watch cam2, PUT /api/streams, RTSP DESCRIBE cam1, RTSP DESCRIBE cam2, RTSP ANNOUNCE push]
  const table: [string, number, number, number, number, number, number][] = [
    ["none", 401, 401, 401, 401, 401, 401],
    ["wrong", 401, 401, 401, 401, 401, 401],
    ["viewer", 200, 403, 403, 200, 403, 403],
    ["publisher", 200, 403, 403, 200, 403, 403],
    ["admin", 200, 200, 201, 200, 200, 200],
    ["token", 200, 403, 403, 200, 403, 403],
    ["expired", 401, 401, 401, 401, 401, 401],
  ];

  for (const [id, watch1, watch2, put, describe1, describe2, announce] of table) {
    it(`${id}: HTTP watch, HTTP manage, RTSP read and publish`, async () => {
      const got = {
        watch1: await httpStatus("/api/stream.mp4?src=cam1&duration=1", id),
        watch2: await httpStatus("/api/stream.mp4?src=cam2&duration=1", id),
        put: await httpStatus(`/api/streams?name=added_${id}&src=demo:`, id, { method: "PUT" }),
        describe1: (await rtspStatus(rtspPort, "DESCRIBE", "cam1", who[id].rtsp)).status,
        describe2: (await rtspStatus(rtspPort, "DESCRIBE", "cam2", who[id].rtsp)).status,
        announce: (await rtspStatus(rtspPort, "ANNOUNCE", "push", who[id].rtsp, SDP)).status,
      };
      expect(got).toEqual({ watch1, watch2, put, describe1, describe2, announce });
    }, 30_000);
  }

  it("a viewer's ?token= works for players that cannot send headers", async () => {
    expect(await httpStatus("/api/stream.mp4?src=cam1&duration=1", "tokenQuery")).toBe(200);
    expect(await httpStatus("/api/stream.mp4?src=cam2&duration=1", "tokenQuery")).toBe(403);
  });

  it("publish permission: the bcrypt account may ANNOUNCE to cam1 only", async () => {
    expect((await rtspStatus(rtspPort, "ANNOUNCE", "cam1", who.publisher.rtsp, SDP)).status).toBe(200);
    expect((await rtspStatus(rtspPort, "ANNOUNCE", "cam1", who.viewer.rtsp, SDP)).status).toBe(403);
  });

  it.skipIf(!hasFfprobe)("ffprobe logs in with Digest as the viewer and plays cam1; cam2 is refused", async () => {
    const ok = await ffprobe(`rtsp://viewer:viewer-pw@127.0.0.1:${rtspPort}/cam1`, ["-rtsp_transport", "tcp"]);
    expect(ok.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
    const refused = await ffprobe(`rtsp://viewer:viewer-pw@127.0.0.1:${rtspPort}/cam2`, ["-rtsp_transport", "tcp"]).catch((e) => e);
    expect(String(refused)).toContain("403");
  }, 30_000);

  it.skipIf(!hasFfprobe)("RTMP: ?user=&pass= and ?token= in the URL, per stream", async () => {
    const rtmp = (path: string) => ffprobe(`rtmp://127.0.0.1:${rtmpPort}/${path}`, [], 20_000).then(
      (p) => p.streams.map((s) => s.codec_name).sort().join(","),
      (e) => `refused: ${String(e).slice(0, 300)}`,
    );
    expect(await rtmp("live/cam1?user=viewer&pass=viewer-pw")).toBe("aac,h264");
    const token = (who.token.http!.authorization).slice("Bearer ".length);
    expect(await rtmp(`live/cam1?token=${token}`)).toBe("aac,h264");
    expect(await rtmp("live/cam2?user=viewer&pass=viewer-pw")).toContain("refused");
    expect(await rtmp("live/cam1?user=viewer&pass=wrong")).toContain("refused");
    expect(await rtmp("live/cam1")).toContain("refused");
    // One path element: ffmpeg sends it, query included, as the app.
    expect(await rtmp("cam1?user=viewer&pass=viewer-pw")).toBe("aac,h264");
  }, 60_000);

  it("the 401 offers Digest and Basic; the RTSP 403 names the user and stream", async () => {
    const none = await rtspStatus(rtspPort, "DESCRIBE", "cam1");
    expect(none.text).toContain("WWW-Authenticate: Digest");
    expect(none.text).toContain("WWW-Authenticate: Basic");
    const other = await rtspStatus(rtspPort, "DESCRIBE", "cam2", who.viewer.rtsp);
    expect(other.text).toContain('User "viewer" may not watch stream "cam2"');
  });
});

describe("failed-login rate limit", () => {
  let server: RunningServer;
  let rtspPort = 0;
  beforeAll(async () => {
    rtspPort = await freePort();
    const config = {
      api: { listen: "127.0.0.1:0", local_auth: true, auth: { max_failed_logins: 3, users: { u: { password: "right" } } } },
      rtsp: { listen: `127.0.0.1:${rtspPort}` },
      streams: { cam1: "demo:" },
    };
    server = await startServer({ configSources: [JSON.stringify(config)], log: silentLogger, handleSignals: false });
  }, 20_000);
  afterAll(() => server?.close());

  it("after 3 wrong passwords the IP gets 429 with Retry-After, on HTTP and RTSP, even with the right one", async () => {
    const wrong = { authorization: basic("u", "wrong") };
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.urls[0]}/api/streams`, { headers: wrong });
      expect(res.status).toBe(401);
      await res.body?.cancel();
    }
    const blocked = await fetch(`${server.urls[0]}/api/streams`, { headers: { authorization: basic("u", "right") } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await blocked.json()).message).toContain("Too many failed logins");
    const rtsp = await rtspStatus(rtspPort, "DESCRIBE", "cam1", basic("u", "right"));
    expect(rtsp.status).toBe(429);
  });
});
