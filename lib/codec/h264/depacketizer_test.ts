import { describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { avccToAnnexb, splitAnnexb } from "../annexb/annexb.ts";
import { joinAvcc, splitAvcc } from "../annexb/avcc.ts";
import { ffprobe, readRtpTestdata, readTestdata, readTestdataText, sdpFmtp } from "../annexb/_test_util.ts";
import { H264Depacketizer } from "./depacketizer.ts";

function run(depay: H264Depacketizer, packets: RtpPacket[]): Frame[] {
  const frames: Frame[] = [];
  for (const pkt of packets) {
    const f = depay.push(pkt);
    if (f) frames.push(f);
  }
  const last = depay.flush();
  if (last) frames.push(last);
  return frames;
}

function types(frame: Frame): number[] {
  return [...splitAvcc(frame.data)].map((n) => n[0] & 0x1f);
}

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

describe("H264Depacketizer on ffmpeg's RTP (STAP-A + FU-A)", () => {
  it("emits one frame per access unit with keyframes, packets and the stream's NAL units", async () => {
    const packets = await readRtpTestdata("h264", "ffmpeg_h264_640x360.rtp");
    const depay = new H264Depacketizer();
    const frames = run(depay, packets);
    expect(frames.length).toBe(25);
    expect(frames.map((f, i) => (f.keyframe ? i : -1)).filter((i) => i >= 0)).toEqual([0, 10, 20]);
    expect([depay.errors, depay.lostFragments, depay.droppedFrames]).toEqual([0, 0, 0]);
    expect(frames.reduce((n, f) => n + f.packets!.length, 0)).toBe(packets.length);
    expect(frames[1].timestamp - frames[0].timestamp).toBe(3600);
    expect(types(frames[0]).slice(0, 2)).toEqual([7, 8]);
    // The NAL units match the Annex-B stream ffmpeg sent, byte for byte.
    const es = [...splitAnnexb(await readTestdata("h264", "ffmpeg_h264_640x360.h264"))];
    const got = frames.flatMap((f) => [...splitAvcc(f.data)]);
    expect(got.length).toBe(es.length);
    for (let i = 0; i < es.length; i++) expect(got[i]).toEqual(es[i]);
  });

  it("produces a stream ffprobe decodes without errors", async () => {
    const frames = run(new H264Depacketizer(), await readRtpTestdata("h264", "ffmpeg_h264_640x360.rtp"));
    const probe = await ffprobe(annexb(frames), "h264");
    expect(probe).toEqual({ frames: 25, width: 640, height: 360, errors: "", code: 0 });
  });
});

describe("H264Depacketizer parameter set injection (go2rtc #2202)", () => {
  it("puts the fmtp SPS/PPS before IDRs of a stream that never sends them in-band", async () => {
    const packets = await readRtpTestdata("h264", "ffmpeg_h264_sdp_only.rtp");
    const fmtp = sdpFmtp(await readTestdataText("h264", "ffmpeg_h264_sdp_only.sdp"));

    const plain = run(new H264Depacketizer(), packets);
    expect(plain.filter((f) => types(f).includes(7)).length).toBe(0);
    expect((await ffprobe(annexb(plain.slice(10)), "h264")).frames).toBe(0);

    const frames = run(new H264Depacketizer({ fmtp }), packets);
    expect(frames.length).toBe(25);
    for (const f of frames) {
      if (f.keyframe) expect(types(f).slice(0, 2)).toEqual([7, 8]);
      else expect(types(f)).not.toContain(7);
    }
    // A viewer joining at the second keyframe can decode on its own.
    const probe = await ffprobe(annexb(frames.slice(10)), "h264");
    expect(probe).toEqual({ frames: 15, width: 320, height: 240, errors: "", code: 0 });
  });

  it("inserts after a leading access unit delimiter and prefers in-band sets seen later", () => {
    const sps = new Uint8Array([0x67, 0x42, 0, 0x1e, 0xaa]);
    const pps = new Uint8Array([0x68, 0xce]);
    const depay = new H264Depacketizer({ sps, pps });
    const a = depay.push(pkt(1, 0, false, 0x09, 0xf0))!;
    expect(a).toBeUndefined();
    const f = depay.push(pkt(2, 0, true, 0x65, 0x88, 0x80))!;
    expect([...splitAvcc(f.data)].map((n) => [...n])).toEqual([[0x09, 0xf0], [...sps], [...pps], [
      0x65,
      0x88,
      0x80,
    ]]);
    expect(f.keyframe).toBe(true);

    const sps2 = new Uint8Array([0x67, 0x64, 0, 0x1f, 0xbb]);
    depay.push(pkt(3, 3000, false, 24, 0, 5, ...sps2, 0, 2, ...pps));
    const g = depay.push(pkt(4, 3000, true, 0x65, 0x88, 0x81))!;
    expect(types(g)).toEqual([7, 8, 5]);
    expect(depay.sps).toEqual(sps2);
    // The next keyframe without parameter sets gets the in-band SPS, not the configured one.
    const h = depay.push(pkt(5, 6000, true, 0x65, 0x88, 0x82))!;
    expect([...splitAvcc(h.data)][0]).toEqual(sps2);
    // Non-keyframes are left alone.
    expect(types(depay.push(pkt(6, 9000, true, 0x41, 0x9a))!)).toEqual([1]);
  });

  it("puts both sets in front when only the PPS is missing", () => {
    const sps = new Uint8Array([0x67, 0x42, 0, 0x1e, 0xaa]);
    const pps = new Uint8Array([0x68, 0xce]);
    const depay = new H264Depacketizer({ fmtp: "sprop-parameter-sets=Z0IAHqo=,aM4=" });
    depay.push(pkt(1, 0, false, ...sps));
    expect(types(depay.push(pkt(2, 0, true, 0x65, 0x88))!)).toEqual([7, 8, 7, 5]);
    expect(depay.pps).toEqual(pps);
  });

  it("counts a bad sprop-parameter-sets and carries on", () => {
    const depay = new H264Depacketizer({ fmtp: "sprop-parameter-sets=%%%" });
    expect(depay.errors).toBe(1);
    expect(depay.push(pkt(1, 0, true, 0x65, 0x88))?.keyframe).toBe(true);
  });
});

describe("H264Depacketizer losses and boundaries", () => {
  it("drops just the access unit whose FU-A fragment was lost", async () => {
    const packets = await readRtpTestdata("h264", "ffmpeg_h264_640x360.rtp");
    const reference = run(new H264Depacketizer(), packets);
    // A middle fragment of the second keyframe (frame 10).
    const victim = reference[10].packets![2];
    expect(victim.payload[0] & 0x1f).toBe(28);
    const depay = new H264Depacketizer();
    const frames = run(depay, packets.filter((p) => p !== victim));
    expect(frames.length).toBe(24);
    expect([depay.lostFragments, depay.droppedFrames]).toEqual([1, 1]);
    expect(frames.map((f) => f.timestamp)).toEqual(
      reference.filter((_, i) => i !== 10).map((f) => f.timestamp),
    );
    expect(frames[10].data).toEqual(reference[11].data);
  });

  it("drops the access unit whose first fragment was lost", async () => {
    const packets = await readRtpTestdata("h264", "ffmpeg_h264_640x360.rtp");
    const reference = run(new H264Depacketizer(), packets);
    const victim = reference[3].packets![0];
    const depay = new H264Depacketizer();
    const frames = run(depay, packets.filter((p) => p !== victim));
    expect(frames.length).toBe(24);
    expect(depay.droppedFrames).toBe(1);
    expect(frames.map((f) => f.timestamp)).not.toContain(reference[3].timestamp);
  });

  it("ends access units on a timestamp change when the marker bit never comes", async () => {
    const packets = await readRtpTestdata("h264", "ffmpeg_h264_640x360.rtp");
    const reference = run(new H264Depacketizer(), packets);
    const depay = new H264Depacketizer();
    const frames: Frame[] = [];
    for (const p of packets) {
      const f = depay.push({ ...p, marker: false });
      if (f) frames.push(f);
    }
    expect(frames.length).toBe(24);
    frames.push(depay.flush()!);
    expect(frames.map((f) => [f.timestamp, f.keyframe, f.data.length])).toEqual(
      reference.map((f) => [f.timestamp, f.keyframe, f.data.length]),
    );
    expect(depay.droppedFrames).toBe(0);
  });

  it("holds back the second frame when one packet completes two", () => {
    const depay = new H264Depacketizer();
    expect(depay.push(pkt(1, 0, false, 0x41, 1))).toBeUndefined();
    const a = depay.push(pkt(2, 3000, true, 0x41, 2))!;
    expect([a.timestamp, [...a.data]]).toEqual([0, [0, 0, 0, 2, 0x41, 1]]);
    const b = depay.push(pkt(3, 6000, false, 0x41, 3))!;
    expect(b.timestamp).toBe(3000);
    expect(depay.flush()?.timestamp).toBe(6000);
    expect(depay.flush()).toBeUndefined();
  });

  it("treats sequence wrap-around as continuous and ignores duplicates", () => {
    const depay = new H264Depacketizer();
    depay.push(pkt(65535, 0, false, 0x7c, 0x85, 1, 2));
    depay.push(pkt(65535, 0, false, 0x7c, 0x85, 1, 2));
    const f = depay.push(pkt(0, 0, true, 0x7c, 0x45, 3))!;
    expect([...f.data]).toEqual([0, 0, 0, 4, 0x65, 1, 2, 3]);
    expect(f.packets!.length).toBe(2);
    expect([depay.lostFragments, depay.droppedFrames, depay.errors]).toEqual([0, 0, 0]);
  });

  it("drops access units over maxFrameSize and recovers", () => {
    const depay = new H264Depacketizer({ maxFrameSize: 10_000 });
    const body = new Uint8Array(1000);
    let seq = 0;
    depay.push({ ...pkt(seq++, 0, false, 0x7c, 0x85), payload: new Uint8Array([0x7c, 0x85, ...body]) });
    for (let i = 0; i < 20; i++) {
      expect(depay.push({ ...pkt(seq++, 0, false), payload: new Uint8Array([0x7c, 0x05, ...body]) }))
        .toBeUndefined();
    }
    expect(depay.push(pkt(seq++, 0, true, 0x7c, 0x45, 9))).toBeUndefined();
    expect(depay.droppedFrames).toBe(1);
    const next = depay.push(pkt(seq++, 3000, true, 0x41, 7))!;
    expect([...next.data]).toEqual([0, 0, 0, 2, 0x41, 7]);
    expect(next.packets!.length).toBe(1);
  });

  it("grows its buffer for large access units below the cap", () => {
    const depay = new H264Depacketizer();
    const body = new Uint8Array(1400).fill(0x11);
    let seq = 0;
    depay.push({ ...pkt(seq++, 0, false), payload: new Uint8Array([0x7c, 0x85, ...body]) });
    for (let i = 0; i < 200; i++) {
      depay.push({ ...pkt(seq++, 0, false), payload: new Uint8Array([0x7c, 0x05, ...body]) });
    }
    const f = depay.push(pkt(seq++, 0, true, 0x7c, 0x45, 0x22))!;
    expect(f.data.length).toBe(4 + 1 + 201 * 1400 + 1);
    expect(f.keyframe).toBe(true);
  });

  it("leaves out packets when keepPackets is false; reset forgets the access unit", () => {
    const depay = new H264Depacketizer({ keepPackets: false });
    depay.push(pkt(1, 0, false, 0x41, 1));
    depay.reset();
    const f = depay.push(pkt(9, 0, true, 0x41, 2))!;
    expect(f.packets).toBeUndefined();
    expect([...f.data]).toEqual([0, 0, 0, 2, 0x41, 2]);
  });
});

describe("H264Depacketizer garbage", () => {
  it("counts malformed payloads in errors and never throws", () => {
    const depay = new H264Depacketizer();
    const bad: number[][] = [
      [], // empty
      [24], // STAP-A without NAL units
      [24, 0], // STAP-A cut inside a size
      [24, 0, 9, 0x67, 1], // STAP-A size past the end
      [24, 0, 0, 0x67], // STAP-A zero size
      [28, 0x85], // FU-A without data
      [28, 0x05, 1, 2], // FU-A middle without start
      [28, 0x45, 1, 2], // FU-A end without start
      [0, 1],
      [30, 1],
      [31, 1],
      [25, 0, 0],
      [26, 1],
      [27, 1],
      [29, 0x85, 1], // reserved and interleaved-mode types
    ];
    let seq = 0;
    for (const b of bad) expect(() => depay.push(pkt(seq++, 0, false, ...b))).not.toThrow();
    expect(depay.errors).toBe(bad.length);
    expect(depay.push(pkt(seq++, 0, true))).toBeUndefined(); // the damaged access unit is dropped
    const ok = depay.push(pkt(seq++, 3000, true, 24, 0, 2, 0x67, 1, 0, 2, 0x68, 2))!;
    expect(types(ok)).toEqual([7, 8]);
  });

  it("survives random payloads", () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const depay = new H264Depacketizer({ maxFrameSize: 100_000 });
    let frames = 0;
    for (let i = 0; i < 5000; i++) {
      const payload = new Uint8Array(Math.floor(rand() * 40));
      for (let j = 0; j < payload.length; j++) payload[j] = Math.floor(rand() * 256);
      if (payload.length && rand() < 0.5) payload[0] = (payload[0] & 0xe0) | [24, 28][i & 1];
      const f = depay.push({
        ...pkt(i + (rand() < 0.05 ? 2 : 0), Math.floor(i / 7) * 3000, rand() < 0.1),
        payload,
      });
      if (f) {
        frames++;
        expect(() => [...splitAvcc(f.data)]).not.toThrow();
      }
    }
    expect(depay.errors).toBeGreaterThan(0);
    expect(frames).toBeGreaterThan(0);
  });
});

describe("H264Depacketizer single NAL unit packets", () => {
  it("joins several single NAL unit packets of one timestamp", () => {
    const depay = new H264Depacketizer();
    expect(depay.push(pkt(1, 90, false, 0x06, 5))).toBeUndefined();
    const f = depay.push(pkt(2, 90, true, 0x41, 6))!;
    expect(f.data).toEqual(joinAvcc([new Uint8Array([0x06, 5]), new Uint8Array([0x41, 6])]));
    expect(f.keyframe).toBe(false);
    expect(f.timestamp).toBe(90);
  });
});
