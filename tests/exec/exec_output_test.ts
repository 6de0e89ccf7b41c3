// exec: and ffmpeg: sources publishing into strom's own RTSP server through {output} (go2rtc's RTSP
// flow), G.711 outputs, #audio=auto and #backchannel=1, each checked with ffmpeg/ffprobe as the
// real peers. A whole server as users run it, RTSP on a free loopback port.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { AudioTalker } from "../../lib/core/backchannel.ts";
import { silentLogger } from "../../lib/core/log.ts";
import { readFile, removeFile } from "../../lib/runtime/fs.ts";
import { getEnv } from "../../lib/runtime/env.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe, hasEncoder, run } from "../_support/ffmpeg.ts";
import { hasTool } from "../_support/process.ts";
import { freePort } from "../_support/net.ts";

const hasFfmpeg = (await hasTool("ffmpeg")) && (await hasTool("ffprobe"));
const hasX264 = hasFfmpeg && (await hasEncoder("libx264"));

// A marker in the command line, so the test can tell whether the process is still running.
const MARK = "testsrc2=size=176x144:rate=24";
const EXEC_OUT = `exec:ffmpeg -hide_banner -loglevel error -re -f lavfi -i ${MARK} ` +
  "-c:v libx264 -preset ultrafast -tune zerolatency -g 24 -f rtsp -rtsp_transport tcp {output}";

/** Whether a process whose command line contains `text` runs. */
async function running(text: string): Promise<boolean> {
  const ps = await run("ps", ["-eo", "args"], 5_000);
  return new TextDecoder().decode(ps.stdout).split("\n").some((l) => l.includes(text) && !l.startsWith("ps "));
}

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function serve(config: Record<string, unknown>): Promise<{ server: RunningServer; rtsp: string }> {
  const port = await freePort();
  const server = await startServer({
    configSources: [JSON.stringify({ api: { listen: "127.0.0.1:0" }, rtsp: { listen: `127.0.0.1:${port}` }, ...config })],
    log: silentLogger,
    handleSignals: false,
  });
  return { server, rtsp: `rtsp://127.0.0.1:${port}` };
}

describe.skipIf(!hasX264)("exec: with {output} (needs ffmpeg with libx264)", () => {
  let server: RunningServer;
  let rtsp = "";
  beforeAll(async () => {
    ({ server, rtsp } = await serve({ streams: { out: EXEC_OUT } }));
  }, 20_000);
  afterAll(async () => {
    await server?.close();
  });

  it("runs the command, takes what it publishes over RTSP, and kills it when nobody watches", async () => {
    const probe = await ffprobe(`${rtsp}/out`, ["-rtsp_transport", "tcp"], 30_000);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(["h264"]);
    expect(probe.streams[0]).toMatchObject({ width: 176, height: 144 });
    const info = await fetch(`${server.urls[0]}/api/streams?src=out`).then((r) => r.json());
    expect(info.producers[0].url).toBe(EXEC_OUT);
    // The private path is not a stream of the server.
    const all = await fetch(`${server.urls[0]}/api/streams`).then((r) => r.json());
    expect(Object.keys(all)).toEqual(["out"]);
    // The stream's grace period (5 s) runs out, the source stops, the process is gone.
    await waitUntil("the exec process to be killed", async () => !(await running(MARK)), 15_000);
  }, 45_000);
});

describe.skipIf(!hasX264)("exec: with {output} when RTSP auth is on", () => {
  let server: RunningServer;
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
    server = await startServer({
      configSources: [JSON.stringify({
        api: { listen: "127.0.0.1:0" },
        rtsp: { listen: `127.0.0.1:${port}`, username: "u", password: "p" },
        streams: { out: EXEC_OUT },
      })],
      log: silentLogger,
      handleSignals: false,
    });
  }, 20_000);
  afterAll(async () => {
    await server?.close();
  });

  it("logs in to strom's RTSP server with the internal account", async () => {
    const probe = await ffprobe(`rtsp://u:p@127.0.0.1:${port}/out`, ["-rtsp_transport", "tcp"], 30_000);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(["h264"]);
  }, 45_000);
});

