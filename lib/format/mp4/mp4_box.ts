/**
 * ISO BMFF (ISO/IEC 14496-12) box writing and reading.
 *
 * ```text
 * box:      u32 size | fourcc type | payload            (size includes the 8-byte header)
 * largebox: u32 1    | fourcc type | u64 size | payload
 * fullbox:  box header | u8 version | u24 flags | payload
 * ```
 *
 * {@link BoxWriter} grows on demand for small structures (init segments, sample tables) and can be
 * given an exact capacity for hot paths (fragments), where it then never reallocates.
 *
 * @module
 */
import { ByteWriter } from "../_byte_writer.ts";

/**
 * Thrown when MP4 bytes cannot be parsed.
 *
 * @example
 * ```ts
 * try { readBoxes(bytes); } catch (e) { if (e instanceof Mp4BoxError) console.log(e.offset); }
 * ```
 */
export class Mp4BoxError extends SyntaxError {
  override name = "Mp4BoxError";
  /** Byte offset of the offending box header. */
  readonly offset: number;
  constructor(offset: number, message: string) {
    super(`Cannot parse MP4 box at byte ${offset}: ${message}`);
    this.offset = offset;
  }
}

/**
 * Sequential big-endian writer ({@link ByteWriter}) with box helpers.
 *
 * @example
 * ```ts
 * const w = new BoxWriter();
 * const ftyp = w.start("ftyp");
 * w.fourcc("iso5"); w.u32(512); w.fourcc("iso5"); w.fourcc("mp41");
 * w.end(ftyp);
 * const bytes = w.toBytes();
 * ```
 */
export class BoxWriter extends ByteWriter {
  /** Starts a box; returns its offset for {@link end}. */
  start(type: string): number {
    const at = this.pos;
    this.u32(0);
    this.fourcc(type);
    return at;
  }
  /** Starts a full box (version + flags). */
  startFull(type: string, version: number, flags: number): number {
    const at = this.start(type);
    this.u8(version);
    this.u24(flags);
    return at;
  }
  /** Closes the box started at `at` by writing its size. */
  end(at: number): void {
    this.view.setUint32(at, this.pos - at);
  }
  /** A whole box with the given payload. */
  box(type: string, payload: Uint8Array): void {
    this.u32(8 + payload.length);
    this.fourcc(type);
    this.bytes(payload);
  }
}

/** A box found by {@link readBoxes}. */
export interface Mp4Box {
  type: string;
  /** Offset of the box header. */
  start: number;
  /** Offset of the payload (after the header, before version/flags of a full box). */
  payload: number;
  /** Offset after the box. */
  end: number;
}

/**
 * Lists the boxes in `data[start, end)` (one level).
 *
 * @throws {Mp4BoxError} when a size is smaller than its header or runs past `end`.
 * @example
 * ```ts
 * for (const box of readBoxes(file)) console.log(box.type, box.end - box.start);
 * ```
 */
export function readBoxes(data: Uint8Array, start = 0, end = data.length): Mp4Box[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Mp4Box[] = [];
  let p = start;
  while (p + 8 <= end) {
    let size = view.getUint32(p);
    const type = String.fromCharCode(data[p + 4], data[p + 5], data[p + 6], data[p + 7]);
    let header = 8;
    if (size === 1) {
      if (p + 16 > end) throw new Mp4BoxError(p, `'${type}' has a 64-bit size cut short`);
      size = view.getUint32(p + 8) * 0x100000000 + view.getUint32(p + 12);
      header = 16;
    } else if (size === 0) {
      size = end - p;
    }
    if (size < header) {
      throw new Mp4BoxError(p, `'${type}' size ${size} is smaller than its ${header}-byte header`);
    }
    if (p + size > end) {
      throw new Mp4BoxError(p, `'${type}' size ${size} runs past the end (${end - p} bytes left)`);
    }
    out.push({ type, start: p, payload: p + header, end: p + size });
    p += size;
  }
  return out;
}

// Boxes whose payload is only child boxes (plus, for some, a fixed prefix handled in findBox).
const CONTAINERS = new Set([
  "moov",
  "trak",
  "mdia",
  "minf",
  "stbl",
  "dinf",
  "mvex",
  "moof",
  "traf",
  "edts",
  "udta",
  "mfra",
]);

/**
 * Finds the first box at a path such as `moov/trak/mdia/mdhd`, descending only into plain containers
 * (and `stsd`, whose entries follow an 8-byte header).
 *
 * @example
 * ```ts
 * const mdhd = findBox(init, "moov/trak/mdia/mdhd");
 * ```
 */
export function findBox(data: Uint8Array, path: string, start = 0, end = data.length): Mp4Box | undefined {
  const [head, ...rest] = path.split("/");
  for (const box of readBoxes(data, start, end)) {
    if (box.type !== head) continue;
    if (rest.length === 0) return box;
    const childStart = box.type === "stsd" ? box.payload + 8 : box.payload;
    if (!CONTAINERS.has(box.type) && box.type !== "stsd") continue;
    const found = findBox(data, rest.join("/"), childStart, box.end);
    if (found) return found;
  }
  return undefined;
}

/**
 * Finds every box at a path (e.g. all `moov/trak`).
 *
 * @example
 * ```ts
 * const traks = findBoxes(init, "moov/trak");
 * ```
 */
export function findBoxes(data: Uint8Array, path: string, start = 0, end = data.length): Mp4Box[] {
  const [head, ...rest] = path.split("/");
  const out: Mp4Box[] = [];
  for (const box of readBoxes(data, start, end)) {
    if (box.type !== head) continue;
    if (rest.length === 0) out.push(box);
    else if (CONTAINERS.has(box.type) || box.type === "stsd") {
      out.push(
        ...findBoxes(data, rest.join("/"), box.type === "stsd" ? box.payload + 8 : box.payload, box.end),
      );
    }
  }
  return out;
}
