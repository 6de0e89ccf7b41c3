import { describe, expect, it } from "bun:test";
import { OpusDepacketizer, OpusPacketizer } from "./rtp.ts";
import { opusPacketDuration } from "./toc.ts";
import { loadCapture } from "../../../tests/_support/fixtures.ts";

describe("Opus RTP", () => {
  it("depacketizes ffmpeg's capture one frame per packet and packetizes it back", async () => {
    const packets = await loadCapture(new URL("./testdata/ffmpeg_opus.rtp", import.meta.url));
    const depay = new OpusDepacketizer();
    const frames = packets.map((p) => depay.push(p)!);
    expect(depay.errors).toBe(0);
    expect(frames.every((f, i) => f.data === packets[i].payload && f.packets![0] === packets[i])).toBe(true);
    let ts = frames[0].timestamp;
    for (const f of frames) {
      expect(f.timestamp).toBe(ts);
      ts = (ts + opusPacketDuration(f.data)) >>> 0;
    }
    const pay = new OpusPacketizer({ payloadType: 111, ssrc: 77, sequenceNumber: 65535 });
    const again = frames.flatMap((f) => pay.packetize(f));
    expect(again.map((p) => p.payload)).toEqual(packets.map((p) => p.payload));
    expect(again.map((p) => p.timestamp)).toEqual(packets.map((p) => p.timestamp));
    expect(again[1].sequenceNumber).toBe(0);
  });

  it("counts packets that are not Opus", () => {
    const depay = new OpusDepacketizer();
    const base = { payloadType: 111, sequenceNumber: 1, timestamp: 0, ssrc: 1, marker: false };
    expect(depay.push({ ...base, payload: new Uint8Array(0) })).toBeUndefined();
    expect(depay.push({ ...base, payload: new Uint8Array([0x03]) })).toBeUndefined(); // code 3 without count
    expect(depay.errors).toBe(2);
    expect(depay.push({ ...base, payload: new Uint8Array([0xfc]) })).toBeDefined(); // 1-byte DTX packet
  });
});
