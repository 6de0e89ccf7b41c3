import { beforeAll, describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import { Sender } from "../../core/fanout.ts";
import { FlvTagType, type FlvTagView, readFlvTags } from "../../format/flv/flv_tag.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { FlvIngest } from "./flv_ingest.ts";
import { RtmpMessageType } from "./messages.ts";

describe("FlvIngest", () => {
  let tags: FlvTagView[];

  beforeAll(async () => {
    const flv = await loadFixture(new URL("../../format/flv/testdata/ffmpeg_h264_aac.flv", import.meta.url));
    tags = readFlvTags(flv.subarray(13));
  });

  function attach(ingest: FlvIngest, kind: "video" | "audio"): Frame[] {
    const media = ingest.medias.find((m) => m.kind === kind)!;
    const receiver = ingest.receiver(media, media.codecs[0]);
    const got: Frame[] = [];
    receiver.addSender(new Sender(media, media.codecs[0], (f) => void got.push(f)), { fromCache: true });
    return got;
  }

  const tick = () => new Promise((r) => setTimeout(r, 0));

  it("is ready once metadata's tracks have their sequence headers, and keeps the first frames", async () => {
    const ingest = new FlvIngest();
    let ready = 0;
    ingest.onReady = () => ready++;
    for (const t of tags.slice(0, 6)) ingest.push(t.type, t.timestamp, t.body);
    expect(ready).toBe(1);
    expect(ingest.medias.map((m) => m.codecs[0].name)).toEqual(["H264", "MPEG4-GENERIC"]);
    const video = attach(ingest, "video");
    await tick();
    expect(video[0]?.keyframe).toBe(true); // the keyframe that came with the headers was kept
  });

  it("puts a new sequence header's parameter sets in front of the next keyframe", async () => {
    const ingest = new FlvIngest();
    const headerIndex = tags.findIndex((t) => t.type === FlvTagType.VIDEO && t.body[1] === 0);
    for (const t of tags.slice(0, 20)) ingest.push(t.type, t.timestamp, t.body);
    const video = attach(ingest, "video");
    await tick();
    const before = video.length;
    // The same stream re-sends a changed AVCDecoderConfigurationRecord (its PPS's last byte differs).
    const changed = tags[headerIndex].body.slice();
    // Body: 5 bytes of FLV video header, then avcC: 5 bytes, numSPS, (u16 len, SPS)..., numPPS, u16 len, PPS.
    const c = 5;
    const configSpsLen = (changed[c + 6] << 8) | changed[c + 7];
    const ppsStart = c + 8 + configSpsLen + 3;
    changed[ppsStart + 1] ^= 0x01;
    ingest.push(RtmpMessageType.VIDEO, tags[20].timestamp, changed);
    for (const t of tags.slice(20)) ingest.push(t.type, t.timestamp, t.body);
    await tick();
    const key = video.slice(before).find((f) => f.keyframe)!;
    // AVCC: [len][SPS (type 7)][len][PPS (type 8)][the keyframe's own NAL units]
    expect(key.data[4] & 0x1f).toBe(7);
    const spsLen = new DataView(key.data.buffer, key.data.byteOffset).getUint32(0);
    expect(key.data[4 + spsLen + 4] & 0x1f).toBe(8);
    // Only the first keyframe after the change carries them.
    const later = video.slice(before).filter((f) => f.keyframe)[1];
    if (later) expect(later.data[4] & 0x1f).not.toBe(7);
  });

  it("reads aggregate messages (FLV tags back to back)", () => {
    const ingest = new FlvIngest();
    const parts = tags.slice(0, 10).map((t) => {
      const out = new Uint8Array(11 + t.body.length + 4);
      out[0] = t.type;
      out[1] = t.body.length >> 16;
      out[2] = (t.body.length >> 8) & 0xff;
      out[3] = t.body.length & 0xff;
      out[4] = (t.timestamp >> 16) & 0xff;
      out[5] = (t.timestamp >> 8) & 0xff;
      out[6] = t.timestamp & 0xff;
      out.set(t.body, 11);
      return out;
    });
    const agg = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      agg.set(p, o);
      o += p.length;
    }
    ingest.push(RtmpMessageType.AGGREGATE, 0, agg);
    expect(ingest.ready).toBe(true);
    expect(ingest.demuxer.tags).toBe(10);
  });
});
