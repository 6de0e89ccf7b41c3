/**
 * nginx-rtmp (Debian `libnginx-mod-rtmp`, the widespread C RTMP server) as the other peer: strom
 * publishes a stream into it, ffprobe plays it from nginx, and strom plays it back from nginx as an
 * `rtmp://` source relayed to an RTSP reader. Skipped when nginx or its RTMP module is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StreamHub } from "../../lib/core/hub.ts";
import { registerRtmpSources } from "../../lib/protocol/rtmp/producer.ts";
import { RtmpPublish } from "../../lib/protocol/rtmp/publish.ts";
import { RtmpServer } from "../../lib/protocol/rtmp/server.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { type ChildProcess, spawn, which } from "../../lib/runtime/mod.ts";
import { ffmpeg, ffprobe, hasEncoder } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { H264_AAC_CAMERA, publishRtmpAndWait, waitListening } from "./_helpers.ts";

const RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so";
const nginx = await which("nginx").catch(() => undefined);
const haveNginxRtmp = !!nginx && existsSync(RTMP_MODULE);
const haveX264 = await hasEncoder("libx264");
const ready = haveNginxRtmp && haveX264;

describe.skipIf(!ready)(
  ready ? "rtmp with nginx-rtmp as the server" : "rtmp with nginx-rtmp as the server (skipped: needs nginx with libnginx-mod-rtmp, and libx264)",
  () => {
    let hub: StreamHub;
    let rtmp: RtmpServer;
    let rtsp: RtspServer;
    let server: ChildProcess | undefined;
    let camera: { kill: (s: "SIGKILL") => void; exited: Promise<unknown> } | undefined;
    let publish: RtmpPublish | undefined;
    let nginxUrl = "";
    const dir = mkdtempSync(join(tmpdir(), "strom-nginx-rtmp-"));

    beforeAll(async () => {
      registerRtmpSources();
      const port = await freePort();
      writeFileSync(
        join(dir, "nginx.conf"),
        [
          `load_module ${RTMP_MODULE};`,
          "daemon off;",
          "master_process off;",
          `pid ${join(dir, "nginx.pid")};`,
          `error_log ${join(dir, "error.log")} warn;`,
          "events { worker_connections 256; }",
          "rtmp {",
          "  server {",
          `    listen 127.0.0.1:${port};`,
          "    chunk_size 4096;",
          "    application live { live on; record off; }",
          "  }",
          "}",
        ].join("\n"),
      );
      server = spawn(nginx!, ["-p", dir, "-c", join(dir, "nginx.conf")], {
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      });
      await waitListening(port);
      nginxUrl = `rtmp://127.0.0.1:${port}/live/stromkey`;

      hub = new StreamHub({ graceMs: 1000, reconnectDelaysMs: [300] });
      hub.set("cam", []);
      hub.set("from_nginx", [nginxUrl]);
      rtmp = await RtmpServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      rtsp = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      camera = await publishRtmpAndWait(hub, "cam", `rtmp://127.0.0.1:${rtmp.addr.port}/cam`, H264_AAC_CAMERA);
      publish = await RtmpPublish.start(hub.get("cam")!, nginxUrl);
    });

    afterAll(async () => {
      await publish?.stop();
      camera?.kill("SIGKILL");
      await camera?.exited;
      await rtsp?.close();
      await rtmp?.close();
      await hub?.close();
      server?.kill("SIGKILL");
      await server?.exited;
      rmSync(dir, { recursive: true, force: true });
    });

    it("strom publishes into nginx-rtmp; ffprobe plays it from nginx", async () => {
      const probe = await ffprobe(nginxUrl, [], 15_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      expect(probe.streams.find((s) => s.codec_type === "video")?.width).toBe(320);
    }, 20_000);

    it("strom plays from nginx-rtmp (rtmp:// source), relayed to an RTSP reader", async () => {
      const res = await ffmpeg(
        ["-rtsp_transport", "tcp", "-i", `rtsp://127.0.0.1:${rtsp.addr.port}/from_nginx`, "-frames:v", "30", "-f", "null", "-"],
        25_000,
      );
      expect(res.code).toBe(0);
      const medias = hub.get("from_nginx")!.producers().flatMap((p) => p.medias().map((m) => m.codecs[0].name)).sort();
      expect(medias).toEqual(["H264", "MPEG4-GENERIC"]);
    }, 30_000);
  },
);
