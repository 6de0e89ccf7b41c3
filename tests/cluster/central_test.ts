/**
 * The go2rtc seed article's edge block as written: `edge: {central_server: https://...:1984, cache:
 * {enabled, size, ttl}, offline_mode, buffer_duration}` and no streams of its own. Real peers: the
 * central is a strom process (with an account, asked for it from loopback too), the edges other strom
 * processes, the viewer ffmpeg.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { Reader, sleep, StromProc, tempDir, until } from "./_cluster.ts";

const hasFfmpeg = await hasTool("ffmpeg");

type Streams = Record<string, { sources: string[]; consumers: unknown[] }>;

/** A central strom with an account (also required from loopback) and streams `cam` and `cam2`. */
async function central(dir: string, name: string, rtsp: boolean): Promise<StromProc> {
  const [api, rtspPort] = [await freePort(), await freePort()];
  return new StromProc(
    name,
    dir,
    [
      `api: {listen: "127.0.0.1:${api}", local_auth: true, username: edge, password: "p@ss w"}`,
      `rtsp: {listen: "${rtsp ? `127.0.0.1:${rtspPort}` : ""}", username: edge, password: "p@ss w"}`,
      `webrtc: {listen: ""}`,
      `streams: {cam: "demo:", cam2: "demo:"}`,
      ``,
    ].join("\n"),
    api,
    rtspPort,
  );
}

async function edgeOf(dir: string, name: string, centralApi: number, extra: string[]): Promise<StromProc> {
  const [api, rtsp] = [await freePort(), await freePort()];
  return new StromProc(
    name,
    dir,
    [
      `api: {listen: "127.0.0.1:${api}"}`,
      `rtsp: {listen: "127.0.0.1:${rtsp}"}`,
      `webrtc: {listen: ""}`,
      `log: {level: debug, format: text}`,
      `edge:`,
      `  enabled: true`,
      `  central_server: http://edge:p%40ss%20w@127.0.0.1:${centralApi}`,
      ...extra,
      ``,
    ].join("\n"),
    api,
    rtsp,
  );
}

