/**
 * H.264/H.265 frames as ffmpeg's raw `h264`/`hevc` demuxers read them: Annex-B, with the parameter
 * sets from the codec's fmtp put in front of a keyframe that does not carry them in-band (RTSP
 * cameras usually send them only in the SDP).
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { avccToAnnexb } from "../../codec/annexb/annexb.ts";
import { splitAvcc } from "../../codec/annexb/avcc.ts";
import { h264ParameterSetsFromFmtp } from "../../codec/h264/fmtp.ts";
import { h265ParameterSetsFromFmtp } from "../../codec/h265/fmtp.ts";

const START_CODE = new Uint8Array([0, 0, 0, 1]);

/**
 * ffmpeg's raw demuxer name for a codec (`h264`, `hevc`), or undefined when there is none.
 *
 * @example
 * ```ts
 * rawDemuxerOf({ name: "H265", clockRate: 90000 }); // "hevc"
 * ```
 */
export function rawDemuxerOf(codec: Codec): "h264" | "hevc" | undefined {
  const name = codec.name.toUpperCase();
  if (name === "H264") return "h264";
  if (name === "H265") return "hevc";
  return undefined;
}

function hasParameterSets(codecName: string, data: Uint8Array): boolean {
  try {
    for (const nal of splitAvcc(data)) {
      if (nal.length === 0) continue;
      if (codecName === "H264") {
        if ((nal[0] & 0x1f) === 7) return true; // SPS
      } else if (((nal[0] >> 1) & 0x3f) === 33) return true; // H.265 SPS
    }
  } catch { /* malformed: let the decoder judge */ }
  return false;
}

/**
 * The frame as Annex-B. For a keyframe without in-band SPS, the fmtp's parameter sets
 * (`sprop-parameter-sets`, `sprop-vps/sps/pps`) go first.
 *
 * @throws {NalFramingError} when the AVCC data is malformed.
 * @example
 * ```ts
 * stdin.write(frameToAnnexb(codec, frame)); // ffmpeg -f h264 -i -
 * ```
 */
export function frameToAnnexb(codec: Codec, frame: Frame): Uint8Array {
  const name = codec.name.toUpperCase();
  const body = avccToAnnexb(frame.data);
  if (!frame.keyframe || hasParameterSets(name, frame.data)) return body;
  let sets: (Uint8Array | undefined)[] = [];
  try {
    if (name === "H264") {
      const p = h264ParameterSetsFromFmtp(codec.fmtp);
      sets = [p.sps, p.pps];
    } else if (name === "H265") {
      const p = h265ParameterSetsFromFmtp(codec.fmtp);
      sets = [p.vps, p.sps, p.pps];
    }
  } catch { /* bad base64 in the fmtp: send the frame as is */ }
  const present = sets.filter((s): s is Uint8Array => !!s && s.length > 0);
  if (present.length === 0) return body;
  let size = body.length;
  for (const s of present) size += 4 + s.length;
  const out = new Uint8Array(size);
  let p = 0;
  for (const s of present) {
    out.set(START_CODE, p);
    out.set(s, p + 4);
    p += 4 + s.length;
  }
  out.set(body, p);
  return out;
}
