/**
 * `http(s)://` sources against real peers: a node:http server piping live ffmpeg output (MJPEG
 * multipart, raw MJPEG, HTTP-FLV, MPEG-TS), an ffmpeg-made JPEG polled as snapshots, live HLS from
 * `ffmpeg -f hls` (TS and fMP4 segments), Basic and Digest auth, `#header=`, and bad peers (HTML,
 * a stall, a dead port). strom pulls each into a stream, and ffprobe decodes what strom's MP4 and
 * MJPEG outputs serve from it.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { SourceError } from "../../lib/core/errors.ts";
import { silentLogger } from "../../lib/core/log.ts";
import { dialHttp } from "../../lib/protocol/http/producer.ts";
import { RtspAuthServer } from "../../lib/protocol/rtsp/auth.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffmpeg, hasEncoder } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { type ChildProcess } from "../../lib/runtime/process.ts";
import { codecsOf, probeBytes, waitFor } from "../outputs/_server.ts";
import {
  H264,
  H264_AAC,
  type HttpPeer,
  killPeers,
  makeJpeg,
  pipeFfmpeg,
  type Route,
  serveDir,
  startHlsWriter,
  startHttpPeer,
  tempDir,
  TEST_AV,
} from "./_peer.ts";

const haveX264 = await hasEncoder("libx264");

const MJPEG_ARGS = ["-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-c:v", "mjpeg", "-q:v", "6"];

/** Wraps a route so it answers 401 unless `check` accepts the Authorization header. */
function guarded(
  check: (auth: string | undefined) => boolean,
  challenge: () => string[],
  route: Route,
): Route {
  return (req, res) => {
    if (!check(req.headers.authorization)) {
      res.writeHead(401, { "www-authenticate": challenge() }).end("unauthorized\n");
      return;
    }
    return route(req, res);
  };
}

