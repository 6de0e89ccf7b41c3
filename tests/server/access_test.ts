// One set of accounts on every network entry point (issue 12): each HTTP route, WebSocket message,
// WebRTC signalling call, RTSP(S) and RTMP request × {no credentials, wrong password, viewer of
// another stream, viewer of this stream, bcrypt viewer that may publish, admin, valid token, expired
// token} gets the exact status a user would see. Loopback is not trusted here (api.local_auth:
// true), so the test client is an ordinary client. One in-process server serves the whole table;
// no cell runs media longer than its first answer.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { silentLogger } from "../../lib/core/log.ts";
import { RtmpClient } from "../../lib/protocol/rtmp/client.ts";
import { tcpConnect, type TcpConn } from "../../lib/runtime/mod.ts";
import { hashPassword, signToken } from "../../server/access/accounts.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { concatBytes, hasTool, run } from "../_support/process.ts";
import { Viewer } from "../webrtc/_peer.ts";
import { Publisher } from "../webrtc/ingest_peer.ts";

const SECRET = "test-secret-0123456789-0123456789-abcdef";
const hasFfprobe = await hasTool("ffprobe");
const hasFfmpeg = await hasTool("ffmpeg");
const hasOpenssl = await hasTool("openssl");
const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Sends one RTSP request on a new connection (TLS for RTSPS) and returns the status of the reply. */
async function rtspStatus(
  port: number,
  method: string,
  path: string,
  authorization?: string,
  body = "",
  tls = false,
): Promise<{ status: number; text: string }> {
  const conn = await tcpConnect({ hostname: "127.0.0.1", port, timeoutMs: 5_000, tls: tls ? { rejectUnauthorized: false } : undefined });
  try {
    const headers = [`${method} rtsp${tls ? "s" : ""}://127.0.0.1:${port}/${path} RTSP/1.0`, "CSeq: 1"];
    if (authorization) headers.push(`Authorization: ${authorization}`);
    if (body) headers.push("Content-Type: application/sdp", `Content-Length: ${enc(body).length}`);
    conn.write(enc(headers.join("\r\n") + "\r\n\r\n" + body));
    const reader = conn.readable.getReader();
    let text = "";
    const deadline = Date.now() + 5_000;
    while (!text.includes("\r\n\r\n") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec(value);
    }
    reader.releaseLock();
    return { status: Number(/^RTSP\/1\.0 (\d{3})/.exec(text)?.[1] ?? 0), text };
  } finally {
    conn.close();
  }
}

