// HTTPS (api.tls_listen) and RTSPS (rtsp.tls_listen) with go2rtc's api.tls_cert/tls_key, played by
// ffprobe as a real client, and the certificate reload that SIGHUP triggers.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { silentLogger } from "../../lib/core/log.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool, run } from "../_support/process.ts";

const hasOpenssl = await hasTool("openssl");
const hasFfprobe = await hasTool("ffprobe");
const dir = mkdtempSync(join(tmpdir(), "strom-tls-"));

/** A self-signed certificate for 127.0.0.1 with this common name, as PEM files. */
async function makeCert(name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const res = await run("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-days", "1", "-subj", `/CN=${name}`, "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", key, "-out", cert,
  ], 20_000);
  if (res.code !== 0) throw new Error(`openssl failed: ${res.stderr}`);
  return { cert, key };
}

/** The common name of the certificate a TLS server presents. */
function peerName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.end();
      resolve(String(cn));
    });
    socket.once("error", reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error("TLS handshake timed out")));
  });
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasOpenssl)("TLS: HTTPS and RTSPS", () => {
  let server: RunningServer;
  let rtspsPort = 0;
  let httpsPort = 0;
  let files: { cert: string; key: string };

  beforeAll(async () => {
    files = await makeCert("first");
    // Paths that stay the same while their contents are renewed, as certbot does.
    const cert = join(dir, "live.crt");
    const key = join(dir, "live.key");
    writeFileSync(cert, await readText(files.cert));
    writeFileSync(key, await readText(files.key));
    rtspsPort = await freePort();
    httpsPort = await freePort();
    const config = {
      api: { listen: "127.0.0.1:0", tls_listen: `127.0.0.1:${httpsPort}`, tls_cert: cert, tls_key: key },
      rtsp: { listen: "127.0.0.1:0", tls_listen: `127.0.0.1:${rtspsPort}` },
      streams: { demo: "demo:" },
    };
    server = await startServer({ configSources: [JSON.stringify(config)], log: silentLogger, handleSignals: false });
  }, 30_000);
  afterAll(() => server?.close());

  it("serves the API over HTTPS", async () => {
    expect(server.httpsUrls).toEqual([`https://127.0.0.1:${httpsPort}`]);
    expect(await peerName(httpsPort)).toBe("first");
  });

  it.skipIf(!hasFfprobe)("ffprobe plays MP4 over HTTPS and the stream over RTSPS", async () => {
    const mp4 = await ffprobe(`https://127.0.0.1:${httpsPort}/api/stream.mp4?src=demo&duration=2`);
    expect(mp4.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
    const rtsps = await ffprobe(`rtsps://127.0.0.1:${rtspsPort}/demo`, ["-rtsp_transport", "tcp"]);
    expect(rtsps.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
  }, 40_000);

  it("a reload (SIGHUP) serves the renewed certificate on both ports; a broken one is refused and the old stays", async () => {
    const renewed = await makeCert("second");
    writeFileSync(join(dir, "live.crt"), await readText(renewed.cert));
    writeFileSync(join(dir, "live.key"), await readText(renewed.key));
    await server.reloadTls();
    expect(await peerName(httpsPort)).toBe("second");
    expect(await peerName(rtspsPort)).toBe("second");

    writeFileSync(join(dir, "live.crt"), "not a certificate\n");
    const error = await server.reloadTls().catch((e) => e);
    expect(error?.name).toBe("TlsConfigError");
    expect(error.message).toContain("api.tls_cert");
    expect(await peerName(httpsPort)).toBe("second");
  }, 30_000);

  it("plain RTSP on the RTSPS port only ends that connection", async () => {
    const res = await run("ffprobe", ["-v", "error", "-rw_timeout", "3000000", `rtsp://127.0.0.1:${rtspsPort}/demo`], 10_000);
    expect(res.code).not.toBe(0);
    expect(await peerName(rtspsPort)).toBe("second");
  }, 20_000);
});

describe("TLS config errors", () => {
  it("a missing certificate file fails the start naming api.tls_cert", async () => {
    const config = {
      api: { listen: "127.0.0.1:0", tls_listen: "127.0.0.1:0", tls_cert: join(dir, "nope.crt"), tls_key: join(dir, "nope.key") },
      rtsp: { listen: "" },
    };
    const error = await startServer({ configSources: [JSON.stringify(config)], log: silentLogger, handleSignals: false })
      .catch((e) => e);
    expect(error?.name).toBe("TlsConfigError");
    expect(error.message).toContain("api.tls_cert");
    expect(error.message).toContain("nope.crt");
  });
});

async function readText(path: string): Promise<string> {
  const { readFileSync } = await import("node:fs");
  return readFileSync(path, "utf8");
}
