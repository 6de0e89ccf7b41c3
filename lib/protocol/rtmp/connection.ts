/**
 * What both ends of an RTMP connection share: the handshake, the chunk reader and writer, and the
 * protocol control messages (Set Chunk Size, Window Acknowledgement Size and the acknowledgements
 * it asks for, ping). Everything else (commands, media) goes to {@link RtmpConnection.onMessage}.
 *
 * Reads run synchronously on the socket's chunks ({@link TcpConn.read}): a publisher's media
 * reaches the stream without a promise per chunk.
 *
 * @module
 */
import type { Amf0Value } from "../../format/flv/amf0.ts";
import { formatAddress, type TcpConn } from "../../runtime/mod.ts";
import { ChunkReader, type ChunkReaderOptions } from "./chunk_reader.ts";
import { ChunkWriter } from "./chunk_writer.ts";
import { RtmpHandshake } from "./handshake.ts";
import {
  controlMessage,
  encodeCommand,
  RtmpError,
  type RtmpMessage,
  RtmpMessageType,
  setPeerBandwidth,
  userControl,
  UserControlEvent,
} from "./messages.ts";

/** Chunk size strom sends with (as ffmpeg and OBS). */
export const OUT_CHUNK_SIZE = 4096;
/** Window acknowledgement size strom announces (as nginx-rtmp and go2rtc). */
export const WINDOW_ACK_SIZE = 2_500_000;

/** Chunk stream ids strom sends on. */
export const Csid = { CONTROL: 2, COMMAND: 3, AUDIO: 4, DATA: 5, VIDEO: 6 } as const;

/** Options of {@link RtmpConnection}. */
export interface RtmpConnectionOptions extends ChunkReaderOptions {
  role: "client" | "server";
  /** Fail if the handshake has not finished by then. Default 10 s. */
  handshakeTimeoutMs?: number;
}

/**
 * An RTMP connection over a {@link TcpConn}.
 *
 * @example
 * ```ts
 * const rtmp = new RtmpConnection(conn, { role: "server" });
 * rtmp.onMessage = (msg) => console.log(msg.type);
 * rtmp.onClose = (error) => console.log("closed", error);
 * await rtmp.start(); // handshake done
 * ```
 */
