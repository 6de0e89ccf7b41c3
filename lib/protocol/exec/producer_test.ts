import { afterAll, describe, expect, it } from "bun:test";
import process from "node:process";
import { SourceError } from "../../core/errors.ts";
import type { Frame } from "../../core/frame.ts";
import { Sender } from "../../core/fanout.ts";
import { dialSource, unregisterSource } from "../../core/registry.ts";
import { buildFfmpegArgs } from "../ffmpeg/args.ts";
import { registerFfmpegSource } from "../ffmpeg/register.ts";
import { ExecError } from "./process.ts";
import { detectPipeFormat, dialExec, type ExecProducer } from "./producer.ts";
import { registerExecSource } from "./register.ts";

// Test-only check that a pid no longer exists: signal 0 probes without sending anything.
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const producers: ExecProducer[] = [];
afterAll(async () => {
  for (const p of producers) await p.stop();
});

async function dial(url: string, options?: Parameters<typeof dialExec>[1]): Promise<ExecProducer> {
  const p = await dialExec(url, options);
  producers.push(p as ExecProducer);
  return p as ExecProducer;
}

function collect(producer: ExecProducer, count: number, timeoutMs: number, index = 0): Promise<Frame[]> {
  const video = producer.medias()[index];
  const frames: Frame[] = [];
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      sender.close();
      resolve(frames);
    };
    const timer = setTimeout(done, timeoutMs);
    const sender = new Sender(video, video.codecs[0], (frame) => {
      frames.push(frame);
      if (frames.length >= count) done();
    });
    producer.track(video, video.codecs[0]).addSender(sender);
  });
}

const MJPEG = "exec:ffmpeg -hide_banner -re -f lavfi -i testsrc=size=160x120:rate=10 -c:v mjpeg -f mjpeg -";

