import { describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { LatmDepacketizer, LatmError, parseStreamMuxConfig } from "./latm.ts";
import { buildAdtsFrame } from "./adts.ts";
import { BitWriter } from "./_bits.ts";
import { bytesToHex, hexToBytes } from "./fmtp.ts";
import { ffprobeJson } from "../../../tests/_support/ffmpeg.ts";
import { loadCapture, loadFixture, seededRandom } from "../../../tests/_support/fixtures.ts";
import { hasTool } from "../../../tests/_support/process.ts";

const haveFfprobe = await hasTool("ffprobe");
const testdata = (name: string) => new URL(`./testdata/${name}`, import.meta.url);

async function latmFixture() {
  const packets = await loadCapture(testdata("ffmpeg_aac_latm.rtp"));
  const sdp = new TextDecoder().decode(await loadFixture(testdata("ffmpeg_aac_latm.sdp")));
  const line = sdp.split(/\r?\n/).find((l) => l.startsWith("a=fmtp:"))!;
  return { packets, fmtp: line.slice(line.indexOf(" ") + 1) };
}

function run(packets: RtpPacket[], fmtp: string) {
  const frames: Frame[] = [];
  const d = new LatmDepacketizer({ fmtp, onFrame: (f) => frames.push(f) });
  for (const p of packets) d.push(p);
  return { frames, d };
}

/** StreamMuxConfig for AAC-LC 44100 stereo with `numSubFrames`, written field by field. */
function writeStreamMuxConfig(w: BitWriter, numSubFrames: number): void {
  w.write(0, 1); // audioMuxVersion
  w.write(1, 1); // allStreamsSameTimeFraming
  w.write(numSubFrames, 6);
  w.write(0, 4); // numProgram
  w.write(0, 3); // numLayer
  w.write(0x1210, 16); // AudioSpecificConfig
  w.write(0, 3); // frameLengthType
  w.write(0xff, 8); // latmBufferFullness
  w.write(0, 1); // otherDataPresent
  w.write(0, 1); // crcCheckPresent
}

function writePayload(w: BitWriter, au: Uint8Array): void {
  let n = au.length;
  while (n >= 255) {
    w.write(255, 8);
    n -= 255;
  }
  w.write(n, 8);
  for (const b of au) w.write(b, 8);
}

const pkt = (seq: number, ts: number, marker: boolean, payload: Uint8Array): RtpPacket => ({
  payloadType: 97,
  sequenceNumber: seq & 0xffff,
  timestamp: ts,
  ssrc: 3,
  marker,
  payload,
});

describe("LATM (RFC 6416)", () => {
  it("parses ffmpeg's StreamMuxConfig", () => {
    const smc = parseStreamMuxConfig(hexToBytes("400024203fc0"));
    expect(smc).toMatchObject({
      audioMuxVersion: 0,
      allStreamsSameTimeFraming: true,
      numSubFrames: 0,
      frameLengthType: 0,
    });
    expect(bytesToHex(smc.audioSpecificConfigBytes)).toBe("1210");
    expect(smc.audioSpecificConfig).toMatchObject({ sampleRate: 44100, channels: 2 });
    expect(() => parseStreamMuxConfig(hexToBytes("4000"))).toThrow(LatmError);
    expect(() => parseStreamMuxConfig(hexToBytes("4010"))).toThrow(/programs/);
  });

  it.skipIf(!haveFfprobe)("depacketizes ffmpeg's MP4A-LATM capture into AUs ffprobe decodes", async () => {
    const { packets, fmtp } = await latmFixture();
    const { frames, d } = run(packets, fmtp);
    expect(d.errors).toBe(0);
    expect(frames.length).toBe(packets.length);
    expect(frames.every((f, i) => f.packets?.[0] === packets[i] && f.timestamp === packets[i].timestamp))
      .toBe(true);
    for (let i = 1; i < frames.length; i++) {
      expect((frames[i].timestamp - frames[i - 1].timestamp) >>> 0).toBe(1024);
    }
    const parts = frames.map((f) => buildAdtsFrame(d.config!, f.data));
    const adts = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((o, p) => (adts.set(p, o), o + p.length), 0);
    const { json, stderr } = await ffprobeJson(adts, [
      "-f",
      "aac",
      "-count_frames",
      "-show_entries",
      "stream=nb_read_frames,sample_rate",
    ]);
    expect(stderr).toBe("");
    expect(Number(json.streams[0].nb_read_frames)).toBe(frames.length);
    expect(json.streams[0].sample_rate).toBe("44100");
  });

  it("splits sub-frames and reassembles an element fragmented over packets", async () => {
    const { packets, fmtp } = await latmFixture();
    const aus = run(packets, fmtp).frames.map((f) => f.data);
    // Two AUs per AudioMuxElement (numSubFrames = 1), each element cut into three packets.
    const cfg = new BitWriter();
    writeStreamMuxConfig(cfg, 1);
    const rtp: RtpPacket[] = [];
    let seq = 65534;
    for (let i = 0; i + 1 < aus.length; i += 2) {
      const w = new BitWriter();
      writePayload(w, aus[i]);
      writePayload(w, aus[i + 1]);
      const el = w.bytes();
      const cuts = [0, Math.floor(el.length / 3), Math.floor((2 * el.length) / 3), el.length];
      for (let c = 0; c < 3; c++) rtp.push(pkt(seq++, i * 1024, c === 2, el.subarray(cuts[c], cuts[c + 1])));
    }
    const { frames, d } = run(rtp, `cpresent=0;config=${bytesToHex(cfg.bytes())}`);
    expect(d.errors).toBe(0);
    const even = aus.length & ~1;
    expect(frames.map((f) => f.data)).toEqual(aus.slice(0, even));
    expect(frames.map((f) => f.timestamp)).toEqual(aus.slice(0, even).map((_, i) => i * 1024));
    expect(frames.every((f) => f.packets === undefined)).toBe(true);

    // Losing a fragment drops that element only.
    const lossy = run(rtp.filter((_, i) => i !== 4), `cpresent=0;config=${bytesToHex(cfg.bytes())}`);
    expect(lossy.frames.length).toBe(even - 2);
    expect(lossy.d.errors).toBe(1);
  });

  it("reads an in-band StreamMuxConfig (cpresent=1) with unaligned payloads", async () => {
    const { packets, fmtp } = await latmFixture();
    const aus = run(packets, fmtp).frames.map((f) => f.data).slice(0, 5);
    const rtp = aus.map((au, i) => {
      const w = new BitWriter();
      if (i === 0) {
        w.write(0, 1); // useSameStreamMux = 0: a config follows
        writeStreamMuxConfig(w, 0);
      } else {
        w.write(1, 1); // useSameStreamMux
      }
      writePayload(w, au); // starts mid-byte
      return pkt(i, i * 1024, true, w.bytes());
    });
    const { frames, d } = run(rtp, "");
    expect(d.errors).toBe(0);
    expect(frames.map((f) => f.data)).toEqual(aus);
    expect(d.config?.sampleRate).toBe(44100);
    // Without a config first, elements cannot be read.
    const late = run(rtp.slice(1), "");
    expect(late.frames.length).toBe(0);
    expect(late.d.errors).toBe(4);
  });

  it("never throws on garbage", async () => {
    const { fmtp } = await latmFixture();
    const rand = seededRandom(5);
    const d = new LatmDepacketizer({ fmtp, onFrame: () => {} });
    for (let i = 0; i < 2000; i++) {
      const payload = new Uint8Array(Math.floor(rand() * 30)).map(() => Math.floor(rand() * 256));
      d.push(pkt(i, i, rand() < 0.7, payload));
    }
    expect(d.errors).toBeGreaterThan(0);
  });
});
