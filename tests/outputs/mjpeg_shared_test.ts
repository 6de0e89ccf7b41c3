/**
 * MJPEG viewers of the same stream and picture options share one ffmpeg transcoder: five viewers
 * make one ffmpeg child, each gets valid JPEGs, other options get their own transcoder, the
 * transcoder ends shortly after its last viewer, and a viewer that stops reading stalls no one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { hasTool } from "../_support/process.ts";
import { childFfmpegCount, consumerCount, type OutputServer, probeBytes, startOutputServer, waitFor } from "./_server.ts";

// MJPEG of an H.264 stream is transcoded by ffmpeg; the JPEGs are checked with ffprobe.
const hasFfmpeg = (await hasTool("ffmpeg")) && (await hasTool("ffprobe"));
const decoder = new TextDecoder();

/** Reads multipart parts from a response body and returns the JPEGs, by their Content-Length. */
class PartReader {
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf = new Uint8Array(0);

  constructor(res: Response) {
    this.reader = res.body!.getReader();
  }

  async next(timeoutMs = 10_000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const head = decoder.decode(this.#buf.subarray(0, Math.min(this.#buf.length, 200)));
      const end = head.indexOf("\r\n\r\n");
      const m = /Content-Length: (\d+)/.exec(head);
      if (end >= 0 && m) {
        const start = end + 4;
        const len = Number(m[1]);
        if (this.#buf.length >= start + len + 2) {
          const jpeg = this.#buf.slice(start, start + len);
          this.#buf = this.#buf.slice(start + len + 2);
          return jpeg;
        }
      }
      if (Date.now() > deadline) throw new Error(`no complete MJPEG part within ${timeoutMs} ms`);
      const { value, done } = await this.reader.read();
      if (done) throw new Error("MJPEG body ended");
      const merged = new Uint8Array(this.#buf.length + value.length);
      merged.set(this.#buf);
      merged.set(value, this.#buf.length);
      this.#buf = merged;
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel().catch(() => {});
  }
}

function isJpeg(b: Uint8Array): boolean {
  return b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;
}

interface FeedInfo {
  id: number;
  format: string;
  viewers?: number;
  clients?: { format: string; remoteAddr?: string }[];
}

async function consumers(base: string): Promise<FeedInfo[]> {
  const res = await fetch(`${base}/api/streams?src=demo`);
  const body = await res.json() as { consumers?: FeedInfo[] };
  return body.consumers ?? [];
}

async function feeds(base: string): Promise<FeedInfo[]> {
  return (await consumers(base)).filter((c) => c.format === "mjpeg-transcoder");
}

describe("shared MJPEG transcoder", () => {
  let s: OutputServer;

  beforeAll(async () => {
    s = await startOutputServer();
  }, 30_000);

  afterAll(async () => {
    await s?.close();
  }, 30_000);

  test.skipIf(!hasFfmpeg)("5 viewers share one ffmpeg; other options get a second one; it ends after the viewers leave", async () => {
    const viewers = await Promise.all(
      Array.from({ length: 5 }, () => fetch(`${s.base}/api/stream.mjpeg?src=demo&w=320`).then((r) => new PartReader(r))),
    );
    const jpegs = await Promise.all(viewers.map(async (v) => [await v.next(), await v.next(), await v.next()]));
    for (const list of jpegs) for (const j of list) expect(isJpeg(j)).toBe(true);
    const probe = await probeBytes(jpegs[4][2], "jpeg_pipe");
    expect(probe.streams?.[0]?.codec_name).toBe("mjpeg");
    expect(probe.streams?.[0]?.width).toBe(320);
    if (childFfmpegCount() >= 0) expect(childFfmpegCount()).toBe(1);
    // One transcoder consumer with 5 viewers, each listed in its clients with its address.
    expect(consumerCount(s.hub, "demo")).toBe(1);
    const listed = await feeds(s.base);
    expect(listed.length).toBe(1);
    expect(listed[0].viewers).toBe(5);
    expect(listed[0].clients?.length).toBe(5);
    for (const v of listed[0].clients!) {
      expect(v.format).toBe("mjpeg");
      expect(v.remoteAddr).toContain("127.0.0.1");
    }

    // Different picture options: a second transcoder.
    const other = new PartReader(await fetch(`${s.base}/api/stream.mjpeg?src=demo&w=160`));
    const small = await other.next();
    expect(isJpeg(small)).toBe(true);
    if (childFfmpegCount() >= 0) expect(childFfmpegCount()).toBe(2);
    expect((await feeds(s.base)).map((f) => f.viewers).sort()).toEqual([1, 5]);

    await Promise.all([...viewers, other].map((v) => v.cancel()));
    await waitFor("every MJPEG transcoder to close", () => consumerCount(s.hub, "demo") === 0, 8_000);
    if (childFfmpegCount() >= 0) await waitFor("no ffmpeg child left", () => childFfmpegCount() === 0, 5_000);
  }, 40_000);

  test.skipIf(!hasFfmpeg)("a viewer that stops reading does not stall another", async () => {
    // The stalled viewer: full-size JPEGs, body never read.
    const stalled = await fetch(`${s.base}/api/stream.mjpeg?src=demo`);
    expect(stalled.status).toBe(200);
    const active = new PartReader(await fetch(`${s.base}/api/stream.mjpeg?src=demo`));
    await active.next();
    if (childFfmpegCount() >= 0) expect(childFfmpegCount()).toBe(1);
    // The demo stream is 25 fps: over 4 s the reading viewer keeps getting most frames.
    const until = Date.now() + 4_000;
    let n = 0;
    while (Date.now() < until) {
      expect(isJpeg(await active.next(3_000))).toBe(true);
      n++;
    }
    expect(n).toBeGreaterThan(50);
    await active.cancel();
    await stalled.body!.cancel().catch(() => {});
    await waitFor("the transcoder to close", () => consumerCount(s.hub, "demo") === 0, 8_000);
    if (childFfmpegCount() >= 0) await waitFor("no ffmpeg child left", () => childFfmpegCount() === 0, 5_000);
  }, 40_000);
});
