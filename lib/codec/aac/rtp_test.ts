import { describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { AacDepacketizer, AacPacketizer } from "./rtp.ts";
import { buildAdtsFrame } from "./adts.ts";
import { ffprobeJson } from "../../../tests/_support/ffmpeg.ts";
import { loadCapture, loadFixture, seededRandom } from "../../../tests/_support/fixtures.ts";
import { hasTool } from "../../../tests/_support/process.ts";

const haveFfprobe = await hasTool("ffprobe");
const testdata = (name: string) => new URL(`./testdata/${name}`, import.meta.url);

async function fmtpOf(name: string): Promise<string> {
  const sdp = new TextDecoder().decode(await loadFixture(testdata(name)));
  const line = sdp.split(/\r?\n/).find((l) => l.startsWith("a=fmtp:"))!;
  return line.slice(line.indexOf(" ") + 1);
}

function depay(packets: RtpPacket[], fmtp: string) {
  const frames: Frame[] = [];
  const d = new AacDepacketizer({ fmtp, onFrame: (f) => frames.push(f) });
  for (const p of packets) d.push(p);
  return { frames, d };
}

function toAdts(d: AacDepacketizer, frames: Frame[]): Uint8Array {
  const parts = frames.map((f) => buildAdtsFrame(d.config!, f.data));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function probeAdts(adts: Uint8Array) {
  const { json, stderr } = await ffprobeJson(adts, [
    "-f",
    "aac",
    "-count_frames",
    "-show_entries",
    "stream=nb_read_frames,sample_rate,channels,codec_name",
  ]);
  return { stream: json.streams[0], stderr };
}

describe("AacDepacketizer (RFC 3640)", () => {
  it.skipIf(!haveFfprobe)("splits ffmpeg's multi-AU packets into frames 1024 samples apart that ffprobe decodes", async () => {
    const packets = await loadCapture(testdata("ffmpeg_aac_hbr.rtp"));
    const { frames, d } = depay(packets, await fmtpOf("ffmpeg_aac_hbr.sdp"));
    expect(d.errors).toBe(0);
    // ffmpeg packs several AUs per packet (max_delay): more frames than packets, none carry packets.
    expect(frames.length).toBeGreaterThan(packets.length * 2);
    expect(frames.every((f) => f.packets === undefined)).toBe(true);
    for (let i = 1; i < frames.length; i++) {
      expect((frames[i].timestamp - frames[i - 1].timestamp) >>> 0).toBe(1024);
    }
    expect(frames[0].timestamp).toBe(packets[0].timestamp);
    const { stream, stderr } = await probeAdts(toAdts(d, frames));
    expect(stderr).toBe("");
    expect(stream).toMatchObject({ codec_name: "aac", sample_rate: "44100", channels: 2 });
    expect(Number(stream.nb_read_frames)).toBe(frames.length);
  });

  it.skipIf(!haveFfprobe)("reassembles AUs fragmented over several packets", async () => {
    const packets = await loadCapture(testdata("ffmpeg_aac_hbr_fragmented.rtp"));
    const { frames, d } = depay(packets, await fmtpOf("ffmpeg_aac_hbr_fragmented.sdp"));
    expect(d.errors).toBe(0);
    expect(d.config?.sampleRate).toBe(48000);
    const fragmented = frames.filter((f) => (f.packets?.length ?? 0) > 1);
    expect(fragmented.length).toBeGreaterThan(0);
    expect(frames.reduce((n, f) => n + (f.packets?.length ?? 0), 0)).toBe(packets.length);
    for (const f of frames) expect(f.timestamp).toBe(f.packets![0].timestamp);
    for (let i = 1; i < frames.length; i++) {
      expect((frames[i].timestamp - frames[i - 1].timestamp) >>> 0).toBe(1024);
    }
    const { stream, stderr } = await probeAdts(toAdts(d, frames));
    expect(stderr).toBe("");
    expect(Number(stream.nb_read_frames)).toBe(frames.length);
  });

  it("drops an AU whose middle fragment was lost and recovers on the next", async () => {
    const packets = await loadCapture(testdata("ffmpeg_aac_hbr_fragmented.rtp"));
    const fmtp = await fmtpOf("ffmpeg_aac_hbr_fragmented.sdp");
    const all = depay(packets, fmtp).frames;
    const victim = all.find((f) => f.packets!.length > 2)!;
    const lost = victim.packets![1];
    const { frames, d } = depay(packets.filter((p) => p !== lost), fmtp);
    expect(frames.length).toBe(all.length - 1);
    expect(frames.some((f) => f.timestamp === victim.timestamp)).toBe(false);
    expect(d.errors).toBeGreaterThan(0);
  });

  it("round-trips the packetizer, fragmenting large AUs", async () => {
    const packets = await loadCapture(testdata("ffmpeg_aac_hbr.rtp"));
    const fmtp = await fmtpOf("ffmpeg_aac_hbr.sdp");
    const original = depay(packets, fmtp).frames;
    for (const maxPayloadSize of [1200, 100]) {
      const pay = new AacPacketizer({ payloadType: 97, ssrc: 5, sequenceNumber: 65530, maxPayloadSize });
      const rtp = original.flatMap((f) => pay.packetize(f));
      expect(rtp.every((p) => p.payload.length <= maxPayloadSize)).toBe(true);
      const { frames, d } = depay(
        rtp,
        "streamtype=5;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210",
      );
      expect(d.errors).toBe(0);
      expect(frames.map((f) => f.data)).toEqual(original.map((f) => f.data));
      expect(frames.map((f) => f.timestamp)).toEqual(original.map((f) => f.timestamp));
      expect(frames.every((f) => f.packets && f.packets.every((p) => rtp.includes(p)))).toBe(true);
    }
  });

  it("accepts a bare ADTS frame as payload (go2rtc issue #1328)", () => {
    const au = new Uint8Array(600).map((_, i) => i & 0xff);
    const adts = buildAdtsFrame({ objectType: 2, sampleRate: 16000, channelConfiguration: 1 }, au);
    const frames: Frame[] = [];
    const d = new AacDepacketizer({ fmtp: "mode=AAC-hbr;config=1408", onFrame: (f) => frames.push(f) });
    d.push({ payloadType: 96, sequenceNumber: 1, timestamp: 100, ssrc: 1, marker: true, payload: adts });
    expect(frames.length).toBe(1);
    expect(frames[0].data).toEqual(au);
    expect(frames[0].timestamp).toBe(100);
    expect(d.errors).toBe(0);
  });

  it("handles the AU-header-less generic mode", () => {
    const frames: Frame[] = [];
    const d = new AacDepacketizer({
      fmtp: "mode=generic;sizelength=0;indexlength=0;indexdeltalength=0",
      onFrame: (f) => frames.push(f),
    });
    const pkt = (seq: number, marker: boolean, bytes: number[]): RtpPacket => ({
      payloadType: 96,
      sequenceNumber: seq,
      timestamp: 7,
      ssrc: 1,
      marker,
      payload: new Uint8Array(bytes),
    });
    d.push(pkt(1, true, [1, 2]));
    d.push(pkt(2, false, [3]));
    d.push(pkt(3, true, [4]));
    expect(frames.map((f) => Array.from(f.data))).toEqual([[1, 2], [3, 4]]);

    const constant: Frame[] = [];
    const c = new AacDepacketizer({
      fmtp: "mode=generic;constantsize=2;constantduration=1024",
      onFrame: (f) => constant.push(f),
    });
    c.push(pkt(4, true, [1, 2, 3, 4, 5, 6]));
    expect(constant.map((f) => [f.timestamp, ...f.data])).toEqual([[7, 1, 2], [1031, 3, 4], [2055, 5, 6]]);
  });

  it("never throws on garbage and counts errors", async () => {
    const rand = seededRandom(99);
    const frames: Frame[] = [];
    const d = new AacDepacketizer({
      fmtp: await fmtpOf("ffmpeg_aac_hbr.sdp"),
      onFrame: (f) => frames.push(f),
    });
    for (let i = 0; i < 2000; i++) {
      const payload = new Uint8Array(Math.floor(rand() * 40)).map(() => Math.floor(rand() * 256));
      d.push({
        payloadType: 97,
        sequenceNumber: i,
        timestamp: i * 1024,
        ssrc: 1,
        marker: rand() < 0.5,
        payload,
      });
    }
    expect(d.errors).toBeGreaterThan(100);
  });
});
