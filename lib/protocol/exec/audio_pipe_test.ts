import { describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import { hasTool, run } from "../../../tests/_support/process.ts";
import { AdtsReader, WavFormatError, WavReader } from "./audio_pipe.ts";

const hasFfmpeg = await hasTool("ffmpeg");

/** One second of a 440 Hz tone made by ffmpeg in `args` format on stdout. */
async function tone(args: string[]): Promise<Uint8Array> {
  const res = await run("ffmpeg", [
    "-hide_banner", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=1",
    ...args, "-",
  ], 15_000);
  if (res.code !== 0) throw new Error(res.stderr);
  return res.stdout;
}

function feed(reader: WavReader | AdtsReader, bytes: Uint8Array, step: number): Frame[] {
  const frames: Frame[] = [];
  reader.onFrame = (f) => frames.push(f);
  for (let i = 0; i < bytes.length; i += step) reader.push(bytes.subarray(i, i + step));
  return frames;
}

describe("audio pipes", () => {
  it.skipIf(!hasFfmpeg)("reads ffmpeg's WAV of A-law, mu-law and s16le into 20 ms frames", async () => {
    for (const [codec, name, size] of [["pcm_alaw", "PCMA", 320], ["pcm_mulaw", "PCMU", 320], ["pcm_s16le", "PCML", 640]] as const) {
      const wav = new WavReader();
      const frames = feed(wav, await tone(["-c:a", codec, "-ar", "16000", "-ac", "1", "-f", "wav"]), 7);
      expect(wav.codec).toEqual({ name, clockRate: 16000, channels: 1 });
      expect(frames.length).toBe(50);
      expect(frames[0].data.length).toBe(size);
      expect(frames[1].timestamp - frames[0].timestamp).toBe(320);
    }
  });

  it.skipIf(!hasFfmpeg)("reads ffmpeg's ADTS AAC with its config", async () => {
    const aac = new AdtsReader();
    const frames = feed(aac, await tone(["-c:a", "aac", "-ac", "1", "-f", "adts"]), 100);
    expect(aac.codec).toMatchObject({ name: "MPEG4-GENERIC", clockRate: 16000, channels: 1 });
    expect(aac.codec?.fmtp).toContain("config=1408");
    expect(frames.length).toBeGreaterThan(14);
    expect(frames[1].timestamp - frames[0].timestamp).toBe(1024);
  });

  it("refuses what is not WAV G.711 or 16-bit PCM, naming it", () => {
    expect(() => new WavReader().push(new TextEncoder().encode("<html><body>nope</body></html>"))).toThrow(WavFormatError);
    const header = new Uint8Array(44);
    header.set(new TextEncoder().encode("RIFF"), 0);
    header.set(new TextEncoder().encode("WAVEfmt "), 8);
    const v = new DataView(header.buffer);
    v.setUint32(16, 16, true);
    v.setUint16(20, 3, true); // IEEE float
    v.setUint16(22, 1, true);
    v.setUint32(24, 8000, true);
    v.setUint16(34, 32, true);
    expect(() => new WavReader().push(header)).toThrow(/format 3 with 32 bits/);
  });
});
