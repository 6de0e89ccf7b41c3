import { describe, expect, it } from "bun:test";
import { Sender } from "../../core/fanout.ts";
import type { Frame } from "../../core/frame.ts";
import { SpawnError } from "../../runtime/process.ts";
import { DemoProducer } from "../demo/producer.ts";
import { OpusTranscoder, opusTranscodeArgs, opusTranscoderTakes } from "./opus_transcoder.ts";

const AAC = {
  name: "MPEG4-GENERIC",
  clockRate: 48000,
  channels: 1,
  fmtp: "streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1188",
};

describe("OpusTranscoder", () => {
  it("takes AAC with its config only", () => {
    expect(opusTranscoderTakes(AAC)).toBe(true);
    expect(opusTranscoderTakes({ ...AAC, fmtp: "mode=AAC-hbr" })).toBe(false);
    expect(opusTranscoderTakes({ name: "OPUS", clockRate: 48000, channels: 2 })).toBe(false);
    expect(opusTranscoderTakes({ name: "PCMA", clockRate: 8000 })).toBe(false);
  });

  it("runs a fixed command line: MPEG-TS pipes, 20 ms libopus at 48 kHz stereo", () => {
    const args = opusTranscodeArgs();
    expect(args.join(" ")).toContain("-f mpegts -i pipe:0");
    expect(args.join(" ")).toContain("-c:a libopus -application lowdelay -frame_duration 20");
    expect(args.join(" ")).toContain("-ar 48000 -ac 2");
    expect(args.slice(-3)).toEqual(["-f", "mpegts", "pipe:1"]);
    expect(opusTranscodeArgs()).toEqual(args); // nothing from outside goes in
  });

  it("a missing ffmpeg fails at once with the reason", () => {
    let error: unknown;
    try {
      new OpusTranscoder({ codec: AAC, ffmpegBin: "/nonexistent/ffmpeg", onFrame: () => {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpawnError);
    expect((error as SpawnError).code).toBe("NotFound");
  });

  it("makes Opus on the source's timeline from the demo's AAC, and measures its delay", async () => {
    const demo = new DemoProducer();
    const media = demo.medias().find((m) => m.kind === "audio")!;
    const receiver = await demo.track(media, media.codecs[0]);
    const clock = media.codecs[0].clockRate;
    const out: Frame[] = [];
    const inputs: number[] = [];
    const base = 5_000_000; // a source whose timestamps do not start at 0
    const t = new OpusTranscoder({ codec: media.codecs[0], onFrame: (f) => out.push(f) });
    const sender = new Sender(media, media.codecs[0], (f) => {
      const ts = (f.timestamp + base) >>> 0;
      inputs.push(ts);
      return t.write({ ...f, timestamp: ts });
    });
    receiver.addSender(sender);
    void demo.start();
    try {
      const deadline = Date.now() + 10_000;
      while (out.length < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      sender.close();
      t.close();
      await demo.stop();
    }
    expect(out.length).toBeGreaterThanOrEqual(60);
    const first = Math.round(inputs[0] * 48000 / clock);
    // Within the encoder's priming of the first AAC frame's time, 20 ms apart.
    expect(Math.abs(out[0].timestamp - first)).toBeLessThan(48 * 40);
    expect(((out[10].timestamp - out[9].timestamp) | 0)).toBe(960);
    expect(t.latencyMs).toBeGreaterThan(0);
    await t.exited;
  }, 20_000);
});
