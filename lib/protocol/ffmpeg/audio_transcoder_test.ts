import { describe, expect, it } from "bun:test";
import type { Codec } from "../../core/codec.ts";
import { Receiver, Sender } from "../../core/fanout.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { TsDemuxer } from "../../format/mpegts/ts_demuxer.ts";
import { PcmAudioTranscoder } from "../../codec/g711/pcm_audio_transcoder.ts";
import { encodeUlaw } from "../../codec/g711/companding.ts";
import { decodeAlaw } from "../../codec/g711/companding.ts";
import { FfmpegAudioTranscoder, ffmpegCanTranscode, ffmpegTranscodeArgs } from "./audio_transcoder.ts";
import { hasTool, run } from "../../../tests/_support/process.ts";

const hasFfmpeg = await hasTool("ffmpeg");
const PCMA: Codec = { name: "PCMA", clockRate: 8000 };
const speaker: Media = { kind: "audio", direction: "sendonly", codecs: [PCMA] };

function frequency(samples: Int16Array, rate: number): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1] < 0) !== (samples[i] < 0)) crossings++;
  return crossings / 2 / (samples.length / rate);
}

function collect(receiver: Receiver): Frame[] {
  const frames: Frame[] = [];
  receiver.addSender(
    new Sender(receiver.media, receiver.codec, (f) => {
      frames.push(f);
    }),
  );
  return frames;
}

async function waitFor(what: string, check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("backchannel audio transcoders", () => {
  it("knows which pairs ffmpeg converts and builds fixed arguments", () => {
    expect(ffmpegCanTranscode({ name: "OPUS", clockRate: 48000, channels: 2 }, PCMA)).toBe(true);
    expect(ffmpegCanTranscode({ name: "MPEG4-GENERIC", clockRate: 16000 }, PCMA)).toBe(false); // no config
    expect(ffmpegCanTranscode({ name: "MPEG4-GENERIC", clockRate: 16000, fmtp: "config=1408" }, PCMA)).toBe(
      true,
    );
    expect(ffmpegCanTranscode({ name: "OPUS", clockRate: 48000 }, { name: "G722", clockRate: 8000 })).toBe(
      false,
    );
    const args = ffmpegTranscodeArgs({ name: "PCMU", clockRate: 16000 });
    expect(args.slice(args.indexOf("-ar"))).toEqual([
      "-ar",
      "16000",
      "-c:a",
      "pcm_mulaw",
      "-flush_packets",
      "1",
      "-f",
      "mulaw",
      "pipe:1",
    ]);
  });

  it("converts PCMU/16000 to PCMA/8000 in process", async () => {
    const input = new Receiver({ kind: "audio", direction: "recvonly", codecs: [] }, {
      name: "PCMU",
      clockRate: 16000,
    });
    const tc = new PcmAudioTranscoder(input, PCMA, speaker);
    const out = collect(tc.output);
    const tone = new Int16Array(320);
    for (let i = 0; i < tone.length; i++) {
      tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 400 * i) / 16000));
    }
    for (let n = 0; n < 50; n++) input.push({ timestamp: n * 320, keyframe: true, data: encodeUlaw(tone) });
    await new Promise((r) => setTimeout(r, 0));
    expect(out.length).toBe(50);
    expect(out[1].timestamp - out[0].timestamp).toBe(160);
    expect(out.every((f) => f.data.length === 160)).toBe(true);
    tc.close();
    expect(input.senders.length).toBe(0);
  });

  it.skipIf(!hasFfmpeg)(
    "turns a talker's Opus (made by ffmpeg) into PCMA with ffmpeg, and kills it on close (needs ffmpeg)",
    async () => {
      const made = await run("ffmpeg", [
        "-hide_banner",
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=2",
        "-c:a",
        "libopus",
        "-b:a",
        "32k",
        "-f",
        "mpegts",
        "pipe:1",
      ], 20_000);
      expect(made.code).toBe(0);
      const demux = new TsDemuxer();
      const opus = [...demux.push(made.stdout), ...demux.flush()];
      expect(opus.length).toBeGreaterThan(90);
      const codec = opus[0].track.codec;
      expect(codec.name).toBe("OPUS");
      const input = new Receiver({ kind: "audio", direction: "recvonly", codecs: [codec] }, codec);
      const tc = new FfmpegAudioTranscoder(input, PCMA, speaker);
      const out = collect(tc.output);
      // At real time (20 ms frames): output must start while the talker still talks.
      let sentAtFirstOutput = -1;
      for (let i = 0; i < opus.length; i++) {
        input.push(opus[i].frame);
        await new Promise((r) => setTimeout(r, 20));
        if (sentAtFirstOutput < 0 && out.length > 0) sentAtFirstOutput = i + 1;
      }
      await waitFor("2 s of PCMA", () => out.length >= 95, 10_000);
      expect(tc.running).toBe(true);
      tc.close();
      // ffmpeg dies with the talker.
      await Promise.race([
        tc.exited(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error("ffmpeg still running 3 s after close")), 3_000)
        ),
      ]);
      expect(tc.running).toBe(false);
      expect(tc.starts).toBe(1);
      expect(out.every((f) => f.data.length === 160)).toBe(true);
      expect(out[5].timestamp - out[4].timestamp).toBe(160);
      const pcma = new Uint8Array(out.length * 160);
      out.forEach((f, i) => pcma.set(f.data, i * 160));
      const samples = decodeAlaw(pcma);
      // Skip the decoder's start-up; the rest is the 440 Hz tone.
      expect(Math.abs(frequency(samples.subarray(800), 8000) - 440)).toBeLessThan(15);
      expect(sentAtFirstOutput).toBeGreaterThan(0);
      expect(sentAtFirstOutput).toBeLessThan(opus.length - 10); // streaming, not at EOF
      expect(input.senders.length).toBe(0);
    },
    30_000,
  );
});