describe("ExecProducer", () => {
  it("reads JPEG frames from ffmpeg's stdout and kills ffmpeg on stop", async () => {
    const p = await dial(MJPEG);
    expect(p.medias()).toEqual([
      {
        kind: "video",
        direction: "recvonly",
        id: "video",
        codecs: [{ name: "JPEG", clockRate: 90000, payloadType: 26 }],
      },
    ]);
    const got = collect(p, 5, 4000);
    const running = p.start();
    const frames = await got;
    expect(frames.length).toBe(5);
    for (const f of frames) {
      expect([f.data[0], f.data[1]]).toEqual([0xff, 0xd8]);
      expect([f.data.at(-2), f.data.at(-1)]).toEqual([0xff, 0xd9]);
      expect(f.keyframe).toBe(true);
    }
    // Timestamps follow arrival at about 10 fps on the 90 kHz clock.
    const span = frames[4].timestamp - frames[0].timestamp;
    expect(span).toBeGreaterThan(90000 * 0.2);
    expect(span).toBeLessThan(90000 * 1.5);
    expect(p.info()).toMatchObject({ format: "mjpeg", protocol: "pipe" });
    const pid = p.pid;
    expect(alive(pid)).toBe(true);
    await p.stop();
    await running; // a stopped source ends cleanly
    expect(alive(pid)).toBe(false);
  });

  it("demuxes H.264 and AAC from ffmpeg's MPEG-TS on stdout", async () => {
    const p = await dial(
      "exec:ffmpeg -hide_banner -re -f lavfi -i testsrc=size=160x120:rate=10 -f lavfi -i sine=frequency=800:sample_rate=48000 " +
        "-c:v libx264 -preset ultrafast -g 10 -bf 0 -c:a aac -ac 1 -f mpegts -",
    );
    const [video, audio] = p.medias();
    expect(video.kind).toBe("video");
    expect(video.codecs[0].name).toBe("H264");
    expect(video.codecs[0].fmtp).toContain("sprop-parameter-sets=");
    expect(audio.kind).toBe("audio");
    expect(audio.codecs[0]).toMatchObject({ name: "MPEG4-GENERIC", clockRate: 48000 });
    expect(p.info()).toMatchObject({ format: "mpegts", protocol: "pipe" });
    const gotVideo = collect(p, 12, 5000, 0);
    const gotAudio = collect(p, 20, 5000, 1);
    p.start();
    const [vf, af] = await Promise.all([gotVideo, gotAudio]);
    expect(vf.length).toBe(12);
    expect(af.length).toBe(20);
    expect(vf[0].keyframe).toBe(true); // the probe kept the first GOP
    for (let i = 1; i < vf.length; i++) expect(vf[i].timestamp - vf[i - 1].timestamp).toBe(9000);
    for (let i = 1; i < af.length; i++) expect(af[i].timestamp - af[i - 1].timestamp).toBe(1024);
    await p.stop();
    expect(alive(p.pid)).toBe(false);
  });

  it("runs an ffmpeg: URL built for MPEG-TS output", async () => {
    const cmd = buildFfmpegArgs("ffmpeg:virtual?video=testsrc&size=160x120&rate=10#video=h264", {
      defaultOutput: "mpegts",
    });
    expect(cmd.output).toBe("mpegts");
    const p = await dial("exec:" + cmd.commandLine);
    expect(p.medias().map((m) => m.codecs[0].name)).toEqual(["H264"]);
    const got = collect(p, 3, 4000);
    p.start();
    const frames = await got;
    expect(frames.length).toBe(3);
    await p.stop();
  });

  it("runs a command built from an ffmpeg: URL", async () => {
    const cmd = buildFfmpegArgs("ffmpeg:virtual?video=testsrc&size=160x120&rate=10#video=mjpeg");
    expect(cmd.output).toBe("mjpeg");
    const p = await dial("exec:" + cmd.commandLine);
    const got = collect(p, 3, 4000);
    p.start();
    expect((await got).length).toBe(3);
    await p.stop();
    expect(alive(p.pid)).toBe(false);
  });

  it("fails with the exit code and stderr when the command exits at once", async () => {
    let error: unknown;
    try {
      await dial("exec:ffmpeg -hide_banner -i /nonexistent/strom/missing.mp4 -f mjpeg -");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExecError);
    const e = error as ExecError;
    expect(e.code).not.toBe(0);
    expect(e.code).not.toBeNull();
    expect(e.stderr.join("\n")).toContain("No such file or directory");
    expect(e.message).toContain("before writing any media to stdout");
    expect(e.message).toContain("missing.mp4");
  });

  it("rejects start() with the stderr when the command dies after its first frames", async () => {
    const p = await dial(
      "exec:ffmpeg -hide_banner -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 3 -c:v mjpeg -f mjpeg -",
    );
    // 3 frames then exit 0: a clean end.
    await p.start();
    const q = await dial("exec:sh -c 'printf \"\\377\\330\\377\\331\"; echo boom >&2; exit 7'");
    let error: unknown;
    try {
      await q.start();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExecError);
    expect((error as ExecError).code).toBe(7);
    expect((error as ExecError).stderr).toEqual(["boom"]);
  });

  it("gives up after #starttimeout and kills the silent command", async () => {
    const t0 = Date.now();
    let error: unknown;
    try {
      await dial("exec:sleep 30#starttimeout=0.3");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExecError);
    expect((error as Error).message).toContain("within 300 ms");
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it("aborts a dial through the signal", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(dial("exec:sleep 30", { signal: controller.signal })).rejects.toThrow(/aborted/);
  });

  it("refuses {output} without strom's RTSP server, and stdout it cannot read", async () => {
    await expect(dial("exec:ffmpeg -i x -f rtsp {output}")).rejects.toThrow(/RTSP server, which is not running/);
    await expect(dial("exec:ffmpeg -i x -f rtsp {output}")).rejects.toBeInstanceOf(SourceError);
    await expect(dial("exec:echo hello")).rejects.toThrow(/cannot tell the format/);
  });

  it("detects pipe formats from the first bytes", () => {
    expect(detectPipeFormat(new Uint8Array([0xff]))).toBe("more");
    expect(detectPipeFormat(new Uint8Array([0xff, 0xd8]))).toBe("mjpeg");
    const ts = new Uint8Array(376);
    ts[0] = ts[188] = 0x47;
    expect(detectPipeFormat(ts.subarray(0, 100))).toBe("more");
    expect(detectPipeFormat(ts)).toBe("mpegts");
    expect(detectPipeFormat(new Uint8Array([0x68, 0x65, 0x6c]))).toBeUndefined();
    expect(detectPipeFormat(new TextEncoder().encode("RIFF\x24\x00\x00\x00WAVE"))).toBe("wav");
    expect(detectPipeFormat(new TextEncoder().encode("RI"))).toBe("more");
    expect(detectPipeFormat(new Uint8Array([0xff, 0xf1, 0x50, 0x80]))).toBe("adts");
  });

  it("dials ffmpeg: URLs through the registry", async () => {
    registerFfmpegSource({});
    try {
      const producer = await dialSource("ffmpeg:virtual?video=testsrc&size=160x120&rate=10#video=mjpeg", {
        streamName: "t",
        signal: new AbortController().signal,
      });
      producers.push(producer as ExecProducer);
      expect(producer.medias()[0].codecs[0].name).toBe("JPEG");
      await producer.stop();
    } finally {
      unregisterSource("exec");
      unregisterSource("ffmpeg");
    }
  });
});
