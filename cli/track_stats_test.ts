import { describe, expect, it } from "bun:test";
import { TrackStats } from "./track_stats.ts";

const h264 = { name: "H264", clockRate: 90000 };
const data = new Uint8Array(1000);

/** Feeds `n` video frames at `fps`, a keyframe every `gop`, arriving at `arrive(i)` ms. */
function feed(
  stats: TrackStats,
  n: number,
  o: { fps: number; gop: number; start?: number; arrive?: (i: number) => number },
) {
  const step = 90000 / o.fps;
  for (let i = 0; i < n; i++) {
    const ts = ((o.start ?? 0) + Math.round(i * step)) % 0x100000000;
    stats.observe(
      { timestamp: ts, keyframe: i % o.gop === 0, data },
      o.arrive ? o.arrive(i) : (i * 1000) / o.fps,
    );
  }
}

describe("TrackStats", () => {
  it("measures fps, GOP and bitrate of a steady stream exactly", () => {
    const s = new TrackStats("video", h264);
    feed(s, 76, { fps: 25, gop: 25 });
    const r = s.result();
    expect(r.frames).toBe(76);
    expect(r.fps).toBe(25);
    expect(r.fps_arrival).toBe(25);
    expect(r.frame_interval_ms).toBe(40);
    expect(r.gop).toEqual({ keyframes: 4, frames: 25, seconds: 1, min_frames: 25, max_frames: 25 });
    // 75 frames of 8000 bits over 3 s of media time.
    expect(r.bitrate_bps).toBe(200_000);
    expect(r.jitter).toEqual({
      startup_burst_frames: 0,
      jitter_ms: 0,
      stddev_ms: 0,
      max_ms: 0,
      spread_ms: 0,
    });
    expect(r.timestamp_gaps).toBe(0);
  });

  it("reports arrival jitter against the timestamps", () => {
    const s = new TrackStats("video", h264);
    // Every other frame 10 ms late: D alternates +10, -10 ms.
    feed(s, 51, { fps: 25, gop: 25, arrive: (i) => i * 40 + (i % 2 ? 10 : 0) });
    const j = s.result().jitter!;
    expect(j.max_ms).toBeCloseTo(10, 6);
    expect(j.stddev_ms).toBeCloseTo(10, 1);
    expect(j.spread_ms).toBeCloseTo(10, 6);
    // RFC 3550 estimator converges towards |D| = 10 ms.
    expect(j.jitter_ms).toBeGreaterThan(9);
    expect(j.jitter_ms).toBeLessThanOrEqual(10);
  });

  it("leaves a catch-up burst at the start out of the jitter figures", () => {
    const s = new TrackStats("video", h264);
    // 20 cached frames delivered within 2 ms, then one every 40 ms as they are made.
    feed(s, 70, { fps: 25, gop: 25, arrive: (i) => (i < 20 ? i * 0.1 : (i - 19) * 40) });
    const r = s.result();
    expect(r.jitter!.startup_burst_frames).toBe(20);
    expect(r.jitter!.max_ms).toBeCloseTo(1.9, 6);
    expect(r.jitter!.spread_ms).toBeCloseTo(1.9, 6);
    expect(r.fps_arrival).toBeCloseTo(25, 1);
  });

  it("unwraps 32-bit RTP timestamps", () => {
    const s = new TrackStats("video", h264);
    feed(s, 50, { fps: 25, gop: 25, start: 0x100000000 - 3600 * 10 });
    const r = s.result();
    expect(r.fps).toBe(25);
    expect(r.timestamp_gaps).toBe(0);
    expect(r.duration_s).toBeCloseTo(1.96, 6);
  });

  it("counts lost frames and resets as timestamp gaps", () => {
    const s = new TrackStats("video", h264);
    for (let i = 0; i < 30; i++) {
      const n = i < 10 ? i : i < 20 ? i + 10 : i - 25; // a 10-frame hole, then a reset backwards
      s.observe({ timestamp: n * 3600 + 900000, keyframe: false, data }, i * 40);
    }
    expect(s.result().timestamp_gaps).toBe(2);
  });

  it("gives a lower bound for a GOP longer than the window", () => {
    const s = new TrackStats("video", h264);
    feed(s, 40, { fps: 25, gop: 100 });
    expect(s.result().gop).toEqual({ keyframes: 1, frames: null, seconds: null, at_least_frames: 40 });
  });

  it("finds the SPS in band when the fmtp has none", () => {
    // The demo clip's SPS (640x360, Constrained Baseline 3.0, 25 fps VUI) in an AVCC keyframe.
    const sps = Uint8Array.from(atob("Z0LAHtkAoC/5cBEAAAMAAQAAAwAyDxYuSA=="), (c) => c.charCodeAt(0));
    const frame = new Uint8Array(4 + sps.length);
    new DataView(frame.buffer).setUint32(0, sps.length);
    frame.set(sps, 4);
    const s = new TrackStats("video", h264);
    s.observe({ timestamp: 0, keyframe: true, data: frame }, 0);
    expect(s.result().sps).toMatchObject({
      width: 640,
      height: 360,
      profile: "Constrained Baseline",
      level: "3.0",
      fps: 25,
    });
  });

  it("measures B-frame streams in presentation order (DTS + cts, and RTP-style PTS)", () => {
    // Display order I0 B1 B2 P3 B4 B5 P6 ..., decoded as I0 P3 B1 B2 P6 B4 B5 ...; a keyframe every
    // 12 displayed frames; 25 fps.
    const decodeToDisplay = (i: number) => (i === 0 ? 0 : i % 3 === 1 ? i + 2 : i - 1);
    for (const style of ["dts+cts", "pts"] as const) {
      const s = new TrackStats("video", h264);
      for (let i = 0; i < 63; i++) {
        const shown = decodeToDisplay(i);
        const dts = i * 3600;
        const pts = shown * 3600 + 3600; // one frame of delay, as encoders write it
        const frame = style === "pts"
          ? { timestamp: pts, keyframe: shown % 12 === 0, data }
          : { timestamp: dts, cts: pts - dts, keyframe: shown % 12 === 0, data };
        s.observe(frame, i * 40);
      }
      const r = s.result();
      expect(r.fps).toBe(25);
      expect(r.frame_interval_ms).toBe(40);
      expect(r.gop).toMatchObject({ frames: 12, seconds: 0.48, min_frames: 12, max_frames: 12 });
      expect(r.timestamp_gaps).toBe(0);
      expect(r.bitrate_bps).toBe(200_000);
    }
  });

  it("measures audio frame intervals", () => {
    const s = new TrackStats("audio", { name: "MPEG4-GENERIC", clockRate: 48000 });
    for (let i = 0; i < 100; i++) {
      s.observe({ timestamp: i * 1024, keyframe: true, data: new Uint8Array(100) }, i * 21.333);
    }
    const r = s.result();
    expect(r.frame_interval_ms).toBeCloseTo(21.333, 3);
    expect(r.fps).toBeNull();
    expect(r.gop).toBeNull();
    expect(r.bitrate_bps).toBe(37_500);
  });
});
