/**
 * RTMP client: connects (`rtmp://`, or `rtmps://` over TLS), and then plays a stream (as a source)
 * or publishes one (as a sink).
 *
 * ```text
 * play:     connect -> _result | createStream -> _result(id) | play(name) -> onStatus Play.Start, media
 * publish:  connect -> _result | releaseStream, FCPublish, createStream -> _result(id)
 *           | publish(name, "live") -> onStatus Publish.Start | @setDataFrame, media
 * ```
 *
 * The `connect` command lists the enhanced-RTMP FourCCs strom takes (`fourCcList`), so servers
 * that speak E-RTMP send H.265 as `hvc1`.
 *
 * @module
 */
import type { Amf0Value } from "../../format/flv/amf0.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { tcpConnect } from "../../runtime/mod.ts";
import { OUT_CHUNK_SIZE, RtmpConnection } from "./connection.ts";
import {
  decodeCommand,
  RtmpError,
  type RtmpMessage,
  RtmpMessageType,
  statusOf,
  UserControlEvent,
} from "./messages.ts";
import { parseRtmpUrl, type RtmpUrl } from "./url.ts";

/** Options of {@link RtmpClient.connect}. */
export interface RtmpClientOptions {
  /** Aborts connecting and the commands in flight. */
  signal?: AbortSignal;
  /** Give up on connecting or on an answer after this long. Default 10 s. */
  timeoutMs?: number;
  log?: Logger;
  /** Largest message accepted from the server. Default 16 MiB. */
  maxMessageBytes?: number;
}

interface Pending {
  resolve: (values: Amf0Value[]) => void;
  reject: (error: unknown) => void;
}

const FLASH_VER = "FMLE/3.0 (compatible; strom)";

/**
 * An RTMP client connection.
 *
 * @example
 * ```ts
 * const client = await RtmpClient.connect("rtmp://127.0.0.1/live/cam");
 * client.onMedia = (msg) => console.log(msg.type, msg.timestamp, msg.payload.length);
 * await client.play();
 * // ...
 * client.close();
 * ```
 */
export class RtmpClient {
  readonly url: RtmpUrl;
  readonly rtmp: RtmpConnection;
  /** Message stream id from createStream (0 before). */
  streamId = 0;
  /** Audio, video and data messages of the played stream. */
  onMedia: (msg: RtmpMessage) => void = () => {};
  /** Called once when the connection ended (`error` when it failed or the server refused). */
  onClose: (error?: unknown) => void = () => {};
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #pending = new Map<number, Pending>();
  #status: Pending | undefined;
  #nextTid = 1;
  #closeError: unknown;

