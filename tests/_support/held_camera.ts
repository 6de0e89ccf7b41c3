/**
 * A camera that sends one keyframe and drops, for the held-GOP tests of each output: the stream is
 * held (edge mode, `holdMs`) with a GOP of that one frame, and a late ffmpeg viewer must still
 * decode it. The keyframe is the first access unit of an H.264 baseline sample from the codec
 * testdata (no B-frames, so a one-thread decoder outputs it at once).
 *
 * @module
 */
import { expect } from "bun:test";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { joinAvcc } from "../../lib/codec/annexb/avcc.ts";
import { splitAnnexb } from "../../lib/codec/annexb/annexb.ts";
import { H264, MemoryProducer, videoMedia, waitFor } from "../../lib/core/_testing.ts";
import { StreamHub } from "../../lib/core/hub.ts";
import { registerSource, unregisterSource } from "../../lib/core/registry.ts";
import { runText } from "./process.ts";

const SAMPLE = fileURLToPath(
  new URL("../../lib/codec/h264/testdata/ffmpeg_h264_320x240_baseline.h264", import.meta.url),
);

// The sample's first access unit (everything before the first non-IDR slice) as AVCC.
function firstKeyframe(): Uint8Array {
  const nals: Uint8Array[] = [];
  for (const nal of splitAnnexb(readFileSync(SAMPLE))) {
    if ((nal[0] & 0x1f) === 1) break; // the next frame
    nals.push(nal);
  }
  expect(nals.some((n) => (n[0] & 0x1f) === 5)).toBe(true);
  return joinAvcc(nals);
}

/**
 * The `cam` stream of a hub that holds for 30 s, its source the scheme `<scheme>://` registered
 * here: a camera that comes up, sends what it is told, and stays down once dropped.
 */
export class OneKeyframeCamera {
  readonly hub = new StreamHub({ holdMs: 30_000, reconnectDelaysMs: [200] });
  readonly #conns: MemoryProducer[] = [];
  readonly #scheme: string;
  #down = false;

  constructor(scheme: string) {
    this.#scheme = scheme;
    registerSource(scheme, () => {
      if (this.#down) return Promise.reject(new Error("the camera is down"));
      const p = new MemoryProducer([videoMedia("recvonly", H264)]);
      this.#conns.push(p);
      return Promise.resolve(p);
    });
    this.hub.set("cam", [`${scheme}://cam`]);
  }

  /** Once a first viewer made the stream dial: one keyframe, then the camera drops and the stream holds. */
  async sendKeyframeAndDrop(): Promise<void> {
    await waitFor(() => this.#conns.length === 1 && this.#conns[0].started === 1, 10_000);
    this.#conns[0].push("video", { timestamp: 0, keyframe: true, data: firstKeyframe() });
    this.#down = true;
    this.#conns[0].end(new Error("connection reset"));
    await waitFor(
      () => (this.hub.get("cam")!.info().producers[0] as { holding?: boolean }).holding === true,
      5_000,
    );
  }

  async close(): Promise<void> {
    await this.hub.close();
    unregisterSource(this.#scheme);
  }
}

/**
 * A late viewer as a low-latency player decodes (smallest probe, one thread): ffmpeg reads
 * `inputArgs` (options and `-i <url>`) for one video frame and the test asserts it got it.
 */
export async function expectLateViewerDecodesOneFrame(inputArgs: string[]): Promise<void> {
  const late = await runText("ffmpeg", [
    "-v",
    "error",
    "-probesize",
    "32",
    "-threads",
    "1",
    ...inputArgs,
    "-frames:v",
    "1",
    "-f",
    "null",
    "-",
    "-progress",
    "pipe:1",
    "-nostats",
  ], { timeoutMs: 15_000, label: "the late ffmpeg viewer" });
  expect(late.stdout).toMatch(/^frame=1$/m);
  expect(late.stderr).not.toMatch(/error while decoding|no frame!/i);
}
