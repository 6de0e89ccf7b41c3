/**
 * The built-in demo clip, decoded once from the base64 in `clip_data.ts` into ready-to-push frames:
 * H.264 access units as AVCC (IDR frames carrying SPS/PPS in-band) and AAC raw access units.
 *
 * The clip is 3.84 s long, the shortest length holding a whole number of video frames (96 at 25 fps)
 * and AAC frames (180 x 1024 samples at 48 kHz), so both tracks loop at the same instant.
 *
 * @module
 */
import { type AdtsFrame, AdtsSplitter, adtsToAudioSpecificConfig } from "../../codec/aac/adts.ts";
import { buildAacFmtp } from "../../codec/aac/fmtp.ts";
import { splitAnnexb } from "../../codec/annexb/annexb.ts";
import { joinAvcc } from "../../codec/annexb/avcc.ts";
import { buildH264Fmtp } from "../../codec/h264/fmtp.ts";
import { H264NalType } from "../../codec/h264/nal.ts";
import { base64ToBytes } from "../../core/bytes.ts";
import {
  DEMO_AAC_BASE64,
  DEMO_AUDIO_FRAMES,
  DEMO_AUDIO_RATE,
  DEMO_H264_BASE64,
  DEMO_VIDEO_FPS,
  DEMO_VIDEO_FRAMES,
} from "./clip_data.ts";

/** The decoded demo clip. */
export interface DemoClip {
  video: {
    /** One entry per access unit, AVCC (4-byte lengths), AUD removed. */
    frames: Uint8Array[];
    /** Whether each frame is an IDR picture. */
    keyframes: boolean[];
    fps: number;
    sps: Uint8Array;
    pps: Uint8Array;
    /** SDP fmtp: `packetization-mode=1;profile-level-id=...;sprop-parameter-sets=...`. */
    fmtp: string;
  };
  audio: {
    /** One raw AAC access unit (no ADTS header) per entry, 1024 samples each. */
    frames: Uint8Array[];
    sampleRate: number;
    channels: number;
    /** AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1). */
    config: Uint8Array;
    /** SDP fmtp for MPEG4-GENERIC AAC-hbr (RFC 3640 3.3.6). */
    fmtp: string;
  };
}

/** The demo clip's embedded data is not what the demo source expects (a bad regeneration). */
export class DemoClipError extends Error {
  override name = "DemoClipError";
  constructor(message: string) {
    super(`Cannot load the demo clip: ${message}. Regenerate it with: bash scripts/fixtures/make_demo.sh`);
  }
}

let cached: DemoClip | undefined;

/**
 * Decodes the embedded clip (once; later calls return the same object). Frames are shared: callers
 * must not mutate them.
 *
 * @example
 * ```ts
 * const clip = loadDemoClip();
 * console.log(clip.video.frames.length, clip.video.fmtp);
 * ```
 */
export function loadDemoClip(): DemoClip {
  cached ??= { video: decodeVideo(), audio: decodeAudio() };
  return cached;
}

function decodeVideo(): DemoClip["video"] {
  const stream = base64ToBytes(DEMO_H264_BASE64);
  const units: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let hasSlice = false;
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  for (const nal of splitAnnexb(stream)) {
    const type = nal[0] & 0x1f;
    // The clip has an access unit delimiter before every access unit (x264 aud=1): that is the
    // boundary. The delimiter itself is dropped; consumers do not need it.
    if (type === H264NalType.AUD) {
      if (hasSlice) units.push(current);
      current = [];
      hasSlice = false;
      continue;
    }
    if (type === H264NalType.SPS) sps ??= nal;
    if (type === H264NalType.PPS) pps ??= nal;
    if (type === H264NalType.SLICE || type === H264NalType.IDR) hasSlice = true;
    current.push(nal);
  }
  if (hasSlice) units.push(current);
  if (!sps || !pps) throw new DemoClipError("the H.264 track has no SPS or PPS");
  if (units.length !== DEMO_VIDEO_FRAMES) {
    throw new DemoClipError(`expected ${DEMO_VIDEO_FRAMES} video frames, found ${units.length}`);
  }
  const frames: Uint8Array[] = [];
  const keyframes: boolean[] = [];
  for (const nals of units) {
    const idr = nals.some((n) => (n[0] & 0x1f) === H264NalType.IDR);
    if (idr) {
      // Every keyframe carries its parameter sets, so a viewer can start at any keyframe.
      const types = nals.map((n) => n[0] & 0x1f);
      if (!types.includes(H264NalType.PPS)) nals.unshift(pps);
      if (!types.includes(H264NalType.SPS)) nals.unshift(sps);
    }
    frames.push(joinAvcc(nals));
    keyframes.push(idr);
  }
  if (!keyframes[0]) throw new DemoClipError("the first video frame is not a keyframe");
  return { frames, keyframes, fps: DEMO_VIDEO_FPS, sps, pps, fmtp: buildH264Fmtp({ sps, pps }) };
}

function decodeAudio(): DemoClip["audio"] {
  const adts: AdtsFrame[] = [];
  const splitter = new AdtsSplitter((frame) => adts.push(frame));
  splitter.push(base64ToBytes(DEMO_AAC_BASE64));
  if (adts.length !== DEMO_AUDIO_FRAMES || splitter.errors) {
    throw new DemoClipError(
      `expected ${DEMO_AUDIO_FRAMES} ADTS frames, found ${adts.length} (${splitter.errors} errors)`,
    );
  }
  const header = adts[0].header;
  if (header.sampleRate !== DEMO_AUDIO_RATE) {
    throw new DemoClipError(`expected ${DEMO_AUDIO_RATE} Hz audio, found ${header.sampleRate} Hz`);
  }
  const config = adtsToAudioSpecificConfig(header);
  // RFC 3640 3.3.6 AAC-hbr; streamtype=5 is an audio stream (ISO/IEC 14496-1 Table 6).
  const fmtp = "streamtype=5;" + buildAacFmtp(config);
  return {
    frames: adts.map((f) => f.data),
    sampleRate: header.sampleRate,
    channels: header.channelConfiguration,
    config,
    fmtp,
  };
}
