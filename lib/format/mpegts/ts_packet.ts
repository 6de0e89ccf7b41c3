/**
 * MPEG-2 transport stream packets (ISO/IEC 13818-1 section 2.4.3): 188 bytes, a 4-byte header, an
 * optional adaptation field, then payload.
 *
 * ```text
 * byte 0   0x47 sync
 * byte 1   TEI(1) | payload_unit_start(1) | priority(1) | PID[12..8](5)
 * byte 2   PID[7..0]
 * byte 3   scrambling(2) | adaptation_field_control(2): 01 payload, 10 AF, 11 both | continuity(4)
 * [AF]     length(8) | discontinuity, random_access, ES priority, PCR, OPCR, splice, private, ext
 *          [PCR: base(33) | reserved(6) | extension(9)] | stuffing 0xFF...
 * payload
 * ```
 *
 * @module
 */

/** Bytes in a transport stream packet. */
export const TS_PACKET_SIZE = 188;
/** The sync byte that starts every packet ('G'). */
export const TS_SYNC_BYTE = 0x47;

/**
 * Stream types of the PMT (ISO/IEC 13818-1 table 2-34 and registrations).
 *
 * @example
 * ```ts
 * if (stream.streamType === TsStreamType.H264) console.log("H.264 on PID", stream.pid);
 * ```
 */
export const TsStreamType = {
  MPEG1_AUDIO: 0x03,
  MPEG2_AUDIO: 0x04,
  /** PES private data: Opus (with a registration descriptor "Opus"), and others. */
  PRIVATE: 0x06,
  /** AAC in ADTS (ISO/IEC 13818-7). */
  AAC_ADTS: 0x0f,
  /** AAC in LATM (ISO/IEC 14496-3). */
  AAC_LATM: 0x11,
  H264: 0x1b,
  H265: 0x24,
  /** G.711 A-law as sent by TP-Link Tapo cameras (not standard). */
  PCMA_TAPO: 0x90,
} as const;

/**
 * PES stream_id values (ISO/IEC 13818-1 table 2-22).
 *
 * @example
 * ```ts
 * pesHeader[3] = PesStreamId.VIDEO;
 * ```
 */
export const PesStreamId = {
  PRIVATE_1: 0xbd,
  AUDIO: 0xc0,
  VIDEO: 0xe0,
} as const;

const CRC_TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 24;
  for (let j = 0; j < 8; j++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  CRC_TABLE[i] = c >>> 0;
}

/**
 * CRC-32/MPEG-2 of PSI sections (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7, initial value
 * 0xFFFFFFFF, no reflection, no final XOR. Over a whole section including its CRC it gives 0.
 *
 * @example
 * ```ts
 * crc32Mpeg2(section.subarray(0, end - 4)); // the value to store big-endian in the last 4 bytes
 * ```
 */
export function crc32Mpeg2(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[i]) & 0xff]) >>> 0;
  return crc >>> 0;
}

/**
 * Writes a 33-bit PTS/DTS as the 5-byte PES field (ISO/IEC 13818-1 section 2.4.3.7):
 * `prefix(4) | t[32..30] | 1 | t[29..15] | 1 | t[14..0] | 1`.
 *
 * @example
 * ```ts
 * writePesTimestamp(out, 9, 0b0010, pts);
 * ```
 */
export function writePesTimestamp(out: Uint8Array, offset: number, prefix: number, t: number): void {
  const hi = Math.floor(t / 0x40000000) & 0x07; // bits 32..30
  const lo = t % 0x40000000; // bits 29..0
  out[offset] = (prefix << 4) | (hi << 1) | 1;
  out[offset + 1] = (lo >>> 22) & 0xff;
  out[offset + 2] = (((lo >>> 15) & 0x7f) << 1) | 1;
  out[offset + 3] = (lo >>> 7) & 0xff;
  out[offset + 4] = ((lo & 0x7f) << 1) | 1;
}

/**
 * Reads a 5-byte PES PTS/DTS field as a 33-bit number.
 *
 * @example
 * ```ts
 * const pts = readPesTimestamp(pes, 9);
 * ```
 */
export function readPesTimestamp(data: Uint8Array, offset: number): number {
  const hi = (data[offset] >> 1) & 0x07;
  const lo = (data[offset + 1] << 22) | ((data[offset + 2] >> 1) << 15) | (data[offset + 3] << 7) |
    (data[offset + 4] >> 1);
  return hi * 0x40000000 + (lo >>> 0);
}
