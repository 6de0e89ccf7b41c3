/**
 * RTMP chunk stream reader (RTMP 1.0 section 5.3): reassembles messages from the chunks of many
 * chunk streams, interleaved, split anywhere by TCP.
 *
 * ```text
 * basic header    fmt(2) csid(6)            csid 0: + u8 (64..319)   csid 1: + u16 LE (64..65599)
 * message header  fmt 0: ts(3) length(3) type(1) stream id(4, little-endian)   11 bytes
 *                 fmt 1: ts delta(3) length(3) type(1)                           7 bytes
 *                 fmt 2: ts delta(3)                                             3 bytes
 *                 fmt 3: (nothing: same as the last chunk of this chunk stream)  0 bytes
 * extended ts     u32 when the 3-byte field is 0xFFFFFF (also on fmt 3 chunks of such a message)
 * payload         up to the chunk size (128 until the peer sends Set Chunk Size)
 * ```
 *
 * Hot path: a message that fits in one chunk and in the bytes at hand is handed out as a view (no
 * copy); larger ones are assembled in one buffer of their announced length. Only a header cut by a
 * TCP read is carried over (at most 18 bytes).
 *
 * Bad input throws an {@link RtmpError} (code `Chunk`) naming the chunk stream and the byte offset
 * in the connection; the caller closes the connection. Memory is bounded: message length, chunk
 * size, chunk streams in use and bytes of unfinished messages all have limits.
 *
 * @module
 */
import { RtmpError, type RtmpMessage, RtmpMessageType } from "./messages.ts";

/** Options of {@link ChunkReader}. */
export interface ChunkReaderOptions {
  /** Largest message accepted. Default 16 MiB (a 4K keyframe is a few MiB). */
  maxMessageBytes?: number;
  /** Largest Set Chunk Size accepted. Default 16 MiB. */
  maxChunkSize?: number;
  /** Chunk streams a peer may use. Default 64. */
  maxChunkStreams?: number;
  /** Bytes held by unfinished messages over all chunk streams. Default 32 MiB. */
  maxPendingBytes?: number;
}

interface ChunkStream {
  csid: number;
  timestamp: number;
  /** The timestamp field of the last header (delta, or the absolute time for fmt 0). */
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** The last header had an extended timestamp: fmt 3 chunks carry one too. */
  extended: boolean;
  /** Buffer of the message being assembled. */
  buf: Uint8Array | undefined;
  filled: number;
}

const MAX_HEADER = 18;

/**
 * Chunk stream reader.
 *
 * @example
 * ```ts
 * const reader = new ChunkReader((msg) => console.log(msg.type, msg.payload.length));
 * conn.read((bytes) => reader.push(bytes), () => {});
 * ```
 */
export class ChunkReader {
  /** The peer's chunk size (Set Chunk Size is applied here). */
  chunkSize = 128;
  /** Bytes pushed so far (for acknowledgements). */
  bytesRead = 0;
  /** Messages delivered. */
  messages = 0;
  readonly #onMessage: (msg: RtmpMessage) => void;
  readonly #maxMessage: number;
  readonly #maxChunkSize: number;
  readonly #maxStreams: number;
  readonly #maxPending: number;
  readonly #streams = new Map<number, ChunkStream>();
  #pending = 0;
  #carry = new Uint8Array(MAX_HEADER);
  #carryLen = 0;
  /** Chunk stream whose payload is being read, and how much of this chunk is left. */
  #cur: ChunkStream | undefined;
  #chunkLeft = 0;
  /** Connection offset of data[0] in the current push (for error messages). */
  #base = 0;

  constructor(onMessage: (msg: RtmpMessage) => void, options: ChunkReaderOptions = {}) {
    this.#onMessage = onMessage;
    this.#maxMessage = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.#maxChunkSize = options.maxChunkSize ?? 16 * 1024 * 1024;
    this.#maxStreams = options.maxChunkStreams ?? 64;
    this.#maxPending = options.maxPendingBytes ?? 32 * 1024 * 1024;
  }