  private constructor(url: RtmpUrl, rtmp: RtmpConnection, options: RtmpClientOptions) {
    this.url = url;
    this.rtmp = rtmp;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#log = options.log ?? silentLogger;
    rtmp.onMessage = (msg) => this.#onMessage(msg);
    rtmp.onClose = (error) => {
      this.#closeError = error ?? new RtmpError("Closed", `RTMP server ${this.#where()} closed the connection`);
      for (const p of this.#pending.values()) p.reject(this.#closeError);
      this.#pending.clear();
      this.#status?.reject(this.#closeError);
      this.#status = undefined;
      this.onClose(error);
    };
  }

  /**
   * Connects, does the handshake and the `connect` command.
   *
   * @throws {RtmpError} (`Url`, `Handshake`, `Rejected`, `Timeout`) or a `NetError` from the socket.
   */
  static async connect(url: string, options: RtmpClientOptions = {}): Promise<RtmpClient> {
    const u = parseRtmpUrl(url);
    const timeoutMs = options.timeoutMs ?? 10_000;
    const conn = await tcpConnect({
      hostname: u.hostname,
      port: u.port,
      timeoutMs,
      signal: options.signal,
      tls: u.tls,
    });
    const rtmp = new RtmpConnection(conn, {
      role: "client",
      handshakeTimeoutMs: timeoutMs,
      maxMessageBytes: options.maxMessageBytes,
    });
    const client = new RtmpClient(u, rtmp, options);
    const onAbort = () => client.close();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await rtmp.start();
      rtmp.setChunkSize(OUT_CHUNK_SIZE);
      const [props, info] = await client.#call("connect", {
        app: u.app,
        flashVer: FLASH_VER,
        tcUrl: u.tcUrl,
        fpad: false,
        capabilities: 15,
        audioCodecs: 3575,
        videoCodecs: 252,
        videoFunction: 1,
        fourCcList: ["avc1", "hvc1"],
      });
      client.#log.debug("rtmp connected", { server: client.#where(), code: statusOf(info), fmsVer: statusOf(props) });
    } catch (error) {
      client.close();
      if (options.signal?.aborted) throw options.signal.reason;
      throw error;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
    return client;
  }

  /** Creates a stream and plays the URL's stream; resolves at `NetStream.Play.Start` (or the first media). */
  async play(): Promise<void> {
    const [, id] = await this.#call("createStream", null);
    this.streamId = typeof id === "number" ? id : 1;
    const status = this.#waitStatus("play");
    this.rtmp.command(this.streamId, "play", 0, null, this.url.stream, -1000);
    // Buffer length 3 s, as ffmpeg asks.
    const ev = new Uint8Array(10);
    const v = new DataView(ev.buffer);
    v.setUint16(0, UserControlEvent.SET_BUFFER_LENGTH);
    v.setUint32(2, this.streamId);
    v.setUint32(6, 3000);
    this.rtmp.send({ csid: 2, type: RtmpMessageType.USER_CONTROL, streamId: 0, timestamp: 0, payload: ev });
    await status;
  }

  /** Creates a stream and publishes to the URL's stream name (key); resolves at `NetStream.Publish.Start`. */
  async publish(): Promise<void> {
    const key = this.url.stream;
    this.rtmp.command(0, "releaseStream", this.#nextTid++, null, key);
    this.rtmp.command(0, "FCPublish", this.#nextTid++, null, key);
    const [, id] = await this.#call("createStream", null);
    this.streamId = typeof id === "number" ? id : 1;
    const status = this.#waitStatus("publish");
    this.rtmp.command(this.streamId, "publish", 0, null, key, "live");
    await status;
  }

  /** Closes the connection. */
  close(): void {
    this.rtmp.fail(undefined);
  }

  #where(): string {
    return `${this.url.hostname}:${this.url.port}/${this.url.app}`;
  }

  #call(name: string, object: Amf0Value, ...args: Amf0Value[]): Promise<Amf0Value[]> {
    if (this.#closeError) return Promise.reject(this.#closeError);
    const tid = this.#nextTid++;
    return this.#bounded(name, (pending) => {
      this.#pending.set(tid, pending);
      this.rtmp.command(0, name, tid, object, ...args);
    }, () => this.#pending.delete(tid));
  }

  #waitStatus(what: "play" | "publish"): Promise<Amf0Value[]> {
    if (this.#closeError) return Promise.reject(this.#closeError);
    return this.#bounded(what, (pending) => (this.#status = pending), () => (this.#status = undefined));
  }

  #bounded(what: string, register: (p: Pending) => void, unregister: () => void): Promise<Amf0Value[]> {
    return new Promise<Amf0Value[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        unregister();
        const error = new RtmpError(
          "Timeout",
          `RTMP server ${this.#where()} did not answer "${what}" within ${this.#timeoutMs} ms`,
        );
        reject(error);
        this.rtmp.fail(error);
      }, this.#timeoutMs);
      register({
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  #onMessage(msg: RtmpMessage): void {
    switch (msg.type) {
      case RtmpMessageType.AUDIO:
      case RtmpMessageType.VIDEO:
      case RtmpMessageType.DATA_AMF0:
      case RtmpMessageType.AGGREGATE:
        if (this.#status && (msg.type === RtmpMessageType.AUDIO || msg.type === RtmpMessageType.VIDEO)) {
          // Media before Play.Start (some servers skip it): playing.
          const s = this.#status;
          this.#status = undefined;
          s.resolve([]);
        }
        this.onMedia(msg);
        return;
      case RtmpMessageType.COMMAND_AMF0:
      case RtmpMessageType.COMMAND_AMF3:
        this.#onCommand(msg);
        return;
      case RtmpMessageType.USER_CONTROL:
        if (msg.payload.length >= 2 && ((msg.payload[0] << 8) | msg.payload[1]) === UserControlEvent.STREAM_EOF) {
          this.#log.debug("rtmp server sent stream EOF", { server: this.#where() });
        }
        return;
    }
  }

  #onCommand(msg: RtmpMessage): void {
    const cmd = decodeCommand(msg.type, msg.payload);
    this.#log.trace("rtmp command", { name: cmd.name, transactionId: cmd.transactionId });
    if (cmd.name === "_result" || cmd.name === "_error") {
      const p = this.#pending.get(cmd.transactionId);
      if (!p) return; // releaseStream/FCPublish answers
      this.#pending.delete(cmd.transactionId);
      if (cmd.name === "_result") p.resolve([cmd.object, ...cmd.args]);
      else {
        p.reject(
          new RtmpError("Rejected", `RTMP server ${this.#where()} refused the request: ${statusOf(cmd.args[0] ?? cmd.object)}`),
        );
      }
      return;
    }
    if (cmd.name === "onStatus") {
      const info = cmd.args[0] ?? cmd.object;
      const o = info && typeof info === "object" && !Array.isArray(info) ? info as { [k: string]: Amf0Value } : {};
      const code = typeof o.code === "string" ? o.code : "";
      const level = typeof o.level === "string" ? o.level : "";
      if (level === "error" || /Failed|BadName|NotFound|Rejected/i.test(code)) {
        const error = new RtmpError(
          "Rejected",
          `RTMP server ${this.#where()} refused stream "${this.url.stream.replace(/\?.*/, "")}": ${statusOf(info)}`,
        );
        if (this.#status) {
          const s = this.#status;
          this.#status = undefined;
          s.reject(error);
        }
        this.rtmp.fail(error);
        return;
      }
      if (this.#status && /Play\.Start|Publish\.Start/.test(code)) {
        const s = this.#status;
        this.#status = undefined;
        s.resolve([info]);
      }
      if (/Play\.(Stop|UnpublishNotify)|Publish\.Stop/.test(code)) {
        this.#log.debug("rtmp stream ended", { server: this.#where(), code });
        this.rtmp.close();
      }
      return;
    }
    // onBWDone, onFCPublish, onMetaData in a command, |RtmpSampleAccess: nothing to do.
  }
}
