import { beforeAll, describe, expect, it } from "bun:test";
import { type FlvDemuxedFrame, FlvDemuxer } from "./flv_demuxer.ts";
import { FlvMuxer } from "./flv_muxer.ts";
import { FlvTagType, readFlvTags } from "./flv_tag.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";

// The shared time base keeps A/V in step when a viewer starts from a cached GOP: video from the
// (older) keyframe, audio from now. Tracks whose clocks only look shared are placed by arrival.
describe("FlvMuxer shared time base", () => {
  let frames: FlvDemuxedFrame[];
  let demux: FlvDemuxer;

  beforeAll(async () => {
    const flv = await loadFixture(new URL("testdata/ffmpeg_h264_aac.flv", import.meta.url));
    demux = new FlvDemuxer();
    frames = demux.push(flv);
  });

  function firstTagTimes(audioShift: number): { video: number; audio: number; mux: FlvMuxer } {
    const tracks = demux.tracks;
    const mux = new FlvMuxer(tracks.map((t) => ({ codec: t.codec })), { timeBase: "shared", fileHeader: false });
    const video = frames.filter((f) => f.track.kind === "video").slice(0, 25); // 1 s of video, keyframe first
    const audio = frames.filter((f) => f.track.kind === "audio");
    const start = audio.findIndex((f) => f.frame.timestamp >= 0.4 * 44100); // audio joins 400 ms in
    const out: Uint8Array[] = [];
    for (const f of video) out.push(mux.push(tracks.indexOf(f.track), f.frame) ?? new Uint8Array());
    for (const f of audio.slice(start, start + 5)) {
      out.push(mux.push(tracks.indexOf(f.track), { ...f.frame, timestamp: f.frame.timestamp + audioShift }) ?? new Uint8Array());
    }
    const tags = out.flatMap((b) => readFlvTags(b));
    const audioTags = tags.filter((t) => t.type === FlvTagType.AUDIO && t.body[1] === 1);
    const videoTags = tags.filter((t) => t.type === FlvTagType.VIDEO);
    return { video: videoTags[0].timestamp, audio: audioTags[0].timestamp, mux };
  }

  it("starts a track that joins later at its place on the shared clock", () => {
    const { video, audio, mux } = firstTagTimes(0);
    expect(video).toBe(0);
    expect(Math.abs(audio - 400)).toBeLessThanOrEqual(25);
    expect(mux.unsharedTracks).toBe(0);
  });

  it("places a track whose clock is far off (own random base) by arrival instead of dropping it", () => {
    const { audio, mux } = firstTagTimes(1_000_000_000);
    expect(mux.unsharedTracks).toBe(1);
    expect(audio).toBeGreaterThanOrEqual(900); // where the video had got to (25 frames at 40 ms)
    expect(audio).toBeLessThanOrEqual(1000);
  });
});