  /** Bytes held by unfinished messages. */
  get pendingBytes(): number {
    return this.#pending;
  }

  /**
   * Feeds bytes from the peer; calls `onMessage` for each completed message, in order.
   *
   * @throws {RtmpError} code `Chunk` on malformed chunks or a limit exceeded (the connection
   *   cannot be resynchronised: close it).
   */
  push(data: Uint8Array): void {
    this.#base = this.bytesRead;
    this.bytesRead += data.length;
    let pos = 0;
    const end = data.length;
    if (this.#carryLen) {
      pos = this.#resumeHeader(data);
      if (pos < 0) return;
      pos = this.#startPayload(data, pos);
    }
    while (pos < end) {
      if (this.#chunkLeft > 0) {
        pos = this.#copyPayload(data, pos);
        continue;
      }
      const used = this.#readHeader(data, pos, end, this.#base + pos);
      if (used === 0) {
        this.#carry.set(data.subarray(pos, end));
        this.#carryLen = end - pos;
        return;
      }
      pos = this.#startPayload(data, pos + used);
    }
  }

  // Completes a header cut by the last push with the first bytes of this one. Returns the offset
  // in `data` after the header, or -1 when still incomplete.
  #resumeHeader(data: Uint8Array): number {
    const had = this.#carryLen;
    const take = Math.min(MAX_HEADER - had, data.length);
    const tmp = new Uint8Array(had + take);
    tmp.set(this.#carry.subarray(0, had));
    tmp.set(data.subarray(0, take), had);
    const used = this.#readHeader(tmp, 0, tmp.length, this.#base - had);
    if (used === 0) {
      this.#carry.set(tmp);
      this.#carryLen = tmp.length;
      return -1;
    }
    this.#carryLen = 0;
    return used - had;
  }

  // Parses one chunk header at `pos`; returns its size, or 0 when `end` cuts it. Commits state only
  // when complete.
  #readHeader(b: Uint8Array, pos: number, end: number, at: number): number {
    const avail = end - pos;
    const b0 = b[pos];
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    let p = pos + 1;
    if (csid === 0) {
      if (avail < 2) return 0;
      csid = 64 + b[p];
      p += 1;
    } else if (csid === 1) {
      if (avail < 3) return 0;
      csid = 64 + b[p] + b[p + 1] * 256;
      p += 2;
    }
    const mhSize = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (end - p < mhSize) return 0;
    let cs = this.#streams.get(csid);
    if (!cs && fmt !== 0) {
      throw new RtmpError(
        "Chunk",
        `Cannot read RTMP chunk at byte ${at}: chunk stream ${csid} starts with a type-${fmt} header; its first chunk must have a type-0 (full) header`,
        at,
      );
    }
    let field = 0;
    if (fmt < 3) field = (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
    const extended = fmt < 3 ? field === 0xffffff : cs!.extended;
    const total = p - pos + mhSize + (extended ? 4 : 0);
    if (avail < total) return 0;
    // Complete: validate and commit.
    let length = cs?.length ?? 0;
    let type = cs?.type ?? 0;
    let streamId = cs?.streamId ?? 0;
    if (fmt <= 1) {
      length = (b[p + 3] << 16) | (b[p + 4] << 8) | b[p + 5];
      type = b[p + 6];
      if (fmt === 0) streamId = (b[p + 7] | (b[p + 8] << 8) | (b[p + 9] << 16) | (b[p + 10] << 24)) >>> 0;
    }
    if (extended) {
      const q = p + mhSize;
      const ext = ((b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3]) >>> 0;
      if (fmt < 3) field = ext;
    }
    if (!cs) {
      if (this.#streams.size >= this.#maxStreams) {
        throw new RtmpError(
          "Chunk",
          `Cannot read RTMP chunk at byte ${at}: the peer uses more than ${this.#maxStreams} chunk streams (chunk stream ${csid})`,
          at,
        );
      }
      cs = { csid, timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, buf: undefined, filled: 0 };
      this.#streams.set(csid, cs);
    }
    const continuing = cs.buf !== undefined;
    if (continuing && fmt !== 3) {
      throw new RtmpError(
        "Chunk",
        `Cannot read RTMP chunk at byte ${at}: a type-${fmt} header on chunk stream ${csid} while its ${cs.length}-byte message is ${
          cs.length - cs.filled
        } bytes short (expected a type-3 continuation chunk)`,
        at,
      );
    }
    if (!continuing) {
      if (length > this.#maxMessage) {
        throw new RtmpError(
          "Chunk",
          `Cannot read RTMP chunk at byte ${at}: chunk stream ${csid} announces a ${length}-byte message (type ${type}), over the ${this.#maxMessage}-byte limit`,
          at,
        );
      }
      if (fmt === 0) cs.timestamp = field;
      else if (fmt === 3) cs.timestamp = (cs.timestamp + cs.delta) >>> 0;
      else cs.timestamp = (cs.timestamp + field) >>> 0;
      if (fmt < 3) cs.delta = field;
      cs.length = length;
      cs.type = type;
      cs.streamId = streamId;
      if (fmt < 3) cs.extended = extended;
    }
    this.#cur = cs;
    return total;
  }

