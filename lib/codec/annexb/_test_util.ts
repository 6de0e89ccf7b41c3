/**
 * H.264/H.265 fixtures by codec (over tests/_support/fixtures.ts) and ffprobe as the decoding peer
 * for their tests (private).
 *
 * @module
 */
import { readTextFile } from "../../runtime/mod.ts";
import { splitAnnexb } from "./annexb.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { loadCapture, loadFixture } from "../../../tests/_support/fixtures.ts";
import { run } from "../../../tests/_support/process.ts";

function testdataUrl(codec: "h264" | "h265", name: string): URL {
  return new URL(`../${codec}/testdata/${name}`, import.meta.url);
}

/** Absolute path of a file in `lib/codec/<codec>/testdata/`. */
export function testdataPath(codec: "h264" | "h265", name: string): string {
  return decodeURIComponent(testdataUrl(codec, name).pathname);
}

/** Bytes of a fixture. */
export function readTestdata(codec: "h264" | "h265", name: string): Promise<Uint8Array> {
  return loadFixture(testdataUrl(codec, name));
}

/** Text of a fixture (SDP). */
export function readTestdataText(codec: "h264" | "h265", name: string): Promise<string> {
  return readTextFile(testdataPath(codec, name));
}

/** The `a=fmtp` parameters of an SDP file written by ffmpeg (without the payload type). */
export function sdpFmtp(sdp: string): string {
  const m = /a=fmtp:\d+ (.*)/.exec(sdp);
  if (!m) throw new Error("no a=fmtp line in the SDP fixture");
  return m[1].trim();
}

/** The RTP packets of a length-prefixed capture (see lib/rtp/capture.ts). */
export function readRtpTestdata(codec: "h264" | "h265", name: string): Promise<RtpPacket[]> {
  return loadCapture(testdataUrl(codec, name));
}

/** What ffprobe made of an elementary stream. */
export interface ProbeResult {
  frames: number;
  width: number;
  height: number;
  /** ffprobe's error output (`-v error`): empty when the stream decoded cleanly. */
  errors: string;
  code: number | null;
}

/**
 * Decodes an Annex-B elementary stream with ffprobe (fed on stdin) and reports the frames it read.
 * Bounded by `timeoutMs`: the child is killed when it takes longer.
 */
export async function ffprobe(
  data: Uint8Array,
  format: "h264" | "hevc",
  timeoutMs = 15_000,
): Promise<ProbeResult> {
  const res = await run("ffprobe", [
    "-v",
    "error",
    "-f",
    format,
    "-count_frames",
    "-show_entries",
    "stream=nb_read_frames,width,height",
    "-of",
    "json",
    "-i",
    "pipe:0",
  ], timeoutMs, data);
  const stdout = new TextDecoder().decode(res.stdout);
  const stream = JSON.parse(stdout || "{}").streams?.[0] ?? {};
  return {
    frames: Number(stream.nb_read_frames ?? 0),
    width: Number(stream.width ?? 0),
    height: Number(stream.height ?? 0),
    errors: res.stderr.trim(),
    code: res.code,
  };
}

/** The first NAL unit of `type` in an Annex-B fixture. */
export async function fixtureNal(codec: "h264" | "h265", name: string, type: number): Promise<Uint8Array> {
  for (const nal of splitAnnexb(await readTestdata(codec, name))) {
    const t = codec === "h264" ? nal[0] & 0x1f : (nal[0] >> 1) & 0x3f;
    if (t === type) return nal;
  }
  throw new Error(`no NAL unit of type ${type} in ${name}`);
}
