/**
 * Fragmented MP4 demuxer (ISO/IEC 14496-12): an init segment (`ftyp` + `moov`) and media segments
 * (`moof` + `mdat`, as HLS fMP4 and DASH serve them) to frames.
 *
 * - Tracks: H.264 (`avc1`/`avc3` + `avcC`), H.265 (`hvc1`/`hev1` + `hvcC`), AAC (`mp4a` + `esds`),
 *   Opus (`Opus`); others are listed as unsupported and skipped.
 * - Fragments: `tfhd` defaults (and `trex` ones), `tfdt` base decode time, `trun` per-sample
 *   duration, size, flags and composition offset; `default-base-is-moof` and explicit base offsets.
 * - Frames: video keeps 4-byte NAL length prefixes (other sizes are rewritten), 90 kHz timestamps
 *   with `cts`; audio in the sample rate.
 *
 * ```text
 * moof ─ mfhd
 *      └ traf ─ tfhd (track_ID, defaults)   mdat [ sample | sample | ... ]
 *             ├ tfdt (base decode time)           ^ data_offset from moof start
 *             └ trun (count, data_offset, per-sample duration/size/flags/cts)
 * ```
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { buildAudioSpecificConfig, parseAudioSpecificConfig } from "../../codec/aac/config.ts";
import { buildAacFmtp } from "../../codec/aac/fmtp.ts";
import { buildH264Fmtp } from "../../codec/h264/fmtp.ts";
import { buildH265Fmtp } from "../../codec/h265/fmtp.ts";
import { DecoderConfigError, parseAvcDecoderConfig } from "./avc_decoder_config.ts";
import { parseHevcDecoderConfig } from "./hevc_decoder_config.ts";
import { findBox, findBoxes, type Mp4Box, Mp4BoxError, readBoxes } from "./mp4_box.ts";

/** A track of the init segment. */
export interface Fmp4Track {
  id: number;
  kind: "video" | "audio";
  codec: Codec;
  /** `mdhd` timescale (ticks per second). */
  timescale: number;
  /** NAL length prefix size (video). */
  lengthSize: number;
  defaultDuration: number;
  defaultSize: number;
  defaultFlags: number;
}

/** A frame out of the demuxer. */
export interface Fmp4DemuxedFrame {
  track: Fmp4Track;
  frame: Frame;
}

/** Init segment tracks strom cannot read (sample entry type), for messages. */
export interface Fmp4Init {
  tracks: Fmp4Track[];
  unsupported: string[];
}

const u32 = (d: Uint8Array, p: number) =>
  ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;
const u16 = (d: Uint8Array, p: number) => (d[p] << 8) | d[p + 1];
const u64 = (d: Uint8Array, p: number) => u32(d, p) * 0x100000000 + u32(d, p + 4);
const fourcc = (d: Uint8Array, p: number) => String.fromCharCode(d[p], d[p + 1], d[p + 2], d[p + 3]);

/** Reads an MPEG-4 descriptor length (1-4 bytes of 7 bits). */
function descriptorLength(d: Uint8Array, p: number, end: number): [number, number] {
  let len = 0;
  for (let i = 0; i < 4 && p < end; i++) {
    const b = d[p++];
    len = (len << 7) | (b & 0x7f);
    if (!(b & 0x80)) break;
  }
  return [len, p];
}

/** The AudioSpecificConfig inside an `esds` box payload (after version/flags). */
function esdsConfig(d: Uint8Array, start: number, end: number): Uint8Array | undefined {
  let p = start + 4;
  if (d[p] !== 0x03) return undefined;
  let len: number;
  [len, p] = descriptorLength(d, p + 1, end);
  const flags = d[p + 2];
  p += 3;
  if (flags & 0x80) p += 2;
  if (flags & 0x40) p += 1 + d[p];
  if (flags & 0x20) p += 2;
  if (d[p] !== 0x04) return undefined;
  [len, p] = descriptorLength(d, p + 1, end);
  const dcdEnd = p + len;
  p += 13;
  if (p >= dcdEnd || d[p] !== 0x05) return undefined;
  [len, p] = descriptorLength(d, p + 1, end);
  return d.slice(p, Math.min(p + len, end));
}

