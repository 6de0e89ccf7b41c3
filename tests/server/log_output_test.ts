// The `log:` section end to end: a log file rotated by size keeping N old files (plain and gzip),
// JSON lines that parse (with log.time), per-module levels, and debug.dump_sdp printing the SDP an
// RTSP source answers (strom's own RTSP server plays the camera).
import { afterAll, describe, expect, it } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { waitFor } from "../../lib/core/_testing.ts";
import { createServerLog, logFilePath } from "../../server/log_setup.ts";
import { startServer } from "../../server/server.ts";
import { freePort } from "../_support/net.ts";
import { Viewer } from "../webrtc/_peer.ts";

const dir = mkdtempSync(join(tmpdir(), "strom-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean);

describe("log file rotation", () => {
  it("starts a new file at max_size and keeps max_files old ones, newest in <path>.1", async () => {
    const path = join(dir, "plain", "strom.log");
    await import("node:fs").then((fs) => fs.mkdirSync(join(dir, "plain")));
    const { log, close } = createServerLog({
      level: "info",
      format: "text",
      output: `file:${path}`,
      rotation: { max_size: 2000, max_files: 3, compress: false },
    }, []);
    // Each line is ~100 bytes: 300 lines are ~30 KB, far more than 4 files of 2000 bytes hold.
    for (let i = 0; i < 300; i++) log.info(`line ${String(i).padStart(4, "0")} ${"x".repeat(60)}`);
    await close();

    const files = readdirSync(join(dir, "plain")).sort();
    expect(files).toEqual(["strom.log", "strom.log.1", "strom.log.2", "strom.log.3"]);
    for (const f of files) expect(statSync(join(dir, "plain", f)).size).toBeLessThanOrEqual(2000);
    // Oldest kept file first: numbers keep rising across files and end with the last line.
    const seq = ["strom.log.3", "strom.log.2", "strom.log.1", "strom.log"].flatMap((f) =>
      lines(join(dir, "plain", f)).map((l) => Number(/line (\d+)/.exec(l)![1]))
    );
    for (let i = 1; i < seq.length; i++) expect(seq[i]).toBe(seq[i - 1] + 1);
    expect(seq.at(-1)).toBe(299);
    expect(seq.length).toBeGreaterThan(40);
  });

  it("gzips old files with compress: true", async () => {
    const sub = join(dir, "gz");
    await import("node:fs").then((fs) => fs.mkdirSync(sub));
    const path = join(sub, "strom.log");
    const { log, close } = createServerLog({
      level: "info",
      output: `file:${path}`,
      rotation: { max_size: 1000, max_files: 2, compress: true },
    }, []);
    for (let i = 0; i < 60; i++) log.info(`entry ${i} ${"y".repeat(50)}`);
    await close();
    expect(readdirSync(sub).sort()).toEqual(["strom.log", "strom.log.1.gz", "strom.log.2.gz"]);
    const newest = gunzipSync(readFileSync(join(sub, "strom.log.1.gz"))).toString("utf8");
    const current = lines(path);
    const lastOld = Number(/entry (\d+)/.exec(newest.trim().split("\n").at(-1)!)![1]);
    const firstNow = Number(/entry (\d+)/.exec(current[0])![1]);
    expect(firstNow).toBe(lastOld + 1);
  });

  it("appends to an existing file and counts its size", async () => {
    const sub = join(dir, "append");
    await import("node:fs").then((fs) => fs.mkdirSync(sub));
    const path = join(sub, "strom.log");
    const rotation = { max_size: 600, max_files: 1, compress: false };
    for (let round = 0; round < 2; round++) {
      const { log, close } = createServerLog({ level: "info", output: `file:${path}`, rotation }, []);
      for (let i = 0; i < 4; i++) log.info(`round ${round} ${i} ${"z".repeat(60)}`);
      await close();
    }
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(existsSync(`${path}.2`)).toBe(false);
    expect(statSync(path).size).toBeLessThanOrEqual(600);
  });
});

describe("log format and levels", () => {
  it("writes JSON lines that parse, with UNIXMS times", async () => {
    const path = join(dir, "json.log");
    const { log, close } = createServerLog({ level: "debug", format: "json", time: "UNIXMS", output: `file:${path}` }, []);
    const before = Date.now();
    log.child({ module: "rtsp" }).debug("client connected", { remote: "127.0.0.1:5000", n: 1, quote: 'a "b"\nc' });
    log.warn("slow viewer", { drops: 3 });
    await close();
    const parsed = lines(path).map((l) => JSON.parse(l));
    expect(parsed).toHaveLength(2);
    expect(parsed[0]).toMatchObject({ level: "debug", msg: "client connected", module: "rtsp", n: 1, quote: 'a "b"\nc' });
    expect(typeof parsed[0].time).toBe("number");
    expect(parsed[0].time).toBeGreaterThanOrEqual(before);
    expect(parsed[1]).toMatchObject({ level: "warn", msg: "slow viewer", drops: 3 });
  });

  it("UNIXNANO stays an exact integer in JSON and text", async () => {
    const path = join(dir, "nano.log");
    const { log, close } = createServerLog({ level: "info", format: "json", time: "UNIXNANO", output: `file:${path}` }, []);
    log.info("tick");
    await close();
    const line = lines(path)[0];
    expect(line).toMatch(/^\{"time":\d{19},"level":"info","msg":"tick"\}$/);
  });

  it("filters per module: log.rtsp/log.api levels override log.level for that module only", async () => {
    const path = join(dir, "modules.log");
    const { log, close } = createServerLog({
      level: "info",
      output: `file:${path}`,
      rtsp: "trace",
      api: "error",
      webrtc: "disabled",
    }, []);
    const rtsp = log.child({ module: "rtsp" });
    rtsp.trace("rtsp trace shown");
    rtsp.child({ session: 1 }).debug("rtsp session debug shown");
    log.child({ module: "api" }).warn("api warn hidden");
    log.child({ module: "api" }).error("api error shown");
    log.child({ module: "webrtc" }).error("webrtc error hidden");
    log.child({ module: "streams" }).debug("streams debug hidden");
    log.child({ module: "streams" }).info("streams info shown");
    // A stream's logger handed to a source that sets its own module takes that module's level.
    log.child({ module: "streams" }).child({ stream: "cam" }).child({ module: "rtsp" }).debug("source debug shown");
    await close();
    const msgs = lines(path).map((l) => l.split(" ").slice(2).join(" "));
    expect(msgs.map((m) => m.replace(/ \w+=.*$/, ""))).toEqual([
      "rtsp trace shown",
      "rtsp session debug shown",
      "api error shown",
      "streams info shown",
      "source debug shown",
    ]);
  });

  it("level: disabled still writes modules given a level of their own", async () => {
    const path = join(dir, "disabled.log");
    const { log, close } = createServerLog({ level: "disabled", output: `file:${path}`, rtmp: "info" }, []);
    log.error("root hidden");
    log.child({ module: "rtsp" }).error("rtsp hidden");
    log.child({ module: "rtmp" }).info("rtmp shown");
    await close();
    expect(lines(path).map((l) => l.split(" ").slice(2).join(" "))).toEqual(["rtmp shown module=rtmp"]);
  });

  it("output as a bare path (the go2rtc seed article's form) is a file, rotated like file:<path>; \"\" keeps lines in memory only", async () => {
    const path = join(dir, "seed", "strom.log");
    const { log, close } = createServerLog({
      level: "info",
      output: path,
      rotation: { max_size: 200, max_files: 2, compress: false },
    }, []);
    for (let i = 0; i < 10; i++) log.info(`seed entry ${i} ${"x".repeat(40)}`);
    await close();
    expect(lines(path).length).toBeGreaterThan(0);
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(logFilePath("/var/log/go2rtc/go2rtc.log")).toBe("/var/log/go2rtc/go2rtc.log");
    expect(logFilePath("strom.log")).toBe("strom.log");
    expect([logFilePath("stdout"), logFilePath("stderr"), logFilePath("")]).toEqual([undefined, undefined, undefined]);
    const memory = createServerLog({ level: "info", output: "" }, []);
    memory.log.info("kept for /api/log");
    expect(memory.buffer.text()).toContain("kept for /api/log");
    await memory.close();
  });
});

describe("debug.dump_sdp", () => {
  async function runPull(debug: boolean): Promise<string[]> {
    const rtspPort = await freePort();
    const path = join(dir, `sdp-${debug}.log`);
    const config = {
      api: { listen: "127.0.0.1:0" },
      rtsp: { listen: `127.0.0.1:${rtspPort}` },
      log: { level: "warn", output: `file:${path}`, format: "json" },
      debug: { dump_sdp: debug },
      streams: { cam: "demo:", pull: `rtsp://127.0.0.1:${rtspPort}/cam` },
      preload: { pull: "video" },
    };
    const server = await startServer({ configSources: [JSON.stringify(config)], handleSignals: false });
    try {
      await waitFor(() => server.hub.get("pull")!.info().producers.some((p) => (p as { state: string }).state === "running"), 10_000);
    } finally {
      await server.close();
    }
    return lines(path);
  }

  it("logs the SDP an RTSP source answers to DESCRIBE, at info, with log.level warn", async () => {
    const logged = (await runPull(true)).map((l) => JSON.parse(l));
    const source = logged.find((r) => r.msg === "rtsp: DESCRIBE answer" && r.url);
    expect(source).toMatchObject({ level: "info", module: "rtsp", stream: "pull", dump: "sdp" });
    expect(source.sdp).toMatch(/^v=0\r?\n/);
    expect(source.sdp).toMatch(/m=video \d+ RTP\/AVP \d+/);
    // The server side answering that DESCRIBE dumps the same SDP.
    expect(logged.some((r) => r.msg === "rtsp: DESCRIBE answer" && !r.url && /m=video/.test(r.sdp))).toBe(true);
  }, 20_000);

  it("writes no SDP without it", async () => {
    const logged = await runPull(false);
    expect(logged.filter((l) => l.includes("v=0"))).toEqual([]);
  }, 20_000);
});

describe("debug.dump_sdp with WebRTC", () => {
  it("logs the offer of a werift viewer and strom's answer, with the stream's name", async () => {
    const path = join(dir, "sdp-webrtc.log");
    const config = {
      api: { listen: "127.0.0.1:0" },
      webrtc: { listen: "127.0.0.1:0" },
      log: { level: "error", output: `file:${path}`, format: "json" },
      debug: { dump_sdp: true },
      streams: { cam: "demo:" },
    };
    const server = await startServer({ configSources: [JSON.stringify(config)], handleSignals: false });
    const viewer = new Viewer();
    try {
      const offer = await viewer.offer();
      const res = await fetch(`${server.urls[0]}/api/webrtc?src=cam`, {
        method: "POST",
        headers: { "content-type": "application/sdp" },
        body: offer,
      });
      expect(res.status).toBe(201);
      const answer = await res.text();
      const logged = lines(path).map((l) => JSON.parse(l));
      expect(logged.find((r) => r.msg === "webrtc offer")).toMatchObject({ level: "info", module: "webrtc", stream: "cam", sdp: offer });
      expect(logged.find((r) => r.msg === "webrtc answer")).toMatchObject({ level: "info", module: "webrtc", stream: "cam", sdp: answer });
    } finally {
      await viewer.close();
      await server.close();
    }
  }, 20_000);
});
