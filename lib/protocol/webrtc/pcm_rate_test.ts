import { describe, expect, test } from "bun:test";
import type { Codec } from "../../core/codec.ts";
import { PCM_AT_ANY_RATE, PcmRateConverter, pcmPeerCodec, withPcmAtAnyRate } from "./pcm_rate.ts";

const OPUS: Codec = { name: "OPUS", clockRate: 48000, channels: 2, payloadType: 111 };
const PCMU: Codec = { name: "PCMU", clockRate: 8000, payloadType: 0 };
const PCMA: Codec = { name: "PCMA", clockRate: 8000, payloadType: 8 };

describe("G.711 at other rates for WebRTC", () => {
  test("a peer that takes G.711 also takes PCM-family audio at any rate; one that does not is left alone", () => {
    const media = { kind: "audio" as const, direction: "sendonly" as const, codecs: [OPUS, PCMU, PCMA], id: "1" };
    expect(withPcmAtAnyRate(media).codecs).toEqual([OPUS, PCMU, PCMA, ...PCM_AT_ANY_RATE]);
    expect(withPcmAtAnyRate(media).id).toBe("1");
    const opusOnly = { ...media, codecs: [OPUS] };
    expect(withPcmAtAnyRate(opusOnly)).toBe(opusOnly);
  });

  test("the peer's codec: the same G.711 at 8 kHz first, else the other; none when it plays the source as is", () => {
    expect(pcmPeerCodec({ name: "PCMA", clockRate: 16000 }, [OPUS, PCMU, PCMA])).toBe(PCMA);
    expect(pcmPeerCodec({ name: "PCMU", clockRate: 16000 }, [OPUS, PCMA])).toBe(PCMA);
    expect(pcmPeerCodec({ name: "L16", clockRate: 44100, channels: 2 }, [OPUS, PCMU, PCMA])).toBe(PCMU);
    expect(pcmPeerCodec({ name: "PCMA", clockRate: 8000 }, [PCMA])).toBeUndefined();
    expect(pcmPeerCodec({ name: "PCMA", clockRate: 16000 }, [OPUS])).toBeUndefined();
    expect(pcmPeerCodec(OPUS, [PCMA])).toBeUndefined();
  });

  test("frames come out at 8 kHz with timestamps in the new rate, across the input's wrap-around", () => {
    const conv = new PcmRateConverter({ name: "PCMA", clockRate: 16000 }, PCMA);
    expect(conv.to).toEqual({ name: "PCMA", clockRate: 8000, channels: 1, payloadType: 8 });
    const start = 0xffffffff - 320 * 5 + 1; // wraps after 5 frames
    const out: { ts: number; len: number }[] = [];
    let produced = 0;
    for (let i = 0; i < 20; i++) {
      const f = conv.convert({ timestamp: (start + i * 320) >>> 0, keyframe: true, data: new Uint8Array(320).fill(0xd5) });
      if (f) out.push({ ts: f.timestamp, len: f.data.length });
      produced += f?.data.length ?? 0;
    }
    expect(out.length).toBeGreaterThan(15);
    for (let i = 1; i < out.length; i++) expect((out[i].ts - out[i - 1].ts) >>> 0).toBe(160);
    expect(Math.abs(produced - 20 * 160)).toBeLessThanOrEqual(160);
  });
});
