// echo: and expr: sources with real peers: a command prints the URL of strom's own demo stream;
// an expr: script asks a real HTTP server (node:http on 127.0.0.1) for it the way go2rtc's
// documented scripts do (JSON APIs, form logins with a session cookie, Basic auth); ffprobe plays
// what they resolved to.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import * as http from "node:http";
import { silentLogger } from "../../lib/core/log.ts";
import { ExecNotAllowedError } from "../../lib/protocol/exec/allow_paths.ts";
import { resolveEcho } from "../../lib/protocol/echo/mod.ts";
import { MAX_FETCHES, resolveExpr } from "../../lib/protocol/expr/mod.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { makeTestApp } from "../../server/_test_support.ts";

const hasFfprobe = await hasTool("ffprobe");

interface Peer {
  base: string;
  hits: number;
  close(): Promise<void>;
}

/** A small HTTP API: JSON, a form login that sets a session cookie, Basic auth, and an echo. */
async function startApi(rtspUrl: () => string): Promise<Peer> {
  const peer = { base: "", hits: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    peer.hits++;
    const url = new URL(req.url ?? "/", "http://x");
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(value));
      switch (url.pathname) {
        case "/camera/video":
          if (req.headers.authorization !== "Bearer t0k") return json(401, { error: "token" });
          return json(200, { data: { URL: rtspUrl() } });
        case "/login": {
          const form = new URLSearchParams(body);
          if (req.method !== "POST" || req.headers["content-type"] !== "application/x-www-form-urlencoded") {
            return json(400, { error: "form expected" });
          }
          if (form.get("username") !== "me" || form.get("password") !== "pw") return json(403, { error: "login" });
          return json(200, { ok: true }, { "set-cookie": "sid=s3ss10n; Path=/; HttpOnly" });
        }
        case "/cameras":
          if (req.headers.cookie !== "sid=s3ss10n") return json(403, { error: "no session" });
          if (req.headers["content-type"] !== "application/json") return json(400, { error: "json expected" });
          return json(200, { results: [{ server: { domain: new URL(rtspUrl()).host }, number: JSON.parse(body).numbers[0] }] });
        case "/basic":
          if (req.headers.authorization !== "Basic " + btoa("admin:secret")) {
            return res.writeHead(401, { "www-authenticate": 'Basic realm="cam"' }).end();
          }
          return res.writeHead(200, { "content-type": "text/plain" }).end("OK");
        case "/page":
          return res.writeHead(200, { "content-type": "text/html" }).end(`<a href="${rtspUrl()}">live</a>`);
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  peer.base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  peer.close = () => {
    server.closeAllConnections?.();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return peer;
}

describe("echo: and expr: with real peers", () => {
  let server: RunningServer;
  let api: Peer;
  let rtsp = "";
  beforeAll(async () => {
    const port = await freePort();
    rtsp = `rtsp://127.0.0.1:${port}`;
    api = await startApi(() => `${rtsp}/demo`);
    server = await startServer({
      configSources: [JSON.stringify({
        api: { listen: "127.0.0.1:0" },
        rtsp: { listen: `127.0.0.1:${port}` },
        streams: {
          demo: "demo:",
          echoed: `echo:echo ${rtsp}/demo`,
          scripted: `expr:let token = "t0k";\nfetch("${api.base}/camera/video", {headers: {Authorization: "Bearer " + token}}).json().data.URL`,
        },
      })],
      log: silentLogger,
      handleSignals: false,
    });
  }, 20_000);
  afterAll(async () => {
    await server?.close();
    await api?.close();
  });

  it.skipIf(!hasFfprobe)("echo: dials the URL the command printed (strom's own demo stream)", async () => {
    const probe = await ffprobe(`${rtsp}/echoed`, ["-rtsp_transport", "tcp"], 20_000);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
  }, 30_000);

  it.skipIf(!hasFfprobe)("expr: dials the URL a JSON API returned", async () => {
    const probe = await ffprobe(`${rtsp}/scripted`, ["-rtsp_transport", "tcp"], 20_000);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
  }, 30_000);

  it("expr: form login, session cookie and JSON POST (go2rtc's ufanet example)", async () => {
    const url = await resolveExpr(`expr:
      let r1 = fetch('${api.base}/login', {method: 'POST', data: {username: 'me', password: 'pw'}});
      let r2 = fetch('${api.base}/cameras', {method: 'POST', json: {'numbers': ['cam7']}}).json().results[0];
      r1.ok ? 'rtsp://' + r2.server.domain + '/' + r2.number : ''`);
    expect(url).toBe(`${rtsp.replace("rtsp://", "rtsp://")}/cam7`);
  });

  it("expr: Basic auth from user:pass@ in the URL, status and ok", async () => {
    expect(await resolveExpr(`expr:let r = fetch("http://admin:secret@${api.base.slice(7)}/basic"); r.status + " " + r.text`))
      .toBe("200 OK OK");
    expect(await resolveExpr(`expr:let r = fetch("http://admin:wrong@${api.base.slice(7)}/basic"); string(r.ok) + r.status`))
      .toBe("false401 Unauthorized");
  });

  it("expr: match() on a fetched page (go2rtc's Apple HLS example)", async () => {
    expect(await resolveExpr(`expr:let html = fetch("${api.base}/page").text; match(html, "rtsp://[^\\"]+")[0]`))
      .toBe(`${rtsp}/demo`);
  });

  it("expr: a script makes at most MAX_FETCHES requests", async () => {
    const before = api.hits;
    const script = Array.from({ length: MAX_FETCHES + 4 }, (_, i) => `let r${i} = fetch("${api.base}/page");`).join("");
    await expect(resolveExpr(`expr:${script} "x"`)).rejects.toThrow(`more than ${MAX_FETCHES} requests`);
    expect(api.hits - before).toBe(MAX_FETCHES);
  });

  it("expr: an unreachable host fails with a clear error", async () => {
    const port = await freePort();
    await expect(resolveExpr(`expr:fetch("http://127.0.0.1:${port}/").text`)).rejects.toThrow(
      /fetch\(http:\/\/127\.0\.0\.1:\d+\/\) failed: ECONNREFUSED|failed/,
    );
  });

  it("echo: obeys exec.allow_paths, and reports commands that fail or print nothing", async () => {
    await expect(resolveEcho("echo:echo rtsp://x/1", { allowPaths: ["ffmpeg"] })).rejects.toBeInstanceOf(ExecNotAllowedError);
    expect(await resolveEcho("echo:echo rtsp://x/1", { allowPaths: ["echo"] })).toBe("rtsp://x/1");
    await expect(resolveEcho("echo:false")).rejects.toThrow(/exited with code 1/);
    await expect(resolveEcho("echo:true")).rejects.toThrow(/printed nothing/);
    await expect(resolveEcho("echo:sleep 5", { timeoutMs: 300 })).rejects.toThrow(/did not finish within 300 ms/);
  });

  it("the API refuses echo: and expr: sources unless the config file allows them", async () => {
    const t = await makeTestApp({ yaml: "streams:\n  demo: \"demo:\"\n" });
    try {
      for (const src of ["echo:echo rtsp://x/1", 'expr:"rtsp://x/1"']) {
        const res = await t.app.request(`/api/streams?name=x&src=${encodeURIComponent(src)}`, { method: "PUT" });
        expect(`${src}: ${res.status}`).toBe(`${src}: 403`);
      }
    } finally {
      await t.close();
    }
  });
});
