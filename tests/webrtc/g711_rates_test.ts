/**
 * WebRTC playback of G.711 and 16-bit PCM at rates browsers do not play (they take PCMA/PCMU at
 * 8 kHz only): a source sending PCMA or PCMU at 16 kHz, or L16, reaches a werift peer as its G.711
 * at 8 kHz, converted in process; ffmpeg decodes what the peer got as the source's tone.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { RTCRtpCodecParameters } from "werift";
import { audioMedia, MemoryProducer } from "../../lib/core/_testing.ts";
import type { Codec } from "../../lib/core/codec.ts";
import { Stream } from "../../lib/core/stream.ts";
import { WebRtcServer } from "../../lib/protocol/webrtc/mod.ts";
import { ffmpeg } from "../_support/ffmpeg.ts";
import { concatBytes, hasTool } from "../_support/process.ts";
import { until, Viewer } from "./_peer.ts";

const hasFfmpeg = await hasTool("ffmpeg");

const PCMA_OFFER = new RTCRtpCodecParameters({ mimeType: "audio/PCMA", clockRate: 8000, channels: 1, payloadType: 8 });

/** A 440 Hz tone, `seconds` long, at `rate` in ffmpeg's raw `format` (alaw, mulaw, s16be). */
async function tone(format: string, rate: number, seconds: number): Promise<Uint8Array> {
  const res = await ffmpeg([
    "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=${rate}:duration=${seconds}`,
    "-ac", "1", "-f", format, "pipe:1",
  ]);
  if (res.code !== 0) throw new Error(`ffmpeg failed: ${res.stderr}`);
  return res.stdout;
}

/** What the peer got, decoded by ffmpeg from its G.711 at 8 kHz: seconds and the tone's frequency. */
async function decode(bytes: Uint8Array, format: string): Promise<{ seconds: number; hz: number }> {
  const res = await ffmpeg(["-f", format, "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-f", "s16le", "pipe:1"], 15_000, bytes);
  if (res.code !== 0) throw new Error(`ffmpeg could not decode the peer's audio: ${res.stderr}`);
  const out = res.stdout;
  const samples = new Int16Array(out.buffer.slice(out.byteOffset, out.byteOffset + (out.length & ~1))).subarray(400);
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1] < 0) !== (samples[i] < 0)) crossings++;
  return { seconds: out.length / 2 / 8000, hz: crossings / 2 / (samples.length / 8000) };
}

describe.skipIf(!hasFfmpeg)("WebRTC playback of G.711 and PCM at other rates (needs ffmpeg)", () => {
  let stream: Stream | undefined;
  let server: WebRtcServer | undefined;
  let viewer: Viewer | undefined;
  afterEach(async () => {
    await viewer?.close();
    await server?.close();
    await stream?.close();
    viewer = stream = server = undefined;
  });

  const cases: { source: Codec; format: string; bytesPerSample: number; offer?: RTCRtpCodecParameters[]; pt: number; out: string }[] = [
    { source: { name: "PCMA", clockRate: 16000 }, format: "alaw", bytesPerSample: 1, pt: 8, out: "alaw" },
    // The peer takes only PCMA: µ-law at 16 kHz becomes A-law at 8 kHz.
    { source: { name: "PCMU", clockRate: 16000 }, format: "mulaw", bytesPerSample: 1, offer: [PCMA_OFFER], pt: 8, out: "alaw" },
    // 16-bit PCM at 16 kHz (an exec: WAV source): the peer's first G.711 offered, PCMU.
    { source: { name: "L16", clockRate: 16000 }, format: "s16be", bytesPerSample: 2, pt: 0, out: "mulaw" },
  ];
  for (const c of cases) {
    test(`${c.source.name}/${c.source.clockRate} reaches the peer as ${c.out === "alaw" ? "PCMA" : "PCMU"}/8000 that decodes as the tone`, async () => {
      const bytes = await tone(c.format, 16000, 1.5);
      const producer = new MemoryProducer([audioMedia("recvonly", c.source)]);
      stream = new Stream("g711", [], { graceMs: 100 });
      await stream.addPublisher(producer);
      server = new WebRtcServer({ ice: { bindAddress: "127.0.0.1" }, connectTimeoutMs: 5000 });
      viewer = new Viewer({ audio: c.offer });
      const got: { pt: number; ts: number; payload: Uint8Array }[] = [];
      viewer.audio!.onTrack.subscribe((track) =>
        track.onReceiveRtp.subscribe((rtp) => void got.push({ pt: rtp.header.payloadType, ts: rtp.header.timestamp, payload: rtp.payload }))
      );
      const session = await server.play(stream, await viewer.offer());
      expect(session.answer).toMatch(new RegExp(`m=audio \\d+ \\S+ ${c.pt}\\r?\\n`));
      await viewer.accept(session.answer);
      await until("the peer to connect", () => session.peer.state === "connected", 10_000);
      // 20 ms frames (320 samples at 16 kHz) at twice real time.
      const frameBytes = 320 * c.bytesPerSample;
      for (let off = 0, i = 0; off < bytes.length; off += frameBytes, i++) {
        producer.push("audio", { timestamp: (off / c.bytesPerSample) >>> 0, keyframe: true, data: bytes.subarray(off, off + frameBytes) });
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 100));
      }
      await until("1.3 s of audio at the peer", () => got.length >= 65, 10_000);
      expect(new Set(got.map((p) => p.pt))).toEqual(new Set([c.pt]));
      // 8 kHz: 160 samples per 20 ms packet, timestamps 160 apart.
      expect(got.slice(1, 60).every((p) => p.payload.length === 160)).toBe(true);
      for (let i = 2; i < 60; i++) expect((got[i].ts - got[i - 1].ts) >>> 0).toBe(160);
      const heard = await decode(concatBytes(got.map((p) => p.payload)), c.out);
      expect(heard.seconds).toBeGreaterThan(1.3);
      expect(Math.abs(heard.hz - 440)).toBeLessThan(10);
      expect(session.consumer.info().medias).toContain(`audio, sendonly, ${c.out === "alaw" ? "PCMA" : "PCMU"}/8000`);
    }, 30_000);
  }
});