function parseSampleEntry(
  d: Uint8Array,
  entry: Mp4Box,
  kind: "video" | "audio",
): { codec: Codec; lengthSize: number } | undefined {
  const type = entry.type;
  if (kind === "video") {
    const children = readBoxes(d, entry.payload + 78, entry.end);
    if (type === "avc1" || type === "avc3") {
      const box = children.find((b) => b.type === "avcC");
      if (!box) return undefined;
      const c = parseAvcDecoderConfig(d.subarray(box.payload, box.end));
      // Found by fuzzing: an avcC whose first "SPS" is another NAL type made buildH264Fmtp throw a TypeError.
      const sps = c.sps[0];
      if (!sps || sps.length < 4 || (sps[0] & 0x1f) !== 7) {
        throw new DecoderConfigError("avcC", 5, "its first sequence parameter set is missing or is not an H.264 SPS NAL unit (type 7)");
      }
      return {
        codec: { name: "H264", clockRate: 90000, fmtp: buildH264Fmtp({ sps: c.sps[0], pps: c.pps[0] }) },
        lengthSize: c.lengthSize,
      };
    }
    if (type === "hvc1" || type === "hev1") {
      const box = children.find((b) => b.type === "hvcC");
      if (!box) return undefined;
      const c = parseHevcDecoderConfig(d.subarray(box.payload, box.end));
      return {
        codec: {
          name: "H265",
          clockRate: 90000,
          fmtp: buildH265Fmtp({ vps: c.vps[0], sps: c.sps[0], pps: c.pps[0] }),
        },
        lengthSize: c.lengthSize,
      };
    }
    return undefined;
  }
  // AudioSampleEntry: 8 (reserved, data_reference_index) + 20; QuickTime sound versions add more.
  const version = u16(d, entry.payload + 8);
  const childStart = entry.payload + 28 + (version === 1 ? 16 : version === 2 ? 36 : 0);
  const channels = u16(d, entry.payload + 16);
  const rate = u16(d, entry.payload + 24);
  if (type === "mp4a") {
    const esds = readBoxes(d, childStart, entry.end).find((b) => b.type === "esds");
    // Without a DecoderSpecificInfo (ffmpeg's empty_moov remux of ADTS writes none), assume AAC-LC
    // with the sample entry's rate and channels.
    const config = (esds && esdsConfig(d, esds.payload, esds.end)) ??
      // Only channel counts an AudioSpecificConfig can signal (found by fuzzing: 258 channels threw a RangeError).
      (rate && ((channels >= 1 && channels <= 6) || channels === 8)
        ? buildAudioSpecificConfig({ sampleRate: rate, channels })
        : undefined);
    if (!config) return undefined;
    const asc = parseAudioSpecificConfig(config);
    return {
      codec: {
        name: "MPEG4-GENERIC",
        clockRate: asc.sampleRate,
        channels: asc.channels || channels || 2,
        fmtp: buildAacFmtp(config),
      },
      lengthSize: 0,
    };
  }
  if (type === "Opus") return { codec: { name: "OPUS", clockRate: 48000, channels: 2 }, lengthSize: 0 };
  if (type === "alaw" || type === "ulaw") {
    return {
      codec: {
        name: type === "alaw" ? "PCMA" : "PCMU",
        clockRate: rate || 8000,
        ...(channels > 1 ? { channels } : {}),
      },
      lengthSize: 0,
    };
  }
  return undefined;
}

/**
 * Parses an init segment's tracks.
 *
 * @throws {Mp4BoxError} (a SyntaxError) when there is no `moov` or a box is malformed.
 * @example
 * ```ts
 * const { tracks } = parseFmp4Init(initBytes);
 * tracks.map((t) => t.codec.name); // ["H264", "MPEG4-GENERIC"]
 * ```
 */
