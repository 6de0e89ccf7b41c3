/**
 * Sample entries of the `stsd` box (ISO/IEC 14496-12 section 12.1.3 / 12.2.3) for the codecs strom
 * muxes: `avc1`+`avcC`, `hvc1`+`hvcC`, `mp4a`+`esds`, `Opus`+`dOps`, `fLaC`+`dfLa`.
 *
 * ```text
 * SampleEntry        6 reserved | u16 data_reference_index = 1
 * VisualSampleEntry  u16 pre_defined, u16 reserved, 3 x u32 pre_defined | u16 width | u16 height
 *                    u32 horizresolution 72 dpi | u32 vertresolution 72 dpi | u32 reserved
 *                    u16 frame_count = 1 | 32 bytes compressorname | u16 depth 0x18 | i16 -1
 * AudioSampleEntry   2 x u32 reserved | u16 channelcount | u16 samplesize | u16 pre_defined
 *                    u16 reserved | u32 samplerate << 16
 * ```
 *
 * @module
 */
import type { BoxWriter } from "./mp4_box.ts";

function visualHeader(w: BoxWriter, width: number, height: number): void {
  w.zeros(6);
  w.u16(1); // data_reference_index
  w.zeros(16); // pre_defined, reserved, pre_defined[3]
  w.u16(width);
  w.u16(height);
  w.u32(0x00480000);
  w.u32(0x00480000);
  w.u32(0);
  w.u16(1); // frame_count
  w.zeros(32); // compressorname (empty Pascal string)
  w.u16(0x0018);
  w.u16(0xffff); // pre_defined = -1
}

function audioHeader(w: BoxWriter, channels: number, sampleRate: number): void {
  w.zeros(6);
  w.u16(1);
  w.zeros(8);
  w.u16(channels);
  w.u16(16);
  w.u16(0);
  w.u16(0);
  // 16.16 fixed point; rates above 65535 Hz do not fit and are written as 0 (the codec config has them).
  w.u32(sampleRate <= 0xffff ? sampleRate * 0x10000 : 0);
}

/**
 * `avc1` with its `avcC`.
 *
 * @example
 * ```ts
 * writeAvc1Entry(w, 1280, 720, buildAvcDecoderConfig([sps], [pps]));
 * ```
 */
export function writeAvc1Entry(w: BoxWriter, width: number, height: number, avcC: Uint8Array): void {
  const at = w.start("avc1");
  visualHeader(w, width, height);
  w.box("avcC", avcC);
  w.end(at);
}

/**
 * `hvc1` with its `hvcC` (parameter sets in the sample entry, as Safari requires for `hvc1`).
 *
 * @example
 * ```ts
 * writeHvc1Entry(w, 1920, 1080, buildHevcDecoderConfig([vps], [sps], [pps]));
 * ```
 */
export function writeHvc1Entry(w: BoxWriter, width: number, height: number, hvcC: Uint8Array): void {
  const at = w.start("hvc1");
  visualHeader(w, width, height);
  w.box("hvcC", hvcC);
  w.end(at);
}

/** ISO/IEC 14496-1 expandable size: 7 bits per byte, high bit = more bytes follow. */
function descriptorLength(w: BoxWriter, len: number): void {
  if (len >= 1 << 21) w.u8(0x80 | ((len >> 21) & 0x7f));
  if (len >= 1 << 14) w.u8(0x80 | ((len >> 14) & 0x7f));
  if (len >= 1 << 7) w.u8(0x80 | ((len >> 7) & 0x7f));
  w.u8(len & 0x7f);
}

function lengthBytes(len: number): number {
  return len < 1 << 7 ? 1 : len < 1 << 14 ? 2 : len < 1 << 21 ? 3 : 4;
}

/**
 * `mp4a` with an `esds` holding the AudioSpecificConfig (ISO/IEC 14496-14 section 3.1.2):
 *
 * ```text
 * ES_Descriptor (tag 3): ES_ID, flags
 *   DecoderConfigDescriptor (tag 4): objectTypeIndication, streamType 5 (audio), buffer, bitrates
 *     DecoderSpecificInfo (tag 5): AudioSpecificConfig
 *   SLConfigDescriptor (tag 6): predefined = 2 (MP4)
 * ```
 *
 * @param objectTypeIndication 0x40 for MPEG-4 audio (AAC), 0x6B for MP3.
 * @example
 * ```ts
 * writeMp4aEntry(w, 2, 48000, asc);
 * ```
 */
export function writeMp4aEntry(
  w: BoxWriter,
  channels: number,
  sampleRate: number,
  asc: Uint8Array | undefined,
  objectTypeIndication = 0x40,
): void {
  const at = w.start("mp4a");
  audioHeader(w, channels, sampleRate);
  const esds = w.startFull("esds", 0, 0);
  const dsiLen = asc ? 1 + lengthBytes(asc.length) + asc.length : 0;
  const dcdLen = 13 + dsiLen;
  const slLen = 3;
  const esLen = 3 + 1 + lengthBytes(dcdLen) + dcdLen + slLen;
  w.u8(0x03);
  descriptorLength(w, esLen);
  w.u16(0); // ES_ID
  w.u8(0); // no stream dependence, URL or OCR
  w.u8(0x04);
  descriptorLength(w, dcdLen);
  w.u8(objectTypeIndication);
  w.u8((0x05 << 2) | 1); // streamType audio, upStream 0, reserved 1
  w.u24(0); // bufferSizeDB
  w.u32(0); // maxBitrate
  w.u32(0); // avgBitrate
  if (asc) {
    w.u8(0x05);
    descriptorLength(w, asc.length);
    w.bytes(asc);
  }
  w.u8(0x06);
  w.u8(1);
  w.u8(0x02);
  w.end(esds);
  w.end(at);
}

/**
 * `Opus` with `dOps` ("Encapsulation of Opus in ISO Base Media File Format", section 4.3.2):
 * Version 0, OutputChannelCount, PreSkip, InputSampleRate, OutputGain, ChannelMappingFamily 0.
 *
 * @example
 * ```ts
 * writeOpusEntry(w, 2, 48000, 0);
 * ```
 */
export function writeOpusEntry(
  w: BoxWriter,
  channels: number,
  inputSampleRate: number,
  preSkip: number,
): void {
  const at = w.start("Opus");
  audioHeader(w, channels, 48000);
  const dops = w.start("dOps");
  w.u8(0);
  w.u8(channels);
  w.u16(preSkip);
  w.u32(inputSampleRate);
  w.u16(0); // OutputGain
  w.u8(0); // ChannelMappingFamily 0: mono or stereo, no table
  w.end(dops);
  w.end(at);
}

/**
 * `fLaC` with `dfLa` ("Encapsulation of FLAC in ISO Base Media File Format", section 3.3.2): a full
 * box holding metadata blocks, here only STREAMINFO, flagged as the last one.
 *
 * @example
 * ```ts
 * writeFlacEntry(w, 1, 8000, encoder.streamInfo());
 * ```
 */
export function writeFlacEntry(
  w: BoxWriter,
  channels: number,
  sampleRate: number,
  streamInfo: Uint8Array,
): void {
  const at = w.start("fLaC");
  audioHeader(w, channels, sampleRate);
  const dfla = w.startFull("dfLa", 0, 0);
  w.u8(0x80); // last-metadata-block flag | type 0 STREAMINFO
  w.u24(streamInfo.length);
  w.bytes(streamInfo);
  w.end(dfla);
  w.end(at);
}