export class RtmpConnection {
  readonly conn: TcpConn;
  readonly role: "client" | "server";
  /** Commands, data and media messages (protocol control is handled here). */
  onMessage: (msg: RtmpMessage) => void = () => {};
  /** Called once when the connection ended; `error` for bad input or a failed socket. */
  onClose: (error?: unknown) => void = () => {};
  bytesOut = 0;
  /** The last sequence number (bytes received) the peer acknowledged; 0 before its first Acknowledgement. */
  peerAcked = 0;
  /** Acknowledgements sent to the peer (one per window it asked for). */
  acksSent = 0;
  readonly #reader: ChunkReader;
  readonly #writer = new ChunkWriter();
  readonly #handshake: RtmpHandshake;
  readonly #handshakeTimeoutMs: number;
  readonly #peer: string;
  #peerWindow = 0;
  #acked = 0;
  #closed = false;
  #handshakeDone: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  constructor(conn: TcpConn, options: RtmpConnectionOptions) {
    this.conn = conn;
    this.role = options.role;
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    const a = conn.remoteAddr;
    this.#peer = formatAddress(a.hostname, a.port);
    this.#reader = new ChunkReader((msg) => this.#dispatch(msg), options);
    this.#handshake = new RtmpHandshake(options.role, (bytes) => this.#write(bytes), this.#peer);
  }

  /** `host:port` of the peer. */
  get peer(): string {
    return this.#peer;
  }

  /** Bytes received. */
  get bytesIn(): number {
    return this.#reader.bytesRead;
  }

  /** Whether the connection ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Starts reading and does the handshake; resolves when it completed. */
  start(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => (this.#handshakeDone = { resolve, reject }));
    const timer = setTimeout(() => {
      this.fail(
        new RtmpError(
          "Timeout",
          `Cannot do the RTMP handshake with ${this.#peer}: no answer within ${this.#handshakeTimeoutMs} ms`,
        ),
      );
    }, this.#handshakeTimeoutMs);
    done.then(() => clearTimeout(timer), () => clearTimeout(timer));
    this.conn.read(this.#onChunk, (error) => this.#end(error));
    this.#handshake.start();
    return done;
  }

  readonly #onChunk = (chunk: Uint8Array): void => {
    if (this.#closed) return;
    try {
      let data = chunk;
      if (!this.#handshake.done) {
        const rest = this.#handshake.push(chunk);
        if (!rest) return;
        const waiter = this.#handshakeDone;
        this.#handshakeDone = undefined;
        waiter?.resolve();
        data = rest;
        if (!data.length) return;
      }
      this.#reader.push(data);
      if (this.#peerWindow > 0 && this.#reader.bytesRead - this.#acked >= this.#peerWindow) {
        this.#acked = this.#reader.bytesRead;
        this.acksSent++;
        this.send(controlMessage(RtmpMessageType.ACK, this.#acked >>> 0));
      }
    } catch (error) {
      this.fail(error);
    }
  };

  #dispatch(msg: RtmpMessage): void {
    switch (msg.type) {
      case RtmpMessageType.WINDOW_ACK_SIZE:
        if (msg.payload.length >= 4) {
          this.#peerWindow = new DataView(msg.payload.buffer, msg.payload.byteOffset, 4).getUint32(0);
        }
        return;
      case RtmpMessageType.ACK:
        if (msg.payload.length >= 4) {
          this.peerAcked = new DataView(msg.payload.buffer, msg.payload.byteOffset, 4).getUint32(0);
        }
        return;
      case RtmpMessageType.SET_PEER_BANDWIDTH:
        return;
      case RtmpMessageType.USER_CONTROL: {
        if (msg.payload.length >= 6) {
          const v = new DataView(msg.payload.buffer, msg.payload.byteOffset, msg.payload.length);
          if (v.getUint16(0) === UserControlEvent.PING_REQUEST) {
            this.send(userControl(UserControlEvent.PING_RESPONSE, v.getUint32(2)));
            return;
          }
        }
        this.onMessage(msg);
        return;
      }
      default:
        this.onMessage(msg);
    }
  }

  /**
   * Sends a message. Returns false when the socket's buffer is above its high-water mark (the
   * message is still queued) or the connection is closed.
   */
  send(msg: RtmpMessage): boolean {
    return this.#write(this.#writer.encode(msg));
  }

  /** Sends several messages with one socket write. Returns as {@link send}. */
  sendAll(msgs: readonly RtmpMessage[]): boolean {
    return this.#write(this.#writer.encodeAll(msgs));
  }

  /** Sends an AMF0 command on the command chunk stream. */
  command(streamId: number, name: string, transactionId: number, object: Amf0Value, ...args: Amf0Value[]): boolean {
    return this.send({
      csid: Csid.COMMAND,
      type: RtmpMessageType.COMMAND_AMF0,
      streamId,
      timestamp: 0,
      payload: encodeCommand(name, transactionId, object, ...args),
    });
  }

  /** Sends Set Chunk Size and switches the writer to it. */
  setChunkSize(size: number): void {
    this.send(controlMessage(RtmpMessageType.SET_CHUNK_SIZE, size));
    this.#writer.chunkSize = size;
  }

  /** The server's greeting after `connect`: Window Ack Size, Set Peer Bandwidth, Set Chunk Size. */
  sendServerControls(): void {
    this.send(controlMessage(RtmpMessageType.WINDOW_ACK_SIZE, WINDOW_ACK_SIZE));
    this.send(setPeerBandwidth(WINDOW_ACK_SIZE, 2));
    this.setChunkSize(OUT_CHUNK_SIZE);
  }

  #write(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    this.bytesOut += bytes.length;
    return this.conn.write(bytes);
  }

  /** Ends the connection because of `error` (logged by the owner through onClose). */
  fail(error: unknown): void {
    if (this.#closed) return;
    this.conn.destroy();
    this.#end(error);
  }

  /** Closes gracefully (flushes what is queued). */
  close(): void {
    if (this.#closed) return;
    this.conn.close();
    this.#end(undefined, false);
  }

  #end(error?: unknown, destroy = true): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiter = this.#handshakeDone;
    this.#handshakeDone = undefined;
    waiter?.reject(
      error ?? new RtmpError("Closed", `Cannot do the RTMP handshake with ${this.#peer}: the connection closed`),
    );
    if (destroy) this.conn.destroy();
    this.onClose(error);
  }
}