/** A client WebSocket frame: FIN, text, masked (as every client frame must be). */
function maskedTextFrame(text: string): Uint8Array {
  const payload = enc(text);
  const head = payload.length < 126 ? 2 : 4;
  const frame = new Uint8Array(head + 4 + payload.length);
  frame[0] = 0x81;
  if (head === 2) frame[1] = 0x80 | payload.length;
  else {
    frame[1] = 0x80 | 126;
    frame[2] = payload.length >> 8;
    frame[3] = payload.length & 0xff;
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, head);
  for (let i = 0; i < payload.length; i++) frame[head + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/**
 * Opens `/api/ws` with an Authorization header (which the WebSocket API cannot send, hence the raw
 * socket), sends one message and answers like HTTP would: the upgrade's status when it was refused;
 * 200 when the expected reply type came; 403 when the first error says the user may not; the error
 * text otherwise.
 */
async function wsStatus(port: number, path: string, authorization: string | undefined, message: unknown, reply: string): Promise<number | string> {
  const conn: TcpConn = await tcpConnect({ hostname: "127.0.0.1", port, timeoutMs: 5_000 });
  const reader = conn.readable.getReader();
  let buf: Uint8Array = new Uint8Array(0);
  const deadline = Date.now() + 10_000;
  const more = async () => {
    if (Date.now() > deadline) throw new Error(`no answer on ${path} within 10 s`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`${path}: the server closed the connection`);
    buf = concatBytes([buf, value]);
  };
  try {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
    ];
    if (authorization) lines.push(`Authorization: ${authorization}`);
    conn.write(enc(lines.join("\r\n") + "\r\n\r\n"));
    let end = -1;
    while ((end = dec(buf).indexOf("\r\n\r\n")) < 0) await more();
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(dec(buf))?.[1] ?? 0);
    if (status !== 101) return status;
    buf = buf.subarray(enc(dec(buf).slice(0, end + 4)).length);
    conn.write(maskedTextFrame(JSON.stringify(message)));
    for (let frames = 0; frames < 100; frames++) {
      while (buf.length < 2) await more();
      const opcode = buf[0] & 0x0f;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        while (buf.length < 4) await more();
        len = (buf[2] << 8) | buf[3];
        off = 4;
      } else if (len === 127) {
        while (buf.length < 10) await more();
        len = Number(new DataView(buf.buffer, buf.byteOffset + 2, 8).getBigUint64(0));
        off = 10;
      }
      while (buf.length < off + len) await more();
      const payload = buf.subarray(off, off + len);
      buf = buf.subarray(off + len);
      if (opcode === 0x8) return `closed ${(payload[0] << 8) | payload[1]} ${dec(payload.subarray(2))}`;
      if (opcode !== 0x1) continue;
      const msg = JSON.parse(dec(payload)) as { type: string; value?: unknown };
      if (msg.type === reply) return 200;
      if (msg.type === "error") return /may not/.test(String(msg.value)) ? 403 : String(msg.value);
    }
    return "no reply in 100 frames";
  } finally {
    reader.releaseLock();
    conn.close();
  }
}

