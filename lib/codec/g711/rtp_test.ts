import { describe, expect, it } from "bun:test";
import { G711Depacketizer, G711Packetizer, g711PayloadType } from "./rtp.ts";
import { loadCapture } from "../../../tests/_support/fixtures.ts";
import { hasTool, run } from "../../../tests/_support/process.ts";

const haveFfmpeg = await hasTool("ffmpeg");
const testdata = (name: string) => new URL(`./testdata/${name}`, import.meta.url);

describe("G.711 RTP", () => {
  for (const [name, fmt, pt] of [["PCMA", "pcm_alaw", 8], ["PCMU", "pcm_mulaw", 0]] as const) {
    it.skipIf(!haveFfmpeg)(`depacketizes ffmpeg's ${name} capture into the same bytes ffmpeg encodes`, async () => {
      const packets = await loadCapture(testdata(`ffmpeg_${name.toLowerCase()}.rtp`));
      const depay = new G711Depacketizer();
      const frames = packets.map((p) => depay.push(p)!);
      expect(depay.errors).toBe(0);
      expect(packets[0].payloadType).toBe(pt);
      for (let i = 1; i < frames.length; i++) {
        // Timestamps count samples: each step is the previous payload's length.
        expect((frames[i].timestamp - frames[i - 1].timestamp) >>> 0).toBe(frames[i - 1].data.length);
        expect(frames[i].packets).toEqual([packets[i]]);
      }
      const raw = await run("ffmpeg", [
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=8000",
        "-t",
        "1",
        "-c:a",
        fmt,
        "-f",
        fmt === "pcm_alaw" ? "alaw" : "mulaw",
        "-",
      ], 8_000);
      const joined = Uint8Array.from(frames.flatMap((f) => Array.from(f.data)));
      expect(joined).toEqual(raw.stdout.subarray(0, joined.length));
    }, 15000);
  }

  it("packetizes 20 ms packets and depacketizes them back", () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const pay = new G711Packetizer({ payloadType: 8, ssrc: 9, sequenceNumber: 65535 });
    const packets = pay.packetize({ timestamp: 4294967200, keyframe: true, data });
    expect(packets.map((p) => p.payload.length)).toEqual([160, 160, 160, 160, 160, 160, 40]);
    expect(packets.map((p) => p.sequenceNumber)).toEqual([65535, 0, 1, 2, 3, 4, 5]);
    expect(packets[1].timestamp).toBe(4294967360 - 4294967296);
    const depay = new G711Depacketizer();
    const back = packets.map((p) => depay.push(p)!);
    expect(Uint8Array.from(back.flatMap((f) => Array.from(f.data)))).toEqual(data);
    const stereo = new G711Packetizer({ payloadType: 96, ssrc: 9, channels: 2, samplesPerPacket: 100 });
    expect(stereo.packetize({ timestamp: 0, keyframe: true, data }).map((p) => p.timestamp)).toEqual([
      0,
      100,
      200,
      300,
      400,
    ]);
  });

  it("counts empty payloads instead of throwing", () => {
    const depay = new G711Depacketizer();
    expect(
      depay.push({
        payloadType: 8,
        sequenceNumber: 1,
        timestamp: 0,
        ssrc: 1,
        marker: false,
        payload: new Uint8Array(0),
      }),
    )
      .toBeUndefined();
    expect(depay.errors).toBe(1);
  });

  it("knows the static payload types", () => {
    expect(g711PayloadType("PCMA")).toBe(8);
    expect(g711PayloadType("pcmu")).toBe(0);
    expect(g711PayloadType("PCMA", 16000)).toBeUndefined();
    expect(g711PayloadType("OPUS")).toBeUndefined();
  });
});
