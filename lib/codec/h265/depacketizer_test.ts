import { describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { avccToAnnexb, splitAnnexb } from "../annexb/annexb.ts";
import { splitAvcc } from "../annexb/avcc.ts";
import { ffprobe, readRtpTestdata, readTestdata, readTestdataText, sdpFmtp } from "../annexb/_test_util.ts";
import { H265Depacketizer } from "./depacketizer.ts";

function run(depay: H265Depacketizer, packets: RtpPacket[]): Frame[] {
  const frames: Frame[] = [];
  for (const pkt of packets) {
    const f = depay.push(pkt);
    if (f) frames.push(f);
  }
  const last = depay.flush();
  if (last) frames.push(last);
  return frames;
}

const types = (f: Frame) => [...splitAvcc(f.data)].map((n) => (n[0] >> 1) & 0x3f);

function annexb(frames: Frame[]): Uint8Array {
  const parts = frames.map((f) => avccToAnnexb(f.data));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const pkt = (seq: number, ts: number, marker: boolean, ...payload: number[]): RtpPacket => ({
  payloadType: 96,
  sequenceNumber: seq & 0xffff,
  timestamp: ts,
  ssrc: 1,
  marker,
  payload: new Uint8Array(payload),
});

describe("H265Depacketizer on ffmpeg's RTP (AP + FU)", () => {
  it("emits one frame per access unit with the stream's NAL units", async () => {
    const packets = await readRtpTestdata("h265", "ffmpeg_h265_640x360.rtp");
    const depay = new H265Depacketizer();
    const frames = run(depay, packets);
    expect(frames.length).toBe(25);
    expect(frames.map((f, i) => (f.keyframe ? i : -1)).filter((i) => i >= 0)).toEqual([0, 10, 20]);
    expect([depay.errors, depay.lostFragments, depay.droppedFrames]).toEqual([0, 0, 0]);
    expect(frames.reduce((n, f) => n + f.packets!.length, 0)).toBe(packets.length);
    expect(types(frames[0]).slice(0, 3)).toEqual([32, 33, 34]);
    const es = [...splitAnnexb(await readTestdata("h265", "ffmpeg_h265_640x360.hevc"))];
    const got = frames.flatMap((f) => [...splitAvcc(f.data)]);
    expect(got.length).toBe(es.length);
    for (let i = 0; i < es.length; i++) expect(got[i]).toEqual(es[i]);
    expect(depay.parameterSets.sps?.[0]).toBe(0x42);
  });

  it("produces a stream ffprobe decodes without errors", async () => {
    const frames = run(new H265Depacketizer(), await readRtpTestdata("h265", "ffmpeg_h265_640x360.rtp"));
    expect(await ffprobe(annexb(frames), "hevc")).toEqual({
      frames: 25,
      width: 640,
      height: 360,
      errors: "",
      code: 0,
    });
  });

  it("puts the fmtp VPS/SPS/PPS before IRAP pictures of a stream without them in-band", async () => {
    const packets = await readRtpTestdata("h265", "ffmpeg_h265_sdp_only.rtp");
    const fmtp = sdpFmtp(await readTestdataText("h265", "ffmpeg_h265_sdp_only.sdp"));
    expect(run(new H265Depacketizer(), packets).some((f) => types(f).includes(33))).toBe(false);
    const frames = run(new H265Depacketizer({ fmtp }), packets);
    expect(frames.length).toBe(25);
    for (const f of frames) {
      if (f.keyframe) expect(types(f).slice(0, 3)).toEqual([32, 33, 34]);
      else expect(types(f)).not.toContain(33);
    }
    const probe = await ffprobe(annexb(frames.slice(10)), "hevc");
    expect(probe).toEqual({ frames: 15, width: 320, height: 240, errors: "", code: 0 });
  });

  it("drops just the access unit whose FU was lost", async () => {
    const packets = await readRtpTestdata("h265", "ffmpeg_h265_640x360.rtp");
    const reference = run(new H265Depacketizer(), packets);
    const victim = reference[10].packets!.find((p, i) =>
      i > 0 && ((p.payload[0] >> 1) & 0x3f) === 49 && !(p.payload[2] & 0xc0)
    )!;
    expect(victim).toBeDefined();
    const depay = new H265Depacketizer();
    const frames = run(depay, packets.filter((p) => p !== victim));
    expect(frames.length).toBe(24);
    expect([depay.lostFragments, depay.droppedFrames]).toEqual([1, 1]);
    expect(frames.map((f) => f.timestamp)).toEqual(
      reference.filter((_, i) => i !== 10).map((f) => f.timestamp),
    );
  });
});

describe("H265Depacketizer payload formats", () => {
  it("reads DONL and DOND fields when sprop-max-don-diff is above 0", () => {
    const depay = new H265Depacketizer({ fmtp: "sprop-max-don-diff=1" });
    // AP: DONL, size, VPS, DOND, size, SPS
    depay.push(pkt(1, 0, false, 0x60, 0x01, 0, 5, 0, 3, 0x40, 0x01, 0xaa, 1, 0, 3, 0x42, 0x01, 0xbb));
    // FU start with DONL, then end
    depay.push(pkt(2, 0, false, 0x62, 0x01, 0x93, 0, 6, 1, 2));
    depay.push(pkt(3, 0, false, 0x62, 0x01, 0x53, 3));
    // Single NAL unit with DONL
    const f = depay.push(pkt(4, 0, true, 0x02, 0x01, 0, 8, 0xcc))!;
    expect([...splitAvcc(f.data)].map((n) => [...n])).toEqual([
      [0x40, 0x01, 0xaa],
      [0x42, 0x01, 0xbb],
      [0x26, 0x01, 1, 2, 3],
      [0x02, 0x01, 0xcc],
    ]);
    expect(f.keyframe).toBe(true);
    expect(depay.errors).toBe(0);
  });

  it("rebuilds the NAL header from payload header and FU header, keeping F, LayerId and TID", () => {
    const depay = new H265Depacketizer();
    depay.push(pkt(1, 0, false, 0xe3, 0x0a, 0x80 | 21, 1));
    const f = depay.push(pkt(2, 0, true, 0xe3, 0x0a, 0x40 | 21, 2))!;
    expect([...f.data]).toEqual([0, 0, 0, 4, 0x80 | (21 << 1) | 1, 0x0a, 1, 2]);
  });

  it("accepts header-only NAL units (end of sequence)", () => {
    const f = new H265Depacketizer().push(pkt(1, 0, true, 0x48, 0x01))!;
    expect([...f.data]).toEqual([0, 0, 0, 2, 0x48, 0x01]);
  });

  it("inserts parameter sets after a leading access unit delimiter", () => {
    const vps = new Uint8Array([0x40, 0x01, 1]);
    const sps = new Uint8Array([0x42, 0x01, 2]);
    const pps = new Uint8Array([0x44, 0x01, 3]);
    const depay = new H265Depacketizer({ vps, sps, pps });
    depay.push(pkt(1, 0, false, 0x46, 0x01, 0x50));
    const f = depay.push(pkt(2, 0, true, 0x28, 0x01, 0xaf))!; // IDR_N_LP
    expect(types(f)).toEqual([35, 32, 33, 34, 20]);
  });
});

describe("H265Depacketizer garbage", () => {
  it("counts malformed payloads in errors and never throws", () => {
    const depay = new H265Depacketizer();
    const bad: number[][] = [
      [],
      [0x02], // too short
      [0x60, 0x01], // AP without NAL units
      [0x60, 0x01, 0], // AP cut inside a size
      [0x60, 0x01, 0, 9, 0x40, 0x01], // AP size past the end
      [0x60, 0x01, 0, 1, 0x40], // AP NAL unit shorter than its header
      [0x62, 0x01, 0x80], // FU without data
      [0x62, 0x01, 0x13, 1], // FU middle without start
      [0x62, 0x01, 0x53, 1], // FU end without start
      [0x64, 0x01, 0, 0], // PACI
      [0x7e, 0x01, 1], // type 63
    ];
    let seq = 0;
    for (const b of bad) expect(() => depay.push(pkt(seq++, 0, false, ...b))).not.toThrow();
    expect(depay.errors).toBe(bad.length);
    const ok = depay.push(pkt(seq++, 3000, true, 0x60, 0x01, 0, 3, 0x40, 0x01, 1, 0, 3, 0x42, 0x01, 2))!;
    expect(types(ok)).toEqual([32, 33]);
  });

  it("survives random payloads", () => {
    let seed = 777;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    for (const fmtp of [undefined, "sprop-max-don-diff=3"]) {
      const depay = new H265Depacketizer({ fmtp, maxFrameSize: 50_000 });
      for (let i = 0; i < 4000; i++) {
        const payload = new Uint8Array(Math.floor(rand() * 30));
        for (let j = 0; j < payload.length; j++) payload[j] = Math.floor(rand() * 256);
        if (payload.length && rand() < 0.6) payload[0] = (payload[0] & 0x81) | ([48, 49][i & 1] << 1);
        const f = depay.push({ ...pkt(i, Math.floor(i / 5) * 3000, rand() < 0.1), payload });
        if (f) expect(() => [...splitAvcc(f.data)]).not.toThrow();
      }
      expect(depay.errors).toBeGreaterThan(0);
    }
  });
});
