import { describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { MjpegDepacketizer, MjpegPacketizeError, MjpegPacketizer } from "./rtp.ts";
import { parseJpeg } from "./jpeg.ts";
import { makeQuantTables } from "./rfc2435.ts";
import { ffprobeJson } from "../../../tests/_support/ffmpeg.ts";
import { loadCapture, loadFixture, seededRandom } from "../../../tests/_support/fixtures.ts";
import { hasTool, run } from "../../../tests/_support/process.ts";

const haveFfmpeg = (await hasTool("ffmpeg")) && (await hasTool("ffprobe"));
const testdata = (name: string) => new URL(`./testdata/${name}`, import.meta.url);

function depayAll(packets: RtpPacket[]) {
  const d = new MjpegDepacketizer();
  const frames: Frame[] = [];
  for (const p of packets) {
    const f = d.push(p);
    if (f) frames.push(f);
  }
  return { frames, d };
}

/** Decodes a JPEG to 8-bit luma with ffmpeg; stderr must stay empty for a clean decode. */
function decodeGray(jpeg: Uint8Array) {
  return run("ffmpeg", [
    "-v",
    "error",
    "-f",
    "mjpeg",
    "-i",
    "pipe:0",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "gray",
    "-",
  ], 8_000, jpeg);
}

describe("MjpegDepacketizer (RFC 2435)", () => {
  it.skipIf(!haveFfmpeg)("rebuilds ffmpeg's RTP JPEG frames into JPEGs that ffprobe reads as 320x240", async () => {
    const packets = await loadCapture(testdata("ffmpeg_mjpeg_420.rtp"));
    const { frames, d } = depayAll(packets);
    expect(d.errors).toBe(0);
    expect(frames.length).toBe(packets.filter((p) => p.marker).length);
    expect(frames.reduce((n, f) => n + f.packets!.length, 0)).toBe(packets.length);
    for (const f of frames) {
      expect(f.keyframe).toBe(true);
      expect(f.timestamp).toBe(f.packets![0].timestamp);
      expect(parseJpeg(f.data)).toMatchObject({ width: 320, height: 240 });
    }
    for (const f of frames) {
      const { json, stderr } = await ffprobeJson(f.data, ["-show_entries", "stream=codec_name,width,height"]);
      expect(stderr).toBe("");
      expect(json.streams[0]).toMatchObject({ codec_name: "mjpeg", width: 320, height: 240 });
      const gray = await decodeGray(f.data);
      expect(gray.stderr).toBe("");
      expect(gray.stdout.length).toBe(320 * 240);
    }
  }, 20000);

  it.skipIf(!haveFfmpeg)("builds tables from Q when they are not sent in band (Q < 128)", async () => {
    const packets = await loadCapture(testdata("ffmpeg_mjpeg_420.rtp"));
    // Rewrite the first frame as a Q=50 sender would: no quantization table header.
    const end = packets.findIndex((p) => p.marker);
    const frame = packets.slice(0, end + 1).map((p, i) => {
      const pl = p.payload;
      let payload: Uint8Array;
      if (i === 0) {
        const len = (pl[10] << 8) | pl[11];
        payload = new Uint8Array([...pl.subarray(0, 8), ...pl.subarray(12 + len)]);
      } else {
        payload = pl.slice();
      }
      payload[5] = 50;
      return { ...p, payload };
    });
    const { frames, d } = depayAll(frame);
    expect(d.errors).toBe(0);
    const info = parseJpeg(frames[0].data);
    expect(info.quantTables[0]!.values).toEqual(makeQuantTables(50).subarray(0, 64));
    expect(info.quantTables[1]!.values).toEqual(makeQuantTables(50).subarray(64));
    const gray = await decodeGray(frames[0].data);
    expect(gray.stderr).toBe("");
    expect(gray.stdout.length).toBe(320 * 240);
  }, 15000);

  it("drops a frame with a lost fragment and recovers on the next", async () => {
    const packets = await loadCapture(testdata("ffmpeg_mjpeg_420.rtp"));
    const all = depayAll(packets).frames;
    const { frames, d } = depayAll(packets.filter((_, i) => i !== 2));
    expect(frames.length).toBe(all.length - 1);
    expect(frames[0].data).toEqual(all[1].data);
    expect(d.errors).toBe(1);
    // A frame whose first packet is lost never starts.
    const noStart = depayAll(packets.filter((_, i) => i !== 0));
    expect(noStart.frames.length).toBe(all.length - 1);
    expect(noStart.d.errors).toBeGreaterThan(0);
  });

  it("never throws on garbage", () => {
    const rand = seededRandom(11);
    const d = new MjpegDepacketizer();
    for (let i = 0; i < 3000; i++) {
      const payload = new Uint8Array(Math.floor(rand() * 200)).map(() => Math.floor(rand() * 256));
      if (rand() < 0.5 && payload.length > 8) {
        payload[1] = payload[2] = payload[3] = 0; // offset 0: exercise the header paths
        payload[4] = rand() < 0.5 ? 1 : 65;
      }
      d.push({
        payloadType: 26,
        sequenceNumber: i,
        timestamp: i >> 2,
        ssrc: 1,
        marker: rand() < 0.3,
        payload,
      });
    }
    expect(d.errors).toBeGreaterThan(0);
  });
});

describe("MjpegPacketizer (RFC 2435)", () => {
  const cases = [
    // file, expected type, expected Q (standard tables are found and sent as Q alone)
    ["cjpeg_422_restart.jpg", 64, 80],
    ["cjpeg_420.jpg", 1, 60],
    ["ffmpeg_420_restart.jpg", 65, 255],
  ] as const;
  for (const [name, type, q] of cases) {
    it.skipIf(!haveFfmpeg)(`round-trips ${name} (type ${type}, Q ${q}) to identical pixels`, async () => {
      const jpeg = await loadFixture(testdata(name));
      const pay = new MjpegPacketizer({ ssrc: 1, sequenceNumber: 65533, maxPayloadSize: 600 });
      const packets = [
        ...pay.packetize({ timestamp: 0, keyframe: true, data: jpeg }),
        ...pay.packetize({ timestamp: 3000, keyframe: true, data: jpeg }),
      ];
      expect(pay.errors).toBe(0);
      expect(packets.every((p) => p.payload.length <= 600 && p.payloadType === 26)).toBe(true);
      expect(packets[0].payload[4]).toBe(type);
      expect(packets[0].payload[5]).toBe(q);
      expect(packets.filter((p) => p.marker).length).toBe(2);
      const { frames, d } = depayAll(packets);
      expect(d.errors).toBe(0);
      expect(frames.map((f) => f.timestamp)).toEqual([0, 3000]);
      const src = parseJpeg(jpeg);
      const out = parseJpeg(frames[0].data);
      expect(frames[0].data.subarray(out.scanStart, out.scanEnd)).toEqual(
        jpeg.subarray(src.scanStart, src.scanEnd),
      );
      expect(out.restartInterval).toBe(src.restartInterval);
      const [a, b] = await Promise.all([decodeGray(jpeg), decodeGray(frames[1].data)]);
      expect(b.stderr).toBe("");
      expect(b.stdout.length).toBe(176 * 144);
      expect(b.stdout).toEqual(a.stdout);
    }, 15000);
  }

  it("reuses cached in-band tables for Q 128..254", async () => {
    const jpeg = await loadFixture(testdata("ffmpeg_420_restart.jpg"));
    const packets = new MjpegPacketizer({ ssrc: 1, maxPayloadSize: 1000 }).packetize({
      timestamp: 0,
      keyframe: true,
      data: jpeg,
    });
    const withTables = packets.map((p) => ({ ...p, payload: p.payload.slice() }));
    for (const p of withTables) p.payload[5] = 200;
    // A second frame that relies on the cached tables: table header with length 0.
    const first = withTables[0].payload;
    const len = (first[14] << 8) | first[15]; // after 8-byte main + 4-byte restart header
    const again = withTables.map((p, i) => {
      if (i !== 0) return { ...p, timestamp: 3000, sequenceNumber: p.sequenceNumber + withTables.length };
      const payload = new Uint8Array([...first.subarray(0, 12), 0, 0, 0, 0, ...first.subarray(16 + len)]);
      return { ...p, timestamp: 3000, sequenceNumber: p.sequenceNumber + withTables.length, payload };
    });
    const { frames, d } = depayAll([...withTables, ...again]);
    expect(d.errors).toBe(0);
    expect(frames.length).toBe(2);
    expect(frames[1].data).toEqual(frames[0].data);
    // Q 255 may not rely on a cache.
    const q255 = again.map((p) => ({ ...p, payload: p.payload.slice() }));
    for (const p of q255) p.payload[5] = 255;
    expect(depayAll(q255).frames.length).toBe(0);
  });

  it("refuses JPEGs RFC 2435 cannot carry, without throwing", async () => {
    const jpeg = await loadFixture(testdata("cjpeg_420.jpg"));
    const pay = new MjpegPacketizer({ ssrc: 1 });
    const progressive = jpeg.slice();
    const sof = progressive.findIndex((b, i) => b === 0xff && progressive[i + 1] === 0xc0);
    progressive[sof + 1] = 0xc2;
    expect(pay.packetize({ timestamp: 0, keyframe: true, data: progressive })).toEqual([]);
    expect(pay.lastError).toBeInstanceOf(MjpegPacketizeError);
    expect(pay.lastError!.message).toContain("not baseline");
    const optimized = jpeg.slice();
    const dht = optimized.findIndex((b, i) => b === 0xff && optimized[i + 1] === 0xc4);
    optimized[dht + 30] ^= 0x01; // a changed symbol: not the standard table any more
    expect(pay.packetize({ timestamp: 0, keyframe: true, data: optimized })).toEqual([]);
    expect(pay.lastError!.message).toContain("Huffman");
    expect(pay.packetize({ timestamp: 0, keyframe: true, data: new Uint8Array([1, 2, 3]) })).toEqual([]);
    expect(pay.errors).toBe(3);
    expect(() => MjpegPacketizer.check(progressive)).toThrow(MjpegPacketizeError);
  });

  it.skipIf(!haveFfmpeg)(
    "refuses ffmpeg's 4:2:2 JPEG (Y 2x2 / C 1x2 sampling has no RFC 2435 type)",
    async () => {
      const res = await run("ffmpeg", [
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48",
        "-frames:v",
        "1",
        "-pix_fmt",
        "yuvj422p",
        "-c:v",
        "mjpeg",
        "-huffman",
        "default",
        "-f",
        "mjpeg",
        "-",
      ], 8_000);
      expect(res.code).toBe(0);
      expect(() => MjpegPacketizer.check(res.stdout)).toThrow(/sampling/);
    },
    15000,
  );
});
