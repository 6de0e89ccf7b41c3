/**
 * Program-specific information (ISO/IEC 13818-1 section 2.4.4): the Program Association Table and
 * the Program Map Table, as one-section tables.
 *
 * ```text
 * section: table_id(8) | syntax=1 | 0 | 11 | section_length(12)
 *          id(16) | 11 | version(5) | current_next=1 | section_number(8) | last_section_number(8)
 *          ...table data... | CRC_32
 * PAT data: { program_number(16) | 111 | PMT_PID(13) } ...
 * PMT data: 111 | PCR_PID(13) | 1111 | program_info_length(12) | descriptors
 *           { stream_type(8) | 111 | elementary_PID(13) | 1111 | ES_info_length(12) | descriptors } ...
 * ```
 *
 * @module
 */
import { crc32Mpeg2 } from "./ts_packet.ts";

/** One elementary stream of a PMT. */
export interface PmtStream {
  streamType: number;
  pid: number;
  /** Raw ES descriptors (tag, length, body...). */
  descriptors: Uint8Array;
}

/** A parsed PMT. */
export interface Pmt {
  programNumber: number;
  version: number;
  pcrPid: number;
  streams: PmtStream[];
}

function finishSection(out: Uint8Array, length: number): Uint8Array {
  // section_length counts the bytes after itself, CRC included.
  const sectionLength = length - 3 + 4;
  out[1] = 0xb0 | ((sectionLength >> 8) & 0x0f);
  out[2] = sectionLength & 0xff;
  const crc = crc32Mpeg2(out, 0, length);
  out[length] = crc >>> 24;
  out[length + 1] = (crc >>> 16) & 0xff;
  out[length + 2] = (crc >>> 8) & 0xff;
  out[length + 3] = crc & 0xff;
  return out.subarray(0, length + 4);
}

/**
 * A PAT section with one program.
 *
 * @example
 * ```ts
 * const pat = buildPatSection(1, 0x1000);
 * ```
 */
export function buildPatSection(
  programNumber: number,
  pmtPid: number,
  transportStreamId = 1,
  version = 0,
): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0x00; // table_id: program_association_section
  out[3] = transportStreamId >> 8;
  out[4] = transportStreamId & 0xff;
  out[5] = 0xc1 | ((version & 0x1f) << 1);
  out[6] = 0;
  out[7] = 0;
  out[8] = programNumber >> 8;
  out[9] = programNumber & 0xff;
  out[10] = 0xe0 | (pmtPid >> 8);
  out[11] = pmtPid & 0xff;
  return finishSection(out, 12);
}

/**
 * A PMT section.
 *
 * @example
 * ```ts
 * const pmt = buildPmtSection(1, 0x100, [{ streamType: 0x1b, pid: 0x100, descriptors: new Uint8Array() }]);
 * ```
 */
export function buildPmtSection(
  programNumber: number,
  pcrPid: number,
  streams: readonly PmtStream[],
  version = 0,
): Uint8Array {
  let size = 12;
  for (const s of streams) size += 5 + s.descriptors.length;
  const out = new Uint8Array(size + 4);
  out[0] = 0x02; // table_id: TS_program_map_section
  out[3] = programNumber >> 8;
  out[4] = programNumber & 0xff;
  out[5] = 0xc1 | ((version & 0x1f) << 1);
  out[6] = 0;
  out[7] = 0;
  out[8] = 0xe0 | (pcrPid >> 8);
  out[9] = pcrPid & 0xff;
  out[10] = 0xf0;
  out[11] = 0;
  let p = 12;
  for (const s of streams) {
    out[p] = s.streamType;
    out[p + 1] = 0xe0 | (s.pid >> 8);
    out[p + 2] = s.pid & 0xff;
    out[p + 3] = 0xf0 | (s.descriptors.length >> 8);
    out[p + 4] = s.descriptors.length & 0xff;
    out.set(s.descriptors, p + 5);
    p += 5 + s.descriptors.length;
  }
  return finishSection(out, p);
}