describe.skipIf(!haveX264)(haveX264 ? "http sources" : "http sources (skipped: ffmpeg lacks libx264)", () => {
  let peer: HttpPeer;
  let server: RunningServer;
  let base = "";
  const dirs: string[] = [];
  const digest = new RtspAuthServer({ username: "admin", password: "s3cret", realm: "cam" });
  let deadPort = 0;
  let flakyChild: ChildProcess | undefined;

  beforeAll(async () => {
    const jpeg = await makeJpeg();
    const snapshot: Route = (_req, res) => {
      res.writeHead(200, { "content-type": "image/jpeg", "content-length": String(jpeg.length) }).end(jpeg);
    };
    const hlsTs = await tempDir("hls-ts");
    const hlsMp4 = await tempDir("hls-fmp4");
    dirs.push(hlsTs, hlsMp4);
    startHlsWriter(hlsTs, "mpegts");
    startHlsWriter(hlsMp4, "fmp4");
    const hlsVod = await tempDir("hls-vod");
    dirs.push(hlsVod);
    const vod = await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=320x240:rate=10",
      ...H264,
      "-t",
      "3",
      "-f",
      "hls",
      "-hls_time",
      "1",
      "-hls_playlist_type",
      "vod",
      "-hls_segment_filename",
      `${hlsVod}/v%d.ts`,
      `${hlsVod}/index.m3u8`,
    ]);
    if (vod.code !== 0) throw new Error(`ffmpeg could not write the VOD playlist: ${vod.stderr}`);
    const basic = "Basic " + btoa("admin:s3cret");
    peer = await startHttpPeer({
      "/cam.mjpeg": pipeFfmpeg("multipart/x-mixed-replace;boundary=ffmpeg", [...MJPEG_ARGS, "-f", "mpjpeg"]),
      "/raw.mjpeg": pipeFfmpeg("application/octet-stream", [...MJPEG_ARGS, "-f", "mjpeg"]),
      "/flaky.mjpeg": pipeFfmpeg(
        "multipart/x-mixed-replace;boundary=ffmpeg",
        [...MJPEG_ARGS, "-f", "mpjpeg"],
        (child) => {
          flakyChild = child;
        },
      ),
      "/snap.jpg": snapshot,
      "/live.flv": pipeFfmpeg("video/x-flv", [...TEST_AV, ...H264_AAC, "-f", "flv"]),
      "/live.ts": pipeFfmpeg("video/mp2t", [...TEST_AV, ...H264_AAC, "-f", "mpegts"]),
      "/octet": pipeFfmpeg("application/octet-stream", [...TEST_AV, ...H264_AAC, "-f", "mpegts"]),
      "/basic/cam.mjpeg": guarded(
        (a) => a === basic,
        () => ['Basic realm="cam"'],
        pipeFfmpeg(
          "multipart/x-mixed-replace;boundary=ffmpeg",
          [...MJPEG_ARGS, "-f", "mpjpeg"],
        ),
      ),
      "/digest/snap.jpg": guarded((a) => digest.verify("GET", a), () => [digest.challenges()[0]], snapshot),
      "/header/snap.jpg": (req, res) => {
        if (req.headers["x-token"] !== "42") res.writeHead(403).end("forbidden\n");
        else snapshot(req, res);
      },
      "/login.html": (_req, res) => {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(
          "<!DOCTYPE html><html><body>Login</body></html>",
        );
      },
      "/stall.ts": (_req, res) => {
        res.writeHead(200, { "content-type": "video/mp2t" });
        res.flushHeaders();
      },
      "/hls-ts/*": serveDir("/hls-ts", hlsTs),
      "/hls-fmp4/*": serveDir("/hls-fmp4", hlsMp4),
      "/hls-vod/*": serveDir("/hls-vod", hlsVod),
    });
    const p = peer.base;
    const apiPort = await freePort();
    deadPort = await freePort();
    base = `http://127.0.0.1:${apiPort}`;
    server = await startServer({
      configSources: [JSON.stringify({
        streams: {
          mjpeg: `${p}/cam.mjpeg`,
          rawmjpeg: `${p}/raw.mjpeg`,
          snap: `${p}/snap.jpg`,
          flv: `${p}/live.flv`,
          ts: `${p}/live.ts`,
          octet: `${p}/octet`,
          basic: `http://admin:s3cret@127.0.0.1:${peer.port}/basic/cam.mjpeg`,
          digest: `http://admin:s3cret@127.0.0.1:${peer.port}/digest/snap.jpg`,
          header: `${p}/header/snap.jpg#header=X-Token: 42`,
          hls_ts: `${p}/hls-ts/index.m3u8`,
          hls_fmp4: `${p}/hls-fmp4/index.m3u8`,
          // strom reading its own outputs back over HTTP
          demo: "demo:",
          own_flv: `${base}/api/stream.flv?src=demo`,
          own_ts: `${base}/api/stream.ts?src=demo`,
          own_hls: `${base}/api/stream.m3u8?src=demo`,
          own_mjpeg: `${base}/api/stream.mjpeg?src=demo`,
          own_aac: `${base}/api/stream.aac?src=demo`,
          // a camera that goes away mid-stream (its ffmpeg is killed by the test)
          flaky: `${p}/flaky.mjpeg`,
          dead: `http://admin:topsecret@127.0.0.1:${deadPort}/video.mjpg`,
        },
      })],
      listen: `127.0.0.1:${apiPort}`,
      handleSignals: false,
      log: silentLogger,
      modules: [],
    });
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    await killPeers();
    await peer?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }, 30_000);

  /** ffprobe's streams for `duration=2` of strom's fMP4 output of a stream. */
  async function probeMp4(stream: string) {
    const res = await fetch(`${base}/api/stream.mp4?src=${stream}&duration=2`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(res.status).toBe(200);
    const probe = await probeBytes(bytes);
    expect(probe.stderr).toBe("");
    return codecsOf(probe);
  }

  async function probeMjpeg(stream: string) {
    const res = await fetch(`${base}/api/stream.mjpeg?src=${stream}&duration=2`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(res.status).toBe(200);
    return codecsOf(await probeBytes(bytes, "mpjpeg"));
  }

  it("MJPEG multipart (an IP camera's video.mjpg): JPEGs pass through to viewers", async () => {
    const [v] = await probeMjpeg("mjpeg");
    expect(v).toMatchObject({ codec: "mjpeg", width: 320, height: 240 });
    expect(v.frames).toBeGreaterThanOrEqual(10);
  }, 20_000);

  it("raw concatenated JPEGs (no multipart headers) are sniffed by their magic bytes", async () => {
    const [v] = await probeMjpeg("rawmjpeg");
    expect(v).toMatchObject({ codec: "mjpeg", width: 320 });
    expect(v.frames).toBeGreaterThanOrEqual(10);
  }, 20_000);

  it("a JPEG snapshot URL is polled into an MJPEG stream", async () => {
    const before = peer.hits.get("/snap.jpg") ?? 0;
    const [v] = await probeMjpeg("snap");
    expect(v).toMatchObject({ codec: "mjpeg", width: 320 });
    expect(v.frames).toBeGreaterThanOrEqual(5);
    expect((peer.hits.get("/snap.jpg") ?? 0) - before).toBeGreaterThanOrEqual(5);
  }, 20_000);

  it("HTTP-FLV: H.264 + AAC decode from strom's MP4 output", async () => {
    const streams = await probeMp4("flv");
    expect(streams.map((s) => s.codec).sort()).toEqual(["aac", "h264"]);
    expect(streams.find((s) => s.codec === "h264")!.frames).toBeGreaterThanOrEqual(10);
    expect(streams.find((s) => s.codec === "aac")!.frames).toBeGreaterThanOrEqual(40);
  }, 20_000);

  it("MPEG-TS: by Content-Type video/mp2t and by magic bytes under application/octet-stream", async () => {
    for (const name of ["ts", "octet"]) {
      const streams = await probeMp4(name);
      expect(streams.map((s) => s.codec).sort()).toEqual(["aac", "h264"]);
      expect(streams.find((s) => s.codec === "h264")!.frames).toBeGreaterThanOrEqual(10);
    }
  }, 30_000);

  it("HLS pull with MPEG-TS segments (ffmpeg -f hls)", async () => {
    const streams = await probeMp4("hls_ts");
    expect(streams.map((s) => s.codec).sort()).toEqual(["aac", "h264"]);
    expect(streams.find((s) => s.codec === "h264")!.frames).toBeGreaterThanOrEqual(10);
    const info = await fetch(`${base}/api/streams?src=hls_ts`).then((r) => r.json());
    expect(JSON.stringify(info)).toContain("http/hls+mpegts");
  }, 30_000);

  it("HLS pull with fMP4 segments (ffmpeg -f hls -hls_segment_type fmp4)", async () => {
    const streams = await probeMp4("hls_fmp4");
    expect(streams.map((s) => s.codec).sort()).toEqual(["aac", "h264"]);
    expect(streams.find((s) => s.codec === "h264")!.frames).toBeGreaterThanOrEqual(10);
    expect(streams.find((s) => s.codec === "aac")!.frames).toBeGreaterThanOrEqual(40);
  }, 30_000);

  it("HLS VOD (#EXT-X-ENDLIST): every frame, paced in real time, then the source ends", async () => {
    const producer = await dialHttp(`${peer.base}/hls-vod/index.m3u8`);
    const [video] = producer.medias();
    expect(video.codecs[0].name).toBe("H264");
    const receiver = await producer.track(video, video.codecs[0]);
    const started = performance.now();
    await producer.start();
    const elapsed = performance.now() - started;
    expect(receiver.frames).toBe(30);
    // 3 s of media: not dumped at once, not slower than real time by much.
    expect(elapsed).toBeGreaterThan(2000);
    expect(elapsed).toBeLessThan(6000);
  }, 20_000);

  it("Basic auth from the URL's credentials", async () => {
    const [v] = await probeMjpeg("basic");
    expect(v.frames).toBeGreaterThanOrEqual(10);
  }, 20_000);

  it("Digest auth (MD5, qop=auth) answers the 401 challenge, on every polled request", async () => {
    const before = peer.hits.get("/digest/snap.jpg") ?? 0;
    const [v] = await probeMjpeg("digest");
    expect(v.frames).toBeGreaterThanOrEqual(5);
    expect((peer.hits.get("/digest/snap.jpg") ?? 0) - before).toBeGreaterThanOrEqual(6);
  }, 20_000);

  it("#header= adds request headers", async () => {
    const [v] = await probeMjpeg("header");
    expect(v.frames).toBeGreaterThanOrEqual(5);
  }, 20_000);

  it(
    "strom pulls its own stream.flv, stream.ts, HLS, stream.mjpeg and stream.aac outputs as sources",
    async () => {
      for (const name of ["own_flv", "own_ts", "own_hls"]) {
        const streams = await probeMp4(name);
        expect(streams.map((s) => s.codec).sort()).toEqual(["aac", "h264"]);
      }
      const [v] = await probeMjpeg("own_mjpeg");
      expect(v).toMatchObject({ codec: "mjpeg", width: 640, height: 360 });
      expect(v.frames).toBeGreaterThanOrEqual(10);
      const aac = await fetch(`${base}/api/stream.aac?src=own_aac&duration=2`);
      const [a] = codecsOf(await probeBytes(new Uint8Array(await aac.arrayBuffer()), "aac"));
      expect(a.codec).toBe("aac");
      expect(a.frames).toBeGreaterThanOrEqual(40);
    },
    60_000,
  );

  it(
    "a camera killed mid-stream (kill -9): the stream redials and the viewer keeps getting pictures",
    async () => {
      const res = await fetch(`${base}/api/stream.mjpeg?src=flaky&duration=6`);
      expect(res.status).toBe(200);
      const body = (async () => new Uint8Array(await res.arrayBuffer()))();
      await waitFor("the camera's ffmpeg", () => flakyChild !== undefined, 5_000);
      const first = flakyChild!;
      await new Promise((r) => setTimeout(r, 1000));
      first.kill("SIGKILL");
      await waitFor("a new camera connection", () => flakyChild !== first, 8_000);
      const [v] = codecsOf(await probeBytes(await body, "mpjpeg"));
      // At most ~12 pictures came before the kill (1 s at 10 fps): the rest came after the redial.
      expect(v.frames).toBeGreaterThanOrEqual(20);
      expect(peer.hits.get("/flaky.mjpeg")).toBeGreaterThanOrEqual(2);
    },
    20_000,
  );

  it("a dead camera: viewers and /api/streams get the error with the URL, the password masked", async () => {
    const res = await fetch(`${base}/api/stream.mp4?src=dead`);
    expect(res.status).toBe(502);
    const { message } = await res.json();
    expect(message).toContain(`http://admin:***@127.0.0.1:${deadPort}/video.mjpg`);
    expect(message).not.toContain("topsecret");
    const info = JSON.stringify(await fetch(`${base}/api/streams?src=dead`).then((r) => r.json()));
    expect(info).toContain("cannot reach");
    expect(info).not.toContain("topsecret");
  }, 20_000);

  it("refuses a web page, naming its Content-Type and first bytes", async () => {
    const error = await dialHttp(`${peer.base}/login.html`).catch((e) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toContain('"text/html; charset=utf-8"');
    expect(error.message).toContain("<!DOCTYPE html>");
  });

  it("a dead URL: the error names the URL with the password masked", async () => {
    const port = await freePort();
    const error = await dialHttp(`http://admin:topsecret@127.0.0.1:${port}/video.mjpg`).catch((e) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toContain(`http://admin:***@127.0.0.1:${port}/video.mjpg`);
    expect(error.message).toContain("cannot reach");
    expect(error.message).not.toContain("topsecret");
  });

  it("wrong credentials, a 404 and a missing login are told apart", async () => {
    const wrong = await dialHttp(`http://admin:nope@127.0.0.1:${peer.port}/digest/snap.jpg`).catch((e) => e);
    expect(wrong.message).toContain('user "admin" was refused');
    const none = await dialHttp(`${peer.base}/digest/snap.jpg`).catch((e) => e);
    expect(none.message).toContain("wants credentials");
    const missing = await dialHttp(`${peer.base}/nothing.mjpg`).catch((e) => e);
    expect(missing.message).toContain("HTTP 404");
  });

  it("#header= values never appear in errors", async () => {
    const error = await dialHttp(`${peer.base}/nothing#header=Authorization: Bearer sekrit`).catch((e) => e);
    expect(error.message).toContain("#header=Authorization: ***");
    expect(error.message).not.toContain("sekrit");
  });

  it("a server that answers and then sends nothing fails the dial in bounded time", async () => {
    const started = Date.now();
    const error = await dialHttp(`${peer.base}/stall.ts`, { probeTimeoutMs: 1000 }).catch((e) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toContain("no media within 1000 ms");
    expect(error.message).toContain('"video/mp2t"');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
