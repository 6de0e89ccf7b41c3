import { describe, expect, it } from "bun:test";
import { ffmpeg, ffprobeJson } from "../../../tests/_support/ffmpeg.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { hasTool } from "../../../tests/_support/process.ts";
import { TsDemuxer } from "../mpegts/ts_demuxer.ts";
import { Fmp4Demuxer } from "./fmp4_demuxer.ts";
import { readBoxes } from "./mp4_box.ts";

const hasFfmpeg = await hasTool("ffmpeg");

/** ffmpeg remuxes an MPEG-TS fixture into fragmented MP4; returns its init and media parts. */
async function toFmp4(
  fixture: string,
  extra: string[] = [],
): Promise<{ init: Uint8Array; media: Uint8Array; ts: Uint8Array; file: Uint8Array }> {
  const url = new URL(`../mpegts/testdata/${fixture}`, import.meta.url);
  const ts = await loadFixture(url);
  const res = await ffmpeg([
    "-i",
    decodeURIComponent(url.pathname),
    "-c:v",
    "copy",
    ...extra,
    "-f",
    "mp4",
    "-movflags",
    "frag_keyframe+empty_moov+default_base_moof",
    "pipe:1",
  ]);
  if (res.code !== 0) throw new Error(`ffmpeg failed: ${res.stderr}`);
  const boxes = readBoxes(res.stdout);
  const moov = boxes.find((b) => b.type === "moov")!;
  return {
    init: res.stdout.subarray(0, moov.end),
    media: res.stdout.subarray(moov.end),
    ts,
    file: res.stdout,
  };
}

function tsFrames(ts: Uint8Array) {
  const demux = new TsDemuxer();
  const frames = [...demux.push(ts), ...demux.flush()];
  return { demux, frames };
}

describe("Fmp4Demuxer", () => {
  it.skipIf(!hasFfmpeg)(
    "reads ffmpeg's fMP4 of H.264 + AAC: the video as in the MPEG-TS it came from",
    async () => {
      // Audio re-encoded: a copied ADTS stream gets no AudioSpecificConfig in an empty_moov init.
      const { init, media, ts, file } = await toFmp4("ffmpeg_h264_aac.mpegts", ["-c:a", "aac", "-ac", "1"]);
      const mp4 = new Fmp4Demuxer(init);
      const { demux, frames: expected } = tsFrames(ts);
      expect(mp4.tracks.map((t) => t.codec.name)).toEqual(["H264", "MPEG4-GENERIC"]);
      const tsVideo = demux.tracks.find((t) => t.kind === "video")!;
      const tsAudio = demux.tracks.find((t) => t.kind === "audio")!;
      expect(mp4.tracks[0].codec.fmtp).toBe(tsVideo.codec.fmtp);
      expect(mp4.tracks[1].codec).toMatchObject({ clockRate: tsAudio.codec.clockRate, channels: 1 });

      const frames = mp4.push(media);
      expect(mp4.errors).toBe(0);
      const video = frames.filter((f) => f.track.kind === "video").map((f) => f.frame);
      const audio = frames.filter((f) => f.track.kind === "audio").map((f) => f.frame);
      const tsV = expected.filter((f) => f.track.kind === "video").map((f) => f.frame);
      const tsA = expected.filter((f) => f.track.kind === "audio").map((f) => f.frame);
      expect(video.length).toBe(tsV.length);
      expect(Math.abs(audio.length - tsA.length)).toBeLessThanOrEqual(2);
      expect(video.filter((f) => f.keyframe).length).toBe(tsV.filter((f) => f.keyframe).length);
      expect(video[0].keyframe).toBe(true);
      // Decode times as ffprobe reads them from the same file (the video track's timescale is 90 kHz).
      const { json } = await ffprobeJson(file, ["-show_entries", "packet=dts,flags", "-select_streams", "v"]);
      expect(video.map((f) => f.timestamp)).toEqual(json.packets.map((p: { dts: number }) => Number(p.dts)));
      expect(video.map((f) => f.keyframe)).toEqual(
        json.packets.map((p: { flags: string }) => p.flags.startsWith("K")),
      );
      // AAC frames of 1024 samples.
      for (let i = 1; i < audio.length; i++) expect(audio[i].timestamp - audio[i - 1].timestamp).toBe(1024);
      // Video stays AVCC: the length prefixes walk the frame exactly.
      const d = video[5].data;
      let p = 0;
      while (p < d.length) p += 4 + ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]);
      expect(p).toBe(d.length);
    },
  );

  it.skipIf(!hasFfmpeg)(
    "reads H.265 (hvc1); AAC without a decoder config falls back to AAC-LC from the sample entry",
    async () => {
      const { init, media } = await toFmp4("ffmpeg_h265_aac.mpegts", [
        "-tag:v",
        "hvc1",
        "-c:a",
        "copy",
        "-bsf:a",
        "aac_adtstoasc",
      ]);
      const mp4 = new Fmp4Demuxer(init);
      expect(mp4.tracks.map((t) => t.codec.name)).toEqual(["H265", "MPEG4-GENERIC"]);
      expect(mp4.tracks[0].codec.fmtp).toContain("sprop-vps=");
      expect(mp4.tracks[1].codec).toMatchObject({ name: "MPEG4-GENERIC", clockRate: 48000 });
      const video = mp4.push(media).filter((f) => f.track.kind === "video");
      expect(video.length).toBe(50);
      expect(video[0].frame.keyframe).toBe(true);
    },
  );

  it("refuses an init segment without moov", () => {
    expect(() => new Fmp4Demuxer(new Uint8Array([0, 0, 0, 8, 0x66, 0x72, 0x65, 0x65]))).toThrow(
      "no 'moov' box",
    );
  });
});