/**
 * Thrown when a PSI section is malformed.
 *
 * @example
 * ```ts
 * try { parsePmtSection(section); } catch (e) { if (e instanceof TsPsiError) console.log(e.table); }
 * ```
 */
export class TsPsiError extends SyntaxError {
  override name = "TsPsiError";
  readonly table: string;
  constructor(table: string, message: string) {
    super(`Cannot parse MPEG-TS ${table}: ${message}`);
    this.table = table;
  }
}

/** Checks table id, length and CRC; returns the section length (bytes after the 3-byte header). */
function checkSection(section: Uint8Array, tableId: number, table: string): number {
  if (section.length < 3) {
    throw new TsPsiError(table, `section of ${section.length} bytes is shorter than its header`);
  }
  if (section[0] !== tableId) {
    throw new TsPsiError(
      table,
      `table_id is 0x${section[0].toString(16)}, expected 0x${tableId.toString(16)}`,
    );
  }
  const len = ((section[1] & 0x0f) << 8) | section[2];
  if (len < 9 || 3 + len > section.length) {
    throw new TsPsiError(table, `section_length ${len} does not fit the ${section.length} bytes received`);
  }
  if (crc32Mpeg2(section, 0, 3 + len) !== 0) {
    throw new TsPsiError(table, "CRC_32 mismatch (corrupted section)");
  }
  return len;
}

/**
 * Parses a PAT section; returns program_number -> PMT PID (program 0, the network PID, excluded).
 *
 * @throws {TsPsiError} on a wrong table id, length or CRC.
 * @example
 * ```ts
 * const programs = parsePatSection(section); // Map { 1 => 4096 }
 * ```
 */
export function parsePatSection(section: Uint8Array): Map<number, number> {
  const len = checkSection(section, 0x00, "PAT");
  const out = new Map<number, number>();
  for (let p = 8; p + 4 <= 3 + len - 4; p += 4) {
    const program = (section[p] << 8) | section[p + 1];
    const pid = ((section[p + 2] & 0x1f) << 8) | section[p + 3];
    if (program !== 0) out.set(program, pid);
  }
  return out;
}

/**
 * Parses a PMT section.
 *
 * @throws {TsPsiError} on a wrong table id, length or CRC, or descriptors past the end.
 * @example
 * ```ts
 * for (const s of parsePmtSection(section).streams) console.log(s.pid, s.streamType);
 * ```
 */
export function parsePmtSection(section: Uint8Array): Pmt {
  const len = checkSection(section, 0x02, "PMT");
  const end = 3 + len - 4;
  const pmt: Pmt = {
    programNumber: (section[3] << 8) | section[4],
    version: (section[5] >> 1) & 0x1f,
    pcrPid: ((section[8] & 0x1f) << 8) | section[9],
    streams: [],
  };
  const infoLen = ((section[10] & 0x0f) << 8) | section[11];
  let p = 12 + infoLen;
  while (p + 5 <= end) {
    const esLen = ((section[p + 3] & 0x0f) << 8) | section[p + 4];
    if (p + 5 + esLen > end) {
      throw new TsPsiError("PMT", `ES_info_length ${esLen} at byte ${p + 3} runs past the section`);
    }
    pmt.streams.push({
      streamType: section[p],
      pid: ((section[p + 1] & 0x1f) << 8) | section[p + 2],
      descriptors: section.slice(p + 5, p + 5 + esLen),
    });
    p += 5 + esLen;
  }
  return pmt;
}

/**
 * Finds a descriptor by tag in a descriptor loop; returns its body.
 *
 * @example
 * ```ts
 * const reg = findDescriptor(stream.descriptors, 0x05); // registration_descriptor, e.g. "Opus"
 * ```
 */
export function findDescriptor(descriptors: Uint8Array, tag: number): Uint8Array | undefined {
  let p = 0;
  while (p + 2 <= descriptors.length) {
    const len = descriptors[p + 1];
    if (p + 2 + len > descriptors.length) return undefined;
    if (descriptors[p] === tag) return descriptors.subarray(p + 2, p + 2 + len);
    p += 2 + len;
  }
  return undefined;
}
