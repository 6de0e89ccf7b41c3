// Privacy mode: PUT /api/disabled?src= disconnects a stream's viewers and publishers, refuses new
// ones on every protocol (RTSP with ffprobe and ffmpeg as the peers, HTTP outputs, WHIP), hides
// its snapshot, pauses its preload and recording, and is written to the config file; DELETE
// brings everything back. A `disabled:` entry in the config applies from start-up.
import { afterAll, describe, expect, it } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/core/log.ts";
import { builtinModules } from "../../server/modules/mod.ts";
import { createRecordModule } from "../../server/modules/record.ts";
import { startServer } from "../../server/server.ts";
import { ffmpeg, ffprobe, hasEncoder } from "../_support/ffmpeg.ts";
import { startDemoCamera } from "../_support/demo_camera.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { waitFor } from "../outputs/_server.ts";

const hasFf = (await hasTool("ffmpeg")) && (await hasTool("ffprobe"));
const hasX264 = hasFf && (await hasEncoder("libx264"));

describe.skipIf(!hasFf)("disabled streams (privacy mode)", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it(
    "cuts off and refuses every viewer and publisher, pauses preload and recording, and comes back",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "strom-disabled-"));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const rtspPort = await freePort();
      const file = join(dir, "strom.yaml");
      writeFileSync(
        file,
        [
          "# the house",
          'api: { listen: "127.0.0.1:0" }',
          `rtsp: { listen: "127.0.0.1:${rtspPort}" }`,
          "streams:",
          '  door: "demo:" # front door',
          '  yard: "demo:"',
          "preload:",
          "  door: video",
          `record: { dir: "${join(dir, "rec")}", segment: 1s, streams: [door] }`,
          "disabled:",
          "  yard: holiday # set by hand",
          "hooks:",
          "  on_disabled:",
          `    - command: sh -c 'echo "$STROM_EVENT $STROM_STREAM $STROM_REASON" >> ${
            join(dir, "hooks.log")
          }'`,
          "  on_enabled:",
          `    - command: sh -c 'echo "$STROM_EVENT $STROM_STREAM" >> ${join(dir, "hooks.log")}'`,
          "",
        ].join("\n"),
      );
      const server = await startServer({
        configSources: [file],
        log: silentLogger,
        handleSignals: false,
        modules: [
          ...builtinModules.filter((m) => m.name !== "record"),
          createRecordModule({ checkMs: 500, sync: false }),
        ],
      });
      cleanup.push(() => server.close());
      const base = server.urls[0];
      const api = (path: string, method = "GET", body?: string) =>
        fetch(`${base}${path}`, { method, body, headers: body ? { "Content-Type": "application/sdp" } : {} });
      const info = async (name: string) => await (await api(`/api/streams?src=${name}`)).json();
      const formats = async (name: string) =>
        ((await info(name)).consumers as { format: string }[]).map((c) => c.format);
      const rtsp = (name: string) => `rtsp://127.0.0.1:${rtspPort}/${name}`;
      const segments = () =>
        existsSync(join(dir, "rec", "door")) ? readdirSync(join(dir, "rec", "door")).length : 0;

      // Disabled from the config at start-up: refused, with the reason.
      let probe = await ffprobe(rtsp("yard"), ["-rtsp_transport", "tcp"]).catch((e: Error) => e);
      expect(probe).toBeInstanceOf(Error);
      expect(String(probe)).toContain("503");
      expect(await (await api("/api/disabled")).json()).toMatchObject({ yard: { reason: "holiday" } });

      // door runs: preloaded, recorded, and watched by an RTSP player.
      await waitFor("the preload", async () => (await formats("door")).includes("preload"), 10_000);
      await waitFor("recorded segments", () => segments() >= 2, 15_000);
      const player = spawn("ffmpeg", [
        "-v",
        "error",
        "-rtsp_transport",
        "tcp",
        "-i",
        rtsp("door"),
        "-c",
        "copy",
        "-f",
        "null",
        "-",
      ], {
        stdio: "ignore",
      });
      const playerExit = new Promise<number | null>((r) => player.on("exit", (code) => r(code)));
      cleanup.push(() => void player.kill("SIGKILL"));
      await waitFor("the RTSP player", async () => (await formats("door")).includes("rtsp"), 10_000);

      // Disable: the player is cut off, the preload and the recorder leave, the file says so.
      let res = await api("/api/disabled?src=door&reason=someone%20is%20home", "PUT");
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ door: { reason: "someone is home" } });
      const code = await Promise.race([
        playerExit,
        new Promise((r) => setTimeout(() => r("still running"), 10_000)),
      ]);
      expect(code).not.toBe("still running");
      const door = await info("door");
      expect(door.consumers).toEqual([]);
      expect(door.disabled).toMatchObject({ reason: "someone is home" });
      const yaml = readFileSync(file, "utf8");
      expect(yaml).toContain("# the house");
      expect(yaml).toContain("yard: holiday # set by hand");
      expect(yaml).toMatch(/disabled:\s*\n(\s+\S.*\n)*\s+door: someone is home/);
      const health = await (await api("/api/health")).json();
      expect(health.stream_states.door.state).toBe("disabled");
      expect(health.stream_states.yard.state).toBe("disabled");

      // Every way in is refused, with the reason and the way out.
      probe = await ffprobe(rtsp("door"), ["-rtsp_transport", "tcp"]).catch((e: Error) => e);
      expect(String(probe)).toContain("503");
      for (
        const path of ["/api/frame.jpeg?src=door", "/api/stream.mp4?src=door", "/api/stream.m3u8?src=door"]
      ) {
        res = await api(path);
        expect(res.status).toBe(503);
        const body = await res.json();
        expect(body.error).toBe("StreamDisabledError");
        expect(body.message).toContain("someone is home");
        expect(body.message).toContain("DELETE /api/disabled?src=door");
      }
      res = await api("/api/webrtc?dst=door", "POST", "v=0\r\n");
      expect(res.status).toBe(503);
      // Nothing is recorded meanwhile (1 s segments: a running recorder would add two in 2.5 s).
      const recording = async () =>
        ((await (await api("/api/record")).json()) as { stream: string; state: string }[]).find((r) =>
          r.stream === "door"
        );
      await waitFor("the recording to pause", async () => (await recording())?.state === "waiting", 5000);
      const paused = segments();
      await new Promise((r) => setTimeout(r, 2500));
      expect(segments()).toBeLessThanOrEqual(paused + 1); // at most the segment closed by the pause
      expect(await formats("door")).toEqual([]);

      // Enable: the preload and the recording come back by themselves, players are let in again.
      res = await api("/api/disabled?src=door", "DELETE");
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ enabled: "door" });
      expect(readFileSync(file, "utf8")).not.toContain("someone is home");
      await waitFor("the preload to resume", async () => (await formats("door")).includes("preload"), 10_000);
      const resumed = segments();
      await waitFor("recording to resume", () => segments() >= resumed + 2, 15_000);
      expect((await recording())?.state).toBe("recording");
      // The hooks saw both switches, with the reason (not yard: it was disabled from the start).
      const hooksLog = join(dir, "hooks.log");
      await waitFor(
        "the hooks",
        () => existsSync(hooksLog) && readFileSync(hooksLog, "utf8").includes("enabled door"),
        5000,
      );
      expect(readFileSync(hooksLog, "utf8")).toContain("disabled door someone is home\n");
      expect(readFileSync(hooksLog, "utf8")).not.toContain("yard");
      const ok = await ffprobe(rtsp("door"), ["-rtsp_transport", "tcp"]);
      expect(ok.streams.some((s) => s.codec_type === "video")).toBe(true);
      expect((await info("door")).disabled).toBeUndefined();
      expect(Object.keys(await (await api("/api/disabled")).json())).toEqual(["yard"]);

      // Bad requests: clear errors, nothing written.
      expect((await api("/api/disabled?src=door", "DELETE")).status).toBe(404);
      expect((await api("/api/disabled?src=nope", "PUT")).status).toBe(404);
      expect((await api("/api/disabled", "PUT")).status).toBe(400);
      res = await api(`/api/disabled?src=door&reason=${"x".repeat(201)}`, "PUT");
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("200 characters");
      expect(readFileSync(file, "utf8")).not.toContain("nope");
      expect((await info("door")).disabled).toBeUndefined();
      // A config posted with a changed disabled: section applies at once (door off, yard on).
      const text = readFileSync(file, "utf8").replace(
        "  yard: holiday # set by hand",
        "  door: edited by hand",
      );
      res = await api("/api/config", "POST", text);
      expect(res.status).toBe(200);
      expect((await info("door")).disabled).toMatchObject({ reason: "edited by hand" });
      expect((await info("yard")).disabled).toBeUndefined();
      expect((await api("/api/frame.jpeg?src=yard")).status).toBe(200);
    },
    90_000,
  );

  it.skipIf(!hasX264)(
    "refuses RTSP and RTMP publishers and players (ffmpeg) and lets them in once enabled",
    async () => {
      const [rtspPort, rtmpPort] = [await freePort(), await freePort()];
      const server = await startServer({
        configSources: [JSON.stringify({
          api: { listen: "127.0.0.1:0" },
          rtsp: { listen: `127.0.0.1:${rtspPort}` },
          rtmp: { listen: `127.0.0.1:${rtmpPort}` },
          streams: { push: [], cam: "demo:" },
          disabled: { push: null, cam: "off" },
        })],
        log: silentLogger,
        handleSignals: false,
      });
      cleanup.push(() => server.close());
      const publish = (format: "rtsp" | "flv", url: string) =>
        ffmpeg([
          ...["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "1"],
          ...["-c:v", "libx264", "-preset", "ultrafast", "-f", format],
          ...(format === "rtsp" ? ["-rtsp_transport", "tcp"] : []),
          url,
        ], 20_000);
      const rtspUrl = `rtsp://127.0.0.1:${rtspPort}/push`;
      const rtmpUrl = `rtmp://127.0.0.1:${rtmpPort}/push`;
      const refused = await publish("rtsp", rtspUrl);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("503");
      expect((await publish("flv", rtmpUrl)).code).not.toBe(0);
      const played = await ffprobe(`rtmp://127.0.0.1:${rtmpPort}/cam`).catch((e: Error) => e);
      expect(played).toBeInstanceOf(Error);

      for (const name of ["push", "cam"]) {
        const res = await fetch(`${server.urls[0]}/api/disabled?src=${name}`, { method: "DELETE" });
        expect(res.status).toBe(200);
      }
      const accepted = await publish("rtsp", rtspUrl);
      expect(accepted.stderr).not.toContain("503");
      expect(accepted.code).toBe(0);
      expect((await publish("flv", rtmpUrl)).code).toBe(0);
      const probed = await ffprobe(`rtmp://127.0.0.1:${rtmpPort}/cam`);
      expect(probed.streams.some((s) => s.codec_type === "video")).toBe(true);
    },
    90_000,
  );

  it("a recording still waiting for its camera is not doubled by a disable and enable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strom-disabled-rec-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const cameraPort = await freePort();
    const server = await startServer({
      configSources: [JSON.stringify({
        api: { listen: "127.0.0.1:0" },
        rtsp: { listen: "" },
        streams: { cam: `rtsp://127.0.0.1:${cameraPort}/cam` },
        record: { dir, segment: "1s", streams: ["cam"] },
      })],
      log: silentLogger,
      handleSignals: false,
      modules: [createRecordModule({ checkMs: 500, sync: false })],
    });
    cleanup.push(() => server.close());
    const base = server.urls[0];
    const record = async () =>
      ((await (await fetch(`${base}/api/record`)).json()) as { stream: string; state: string }[])[0];
    await waitFor(
      "the recording to wait for its camera",
      async () => (await record())?.state === "waiting",
      5000,
    );
    expect((await fetch(`${base}/api/disabled?src=cam`, { method: "PUT" })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${base}/api/disabled?src=cam`, { method: "DELETE" })).status).toBe(200);

    // The camera comes up: one recorder attaches, not two.
    cleanup.push(await startDemoCamera(cameraPort));
    await waitFor("the recording to start", async () => (await record())?.state === "recording", 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    const info = await (await fetch(`${base}/api/streams?src=cam`)).json();
    expect(info.consumers.length).toBe(1);
  }, 40_000);
});