describe.skipIf(!hasFfmpeg)("ffmpeg: G.711 outputs and #audio=auto", () => {
  let server: RunningServer;
  let rtsp = "";
  beforeAll(async () => {
    ({ server, rtsp } = await serve({
      streams: {
        demo: "demo:",
        pcma: "ffmpeg:demo#video=copy#audio=pcma",
        pcmu_only: "ffmpeg:demo#audio=pcmu/16000",
        auto: "ffmpeg:demo#audio=auto",
      },
    }));
  }, 20_000);
  afterAll(async () => {
    await server?.close();
  });

  it("#audio=pcma next to copied video: ffprobe reads H.264 and G.711 A-law back", async () => {
    const probe = await ffprobe(`${rtsp}/pcma`, ["-rtsp_transport", "tcp"], 30_000);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["h264", "pcm_alaw"]);
    expect(probe.streams.find((s) => s.codec_type === "audio")).toMatchObject({ sample_rate: "8000", channels: 1 });
  }, 45_000);

  it("#audio=pcmu/16000 alone: G.711 mu-law at 16 kHz", async () => {
    const probe = await ffprobe(`${rtsp}/pcmu_only`, ["-rtsp_transport", "tcp"], 30_000);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(["pcm_mulaw"]);
    expect(probe.streams[0]).toMatchObject({ sample_rate: "16000" });
  }, 45_000);

  it("#audio=auto makes the codec the consumer picked", async () => {
    // An RTSP viewer asking for PCMU (PCMU/8000 in go2rtc's short form) gets ffmpeg making it.
    const probe = await ffprobe(`${rtsp}/auto?audio=pcmu`, ["-rtsp_transport", "tcp"], 30_000);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(["pcm_mulaw"]);
    expect(probe.streams[0]).toMatchObject({ sample_rate: "8000" });
    const info = await fetch(`${server.urls[0]}/api/streams?src=auto`).then((r) => r.json());
    expect(info.producers[0].connection.url).toBe("ffmpeg:demo#audio=auto");
  }, 45_000);
});

describe.skipIf(!hasFfmpeg)("exec: #backchannel=1", () => {
  let server: RunningServer;
  const dir = getEnv("TMPDIR") ?? "/tmp";
  const out = `${dir}/strom-exec-backchannel-${Date.now()}.wav`;
  beforeAll(async () => {
    ({ server } = await serve({
      streams: {
        speaker: `exec:ffmpeg -hide_banner -loglevel error -f alaw -ar 8000 -ac 1 -i pipe:0 -c:a pcm_s16le ${out}` +
          "#backchannel=1#killsignal=15#killtimeout=5",
      },
    }));
  }, 20_000);
  afterAll(async () => {
    await server?.close();
    await removeFile(out).catch(() => {});
  });

  it("writes a talker's audio to the command's stdin", async () => {
    const stream = server.hub.get("speaker")!;
    const talker = new AudioTalker([{ name: "PCMA", clockRate: 8000 }]);
    await stream.addConsumer(talker);
    expect(talker.codec?.name).toBe("PCMA");
    // One second of A-law silence-ish tone in 20 ms frames.
    for (let i = 0; i < 50; i++) {
      const data = new Uint8Array(160);
      for (let j = 0; j < 160; j++) data[j] = j % 2 ? 0xd5 : 0x55;
      talker.push({ timestamp: i * 160, keyframe: true, data });
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 300));
    await stream.removeConsumer(talker);
    await server.close();
    const wav = await readFile(out);
    expect(wav.length).toBeGreaterThan(44 + 8000);
    const probe = await ffprobe(out);
    expect(probe.streams[0]).toMatchObject({ codec_name: "pcm_s16le", sample_rate: "8000" });
    expect(Number(probe.format?.duration)).toBeGreaterThan(0.9);
  }, 30_000);
});

describe.skipIf(!hasFfmpeg)("ffmpeg.output set (go2rtc's RTSP output template)", () => {
  let server: RunningServer;
  let rtsp = "";
  beforeAll(async () => {
    ({ server, rtsp } = await serve({
      ffmpeg: { output: "-rtsp_transport tcp -f rtsp {output}" },
      streams: {
        demo: "demo:",
        copy: "ffmpeg:demo#video=copy",
        aac: "ffmpeg:demo#audio=aac/16000",
        alaw: "ffmpeg:demo#audio=pcma",
      },
    }));
  }, 20_000);
  afterAll(async () => {
    await server?.close();
  });

  it("ffmpeg publishes to strom over RTSP instead of the MPEG-TS pipe", async () => {
    const probe = await ffprobe(`${rtsp}/copy`, ["-rtsp_transport", "tcp"], 30_000);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(["h264"]);
    const info = await fetch(`${server.urls[0]}/api/streams?src=copy`).then((r) => r.json());
    expect(info.producers[0].connection).toMatchObject({ format: "exec", protocol: "rtsp" });
  }, 45_000);

  it("audio-only outputs come over go2rtc's pipes: ADTS AAC and WAV G.711", async () => {
    const aac = await ffprobe(`${rtsp}/aac`, ["-rtsp_transport", "tcp"], 30_000);
    expect(aac.streams.map((s) => s.codec_name)).toEqual(["aac"]);
    expect(aac.streams[0]).toMatchObject({ sample_rate: "16000" });
    const alaw = await ffprobe(`${rtsp}/alaw`, ["-rtsp_transport", "tcp"], 30_000);
    expect(alaw.streams.map((s) => s.codec_name)).toEqual(["pcm_alaw"]);
    const info = await fetch(`${server.urls[0]}/api/streams?src=alaw`).then((r) => r.json());
    expect(info.producers[0].connection).toMatchObject({ format: "wav", protocol: "pipe" });
  }, 45_000);
});
