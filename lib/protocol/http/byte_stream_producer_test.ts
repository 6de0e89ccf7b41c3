import { describe, expect, it } from "bun:test";
import { SourceError } from "../../core/errors.ts";
import { Sender } from "../../core/fanout.ts";
import { FlvDemuxer } from "../../format/flv/flv_demuxer.ts";
import { TsDemuxer } from "../../format/mpegts/ts_demuxer.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { openByteStream } from "./byte_stream_producer.ts";
import { ffmpeg } from "../../../tests/_support/ffmpeg.ts";
import { hasTool } from "../../../tests/_support/process.ts";

const hasFfmpeg = await hasTool("ffmpeg");

const flvUrl = new URL("../../format/flv/testdata/ffmpeg_h264_aac.flv", import.meta.url);
const tsUrl = new URL("../../format/mpegts/testdata/ffmpeg_h264_aac.mpegts", import.meta.url);

/** A body that yields `data` in `size`-byte chunks, then ends (or stays open with `hang`). */
function chunked(
  data: Uint8Array,
  size: number,
  hang = false,
): { body: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let p = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (p >= data.length) {
        if (!hang) controller.close();
        return new Promise(() => {}); // stays open until cancelled
      }
      controller.enqueue(data.slice(p, p + size));
      p += size;
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { body, cancelled: () => cancelled };
}

const opts = { url: "http://cam/live", kind: "http", protocol: "http" };

describe("openByteStream", () => {
  it("FLV in small chunks: every frame reaches the receivers, the ones read while probing included", async () => {
    const flv = await loadFixture(flvUrl);
    const reference = new FlvDemuxer().push(flv);
    const producer = await openByteStream(chunked(flv, 777).body, opts);
    expect(producer.format).toBe("flv");
    const medias = producer.medias();
    expect(medias.map((m) => `${m.kind}:${m.codecs[0].name}`)).toEqual(["video:H264", "audio:MPEG4-GENERIC"]);
    const video = producer.track(medias[0], medias[0].codecs[0]);
    const audio = producer.track(medias[1], medias[1].codecs[0]);
    await producer.start();
    expect(video.frames).toBe(reference.filter((f) => f.track.kind === "video").length);
    expect(audio.frames).toBe(reference.filter((f) => f.track.kind === "audio").length);
    expect(producer.info()).toMatchObject({ format: "http/flv", protocol: "http", bytesIn: flv.length });
  });

  it("MPEG-TS sniffed by its sync bytes; tracks keyed by PID", async () => {
    const ts = await loadFixture(tsUrl);
    const demux = new TsDemuxer();
    const reference = [...demux.push(ts), ...demux.flush()];
    const producer = await openByteStream(chunked(ts, 1000).body, {
      ...opts,
      contentType: "application/octet-stream",
    });
    expect(producer.format).toBe("mpegts");
    const receivers = producer.medias().map((m) => producer.track(m, m.codecs[0]));
    await producer.start();
    expect(receivers.reduce((n, r) => n + r.frames, 0)).toBe(reference.length);
  });

  it.skipIf(!hasFfmpeg)(
    "ADTS AAC (ffmpeg -f adts): one frame per ADTS frame, timestamps counting samples",
    async () => {
      const res = await ffmpeg([
        "-i",
        decodeURIComponent(tsUrl.pathname),
        "-vn",
        "-c:a",
        "copy",
        "-f",
        "adts",
        "-",
      ]);
      expect(res.code).toBe(0);
      const producer = await openByteStream(chunked(res.stdout, 500).body, {
        ...opts,
        contentType: "audio/aac",
      });
      expect(producer.format).toBe("adts");
      const [audio] = producer.medias();
      expect(audio.codecs[0]).toMatchObject({ name: "MPEG4-GENERIC", clockRate: 44100, channels: 1 });
      const receiver = producer.track(audio, audio.codecs[0]);
      const stamps: number[] = [];
      receiver.addSender(
        new Sender(audio, audio.codecs[0], (f) => {
          stamps.push(f.timestamp);
        }),
      );
      await producer.start();
      const ts = await loadFixture(tsUrl);
      const demux = new TsDemuxer();
      const expected = [...demux.push(ts), ...demux.flush()].filter((f) => f.track.kind === "audio").length;
      expect(receiver.frames).toBe(expected);
      expect(stamps.slice(0, 3)).toEqual([0, 1024, 2048]);
    },
  );

  it("a source that stops sending fails the run after idleTimeoutMs and is released", async () => {
    const flv = await loadFixture(flvUrl);
    const { body, cancelled } = chunked(flv, 4096, true);
    let closed = 0;
    const producer = await openByteStream(body, { ...opts, idleTimeoutMs: 300, close: () => closed++ });
    const error = await producer.start().catch((e) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toContain("no data for 300 ms");
    expect(cancelled()).toBe(true);
    expect(closed).toBe(1);
  });

  it("stop() ends a running source cleanly", async () => {
    const flv = await loadFixture(flvUrl);
    const { body, cancelled } = chunked(flv, 4096, true);
    const producer = await openByteStream(body, { ...opts, idleTimeoutMs: 0 });
    const running = producer.start();
    await new Promise((r) => setTimeout(r, 50));
    await producer.stop();
    await running;
    expect(cancelled()).toBe(true);
  });

  it("garbage, a format not accepted, and a body that ends early: clear errors, connection released", async () => {
    let closed = 0;
    const close = () => closed++;
    const junk = new Uint8Array(600).map((_, i) => (i * 7) & 0xff);
    const e1 = await openByteStream(chunked(junk, 100).body, { ...opts, contentType: "text/plain", close })
      .catch((e) => e);
    expect(e1.message).toContain('not a media stream (Content-Type "text/plain", first bytes 00 07 0e 15');

    const ts = await loadFixture(tsUrl);
    const e2 = await openByteStream(chunked(ts, 1000).body, { ...opts, formats: ["flv"], close }).catch((e) =>
      e
    );
    expect(e2.message).toContain("the body is MPEG-TS");
    expect(e2.message).toContain("Expected FLV.");

    const flv = await loadFixture(flvUrl);
    const e3 = await openByteStream(chunked(flv.subarray(0, 13), 13).body, { ...opts, format: "flv", close })
      .catch((e) => e);
    expect(e3.message).toContain("flv stream ended before its tracks were complete (found no tracks");
    expect(closed).toBe(3);
  });

  it("a probe that outlasts probeTimeoutMs fails instead of hanging", async () => {
    const { body } = chunked(new TextEncoder().encode("FLV"), 3, true);
    const started = performance.now();
    const error = await openByteStream(body, { ...opts, probeTimeoutMs: 200 }).catch((e) => e);
    expect(error.message).toContain("no media within 200 ms");
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
