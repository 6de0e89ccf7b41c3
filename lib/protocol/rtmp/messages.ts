/**
 * RTMP message types, protocol control messages and AMF0 commands (Adobe "RTMP Specification 1.0",
 * sections 5.4, 6.2 and 7).
 *
 * ```text
 * protocol control (chunk stream 2, message stream 0)
 *   1 Set Chunk Size       u32 (bit 31 zero)          4 User Control     u16 event | event data
 *   2 Abort Message        u32 chunk stream id        5 Window Ack Size  u32
 *   3 Acknowledgement      u32 sequence number        6 Set Peer BW      u32 | u8 limit type
 * media and data
 *   8 audio (FLV audio tag body)   9 video (FLV video tag body)   18 data (AMF0)   22 aggregate
 * commands
 *   20 AMF0 command: name | transaction id | command object | args...   17 AMF3 command (0x00 + AMF0)
 * ```
 *
 * @module
 */
import { type Amf0Value, decodeAmf0, encodeAmf0 } from "../../format/flv/amf0.ts";

/**
 * RTMP message type ids.
 *
 * @example
 * ```ts
 * if (msg.type === RtmpMessageType.VIDEO) demuxer.pushTag(9, msg.timestamp, msg.payload);
 * ```
 */
export const RtmpMessageType = {
  SET_CHUNK_SIZE: 1,
  ABORT: 2,
  ACK: 3,
  USER_CONTROL: 4,
  WINDOW_ACK_SIZE: 5,
  SET_PEER_BANDWIDTH: 6,
  AUDIO: 8,
  VIDEO: 9,
  DATA_AMF3: 15,
  SHARED_OBJECT_AMF3: 16,
  COMMAND_AMF3: 17,
  DATA_AMF0: 18,
  SHARED_OBJECT_AMF0: 19,
  COMMAND_AMF0: 20,
  AGGREGATE: 22,
} as const;

/**
 * User control event types (message type 4).
 *
 * @example
 * ```ts
 * writer.send(userControl(UserControlEvent.STREAM_BEGIN, 1));
 * ```
 */
export const UserControlEvent = {
  STREAM_BEGIN: 0,
  STREAM_EOF: 1,
  STREAM_DRY: 2,
  SET_BUFFER_LENGTH: 3,
  STREAM_IS_RECORDED: 4,
  PING_REQUEST: 6,
  PING_RESPONSE: 7,
} as const;

/** One complete RTMP message. */
export interface RtmpMessage {
  /** Chunk stream id it arrived on (or is to be sent on). */
  csid: number;
  type: number;
  /** Message stream id (0 for control and NetConnection commands). */
  streamId: number;
  /** Milliseconds, 32 bits. */
  timestamp: number;
  payload: Uint8Array;
}

/** Error codes of {@link RtmpError}. */
export type RtmpErrorCode =
  | "Handshake"
  | "Chunk"
  | "Message"
  | "Command"
  | "Rejected"
  | "Url"
  | "Timeout"
  | "Closed";

/**
 * An RTMP failure: bad input from the peer (with where it was seen), a refused command, a bad URL.
 *
 * @example
 * ```ts
 * try { await client.play(); } catch (e) { if (e instanceof RtmpError && e.code === "Rejected") console.log(e.message); }
 * ```
 */
export class RtmpError extends Error {
  override name = "RtmpError";
  readonly code: RtmpErrorCode;
  /** Byte offset in the connection's input where bad input was seen, when known. */
  readonly offset: number | undefined;
  constructor(code: RtmpErrorCode, message: string, offset?: number) {
    super(message);
    this.code = code;
    this.offset = offset;
  }
}

/** A decoded AMF0 command message. */
export interface RtmpCommand {
  name: string;
  transactionId: number;
  /** The command object (often null). */
  object: Amf0Value;
  args: Amf0Value[];
}

/**
 * Decodes an AMF0 (type 20) or AMF3-wrapped (type 17, leading 0x00) command.
 *
 * @throws {RtmpError} code `Command` naming what is wrong (the AMF0 error's offset included).
 * @example
 * ```ts
 * const cmd = decodeCommand(msg.type, msg.payload); // { name: "connect", transactionId: 1, ... }
 * ```
 */
export function decodeCommand(type: number, payload: Uint8Array): RtmpCommand {
  let body = payload;
  if (type === RtmpMessageType.COMMAND_AMF3) {
    // AMF3 command messages start with a 0x00 format byte, then AMF0 values.
    body = payload.subarray(payload.length && payload[0] === 0 ? 1 : 0);
  }
  let values: Amf0Value[];
  try {
    values = decodeAmf0(body);
  } catch (error) {
    throw new RtmpError("Command", `Cannot decode RTMP command (message type ${type}): ${(error as Error).message}`);
  }
  const [name, tid, object, ...args] = values;
  if (typeof name !== "string") {
    throw new RtmpError("Command", `Cannot decode RTMP command (message type ${type}): the first value is not a name string`);
  }
  return { name, transactionId: typeof tid === "number" ? tid : 0, object: object ?? null, args };
}

/**
 * Encodes a command message payload.
 *
 * @example
 * ```ts
 * const payload = encodeCommand("createStream", 2, null);
 * ```
 */
export function encodeCommand(name: string, transactionId: number, object: Amf0Value, ...args: Amf0Value[]): Uint8Array {
  return encodeAmf0([name, transactionId, object, ...args]);
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
}

/**
 * A protocol control message (chunk stream 2, message stream 0).
 *
 * @example
 * ```ts
 * writer.send(controlMessage(RtmpMessageType.SET_CHUNK_SIZE, 4096));
 * ```
 */
export function controlMessage(type: 1 | 2 | 3 | 5, value: number): RtmpMessage {
  return { csid: 2, type, streamId: 0, timestamp: 0, payload: u32(value) };
}

/**
 * Set Peer Bandwidth (type 6); limit type 2 = dynamic.
 *
 * @example
 * ```ts
 * writer.send(setPeerBandwidth(2_500_000));
 * ```
 */
export function setPeerBandwidth(size: number, limit = 2): RtmpMessage {
  const payload = new Uint8Array(5);
  new DataView(payload.buffer).setUint32(0, size >>> 0);
  payload[4] = limit;
  return { csid: 2, type: RtmpMessageType.SET_PEER_BANDWIDTH, streamId: 0, timestamp: 0, payload };
}

/**
 * A user control message (type 4) with one u32 argument (stream id or ping timestamp).
 *
 * @example
 * ```ts
 * writer.send(userControl(UserControlEvent.STREAM_BEGIN, 1));
 * ```
 */
export function userControl(event: number, value: number): RtmpMessage {
  const payload = new Uint8Array(6);
  const v = new DataView(payload.buffer);
  v.setUint16(0, event);
  v.setUint32(2, value >>> 0);
  return { csid: 2, type: RtmpMessageType.USER_CONTROL, streamId: 0, timestamp: 0, payload };
}

/**
 * The `level`, `code` and `description` of an `onStatus` / `_error` info object, for messages.
 *
 * @example
 * ```ts
 * statusOf({ code: "NetStream.Play.StreamNotFound" }); // "NetStream.Play.StreamNotFound"
 * ```
 */
export function statusOf(info: Amf0Value): string {
  if (!info || typeof info !== "object" || Array.isArray(info) || info instanceof Date) return String(info);
  const o = info as { [k: string]: Amf0Value };
  const parts = [o.code, o.description].filter((x) => typeof x === "string" && x);
  return parts.length ? parts.join(": ") : JSON.stringify(o);
}
