/**
 * Real peers for the HTTP/TCP source tests: a small node:http server on 127.0.0.1 (works on Node,
 * Deno and Bun) whose routes pipe live ffmpeg output (`-re`, so it streams like a camera), serve
 * ffmpeg-made files, or ask for credentials.
 *
 * @module
 */
import * as http from "node:http";
import { getEnv } from "../../lib/runtime/env.ts";
import { makeDir, readFile } from "../../lib/runtime/fs.ts";
import { type ChildProcess, spawn } from "../../lib/runtime/process.ts";
import { ffmpeg } from "../_support/ffmpeg.ts";

/** A route handler. Return nothing: write the response yourself. */
export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

/** A running peer. */
export interface HttpPeer {
  base: string;
  port: number;
  /** Requests seen per path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** Starts a node:http server on 127.0.0.1 with routes by exact path; other paths get 404. */
export async function startHttpPeer(routes: Record<string, Route>): Promise<HttpPeer> {
  const hits = new Map<string, number>();
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes[path] ??
      Object.entries(routes).find(([p]) => p.endsWith("/*") && path.startsWith(p.slice(0, -1)))?.[1];
    if (!route) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    Promise.resolve(route(req, res)).catch((error) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Live ffmpeg processes started by {@link pipeFfmpeg}, killed by {@link killPeers}. */
const children = new Set<ChildProcess>();

/**
 * A route that answers 200 with `contentType` and pipes a fresh `ffmpeg <args> -` to the body,
 * killing ffmpeg when the client goes away.
 */
export function pipeFfmpeg(
  contentType: string,
  args: string[],
  onSpawn?: (child: ChildProcess) => void,
): Route {
  return async (req, res) => {
    const child = spawn("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", ...args, "-"], {
      stdout: "pipe",
      stderr: "ignore",
    });
    children.add(child);
    onSpawn?.(child);
    const stop = () => {
      child.kill("SIGKILL");
      children.delete(child);
    };
    req.on("close", stop);
    res.on("close", stop);
    res.writeHead(200, { "content-type": contentType, "cache-control": "no-cache" });
    const reader = child.stdout!.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || res.destroyed) break;
        res.write(value);
      }
    } catch { /* killed */ }
    res.end();
    stop();
  };
}

/** Kills every ffmpeg a route started (end of a test file). */
export async function killPeers(): Promise<void> {
  const all = [...children];
  children.clear();
  await Promise.all(all.map((c) => c[Symbol.asyncDispose]()));
}

/** Input args: a 320x240 10 fps test pattern and a 440 Hz tone. */
export const TEST_AV = [
  "-re",
  "-f",
  "lavfi",
  "-i",
  "testsrc=size=320x240:rate=10",
  "-f",
  "lavfi",
  "-i",
  "sine=frequency=440:sample_rate=44100",
];

/** Output args: H.264 with a keyframe every second at 10 fps. */
export const H264 = [
  "-c:v",
  "libx264",
  "-preset",
  "ultrafast",
  "-tune",
  "zerolatency",
  "-g",
  "10",
  "-pix_fmt",
  "yuv420p",
];

/** Output args: H.264 (a keyframe every second) + AAC. */
export const H264_AAC = [...H264, "-c:a", "aac", "-b:a", "64k"];

/** A temp directory for this test run. */
export async function tempDir(name: string): Promise<string> {
  const dir = `${getEnv("TMPDIR") ?? "/tmp"}/strom-${name}-${Date.now()}-${
    Math.random().toString(36).slice(2)
  }`;
  await makeDir(dir);
  return dir;
}

/** One JPEG made by ffmpeg (320x240 test pattern). */
export async function makeJpeg(): Promise<Uint8Array> {
  const res = await ffmpeg([
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=320x240:rate=1",
    "-frames:v",
    "1",
    "-c:v",
    "mjpeg",
    "-f",
    "mjpeg",
    "-",
  ]);
  if (res.code !== 0) throw new Error(`ffmpeg could not make a JPEG: ${res.stderr}`);
  return res.stdout;
}

/**
 * Starts a live HLS writer (`ffmpeg -re ... -f hls`) into `dir`: TS or fMP4 segments of 1 s, a
 * 6-segment window. Kill it with {@link killPeers}.
 */
export function startHlsWriter(dir: string, type: "mpegts" | "fmp4"): ChildProcess {
  const child = spawn("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    ...TEST_AV,
    ...H264_AAC,
    "-f",
    "hls",
    "-hls_time",
    "1",
    "-hls_list_size",
    "6",
    "-hls_flags",
    "delete_segments",
    "-hls_segment_type",
    type,
    ...(type === "fmp4" ? ["-hls_fmp4_init_filename", "init.mp4"] : []),
    "-hls_segment_filename",
    `${dir}/seg%d.${type === "fmp4" ? "m4s" : "ts"}`,
    `${dir}/index.m3u8`,
  ], { stdout: "ignore", stderr: "ignore" });
  children.add(child);
  return child;
}

/** A route serving files of `dir` under `prefix/` with HLS content types. */
export function serveDir(prefix: string, dir: string): Route {
  return async (req, res) => {
    const name = new URL(req.url ?? "/", "http://x").pathname.slice(prefix.length + 1);
    if (!/^[\w.-]+$/.test(name)) {
      res.writeHead(400).end();
      return;
    }
    let data: Uint8Array;
    try {
      data = await readFile(`${dir}/${name}`);
    } catch {
      res.writeHead(404).end();
      return;
    }
    const type = name.endsWith(".m3u8")
      ? "application/vnd.apple.mpegurl"
      : name.endsWith(".ts")
      ? "video/mp2t"
      : "video/mp4";
    res.writeHead(200, { "content-type": type, "content-length": String(data.length) }).end(data);
  };
}
