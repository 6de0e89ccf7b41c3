/**
 * `tcp://host:port` sources against ffmpeg serving a stream on a TCP socket
 * (`ffmpeg ... -f mpegts tcp://127.0.0.1:port?listen=1`, and FLV the same way), read back by ffprobe
 * through strom's MP4 output; a refused port and a peer that sends garbage give clear errors.
 */
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { SourceError } from "../../lib/core/errors.ts";
import { silentLogger } from "../../lib/core/log.ts";
import { dialTcp } from "../../lib/protocol/tcp/producer.ts";
import { tcpListen } from "../../lib/runtime/tcp.ts";
import { type ChildProcess, spawn } from "../../lib/runtime/process.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { hasEncoder } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { codecsOf, probeBytes, waitFor } from "../outputs/_server.ts";
import { H264, H264_AAC, TEST_AV } from "./_peer.ts";

const haveX264 = await hasEncoder("libx264");
const haveX265 = await hasEncoder("libx265");

const VIDEO_ONLY = ["-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10"];

/** What each ffmpeg peer serves, by its output format. */
const PEERS: Record<string, string[]> = {
  mpegts: [...TEST_AV, ...H264_AAC],
  flv: [...TEST_AV, ...H264_AAC],
  h264: [...VIDEO_ONLY, ...H264],
  ...(haveX265
    ? {
      hevc: [
        ...VIDEO_ONLY,
        ...[
          "-c:v",
          "libx265",
          "-preset",
          "ultrafast",
          "-x265-params",
          "log-level=none:bframes=0",
          "-g",
          "10",
        ],
      ],
    }
    : {}),
};

/** Whether something listens on 127.0.0.1:port (Linux /proc; elsewhere: true after a second). */
function listening(port: number, since: number): boolean {
  if (!existsSync("/proc/net/tcp")) return Date.now() - since > 1000;
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  return readFileSync("/proc/net/tcp", "utf8").split("\n").some((l) => {
    const f = l.trim().split(/\s+/);
    return f[1]?.endsWith(`:${hex}`) && f[3] === "0A";
  });
}

describe.skipIf(!haveX264)(
  haveX264 ? "tcp:// sources" : "tcp:// sources (skipped: ffmpeg lacks libx264)",
  () => {
    let server: RunningServer;
    let base = "";
    const ports: Record<string, number> = {};
    const children: ChildProcess[] = [];

    beforeAll(async () => {
      for (const [format, args] of Object.entries(PEERS)) {
        const port = await freePort();
        ports[format] = port;
        const started = Date.now();
        const output = ["-t", "30", "-f", format, `tcp://127.0.0.1:${port}?listen=1`];
        children.push(
          spawn("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", ...args, ...output], {
            stdout: "ignore",
            stderr: "ignore",
          }),
        );
        await waitFor(`ffmpeg to listen on ${port}`, () => listening(port, started), 10_000);
      }
      server = await startServer({
        configSources: [JSON.stringify({
          streams: Object.fromEntries(
            Object.entries(ports).map(([f, port]) => [f, `tcp://127.0.0.1:${port}`]),
          ),
        })],
        listen: "127.0.0.1:0",
        handleSignals: false,
        log: silentLogger,
        modules: [],
      });
      base = server.urls[0];
    }, 30_000);

    afterAll(async () => {
      await server?.close();
      await Promise.all(children.map((c) => c[Symbol.asyncDispose]()));
    }, 20_000);

    for (const [name, format] of [["mpegts", "mpegts"], ["flv", "flv"]] as const) {
      it(`reads ${format} from ffmpeg listening on TCP: H.264 + AAC decode`, async () => {
        const res = await fetch(`${base}/api/stream.mp4?src=${name}&duration=2`);
        expect(res.status).toBe(200);
        const probe = await probeBytes(new Uint8Array(await res.arrayBuffer()));
        expect(probe.stderr).toBe("");
        const streams = codecsOf(probe);
        expect(streams.map((s) => s.codec).sort()).toEqual(["aac", "h264"]);
        expect(streams.find((s) => s.codec === "h264")!.frames).toBeGreaterThanOrEqual(10);
        const info = await fetch(`${base}/api/streams?src=${name}`).then((r) => r.json());
        expect(JSON.stringify(info)).toContain(`"tcp/${format}"`);
      }, 20_000);
    }

    for (const [name, codec, label] of [["h264", "h264", "H.264"], ["hevc", "hevc", "H.265"]] as const) {
      it.skipIf(name === "hevc" && !haveX265)(
        `reads raw ${label} Annex-B (ffmpeg -f ${name}) from TCP: access units decode`,
        async () => {
          const res = await fetch(`${base}/api/stream.mp4?src=${name}&duration=2`);
          expect(res.status).toBe(200);
          const probe = await probeBytes(new Uint8Array(await res.arrayBuffer()));
          expect(probe.stderr).toBe("");
          const [v] = codecsOf(probe);
          expect(v).toMatchObject({ codec, type: "video", width: 320, height: 240 });
          expect(v.frames).toBeGreaterThanOrEqual(10);
          const info = await fetch(`${base}/api/streams?src=${name}`).then((r) => r.json());
          expect(JSON.stringify(info)).toContain(`"tcp/${name === "h264" ? "h264" : "h265"}"`);
        },
        20_000,
      );
    }

    it("a refused port: the error names host and port", async () => {
      const port = await freePort();
      const error = await dialTcp(`tcp://127.0.0.1:${port}`).catch((e) => e);
      expect(error).toBeInstanceOf(SourceError);
      expect(error.message).toContain(`cannot connect to 127.0.0.1:${port}`);
    });

    it("a peer that sends text: the error quotes the first bytes", async () => {
      const listener = await tcpListen({
        hostname: "127.0.0.1",
        port: 0,
        onConnection: (conn) => {
          conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"));
          conn.close();
        },
      });
      try {
        const error = await dialTcp(`tcp://127.0.0.1:${listener.addr.port}`).catch((e) => e);
        expect(error).toBeInstanceOf(SourceError);
        expect(error.message).toContain("not a media stream");
        expect(error.message).toContain("HTTP/1.1 400 Bad Request");
      } finally {
        await listener.close();
      }
    });

    it("rejects a URL without a port", async () => {
      const error = await dialTcp("tcp://127.0.0.1").catch((e) => e);
      expect(error.message).toContain("tcp://host:port");
    });
  },
);
