/**
 * AMF0 (Action Message Format version 0, Adobe "AMF 0 File Format Specification"), the value
 * encoding of FLV script tags (`onMetaData`) and of RTMP command messages.
 *
 * ```text
 * number       0x00 | float64 BE
 * boolean      0x01 | u8
 * string       0x02 | u16 length | UTF-8
 * object       0x03 | (u16 keylen | key | value)* | 00 00 09
 * null         0x05            undefined  0x06
 * reference    0x07 | u16 index
 * ECMA array   0x08 | u32 count hint | (key | value)* | 00 00 09
 * strict array 0x0A | u32 count | value*
 * date         0x0B | float64 ms | s16 time zone
 * long string  0x0C | u32 length | UTF-8
 * ```
 *
 * @module
 */
import { ByteWriter } from "../_byte_writer.ts";

/** A decoded AMF0 value. Objects and ECMA arrays both decode to plain objects. */
export type Amf0Value =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | Amf0Value[]
  | Amf0EcmaArray
  | { [key: string]: Amf0Value };

/**
 * Marks an associative array to be encoded as an AMF0 ECMA array (type 0x08) rather than an object
 * (type 0x03). FLV `onMetaData` is conventionally an ECMA array.
 *
 * @example
 * ```ts
 * encodeAmf0(["onMetaData", new Amf0EcmaArray({ width: 1280, height: 720 })]);
 * ```
 */
export class Amf0EcmaArray {
  constructor(public readonly entries: { [key: string]: Amf0Value }) {}
}

/**
 * Thrown when AMF0 bytes cannot be decoded.
 *
 * @example
 * ```ts
 * try { decodeAmf0(bytes); } catch (e) { if (e instanceof Amf0Error) console.log(e.offset); }
 * ```
 */
export class Amf0Error extends SyntaxError {
  override name = "Amf0Error";
  /** Byte offset in the input where decoding failed. */
  readonly offset: number;
  constructor(offset: number, message: string) {
    super(`Cannot decode AMF0 at byte ${offset}: ${message}`);
    this.offset = offset;
  }
}

const MARKER = {
  Number: 0x00,
  Boolean: 0x01,
  String: 0x02,
  Object: 0x03,
  MovieClip: 0x04,
  Null: 0x05,
  Undefined: 0x06,
  Reference: 0x07,
  EcmaArray: 0x08,
  ObjectEnd: 0x09,
  StrictArray: 0x0a,
  Date: 0x0b,
  LongString: 0x0c,
  Unsupported: 0x0d,
  XmlDocument: 0x0f,
  TypedObject: 0x10,
  AvmPlus: 0x11,
} as const;

const MAX_DEPTH = 64;
const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