export function parseFmp4Init(init: Uint8Array): Fmp4Init {
  const moov = findBox(init, "moov");
  if (!moov) throw new Mp4BoxError(0, "the init segment has no 'moov' box");
  const trex = new Map<number, { duration: number; size: number; flags: number }>();
  for (const box of findBoxes(init, "mvex/trex", moov.payload, moov.end)) {
    const p = box.payload + 4;
    trex.set(u32(init, p), { duration: u32(init, p + 8), size: u32(init, p + 12), flags: u32(init, p + 16) });
  }
  const tracks: Fmp4Track[] = [];
  const unsupported: string[] = [];
  for (const trak of findBoxes(init, "trak", moov.payload, moov.end)) {
    const tkhd = findBox(init, "tkhd", trak.payload, trak.end);
    const mdhd = findBox(init, "mdia/mdhd", trak.payload, trak.end);
    const hdlr = findBox(init, "mdia/hdlr", trak.payload, trak.end);
    const stsd = findBox(init, "mdia/minf/stbl/stsd", trak.payload, trak.end);
    if (!tkhd || !mdhd || !hdlr || !stsd) continue;
    const id = u32(init, tkhd.payload + (init[tkhd.payload] === 1 ? 20 : 12));
    const timescale = u32(init, mdhd.payload + (init[mdhd.payload] === 1 ? 20 : 12));
    const handler = fourcc(init, hdlr.payload + 8);
    if (handler !== "vide" && handler !== "soun") continue;
    const kind = handler === "vide" ? "video" : "audio";
    const [entry] = readBoxes(init, stsd.payload + 8, stsd.end);
    if (!entry) continue;
    const parsed = parseSampleEntry(init, entry, kind);
    if (!parsed) {
      unsupported.push(`${kind} ${entry.type}`);
      continue;
    }
    const defaults = trex.get(id) ?? { duration: 0, size: 0, flags: 0 };
    tracks.push({
      id,
      kind,
      codec: parsed.codec,
      timescale: timescale || parsed.codec.clockRate,
      lengthSize: parsed.lengthSize,
      defaultDuration: defaults.duration,
      defaultSize: defaults.size,
      defaultFlags: defaults.flags,
    });
  }
  return { tracks, unsupported };
}

/** Rewrites NAL length prefixes of `lengthSize` bytes to 4 bytes. */
function toAvcc(data: Uint8Array, lengthSize: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  let p = 0;
  while (p + lengthSize <= data.length) {
    let len = 0;
    for (let i = 0; i < lengthSize; i++) len = len * 256 + data[p + i];
    p += lengthSize;
    if (p + len > data.length) break;
    parts.push(data.subarray(p, p + len));
    size += 4 + len;
    p += len;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const nal of parts) {
    out[o] = nal.length >>> 24;
    out[o + 1] = (nal.length >>> 16) & 0xff;
    out[o + 2] = (nal.length >>> 8) & 0xff;
    out[o + 3] = nal.length & 0xff;
    out.set(nal, o + 4);
    o += 4 + nal.length;
  }
  return out;
}

/**
 * Demuxes media segments against one init segment. Malformed fragments are counted in `errors`
 * and skipped; frames point into the segment's bytes (no copy).
 *
 * @example
 * ```ts
 * const demux = new Fmp4Demuxer(initBytes);
 * for (const { track, frame } of demux.push(segmentBytes)) receivers.get(track.id)?.push(frame);
 * ```
 */
export class Fmp4Demuxer {
  readonly tracks: Fmp4Track[];
  readonly unsupported: string[];
  /** Fragments that could not be read. */
  errors = 0;
  readonly #byId = new Map<number, Fmp4Track>();

  /** @throws {Mp4BoxError} for an unusable init segment. */
  constructor(init: Uint8Array) {
    const parsed = parseFmp4Init(init);
    this.tracks = parsed.tracks;
    this.unsupported = parsed.unsupported;
    for (const t of this.tracks) this.#byId.set(t.id, t);
  }

