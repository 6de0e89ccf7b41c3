import { afterAll, describe, expect, it } from "bun:test";
import { buildAdtsFrame } from "../../codec/aac/adts.ts";
import { avccToAnnexb } from "../../codec/annexb/annexb.ts";
import { splitAvcc } from "../../codec/annexb/avcc.ts";
import { fmtpParam } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { Sender } from "../../core/fanout.ts";
import { dialSource, hasScheme, unregisterSource } from "../../core/registry.ts";
import { DemoProducer } from "./producer.ts";
import { registerDemoSource } from "./register.ts";
import { getEnv } from "../../runtime/env.ts";
import { removeFile, writeFile } from "../../runtime/fs.ts";
import { spawn } from "../../runtime/process.ts";

/** Runs a command to the end (bounded) and returns its exit code and output. */
async function run(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { stdout: "pipe", stderr: "pipe", timeoutMs: 10_000 });
  const [stdout, stderr, status] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code: status.code, stdout, stderr };
}

/** Collects frames of one media until `count` arrived or `timeoutMs` passed. */
function collect(producer: DemoProducer, media: Media, count: number, timeoutMs: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  const receiver = producer.track(media, media.codecs[0]);
  return new Promise((resolve) => {
    let sender: Sender | undefined = undefined;
    const done = () => {
      clearTimeout(timer);
      sender?.close();
      resolve(frames);
    };
    const timer = setTimeout(done, timeoutMs);
    sender = new Sender(media, media.codecs[0], (frame) => {
      frames.push(frame);
      if (frames.length >= count) done();
    }, { capacity: 4096 });
    receiver.addSender(sender);
  });
}

function nalTypes(avcc: Uint8Array): number[] {
  return [...splitAvcc(avcc)].map((nal) => nal[0] & 0x1f);
}

const producers: DemoProducer[] = [];
function make(speed = 1): DemoProducer {
  const p = new DemoProducer({ speed });
  producers.push(p);
  return p;
}

afterAll(async () => {
  for (const p of producers) await p.stop();
});