class Reader {
  pos: number;
  readonly view: DataView;
  readonly refs: Amf0Value[] = [];
  constructor(readonly data: Uint8Array, offset: number) {
    this.pos = offset;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  need(n: number, what: string): void {
    if (this.pos + n > this.data.length) {
      throw new Amf0Error(
        this.pos,
        `${what} needs ${n} bytes, only ${this.data.length - this.pos} left (truncated)`,
      );
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.data[this.pos++];
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }
  utf8(len: number, what: string): string {
    this.need(len, what);
    const s = textDecoder.decode(this.data.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
}

function readProperties(r: Reader, into: { [key: string]: Amf0Value }, depth: number): void {
  for (;;) {
    // Some encoders end an ECMA array by its count alone, without the end marker.
    if (r.pos === r.data.length) return;
    const keyLen = r.u16("property name length");
    if (keyLen === 0) {
      if (r.pos < r.data.length && r.data[r.pos] === MARKER.ObjectEnd) r.pos++;
      return;
    }
    const key = r.utf8(keyLen, "property name");
    into[key] = readValue(r, depth + 1);
  }
}

function readValue(r: Reader, depth: number): Amf0Value {
  if (depth > MAX_DEPTH) throw new Amf0Error(r.pos, `nesting deeper than ${MAX_DEPTH}`);
  const at = r.pos;
  const marker = r.u8("type marker");
  switch (marker) {
    case MARKER.Number:
      return r.f64("number");
    case MARKER.Boolean:
      return r.u8("boolean") !== 0;
    case MARKER.String:
      return r.utf8(r.u16("string length"), "string");
    case MARKER.LongString:
    case MARKER.XmlDocument:
      return r.utf8(r.u32("long string length"), "long string");
    case MARKER.Object: {
      const obj: { [key: string]: Amf0Value } = {};
      r.refs.push(obj);
      readProperties(r, obj, depth);
      return obj;
    }
    case MARKER.TypedObject: {
      r.utf8(r.u16("class name length"), "class name");
      const obj: { [key: string]: Amf0Value } = {};
      r.refs.push(obj);
      readProperties(r, obj, depth);
      return obj;
    }
    case MARKER.EcmaArray: {
      r.u32("ECMA array count");
      const obj: { [key: string]: Amf0Value } = {};
      r.refs.push(obj);
      readProperties(r, obj, depth);
      return obj;
    }
    case MARKER.StrictArray: {
      const count = r.u32("strict array count");
      // Each element takes at least one byte: a count beyond the input is a lie, not a reason to allocate.
      if (count > r.data.length - r.pos) {
        throw new Amf0Error(
          at,
          `strict array count ${count} exceeds the ${r.data.length - r.pos} bytes left`,
        );
      }
      const arr: Amf0Value[] = [];
      r.refs.push(arr);
      for (let i = 0; i < count; i++) arr.push(readValue(r, depth + 1));
      return arr;
    }
    case MARKER.Date: {
      const ms = r.f64("date");
      r.u16("date time zone");
      return new Date(ms);
    }
    case MARKER.Null:
      return null;
    case MARKER.Undefined:
    case MARKER.Unsupported:
      return undefined;
    case MARKER.Reference: {
      const index = r.u16("reference index");
      if (index >= r.refs.length) {
        throw new Amf0Error(at, `reference ${index} points past ${r.refs.length} objects`);
      }
      return r.refs[index];
    }
    case MARKER.ObjectEnd:
      throw new Amf0Error(at, "object end marker outside an object");
    case MARKER.AvmPlus:
      throw new Amf0Error(at, "AMF3 values (avmplus marker 0x11) are not supported; ask the peer for AMF0");
    default:
      throw new Amf0Error(at, `unknown type marker 0x${marker.toString(16).padStart(2, "0")}`);
  }
}

/**
 * Decodes every AMF0 value in `data` (from `offset`) until the end.
 *
 * @throws {Amf0Error} on truncated or unknown input.
 * @example
 * ```ts
 * const [name, meta] = decodeAmf0(scriptTagBody); // "onMetaData", { width: 1280, ... }
 * ```
 */
export function decodeAmf0(data: Uint8Array, offset = 0): Amf0Value[] {
  const r = new Reader(data, offset);
  const out: Amf0Value[] = [];
  while (r.pos < data.length) out.push(readValue(r, 0));
  return out;
}

/**
 * Decodes one AMF0 value at `offset`; returns it with the offset after it.
 *
 * @throws {Amf0Error} on truncated or unknown input.
 * @example
 * ```ts
 * const { value, next } = decodeAmf0Value(bytes, 0);
 * ```
 */
export function decodeAmf0Value(data: Uint8Array, offset = 0): { value: Amf0Value; next: number } {
  const r = new Reader(data, offset);
  const value = readValue(r, 0);
  return { value, next: r.pos };
}

function writeKey(w: ByteWriter, key: string): void {
  const b = textEncoder.encode(key);
  if (b.length > 0xffff) {
    throw new RangeError(`Cannot encode AMF0 property name of ${b.length} bytes: max 65535`);
  }
  w.u16(b.length);
  w.bytes(b);
}

function writeProperties(w: ByteWriter, entries: { [key: string]: Amf0Value }, depth: number): void {
  for (const key of Object.keys(entries)) {
    const v = entries[key];
    if (v === undefined) continue;
    writeKey(w, key);
    writeValue(w, v, depth + 1);
  }
  w.u16(0);
  w.u8(MARKER.ObjectEnd);
}

function writeValue(w: ByteWriter, v: Amf0Value, depth: number): void {
  if (depth > MAX_DEPTH) {
    throw new RangeError(`Cannot encode AMF0: nesting deeper than ${MAX_DEPTH} (a cycle?)`);
  }
  if (typeof v === "number") {
    w.u8(MARKER.Number);
    w.f64(v);
  } else if (typeof v === "boolean") {
    w.u8(MARKER.Boolean);
    w.u8(v ? 1 : 0);
  } else if (typeof v === "string") {
    const b = textEncoder.encode(v);
    if (b.length > 0xffff) {
      w.u8(MARKER.LongString);
      w.u32(b.length);
    } else {
      w.u8(MARKER.String);
      w.u16(b.length);
    }
    w.bytes(b);
  } else if (v === null) {
    w.u8(MARKER.Null);
  } else if (v === undefined) {
    w.u8(MARKER.Undefined);
  } else if (v instanceof Date) {
    w.u8(MARKER.Date);
    w.f64(v.getTime());
    w.u16(0);
  } else if (Array.isArray(v)) {
    w.u8(MARKER.StrictArray);
    w.u32(v.length);
    for (const item of v) writeValue(w, item, depth + 1);
  } else if (v instanceof Amf0EcmaArray) {
    w.u8(MARKER.EcmaArray);
    w.u32(Object.keys(v.entries).filter((k) => v.entries[k] !== undefined).length);
    writeProperties(w, v.entries, depth);
  } else {
    w.u8(MARKER.Object);
    writeProperties(w, v, depth);
  }
}

/**
 * Encodes values one after another (as in an RTMP command or an FLV script tag body). Plain objects
 * become AMF0 objects, {@link Amf0EcmaArray} an ECMA array, arrays strict arrays; `undefined`
 * properties are left out.
 *
 * @example
 * ```ts
 * const body = encodeAmf0(["onMetaData", new Amf0EcmaArray({ duration: 0, width: 640 })]);
 * const connect = encodeAmf0(["connect", 1, { app: "live", tcUrl: "rtmp://host/live" }]);
 * ```
 */
export function encodeAmf0(values: readonly Amf0Value[]): Uint8Array {
  // AMF0 payloads are small (commands and metadata): start small and grow.
  const w = new ByteWriter(256);
  for (const v of values) writeValue(w, v, 0);
  return w.toBytes();
}