/** Plays or publishes over RTMP: 200 at Play.Start/Publish.Start, 401/403 by the refusal's reason. */
async function rtmpStatus(port: number, path: string, action: "play" | "publish"): Promise<number | string> {
  let client: RtmpClient | undefined;
  try {
    client = await RtmpClient.connect(`rtmp://127.0.0.1:${port}/${path}`, { timeoutMs: 5_000 });
    await (action === "play" ? client.play() : client.publish());
    return 200;
  } catch (error) {
    const text = String((error as Error)?.message ?? error);
    if (/authentication required|wrong user name or password|invalid or expired/.test(text)) return 401;
    if (/may not/.test(text)) return 403;
    return text;
  } finally {
    client?.close();
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

const IDS = ["none", "wrong", "other", "viewer", "publisher", "admin", "token", "expired"] as const;
type Id = typeof IDS[number];

interface Identity {
  /** HTTP Authorization header. */
  http?: string;
  /** RTSP Authorization header (tokens go in the Basic password). */
  rtsp?: string;
  /** RTMP URL query. */
  rtmp?: string;
}

describe("accounts on every protocol", () => {
  let server: RunningServer;
  let rtspPort = 0;
  let rtspsPort = 0;
  let rtmpPort = 0;
  let closedPort = 0;
  let base = "";
  let httpPort = 0;
  let whepOffer = "";
  let whipOffer = "";
  const dir = mkdtempSync(join(tmpdir(), "strom-access-"));
  const who = {} as Record<Id | "tokenQuery", Identity & { query?: string }>;

  beforeAll(async () => {
    [rtspPort, rtspsPort, rtmpPort, closedPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const hash = await hashPassword("hashed-pw", 4);
    const tls: Record<string, string> = {};
    if (hasOpenssl) {
      tls.tls_cert = join(dir, "c.crt");
      tls.tls_key = join(dir, "c.key");
      const res = await run("openssl", [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-days", "1", "-subj", "/CN=access", "-keyout", tls.tls_key, "-out", tls.tls_cert,
      ], 20_000);
      if (res.code !== 0) throw new Error(`openssl failed: ${res.stderr}`);
    }
    const config = {
      api: {
        listen: "127.0.0.1:0",
        local_auth: true,
        username: "admin",
        password: "admin-pw",
        // So that /api/ffmpeg/* (which run ffmpeg) answer the admin: what is checked here is who may.
        allow_exec_sources: true,
        ...tls,
        auth: {
          token_secret: SECRET,
          max_failed_logins: 0,
          users: {
            viewer: { password: "viewer-pw", streams: ["cam1"] },
            other: { password: "other-pw", streams: ["cam2"], publish: ["cam2"] },
            publisher: { password_hash: hash, streams: ["cam1"], publish: ["push"] },
          },
        },
      },
      rtsp: {
        listen: `127.0.0.1:${rtspPort}`,
        ...(hasOpenssl ? { tls_listen: `127.0.0.1:${rtspsPort}` } : {}),
        username: "rtsp-admin",
        password: "rtsp-pw",
      },
      rtmp: { listen: `127.0.0.1:${rtmpPort}` },
      record: { dir: join(dir, "rec") },
      metrics: { enabled: true },
      streams: { cam1: "demo:", cam2: "demo:", push: "", scratch: "demo:" },
    };
    const file = join(dir, "strom.yaml");
    writeFileSync(file, stringify(config));
    server = await startServer({ configSources: [file], log: silentLogger, handleSignals: false });
    base = server.urls[0];
    httpPort = Number(new URL(base).port);
    const valid = await signToken(SECRET, { name: "tok", role: "viewer", streams: ["cam1"], publish: [] }, 3600);
    const expired = await signToken(SECRET, { name: "old", role: "viewer", streams: ["cam1"], publish: [] }, 1);
    const viewer = new Viewer();
    whepOffer = await viewer.offer();
    await viewer.close();
    const publisher = new Publisher();
    whipOffer = await publisher.offer();
    await publisher.pc.close();
    await new Promise((r) => setTimeout(r, 2_100));
    const account = (user: string, password: string): Identity => ({
      http: basic(user, password),
      rtsp: basic(user, password),
      rtmp: `user=${user}&pass=${password}`,
    });
    who.none = {};
    who.wrong = account("viewer", "nope");
    who.other = account("other", "other-pw");
    who.viewer = account("viewer", "viewer-pw");
    who.publisher = account("publisher", "hashed-pw");
    who.admin = { http: basic("admin", "admin-pw"), rtsp: basic("rtsp-admin", "rtsp-pw"), rtmp: "user=rtsp-admin&pass=rtsp-pw" };
    who.token = { http: `Bearer ${valid}`, rtsp: basic("tok", valid), rtmp: `token=${valid}` };
    who.tokenQuery = { query: `token=${valid}` };
    who.expired = { http: `Bearer ${expired}`, rtsp: basic("old", expired), rtmp: `token=${expired}` };
  }, 40_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One HTTP request as `id`; the body is discarded unread. */
  const request = async (id: Id | "tokenQuery", method: string, path: string, body?: string, type?: string) => {
    const q = who[id].query ? (path.includes("?") ? "&" : "?") + who[id].query : "";
    const headers: Record<string, string> = {};
    if (who[id].http) headers.authorization = who[id].http!;
    if (type) headers["content-type"] = type;
    return await fetch(`${base}${path}${q}`, { method, headers, body });
  };
  const http = async (id: Id | "tokenQuery", method: string, path: string, body?: string, type?: string) => {
    const res = await request(id, method, path, body, type);
    await res.body?.cancel();
    return res.status;
  };
  const admin = (method: string, path: string, body?: string, type?: string) => request("admin", method, path, body, type);
  /** The session id in a WebRTC answer's Location (`webrtc?id=...`). */
  const sessionId = (res: Response) => (res.headers.get("location") ?? "").split("id=")[1] ?? "";
  /** Ends a WebRTC session as the admin (cleanup after a cell that opened one). */
  const endSession = async (id: string) => {
    if (id) await (await admin("DELETE", `/api/webrtc?id=${id}`)).body?.cancel();
  };
  const startWhep = async (id: Id) => {
    const res = await request(id, "POST", "/api/webrtc?src=cam1", whepOffer, "application/sdp");
    await res.body?.cancel();
    await endSession(sessionId(res));
    return res.status;
  };
  const startWhip = async (id: Id) => {
    const res = await request(id, "POST", "/api/webrtc?dst=push", whipOffer, "application/sdp");
    await res.body?.cancel();
    await endSession(sessionId(res));
    return res.status;
  };
  const deleteWhep = async (id: Id) => {
    const res = await admin("POST", "/api/webrtc?src=cam1", whepOffer, "application/sdp");
    await res.body?.cancel();
    expect(res.status).toBe(201);
    const status = await http(id, "DELETE", `/api/webrtc?id=${sessionId(res)}`);
    if (status !== 200) await endSession(sessionId(res));
    return status;
  };
  /** An HLS session the admin opened, with its first segment: [playlist path, segment path]. */
  const hlsSession = async (fmp4 = false): Promise<[string, string]> => {
    const master = await (await admin("GET", `/api/stream.m3u8?src=cam1${fmp4 ? "&mp4" : ""}`)).text();
    const playlist = `/api/${/hls\/playlist\.m3u8\?id=\w+/.exec(master)![0]}`;
    const media = await (await admin("GET", playlist)).text();
    const segment = `/api/hls/${(fmp4 ? /init\.mp4\?id=\w+/ : /segment\.ts\?id=\w+&n=\d+/).exec(media)![0]}`;
    return [playlist, segment];
  };
  /** `id` starts something (POST/PUT `start`); the admin undoes it (DELETE `stop`) when it worked. */
  const startAs = (method: string, start: string, stop: string) => async (id: Id) => {
    const status = await http(id, method, start);
    if (status === 200) await (await admin("DELETE", stop)).body?.cancel();
    return status;
  };
  /** The admin starts something; `id` stops it (DELETE `stop`), or the admin does when `id` may not. */
  const stopAs = (method: string, start: string, stop: string) => async (id: Id) => {
    const res = await admin(method, start);
    await res.body?.cancel();
    expect(res.status).toBe(200);
    const status = await http(id, "DELETE", stop);
    if (status !== 200) await (await admin("DELETE", stop)).body?.cancel();
    return status;
  };
  const recordStart = startAs("POST", "/api/record?src=cam1", "/api/record?src=cam1");
  const recordStop = stopAs("POST", "/api/record?src=cam1", "/api/record?src=cam1");
  const preloadStart = startAs("PUT", "/api/preload?src=cam1&video", "/api/preload?src=cam1");
  const preloadStop = stopAs("PUT", "/api/preload?src=cam1&video", "/api/preload?src=cam1");
  const disableStart = startAs("PUT", "/api/disabled?src=cam1&reason=x", "/api/disabled?src=cam1");
  const disableStop = stopAs("PUT", "/api/disabled?src=cam1&reason=x", "/api/disabled?src=cam1");
  const deleteStream = async (id: Id) => {
    await (await admin("PUT", `/api/streams?name=gone_${id}&src=demo:`)).body?.cancel();
    const status = await http(id, "DELETE", `/api/streams?src=gone_${id}`);
    if (status !== 200) await (await admin("DELETE", `/api/streams?src=gone_${id}`)).body?.cancel();
    return status;
  };
  const postConfig = async (id: Id) => {
    const text = await (await admin("GET", "/api/config")).text();
    return await http(id, "POST", "/api/config", text, "application/yaml");
  };
  const ws = (path: string, message: unknown, reply: string) => (id: Id) => wsStatus(httpPort, path, who[id].http, message, reply);
  const rtsp = (method: string, path: string, body = "", tls = false) => async (id: Id) =>
    (await rtspStatus(tls ? rtspsPort : rtspPort, method, path, who[id].rtsp, body, tls)).status;
  const rtmp = (name: string, action: "play" | "publish") => (id: Id) =>
    rtmpStatus(rtmpPort, `live/${name}${who[id].rtmp ? `?${who[id].rtmp}` : ""}`, action);
  const get = (path: string) => (id: Id) => http(id, "GET", path);
  const GARBAGE = "this is not a media stream at all";

  // The expected status per identity, in IDS order:
  //   none, wrong password, viewer of cam2 only, viewer of cam1, bcrypt viewer of cam1 that may
  //   publish to "push", admin, valid token (viewer of cam1), expired token.
  // Reads are of cam1, publishing is into "push". WebSocket cells: the upgrade's status, or 200 for
  // the expected reply to the first message and 403 for an error saying the user may not. Ingest
  // cells send a body that is no media: 415 means the request passed access control.
  type Probe = (id: Id) => Promise<number | string>;
  const READ = [401, 401, 403, 200, 200, 200, 200, 401];
  const ANY_ACCOUNT = [401, 401, 200, 200, 200, 200, 200, 401];
  const ADMIN_ONLY = (ok: number) => [401, 401, 403, 403, 403, ok, 403, 401];
  const PUBLISH = (ok: number) => [401, 401, 403, 403, ok, ok, 403, 401];
  const OPEN = [200, 200, 200, 200, 200, 200, 200, 200];
  const table: [string, (number | string)[], Probe, boolean?][] = [
    // HTTP media outputs
    ["GET /api/stream.mp4", READ, get("/api/stream.mp4?src=cam1&duration=1")],
    ["GET /api/stream.ts", READ, get("/api/stream.ts?src=cam1&duration=1")],
    ["GET /api/stream.flv", READ, get("/api/stream.flv?src=cam1&duration=1")],
    ["GET /api/stream.aac", READ, get("/api/stream.aac?src=cam1&duration=1")],
    ["GET /api/stream.mjpeg", READ, get("/api/stream.mjpeg?src=cam1&duration=1"), !hasFfmpeg],
    ["GET /api/frame.jpeg", READ, get("/api/frame.jpeg?src=cam1&cache=10s"), !hasFfmpeg],
    ["GET /api/frame.mp4", READ, get("/api/frame.mp4?src=cam1")],
    ["GET /api/stream.m3u8", READ, get("/api/stream.m3u8?src=cam1")],
    ["GET /api/hls/playlist.m3u8 (admin's session)", READ, async (id) => http(id, "GET", (await hlsSession())[0])],
    ["GET /api/hls/segment.ts (admin's session)", READ, async (id) => http(id, "GET", (await hlsSession())[1])],
    ["GET /api/hls/init.mp4 (admin's fMP4 session)", READ, async (id) => http(id, "GET", (await hlsSession(true))[1])],
    // WebRTC and WebSocket
    ["POST /api/webrtc?src= (WHEP)", READ.map((s) => s === 200 ? 201 : s), startWhep],
    ["DELETE /api/webrtc?id= (admin's WHEP session)", READ, deleteWhep],
    ["POST /api/webrtc?dst= (WHIP)", PUBLISH(201), startWhip],
    ["/api/ws?src= mse", READ, ws("/api/ws?src=cam1", { type: "mse", value: "" }, "mse")],
    ["/api/ws?src= webrtc/offer", READ, (id) => ws("/api/ws?src=cam1", { type: "webrtc/offer", value: whepOffer }, "webrtc/answer")(id)],
    ["/api/ws?src= webrtc (JSON offer)", READ, (id) => ws("/api/ws?src=cam1", { type: "webrtc", value: { type: "offer", sdp: whepOffer } }, "webrtc")(id)],
    ["/api/ws?src= hls", READ, ws("/api/ws?src=cam1", { type: "hls", value: "" }, "hls")],
    ["/api/ws?src= mjpeg", READ, ws("/api/ws?src=cam1", { type: "mjpeg" }, "mjpeg"), !hasFfmpeg],
    ["/api/ws?dst= webrtc/offer", PUBLISH(200), (id) => ws("/api/ws?dst=push", { type: "webrtc/offer", value: whipOffer }, "webrtc/answer")(id)],
    // HTTP ingest
    ["POST /api/stream.flv?dst=", PUBLISH(415), (id) => http(id, "POST", "/api/stream.flv?dst=push", GARBAGE)],
    ["POST /api/stream.ts?dst=", PUBLISH(415), (id) => http(id, "POST", "/api/stream.ts?dst=push", GARBAGE)],
    ["POST /api/stream.mjpeg?dst=", PUBLISH(415), (id) => http(id, "POST", "/api/stream.mjpeg?dst=push", GARBAGE)],
    ["POST /api/stream?dst=", PUBLISH(415), (id) => http(id, "POST", "/api/stream?dst=push", GARBAGE)],
    // Recordings
    ["GET /api/recordings", READ, get("/api/recordings?src=cam1")],
    ["GET /api/recordings.mp4 (nothing recorded: 404)", READ.map((s) => s === 200 ? 404 : s), get("/api/recordings.mp4?src=cam1&start=2026-01-01T00:00:00Z&duration=1")],
    ["GET /api/record", ANY_ACCOUNT, get("/api/record")],
    ["POST /api/record", ADMIN_ONLY(200), recordStart],
    ["DELETE /api/record", ADMIN_ONLY(200), recordStop],
    // Management
    ["GET /api/streams?src=", READ, get("/api/streams?src=cam1")],
    ["GET /api/streams", ANY_ACCOUNT, get("/api/streams")],
    ["GET /api/streams.dot?src=", READ, get("/api/streams.dot?src=cam1")],
    ["GET /api/connections", ANY_ACCOUNT, get("/api/connections")],
    ["GET /api/connections.dot", ANY_ACCOUNT, get("/api/connections.dot")],
    ["GET /api/stats", ANY_ACCOUNT, get("/api/stats")],
    ["PUT /api/streams", ADMIN_ONLY(201), (id) => http(id, "PUT", `/api/streams?name=added_${id}&src=demo:`)],
    ["PATCH /api/streams", ADMIN_ONLY(200), (id) => http(id, "PATCH", "/api/streams?name=scratch&src=demo:")],
    ["DELETE /api/streams", ADMIN_ONLY(200), deleteStream],
    // Publishing to a closed port: the admin gets past access control to the publish error (502).
    ["POST /api/streams?src=&dst=", ADMIN_ONLY(502), (id) => http(id, "POST", `/api/streams?src=cam1&dst=${encodeURIComponent(`rtmp://127.0.0.1:${closedPort}/live/x`)}`)],
    ["GET /api/preload", ANY_ACCOUNT, get("/api/preload")],
    ["PUT /api/preload", ADMIN_ONLY(200), preloadStart],
    ["DELETE /api/preload", ADMIN_ONLY(200), preloadStop],
    ["GET /api/disabled", ANY_ACCOUNT, get("/api/disabled")],
    ["PUT /api/disabled", ADMIN_ONLY(200), disableStart],
    ["DELETE /api/disabled", ADMIN_ONLY(200), disableStop],
    // It dials the address given with the credentials given, or searches the LAN: admins only
    // (400: src= is not onvif://; without src= it would multicast on this machine's interfaces).
    ["GET /api/onvif", ADMIN_ONLY(400), get("/api/onvif?src=rtsp%3A%2F%2F127.0.0.1%2Fx")],
    // They run ffmpeg on the server: admins only (and only with api.allow_exec_sources, on here).
    ["GET /api/ffmpeg/hardware", ADMIN_ONLY(200), get("/api/ffmpeg/hardware"), !hasFfmpeg],
    ["GET /api/ffmpeg/devices", ADMIN_ONLY(200), get("/api/ffmpeg/devices"), !hasFfmpeg],
    // Stops the server: admins only. An invalid code makes the admin's request a 400 that stops nothing.
    ["POST /api/exit (invalid code)", ADMIN_ONLY(400), (id) => http(id, "POST", "/api/exit?code=x")],
    ["GET /api/config", ADMIN_ONLY(200), get("/api/config")],
    ["POST /api/config", ADMIN_ONLY(200), postConfig],
    ["GET /api/log", ADMIN_ONLY(200), get("/api/log")],
    ["DELETE /api/log", ADMIN_ONLY(204), (id) => http(id, "DELETE", "/api/log")],
    ["GET /api/cluster", ANY_ACCOUNT, get("/api/cluster")],
    ["GET /metrics", ANY_ACCOUNT, get("/metrics")],
    ["GET /api/health", ANY_ACCOUNT, get("/api/health")],
    ["GET /api/health/live (probe, no auth)", OPEN, get("/api/health/live")],
    ["GET /api/health/ready (probe, no auth)", OPEN, get("/api/health/ready")],
    ["GET /api", ANY_ACCOUNT, get("/api")],
    ["GET /api/schemes", ANY_ACCOUNT, get("/api/schemes")],
    ["GET / (web UI)", ANY_ACCOUNT, get("/")],
    // RTSP, RTSPS, RTMP
    ["RTSP DESCRIBE", READ, rtsp("DESCRIBE", "cam1")],
    ["RTSP ANNOUNCE", PUBLISH(200), rtsp("ANNOUNCE", "push", SDP)],
    // Every RTSP request is checked before its method: past the check these answer 400 (no
    // Transport header) and 455 (not valid in this state).
    ["RTSP OPTIONS", READ, rtsp("OPTIONS", "cam1")],
    ["RTSP SETUP without DESCRIBE", READ.map((s) => s === 200 ? 400 : s), rtsp("SETUP", "cam1/trackID=0")],
    ["RTSP PLAY without SETUP", READ.map((s) => s === 200 ? 455 : s), rtsp("PLAY", "cam1")],
    ["RTSP RECORD without ANNOUNCE", PUBLISH(455), rtsp("RECORD", "push")],
    ["RTSPS DESCRIBE", READ, rtsp("DESCRIBE", "cam1", "", true), !hasOpenssl],
    ["RTSPS ANNOUNCE", PUBLISH(200), rtsp("ANNOUNCE", "push", SDP, true), !hasOpenssl],
    ["RTMP play", READ, rtmp("cam1", "play")],
    ["RTMP publish", PUBLISH(200), rtmp("push", "publish")],
  ];

  for (const [name, expected, probe, skip] of table) {
    it.skipIf(!!skip)(name, async () => {
      const got: Record<string, number | string> = {};
      for (const id of IDS) got[id] = await probe(id);
      expect(got).toEqual(Object.fromEntries(IDS.map((id, i) => [id, expected[i]])));
    }, 60_000);
  }

  it("a viewer's ?token= works for players that cannot send headers", async () => {
    expect(await http("tokenQuery", "GET", "/api/stream.mp4?src=cam1&duration=1")).toBe(200);
    expect(await http("tokenQuery", "GET", "/api/stream.mp4?src=cam2&duration=1")).toBe(403);
    // Browsers cannot send headers on a WebSocket either.
    const query = who.tokenQuery.query!;
    expect(await wsStatus(httpPort, `/api/ws?src=cam1&${query}`, undefined, { type: "mse", value: "" }, "mse")).toBe(200);
    expect(await wsStatus(httpPort, `/api/ws?src=cam2&${query}`, undefined, { type: "mse", value: "" }, "mse")).toBe(403);
  });

  it("HLS with ?token=: the playlists carry the token on to the media playlist and segments", async () => {
    const master = await (await request("tokenQuery", "GET", "/api/stream.m3u8?src=cam1")).text();
    const playlist = /hls\/playlist\.m3u8\?\S+/.exec(master)![0];
    expect(playlist).toContain(who.tokenQuery.query!);
    const media = await fetch(`${base}/api/${playlist}`);
    expect(media.status).toBe(200);
    const segment = /segment\.ts\?\S+/.exec(await media.text())![0];
    expect(segment).toContain(who.tokenQuery.query!);
    const res = await fetch(`${base}/api/hls/${segment}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp2t");
    await res.body?.cancel();
  }, 30_000);

  it("a viewer's list of streams (and /api/health's, /metrics' and /api/connections') holds only the streams it may watch", async () => {
    const list = await (await request("viewer", "GET", "/api/streams")).json();
    expect(Object.keys(list)).toEqual(["cam1"]);
    const all = await (await admin("GET", "/api/streams")).json();
    expect(Object.keys(all)).toContain("cam2");
    const dot = await (await request("viewer", "GET", "/api/streams.dot")).text();
    expect(dot).toContain('"stream cam1"');
    expect(dot).not.toContain('"stream cam2"');
    // /api/health: the server's status and counts, but only the viewer's own streams by name.
    const health = await (await request("viewer", "GET", "/api/health")).json();
    expect(Object.keys(health.stream_states)).toEqual(["cam1"]);
    const adminHealth = await (await admin("GET", "/api/health")).json();
    expect(Object.keys(adminHealth.stream_states)).toContain("cam2");
    expect(health.streams).toBe(adminHealth.streams);
    // /metrics: the viewer's scrape names cam1 only; the admin's names every stream.
    const metrics = await (await request("viewer", "GET", "/metrics")).text();
    expect(metrics).toContain('strom_stream_consumers{stream="cam1"}');
    expect(metrics).not.toContain('stream="cam2"');
    expect(metrics).not.toContain('stream="scratch"');
    const adminMetrics = await (await admin("GET", "/metrics")).text();
    expect(adminMetrics).toContain('strom_stream_consumers{stream="cam2"}');
    // /api/connections and /api/connections.dot (the seed article's): the viewer's streams only.
    const connections = (await (await request("viewer", "GET", "/api/connections")).json()).connections as { stream: string }[];
    expect([...new Set(connections.map((c) => c.stream))]).toEqual(["cam1"]);
    const adminConnections = (await (await admin("GET", "/api/connections")).json()).connections as { stream: string }[];
    expect(adminConnections.map((c) => c.stream)).toContain("cam2");
    expect(await (await request("viewer", "GET", "/api/connections.dot")).text()).not.toContain('"stream cam2"');
  });

  it.skipIf(!hasFfprobe)("ffprobe logs in with Digest as the viewer and plays cam1; cam2 is refused", async () => {
    const ok = await ffprobe(`rtsp://viewer:viewer-pw@127.0.0.1:${rtspPort}/cam1`, ["-rtsp_transport", "tcp"]);
    expect(ok.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
    const refused = await ffprobe(`rtsp://viewer:viewer-pw@127.0.0.1:${rtspPort}/cam2`, ["-rtsp_transport", "tcp"]).catch((e) => e);
    expect(String(refused)).toContain("403");
  }, 30_000);

  it.skipIf(!hasFfprobe)("RTMP: ffmpeg sends ?user=&pass= and ?token= in the URL, per stream", async () => {
    const rtmpProbe = (path: string) => ffprobe(`rtmp://127.0.0.1:${rtmpPort}/${path}`, [], 20_000).then(
      (p) => p.streams.map((s) => s.codec_name).sort().join(","),
      (e) => `refused: ${String(e).slice(0, 300)}`,
    );
    expect(await rtmpProbe("live/cam1?user=viewer&pass=viewer-pw")).toBe("aac,h264");
    expect(await rtmpProbe(`live/cam1?${who.token.rtmp}`)).toBe("aac,h264");
    expect(await rtmpProbe("live/cam2?user=viewer&pass=viewer-pw")).toContain("refused");
    // One path element: ffmpeg sends it, query included, as the app.
    expect(await rtmpProbe("cam1?user=viewer&pass=viewer-pw")).toBe("aac,h264");
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
