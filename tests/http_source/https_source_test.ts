// An `https://` source against a real TLS peer: strom serves its demo stream over HTTPS
// (api.tls_listen) with a certificate from a test CA; a second strom, started as users start it
// (`strom serve`) with that CA trusted through NODE_EXTRA_CA_CERTS, pulls
// `https://.../api/stream.ts?src=demo` and serves it over RTSP, where ffprobe plays it. A source
// whose certificate is not trusted fails with a clear error instead.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/core/log.ts";
import { type ChildProcess, spawn, which } from "../../lib/runtime/mod.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool, run } from "../_support/process.ts";

const ready = (await hasTool("openssl")) && (await hasTool("ffprobe")) && (await which("node")) !== undefined;
const dir = mkdtempSync(join(tmpdir(), "strom-https-src-"));
const root = new URL("../..", import.meta.url).pathname;

async function openssl(args: string[]): Promise<void> {
  const res = await run("openssl", args, 20_000);
  if (res.code !== 0) throw new Error(`openssl ${args[0]} failed: ${res.stderr}`);
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!ready)("https:// sources against a TLS server (needs openssl, ffprobe, node)", () => {
  let origin: RunningServer;
  let puller: ChildProcess | undefined;
  let pullerLog = "";
  let httpsPort = 0;
  let rtspPort = 0;

  beforeAll(async () => {
    const f = (n: string) => join(dir, n);
    // A CA, and a certificate for 127.0.0.1 signed by it.
    await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=strom test CA", "-keyout", f("ca.key"), "-out", f("ca.crt")]);
    await openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-subj", "/CN=127.0.0.1", "-keyout", f("srv.key"), "-out", f("srv.csr")]);
    writeFileSync(f("ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
    await openssl(["x509", "-req", "-in", f("srv.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial",
      "-days", "1", "-extfile", f("ext.cnf"), "-out", f("srv.crt")]);

    httpsPort = await freePort();
    origin = await startServer({
      configSources: [JSON.stringify({
        api: { listen: "127.0.0.1:0", tls_listen: `127.0.0.1:${httpsPort}`, tls_cert: f("srv.crt"), tls_key: f("srv.key") },
        rtsp: { listen: "" },
        streams: { demo: "demo:" },
      })],
      log: silentLogger,
      handleSignals: false,
    });

    rtspPort = await freePort();
    writeFileSync(f("puller.yaml"), [
      'api: {listen: ""}',
      `rtsp: {listen: "127.0.0.1:${rtspPort}"}`,
      "streams:",
      `  pulled: "https://127.0.0.1:${httpsPort}/api/stream.ts?src=demo"`,
      `  untrusted: "https://localhost:${httpsPort}/api/stream.ts?src=demo"`,
      "",
    ].join("\n"));
    puller = spawn((await which("node"))!, ["--import", "tsx", join(root, "cli/main.ts"), "serve", "-c", f("puller.yaml")], {
      cwd: root,
      env: { NODE_EXTRA_CA_CERTS: f("ca.crt") },
      stdout: "pipe",
      stderr: "pipe",
    });
    const collect = async (s: ReadableStream<Uint8Array> | undefined) => {
      if (!s) return;
      for await (const chunk of s) pullerLog = (pullerLog + new TextDecoder().decode(chunk)).slice(-20_000);
    };
    void collect(puller.stdout);
    void collect(puller.stderr);
    for (let i = 0; i < 100 && !pullerLog.includes("rtsp server listening"); i++) await new Promise((r) => setTimeout(r, 200));
  }, 60_000);

  afterAll(async () => {
    puller?.kill("SIGKILL");
    await puller?.exited;
    await origin?.close();
  });

  it("pulls MPEG-TS over HTTPS from a server with a trusted certificate; ffprobe plays it over RTSP", async () => {
    const probe = await ffprobe(`rtsp://127.0.0.1:${rtspPort}/pulled`, ["-rtsp_transport", "tcp"], 30_000).catch((e) => {
      throw new Error(`${e}\npuller log:\n${pullerLog}`);
    });
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
  }, 40_000);

  it("a certificate that does not match the host fails with an error naming the URL", async () => {
    const res = await run("ffprobe", ["-v", "error", "-rtsp_transport", "tcp", `rtsp://127.0.0.1:${rtspPort}/untrusted`], 20_000);
    expect(res.code).not.toBe(0);
    for (let i = 0; i < 25 && !pullerLog.includes("could not be dialed"); i++) await new Promise((r) => setTimeout(r, 200));
    expect(pullerLog).toContain("source could not be dialed");
    const line = pullerLog.split("\n").find((l) => l.includes("could not be dialed")) ?? "";
    expect(line).toContain("https://localhost:");
    expect(line).toMatch(/certificate/i);
  }, 30_000);
});