/** Upstream connections the central has for a stream (asked with its account). */
async function upstream(c: StromProc, stream: string): Promise<number> {
  const res = await fetch(`${c.api}/api/streams`, {
    headers: { authorization: `Basic ${btoa("edge:p@ss w")}` },
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok) throw new Error(`central /api/streams: HTTP ${res.status}`);
  const all = await res.json() as Streams;
  return all[stream]?.consumers.length ?? 0;
}

describe.skipIf(!hasFfmpeg)("edge with central_server (needs ffmpeg)", () => {
  const dir = tempDir();
  let rtspCentral: StromProc;
  let tsCentral: StromProc;
  let cached: StromProc;
  let bounded: StromProc;
  let overTs: StromProc;
  const readers: Reader[] = [];

  beforeAll(async () => {
    rtspCentral = await central(dir.path, "central", true);
    tsCentral = await central(dir.path, "central-ts", false);
    // The seed article's block, with the stream list re-read every second for the test.
    cached = await edgeOf(dir.path, "edge", rtspCentral.apiPort, [
      `  refresh: 1s`,
      `  cache: {enabled: true, size: 1GB, ttl: 5m}`,
      `  offline_mode: true`,
      `  buffer_duration: 30s`,
    ]);
    // Kept up to 5 min too, but within a few bytes: the bound stops a stream as soon as its viewer leaves.
    bounded = await edgeOf(dir.path, "edge-bounded", rtspCentral.apiPort, [
      `  cache: {enabled: true, size: 1KB, ttl: 5m}`,
    ]);
    overTs = await edgeOf(dir.path, "edge-ts", tsCentral.apiPort, []);
    await Promise.all([rtspCentral.start(), tsCentral.start()]);
    await Promise.all([cached.start(), bounded.start(), overTs.start()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(readers.map((r) => r.stop()));
    await Promise.allSettled(
      [cached, bounded, overTs, rtspCentral, tsCentral].map((p) => p?.stop("SIGKILL")),
    );
    dir.cleanup();
  }, 30_000);

  test(
    "an edge listing no streams serves the central's, pulled over the RTSP port its /api reports, with the URL's account",
    async () => {
      const streams = await cached.json<Streams>("/api/streams");
      expect(Object.keys(streams).sort()).toEqual(["cam", "cam2"]);
      // The account is used; its password is never shown.
      expect(streams.cam.sources).toEqual([`rtsp://edge:***@127.0.0.1:${rtspCentral.rtspPort}/cam`]);
      const reader = new Reader(cached.rtsp("cam"));
      readers.push(reader);
      await reader.grows(20, 30_000);
      expect(await upstream(rtspCentral, "cam")).toBe(1);
    },
    60_000,
  );

  test(
    "edge.cache keeps the stream pulled after its last viewer, so the next one starts without a new upstream",
    async () => {
      await readers.pop()!.stop();
      await until(
        "the edge to see its viewer gone",
        5_000,
        async () => (await cached.consumers("cam")) === 0,
      );
      // Past the default 5 s grace: still pulled.
      await sleep(7_000);
      expect(await upstream(rtspCentral, "cam")).toBe(1);
      const again = new Reader(cached.rtsp("cam"));
      readers.push(again);
      await again.grows(10, 20_000);
      expect(await upstream(rtspCentral, "cam")).toBe(1);
    },
    60_000,
  );

  test(
    "edge.cache.size stops a stream kept without viewers once the pictures it holds exceed the bound",
    async () => {
      const reader = new Reader(bounded.rtsp("cam2"));
      await reader.grows(10, 30_000);
      const before = await upstream(rtspCentral, "cam2");
      expect(before).toBe(1);
      await reader.stop();
      const left = Date.now();
      await until(
        "the bounded edge to let go of cam2",
        10_000,
        async () => (await upstream(rtspCentral, "cam2")) === 0,
      );
      // Well inside the 5 min ttl (and inside the 5 s default grace too).
      expect(Date.now() - left).toBeLessThan(4_500);
    },
    60_000,
  );

  test(
    "streams added and removed at the central appear and disappear at the edge within its refresh",
    async () => {
      const auth = { authorization: `Basic ${btoa("edge:p@ss w")}` };
      const put = await fetch(`${rtspCentral.api}/api/streams?name=cam3&src=demo:`, {
        method: "PUT",
        headers: auth,
      });
      expect(put.status).toBeLessThan(300);
      await until(
        "cam3 at the edge",
        10_000,
        async () => "cam3" in await cached.json<Streams>("/api/streams"),
      );
      const reader = new Reader(cached.rtsp("cam3"));
      await reader.grows(10, 30_000);
      await reader.stop();
      const del = await fetch(`${rtspCentral.api}/api/streams?src=cam3`, { method: "DELETE", headers: auth });
      expect(del.status).toBeLessThan(300);
      await until(
        "cam3 gone from the edge",
        10_000,
        async () => !("cam3" in await cached.json<Streams>("/api/streams")),
      );
    },
    60_000,
  );

  test("a central without an RTSP listener is pulled as MPEG-TS over its API URL", async () => {
    const streams = await overTs.json<Streams>("/api/streams");
    expect(streams.cam.sources).toEqual([
      `http://edge:***@127.0.0.1:${tsCentral.apiPort}/api/stream.ts?src=cam`,
    ]);
    const reader = new Reader(overTs.rtsp("cam"));
    readers.push(reader);
    await reader.grows(20, 30_000);
    expect(await upstream(tsCentral, "cam")).toBe(1);
  }, 60_000);
});

describe.skipIf(!hasFfmpeg)("edge with several central servers (needs ffmpeg)", () => {
  const dir = tempDir();
  let first: StromProc;
  let second: StromProc;
  let edge: StromProc;
  let reader: Reader | undefined;

  beforeAll(async () => {
    [first, second] = [
      await central(dir.path, "central-1", true),
      await central(dir.path, "central-2", true),
    ];
    const [api, rtsp] = [await freePort(), await freePort()];
    edge = new StromProc(
      "edge",
      dir.path,
      [
        `api: {listen: "127.0.0.1:${api}"}`,
        `rtsp: {listen: "127.0.0.1:${rtsp}"}`,
        `webrtc: {listen: ""}`,
        `log: {level: debug, format: text}`,
        `edge:`,
        `  central_server:`,
        `    - http://edge:p%40ss%20w@127.0.0.1:${first.apiPort}`,
        `    - http://edge:p%40ss%20w@127.0.0.1:${second.apiPort}`,
        `  routing: {strategy: first, fallback: round-robin}`,
        // Well past the test: the move must come from the failed stream, not from the periodic re-read.
        `  refresh: 5m`,
        ``,
      ].join("\n"),
      api,
      rtsp,
    );
    await Promise.all([first.start(), second.start()]);
    await edge.start();
  }, 120_000);

  afterAll(async () => {
    await reader?.stop();
    await Promise.allSettled([edge, first, second].map((p) => p?.stop("SIGKILL")));
    dir.cleanup();
  }, 30_000);

  test(
    "the edge uses the first central, and when it dies moves its streams to the next within seconds, keeping its viewer",
    async () => {
      const streams = await edge.json<Streams>("/api/streams");
      expect(streams.cam.sources).toEqual([`rtsp://edge:***@127.0.0.1:${first.rtspPort}/cam`]);
      reader = new Reader(edge.rtsp("cam"));
      await reader.grows(20, 30_000);
      expect(await upstream(first, "cam")).toBe(1);
      expect(await upstream(second, "cam")).toBe(0);

      await first.stop("SIGKILL");
      const at = reader.frames();
      await until("the edge to pull cam from the second central", 15_000, async () => {
        const now = await edge.json<Streams>("/api/streams");
        return now.cam.sources[0] === `rtsp://edge:***@127.0.0.1:${second.rtspPort}/cam`;
      });
      // The same viewer decodes the second central's frames.
      await reader.grows(30, 30_000, at);
      expect(reader.proc.exited).toBe(false);
      expect(await upstream(second, "cam")).toBe(1);
    },
    90_000,
  );
});
