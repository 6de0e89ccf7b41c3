/**
 * Edge mode (issue 13): a strom with `edge.origin` pulls its streams from a central strom and keeps
 * its viewers through an origin outage. Real peers: the origin is a strom process serving the `demo:`
 * clip, the edge another strom process (no NATS needed), the viewer ffmpeg.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { Reader, sleep, StromProc, tempDir, until } from "./_cluster.ts";

const hasFfmpeg = await hasTool("ffmpeg");

describe.skipIf(!hasFfmpeg)("edge (needs ffmpeg)", () => {
  const dir = tempDir();
  let origin: StromProc;
  let edge: StromProc;
  let reader: Reader | undefined;

  beforeAll(async () => {
    const [oApi, oRtsp, eApi, eRtsp] = [await freePort(), await freePort(), await freePort(), await freePort()];
    origin = new StromProc("origin", dir.path, [
      `api: {listen: "127.0.0.1:${oApi}"}`,
      `rtsp: {listen: "127.0.0.1:${oRtsp}"}`,
      `webrtc: {listen: ""}`,
      `streams: {cam: "demo:"}`,
      ``,
    ].join("\n"), oApi, oRtsp);
    edge = new StromProc("edge", dir.path, [
      `api: {listen: "127.0.0.1:${eApi}"}`,
      `rtsp: {listen: "127.0.0.1:${eRtsp}"}`,
      `webrtc: {listen: ""}`,
      `log: {level: info, format: text}`,
      // No sources of its own: the edge reads rtsp://<origin>/cam.
      `streams: {cam: }`,
      `edge: {origin: "rtsp://127.0.0.1:${oRtsp}"}`,
      ``,
    ].join("\n"), eApi, eRtsp);
    await Promise.all([origin.start(), edge.start()]);
  }, 90_000);

  afterAll(async () => {
    await reader?.stop();
    await Promise.allSettled([edge?.stop("SIGKILL"), origin?.stop("SIGKILL")]);
    dir.cleanup();
  }, 30_000);

  test("the edge serves the origin's stream and keeps its viewer through a 5 s origin outage", async () => {
    const streams = await edge.json<Record<string, { sources: string[] }>>("/api/streams");
    expect(streams.cam.sources).toEqual([origin.rtsp("cam")]);
    reader = new Reader(edge.rtsp("cam"));
    await reader.grows(30, 30_000);
    expect(await origin.consumers("cam")).toBe(1);

    await origin.stop("SIGKILL");
    const atOutage = reader.frames();
    await sleep(5000);
    // The viewer is still connected to the edge during the outage.
    expect(reader.proc.exited).toBe(false);
    await origin.start();
    // The edge reconnects on its own and the same viewer decodes new frames.
    await reader.grows(40, 45_000, atOutage);
    expect(reader.proc.exited).toBe(false);
    await until("the edge to pull once from the restarted origin", 10_000, async () => (await origin.consumers("cam")) === 1);
  }, 120_000);
});