  // After a header: hands out a message that is whole in `data` as a view, else starts or
  // continues its buffer. Returns the new offset.
  #startPayload(data: Uint8Array, pos: number): number {
    const cs = this.#cur!;
    if (cs.buf === undefined) {
      const length = cs.length;
      if (length === 0) {
        this.#emit(cs, new Uint8Array(0), this.#base + pos);
        return pos;
      }
      if (length <= this.chunkSize && data.length - pos >= length) {
        this.#emit(cs, data.subarray(pos, pos + length), this.#base + pos);
        return pos + length;
      }
      if (this.#pending + length > this.#maxPending) {
        throw new RtmpError(
          "Chunk",
          `Cannot read RTMP chunk at byte ${this.#base + pos}: unfinished messages would hold ${
            this.#pending + length
          } bytes, over the ${this.#maxPending}-byte limit`,
          this.#base + pos,
        );
      }
      cs.buf = new Uint8Array(length);
      cs.filled = 0;
      this.#pending += length;
    }
    this.#chunkLeft = Math.min(this.chunkSize, cs.length - cs.filled);
    return pos;
  }

  #copyPayload(data: Uint8Array, pos: number): number {
    const cs = this.#cur!;
    const n = Math.min(this.#chunkLeft, data.length - pos);
    cs.buf!.set(data.subarray(pos, pos + n), cs.filled);
    cs.filled += n;
    this.#chunkLeft -= n;
    pos += n;
    if (cs.filled === cs.length) {
      const payload = cs.buf!;
      cs.buf = undefined;
      this.#pending -= cs.length;
      this.#chunkLeft = 0;
      this.#emit(cs, payload, this.#base + pos);
    }
    return pos;
  }

  #emit(cs: ChunkStream, payload: Uint8Array, at: number): void {
    this.messages++;
    if (cs.type === RtmpMessageType.SET_CHUNK_SIZE) {
      if (payload.length < 4) {
        throw new RtmpError("Chunk", `Cannot apply RTMP Set Chunk Size at byte ${at}: ${payload.length}-byte payload (needs 4)`, at);
      }
      const size = ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0;
      if (size < 1 || size > this.#maxChunkSize) {
        throw new RtmpError(
          "Chunk",
          `Cannot apply RTMP Set Chunk Size at byte ${at}: ${size} is outside 1..${this.#maxChunkSize}`,
          at,
        );
      }
      this.chunkSize = size;
      return;
    }
    if (cs.type === RtmpMessageType.ABORT && payload.length >= 4) {
      const id = ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0;
      const target = this.#streams.get(id);
      if (target?.buf && target !== this.#cur) {
        this.#pending -= target.length;
        target.buf = undefined;
      }
      return;
    }
    this.#onMessage({ csid: cs.csid, type: cs.type, streamId: cs.streamId, timestamp: cs.timestamp, payload });
  }
}
