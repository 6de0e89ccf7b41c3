/**
 * RTMP as a user meets it: `rtmp.listen` in the config starts the server (ffmpeg publishes into a
 * push-only stream, `/api/streams` shows it, ffprobe plays it back), a go2rtc config with an
 * `rtmp://` source passes the scheme check, and `rtmps://`/`rtmpx://` sources play over TLS.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import * as tls from "node:tls";
import { StreamHub } from "../../lib/core/hub.ts";
import { silentLogger } from "../../lib/core/log.ts";
import { registerDemoSource } from "../../lib/protocol/demo/mod.ts";
import { RtmpClientProducer } from "../../lib/protocol/rtmp/producer.ts";
import { RtmpServer } from "../../lib/protocol/rtmp/server.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { checkStreamSchemes, registerBuiltinSources } from "../../server/sources.ts";
import { ffprobe, hasEncoder } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { H264_AAC_CAMERA, publishRtmp, waitFor } from "./_helpers.ts";

const haveX264 = await hasEncoder("libx264");

describe("rtmp config", () => {
  it("a go2rtc config with an rtmp:// source passes the scheme check", () => {
    registerBuiltinSources();
    expect(() => checkStreamSchemes({ obs: ["rtmp://10.0.0.7/live/cam"], yt: ["rtmps://host/app/key"] })).not.toThrow();
  });
});

describe.skipIf(!haveX264)(
  haveX264 ? "rtmp.listen in the config" : "rtmp.listen in the config (skipped: ffmpeg lacks libx264)",
  () => {
    let server: RunningServer;
    let port = 0;
    let publisher: ReturnType<typeof publishRtmp> | undefined;

    beforeAll(async () => {
      port = await freePort();
      const config = {
        api: { listen: "127.0.0.1:0" },
        rtsp: { listen: "" },
        rtmp: { listen: `127.0.0.1:${port}` },
        streams: { studio: [] },
      };
      server = await startServer({ configSources: [JSON.stringify(config)], log: silentLogger, handleSignals: false });
    });

    afterAll(async () => {
      publisher?.kill("SIGKILL");
      await publisher?.exited;
      await server?.close();
    });

    it("takes ffmpeg's publish into a push-only stream, shows it in /api/streams, plays it back", async () => {
      publisher = publishRtmp(`rtmp://127.0.0.1:${port}/studio`, H264_AAC_CAMERA);
      let last = "";
      const deadline = Date.now() + 10_000;
      while (!last.includes('"format":"rtmp"')) {
        if (Date.now() > deadline) {
          throw new Error(`no RTMP publisher in /api/streams within 10 s: ${last}; ffmpeg said: ${publisher.log()}`);
        }
        await new Promise((r) => setTimeout(r, 100));
        last = await (await fetch(`${server.urls[0]}/api/streams?src=studio`)).text();
      }
      expect(last).toContain("H264");
      const probe = await ffprobe(`rtmp://127.0.0.1:${port}/studio`, [], 15_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
    }, 30_000);
  },
);

describe("rtmps and rtmpx sources (RTMP over TLS)", () => {
  let hub: StreamHub;
  let rtmp: RtmpServer;
  let proxy: tls.Server;
  let tlsPort = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    registerDemoSource();
    hub = new StreamHub({ graceMs: 200 });
    hub.set("cam", ["demo:"]);
    rtmp = await RtmpServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
    // A TLS terminator in front of the RTMP server, as a CDN's rtmps endpoint is.
    const dir = new URL("../../lib/runtime/testdata/", import.meta.url);
    proxy = tls.createServer({
      key: readFileSync(new URL("openssl_localhost_key.pem", dir)),
      cert: readFileSync(new URL("openssl_localhost_cert.pem", dir)),
    }, (socket) => {
      const upstream = netConnect({ host: "127.0.0.1", port: rtmp.addr.port });
      sockets.add(socket);
      sockets.add(upstream);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
      socket.on("close", () => upstream.destroy());
      upstream.on("close", () => socket.destroy());
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    proxy.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    tlsPort = (proxy.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    await rtmp?.close();
    await hub?.close();
  });

  it("plays over TLS with rtmpx:// (no certificate check)", async () => {
    const producer = await RtmpClientProducer.dial(`rtmpx://127.0.0.1:${tlsPort}/cam`);
    try {
      expect(producer.medias().map((m) => m.codecs[0].name).sort()).toEqual(["H264", "MPEG4-GENERIC"]);
      expect(producer.info().protocol).toBe("rtmps");
    } finally {
      await producer.stop();
    }
  });

  it("rtmps:// checks the certificate and says so when it is not trusted", async () => {
    const err = await RtmpClientProducer.dial(`rtmps://127.0.0.1:${tlsPort}/cam`, { timeoutMs: 3000 }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String(err.message)).toMatch(/certificate|self.signed|verify/i);
  });
});