describe("DemoProducer", () => {
  it("offers recvonly H.264 and AAC medias with fmtp from the clip", () => {
    const [video, audio, ...rest] = make().medias();
    expect(rest).toEqual([]);
    expect(video.kind).toBe("video");
    expect(video.direction).toBe("recvonly");
    expect(video.codecs[0].name).toBe("H264");
    expect(video.codecs[0].clockRate).toBe(90000);
    const vf = video.codecs[0].fmtp;
    expect(fmtpParam(vf, "packetization-mode")).toBe("1");
    // Constrained baseline (42 c0), level 3.0 (1e) as x264 picked for 640x360 at 25 fps.
    expect(fmtpParam(vf, "profile-level-id")).toMatch(/^42c0[0-9a-f]{2}$/);
    const sprop = fmtpParam(vf, "sprop-parameter-sets")!.split(",");
    expect(sprop.length).toBe(2);
    expect(atob(sprop[0]).charCodeAt(0) & 0x1f).toBe(7);
    expect(atob(sprop[1]).charCodeAt(0) & 0x1f).toBe(8);

    expect(audio.kind).toBe("audio");
    expect(audio.direction).toBe("recvonly");
    expect(audio.codecs[0]).toMatchObject({ name: "MPEG4-GENERIC", clockRate: 48000, channels: 1 });
    expect(audio.codecs[0].fmtp).toBe(
      "streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1188",
    );
  });

  it("returns the same receiver for repeated track() calls", () => {
    const p = make();
    const [video, audio] = p.medias();
    expect(p.track(video, video.codecs[0])).toBe(p.track(video, video.codecs[0]));
    expect(p.track(audio, audio.codecs[0])).not.toBe(p.track(video, video.codecs[0]));
  });

  it("paces video at about 25 fps in real time", async () => {
    const p = make();
    const [video] = p.medias();
    const got = collect(p, video, 1000, 1000);
    const running = p.start();
    const frames = await got;
    expect(frames.length).toBeGreaterThanOrEqual(20);
    expect(frames.length).toBeLessThanOrEqual(45);
    await p.stop();
    await running; // resolves on stop
  });

  it("starts with a keyframe carrying SPS and PPS", async () => {
    const p = make(10);
    const [video] = p.medias();
    const got = collect(p, video, 30, 1500);
    p.start();
    const frames = await got;
    await p.stop();
    expect(frames[0].keyframe).toBe(true);
    expect(nalTypes(frames[0].data)).toEqual(expect.arrayContaining([7, 8, 5]));
    // Every keyframe carries the parameter sets, so a viewer can start at any of them.
    const key = frames.find((f, i) => i > 0 && f.keyframe)!;
    expect(nalTypes(key.data).slice(0, 2)).toEqual([7, 8]);
    expect(nalTypes(frames[1].data)).toEqual([1]);
  });

  it("keeps timestamps increasing across the loop point", async () => {
    const p = make(25);
    const [video, audio] = p.medias();
    // 3.84 s clip = 96 video and 180 audio frames; collect more than two loops.
    const gotVideo = collect(p, video, 220, 3000);
    const gotAudio = collect(p, audio, 400, 3000);
    p.start();
    const [vf, af] = await Promise.all([gotVideo, gotAudio]);
    await p.stop();
    expect(vf.length).toBe(220);
    expect(af.length).toBe(400);
    for (let i = 0; i < vf.length; i++) {
      expect(vf[i].timestamp).toBe(i * 3600);
      expect(vf[i].keyframe).toBe((i % 96) % 25 === 0);
    }
    for (let i = 0; i < af.length; i++) expect(af[i].timestamp).toBe(i * 1024);
    // The clip itself repeats: frame 96 is frame 0 again (same bytes).
    expect(vf[96].data).toBe(vf[0].data);
    expect(af[180].data).toBe(af[0].data);
  });

  it("resolves start() on stop() and ignores start() after stop()", async () => {
    const p = make();
    const running = p.start();
    expect(p.start()).toBe(running);
    await p.stop();
    await p.stop();
    await running;
    const q = make();
    await q.stop();
    await q.start();
    expect(q.info()).toMatchObject({ format: "demo", url: "demo:" });
  });

  it("produces H.264 that ffprobe decodes as 640x360 without errors", async () => {
    const p = make(25);
    const [video] = p.medias();
    // ~2 s of frames plus the loop point (frame 96).
    const got = collect(p, video, 110, 3000);
    p.start();
    const frames = await got;
    await p.stop();
    expect(frames.length).toBe(110);
    const file = `${getEnv("TMPDIR") || "/tmp"}/strom-demo-${crypto.randomUUID()}.h264`;
    try {
      const total = frames.reduce((n, f) => n + f.data.length, 0);
      const annexb = new Uint8Array(total);
      let at = 0;
      for (const f of frames) {
        annexb.set(avccToAnnexb(f.data), at);
        at += f.data.length;
      }
      await writeFile(file, annexb);
      const probe = await run("ffprobe", [
        "-v",
        "error",
        "-count_frames",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=codec_name,width,height,nb_read_frames",
        "-of",
        "json",
        file,
      ]);
      expect(probe.stderr).toBe("");
      expect(probe.code).toBe(0);
      const stream = JSON.parse(probe.stdout).streams[0];
      expect(stream).toMatchObject({ codec_name: "h264", width: 640, height: 360 });
      expect(Number(stream.nb_read_frames)).toBe(110);
      // A full decode must not report a single error (-xerror stops at the first one).
      const decode = await run("ffmpeg", ["-v", "error", "-xerror", "-i", file, "-f", "null", "-"]);
      expect(decode.stderr).toBe("");
      expect(decode.code).toBe(0);
    } finally {
      await removeFile(file).catch(() => {});
    }
  });

  it("produces AAC that ffmpeg decodes without errors", async () => {
    const p = make(25);
    const [, audio] = p.medias();
    // ~4.3 s of audio, across the loop point (frame 180).
    const got = collect(p, audio, 200, 3000);
    p.start();
    const frames = await got;
    await p.stop();
    expect(frames.length).toBe(200);
    const adts = frames.map((f) =>
      buildAdtsFrame({ objectType: 2, sampleRate: 48000, channelConfiguration: 1 }, f.data)
    );
    const bytes = new Uint8Array(adts.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of adts) {
      bytes.set(a, at);
      at += a.length;
    }
    const file = `${getEnv("TMPDIR") || "/tmp"}/strom-demo-${crypto.randomUUID()}.aac`;
    try {
      await writeFile(file, bytes);
      const decode = await run("ffmpeg", ["-v", "error", "-xerror", "-i", file, "-f", "null", "-"]);
      expect(decode.stderr).toBe("");
      expect(decode.code).toBe(0);
      const probe = await run("ffprobe", [
        "-v",
        "error",
        "-show_entries",
        "stream=codec_name,profile,sample_rate,channels",
        "-of",
        "json",
        file,
      ]);
      expect(JSON.parse(probe.stdout).streams[0]).toMatchObject({
        codec_name: "aac",
        profile: "LC",
        sample_rate: "48000",
        channels: 1,
      });
    } finally {
      await removeFile(file).catch(() => {});
    }
  });

  it("registers the demo scheme only when asked", async () => {
    unregisterSource("demo");
    expect(hasScheme("demo")).toBe(false);
    registerDemoSource();
    try {
      const producer = await dialSource("demo:", {
        streamName: "demo",
        signal: new AbortController().signal,
      });
      expect(producer).toBeInstanceOf(DemoProducer);
      await producer.stop();
    } finally {
      unregisterSource("demo");
    }
  });
});