  /**
   * Demuxes one or more whole `moof`+`mdat` pairs (other top-level boxes such as `styp`, `sidx`
   * are skipped). Returns frames in file order.
   */
  push(segment: Uint8Array): Fmp4DemuxedFrame[] {
    const out: Fmp4DemuxedFrame[] = [];
    let boxes: Mp4Box[];
    try {
      boxes = readBoxes(segment);
    } catch {
      this.errors++;
      return out;
    }
    for (const moof of boxes) {
      if (moof.type !== "moof") continue;
      try {
        this.#moof(segment, moof, out);
      } catch {
        this.errors++;
      }
    }
    return out;
  }

  #moof(d: Uint8Array, moof: Mp4Box, out: Fmp4DemuxedFrame[]): void {
    for (const traf of findBoxes(d, "traf", moof.payload, moof.end)) {
      const tfhd = findBox(d, "tfhd", traf.payload, traf.end);
      if (!tfhd) continue;
      const flags = u32(d, tfhd.payload) & 0xffffff;
      let p = tfhd.payload + 4;
      const track = this.#byId.get(u32(d, p));
      p += 4;
      if (!track) continue;
      let base = moof.start;
      if (flags & 0x01) {
        base = u64(d, p);
        p += 8;
      }
      if (flags & 0x02) p += 4;
      let defDuration = track.defaultDuration;
      let defSize = track.defaultSize;
      let defFlags = track.defaultFlags;
      if (flags & 0x08) {
        defDuration = u32(d, p);
        p += 4;
      }
      if (flags & 0x10) {
        defSize = u32(d, p);
        p += 4;
      }
      if (flags & 0x20) defFlags = u32(d, p);
      const tfdt = findBox(d, "tfdt", traf.payload, traf.end);
      let dts = tfdt ? (d[tfdt.payload] === 1 ? u64(d, tfdt.payload + 4) : u32(d, tfdt.payload + 4)) : 0;
      let dataAt = base;
      for (const trun of findBoxes(d, "trun", traf.payload, traf.end)) {
        const version = d[trun.payload];
        const tf = u32(d, trun.payload) & 0xffffff;
        let q = trun.payload + 4;
        const count = u32(d, q);
        q += 4;
        if (tf & 0x01) {
          dataAt = base + (u32(d, q) | 0);
          q += 4;
        }
        let firstFlags = -1;
        if (tf & 0x04) {
          firstFlags = u32(d, q);
          q += 4;
        }
        const scale = track.codec.clockRate / track.timescale;
        for (let i = 0; i < count; i++) {
          let duration = defDuration;
          let size = defSize;
          let sampleFlags = i === 0 && firstFlags >= 0 ? firstFlags : defFlags;
          let cts = 0;
          if (tf & 0x100) {
            duration = u32(d, q);
            q += 4;
          }
          if (tf & 0x200) {
            size = u32(d, q);
            q += 4;
          }
          if (tf & 0x400) {
            const f = u32(d, q);
            q += 4;
            if (!(i === 0 && firstFlags >= 0)) sampleFlags = f;
          }
          if (tf & 0x800) {
            cts = version === 0 ? u32(d, q) : u32(d, q) | 0;
            q += 4;
          }
          if (q > trun.end || dataAt + size > d.length) throw new RangeError("trun runs past its data");
          let data = d.subarray(dataAt, dataAt + size);
          dataAt += size;
          if (track.kind === "video" && track.lengthSize && track.lengthSize !== 4) {
            data = toAvcc(data, track.lengthSize);
          }
          const frame: Frame = {
            timestamp: Math.round(dts * scale),
            keyframe: track.kind === "audio" || ((sampleFlags >>> 16) & 1) === 0,
            data,
          };
          if (cts) frame.cts = Math.round(cts * scale);
          out.push({ track, frame });
          dts += duration;
        }
      }
    }
  }
}
