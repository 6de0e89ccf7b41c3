// `strom probe` on every source type strom has that runs locally (issue 11): a strom server in
// this process serves demo: over RTSP, RTMP, HTTP (FLV, MPEG-TS, HLS, MJPEG) and WebRTC (WHEP and
// /api/ws); ffmpeg serves MPEG-TS on a TCP socket and writes a file; exec:, echo:, expr: and
// ffmpeg: sources run their commands; with a self-signed certificate (openssl) it also serves
// HTTPS and RTSPS, trusted by the CLI through NODE_EXTRA_CA_CERTS (rtspx:// skips the check).
// Each row spawns the CLI and checks the JSON report.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/core/log.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffmpeg, hasEncoder } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool, run } from "../_support/process.ts";
import { strom } from "./_cli.ts";

const hasX264 = (await hasTool("ffmpeg")) && (await hasEncoder("libx264"));
const hasOpenssl = await hasTool("openssl");

interface Row {
  what: string;
  url: () => string;
  /** Codecs of the tracks, in order. */
  codecs: string[];
  width?: number;
  /** Needs the TLS listeners (a certificate made with openssl). */
  tls?: boolean;
  /** How long the probe reads (default 1 s). */
  seconds?: number;
}

describe.skipIf(!hasX264)("strom probe on every source type", () => {
  let server: RunningServer;
  let dir: string;
  let tcpFfmpeg: ChildProcess | undefined;
  const at = { api: "", rtsp: "", rtmp: "", tcp: "", file: "", https: "", rtsps: "", ca: "" };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "strom-probe-src-"));
    const [rtsp, rtmp, webrtc, tcp, https, rtsps] = [
      await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(),
    ];
    let tlsConfig = {};
    if (hasOpenssl) {
      const cert = join(dir, "cert.pem");
      const key = join(dir, "key.pem");
      const made = await run("openssl", [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-days", "1", "-subj", "/CN=strom-test", "-addext", "subjectAltName=IP:127.0.0.1",
        "-keyout", key, "-out", cert,
      ], 20_000);
      expect(made.code).toBe(0);
      at.ca = cert;
      at.https = `https://127.0.0.1:${https}`;
      at.rtsps = `127.0.0.1:${rtsps}/cam`;
      tlsConfig = { tls_listen: `127.0.0.1:${https}`, tls_cert: cert, tls_key: key };
    }
    server = await startServer({
      configSources: [JSON.stringify({
        api: tlsConfig,
        rtsp: { listen: `127.0.0.1:${rtsp}`, ...(hasOpenssl ? { tls_listen: `127.0.0.1:${rtsps}` } : {}) },
        rtmp: { listen: `127.0.0.1:${rtmp}` },
        webrtc: { listen: `127.0.0.1:${webrtc}` },
        streams: { cam: "demo:" },
      })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
    });
    at.api = server.urls[0];
    at.rtsp = `rtsp://127.0.0.1:${rtsp}/cam`;
    at.rtmp = `rtmp://127.0.0.1:${rtmp}/cam`;
    at.tcp = `tcp://127.0.0.1:${tcp}`;
    at.file = join(dir, "clip.mp4");
    const made = await ffmpeg([
      "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-f", "lavfi", "-i", "sine",
      "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-pix_fmt", "yuv420p", "-c:a", "aac", "-y", at.file,
    ]);
    expect(made.code).toBe(0);
  }, 30_000);

  afterAll(async () => {
    tcpFfmpeg?.kill("SIGKILL");
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const demo = ["h264", "aac"];
  const x264 = "-c:v libx264 -preset ultrafast -g 10 -pix_fmt yuv420p";
  const rows: Row[] = [
    { what: "demo:", url: () => "demo:", codecs: demo, width: 640 },
    { what: "rtsp://", url: () => at.rtsp, codecs: demo, width: 640 },
    { what: "rtmp://", url: () => at.rtmp, codecs: demo, width: 640 },
    { what: "http:// FLV", url: () => `${at.api}/api/stream.flv?src=cam`, codecs: demo, width: 640 },
    { what: "http:// MPEG-TS", url: () => `${at.api}/api/stream.ts?src=cam`, codecs: demo, width: 640 },
    { what: "http:// HLS", url: () => `${at.api}/api/stream.m3u8?src=cam`, codecs: demo, width: 640 },
    { what: "http:// MJPEG", url: () => `${at.api}/api/stream.mjpeg?src=cam`, codecs: ["mjpeg"] },
    { what: "tcp:// (MPEG-TS)", url: () => at.tcp, codecs: ["h264"], width: 320 },
    {
      what: "exec: (MPEG-TS on stdout)",
      url: () => `exec:ffmpeg -hide_banner -v error -re -f lavfi -i testsrc=size=320x240:rate=10 ${x264} -f mpegts -`,
      codecs: ["h264"],
      width: 320,
    },
    { what: "echo:", url: () => `echo:echo ${at.rtsp}`, codecs: demo, width: 640 },
    { what: "expr:", url: () => `expr:"${at.rtsp}"`, codecs: demo, width: 640 },
    { what: "ffmpeg: (lavfi)", url: () => "ffmpeg:virtual?video=testsrc&size=320x240#video=h264", codecs: ["h264"], width: 320 },
    { what: "ffmpeg: (a URL, copied)", url: () => `ffmpeg:${at.rtsp}#video=copy#audio=copy`, codecs: demo, width: 640 },
    // The serving strom gives WebRTC peers the demo's AAC as Opus from a transcoder it starts for
    // them (its first packets come ~0.5 s later, so these probes read 2 s).
    { what: "webrtc: (/api/ws)", url: () => `webrtc:ws${at.api.slice(4)}/api/ws?src=cam`, codecs: ["h264", "opus"], width: 640, seconds: 2 },
    { what: "webrtc: (WHEP)", url: () => `webrtc:${at.api}/api/webrtc?src=cam`, codecs: ["h264", "opus"], width: 640, seconds: 2 },
    { what: "a media file", url: () => at.file, codecs: demo, width: 320 },
    { what: "https:// MPEG-TS", url: () => `${at.https}/api/stream.ts?src=cam`, codecs: demo, width: 640, tls: true },
    { what: "rtsps://", url: () => `rtsps://${at.rtsps}`, codecs: demo, width: 640, tls: true },
    { what: "rtspx:// (no certificate check)", url: () => `rtspx://${at.rtsps}`, codecs: demo, width: 640, tls: true },
  ];

  for (const row of rows) {
    it.skipIf(!!row.tls && !hasOpenssl)(row.what, async () => {
      if (row.what.startsWith("tcp://")) {
        // A fresh ffmpeg TCP server per connection attempt: it serves one client, then exits.
        tcpFfmpeg = spawn("ffmpeg", [
          "-hide_banner", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
          ...x264.split(" "), "-t", "20", "-f", "mpegts", `${at.tcp}?listen=1`,
        ], { stdio: "ignore" });
        await new Promise((r) => setTimeout(r, 700));
      }
      const env: Record<string, string> = row.tls && !row.url().startsWith("rtspx") ? { NODE_EXTRA_CA_CERTS: at.ca } : {};
      const args = ["probe", row.url(), "--json", "--seconds", String(row.seconds ?? 1), "--timeout", "20"];
      let r = await strom(args, 40_000, env);
      if (row.what.includes("WHEP") && r.stderr.includes("ICE did not connect")) {
        // Seen about once in four runs under load (the same probe then connects in < 1 s): said
        // loudly here and reported, retried once so the rest of the table still counts.
        console.warn(`WHEP probe: ${r.stderr.trim()}; trying once more`);
        r = await strom(args, 40_000, env);
      }
      // The CLI's own errors start with "strom:" (other lines may be a library's debug output).
      expect({ code: r.code, error: /^strom: .*/m.exec(r.stderr)?.[0] ?? null }).toEqual({ code: 0, error: null });
      const report = JSON.parse(r.stdout) as { tracks: { kind: string; codec: string; frames: number; width?: number }[] };
      expect(report.tracks.map((t) => t.codec)).toEqual(row.codecs);
      for (const t of report.tracks) expect(t.frames).toBeGreaterThan(0);
      if (row.width) expect(report.tracks[0].width).toBe(row.width);
    }, 80_000);
  }
});
