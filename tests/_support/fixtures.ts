/**
 * Loading test fixtures (files under `testdata/` beside a test, or tests/fixtures/) on every runtime.
 *
 * @module
 */
import { readFile } from "../../lib/runtime/fs.ts";
import { readRtpCapture } from "../../lib/rtp/capture.ts";
import { parseRtp, type RtpPacket } from "../../lib/rtp/packet.ts";

/** Reads a fixture file: `loadFixture(new URL("testdata/x.flv", import.meta.url))`. */
export function loadFixture(url: URL): Promise<Uint8Array> {
  return readFile(decodeURIComponent(url.pathname));
}

/** Reads a length-prefixed RTP capture (see lib/rtp/capture.ts) and parses its packets. */
export async function loadCapture(url: URL): Promise<RtpPacket[]> {
  return readRtpCapture(await loadFixture(url)).map((d) => parseRtp(d));
}

/** A deterministic pseudo-random generator (mulberry32) so shuffles are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
