/**
 * One connection to strom's RTMP server: a player (`connect`, `createStream`, `play`) or a
 * publisher (`connect`, `releaseStream`, `FCPublish`, `createStream`, `publish`, then media).
 *
 * Stream names: the stream name (`rtmp://host/<stream>`), else `app/stream`, else the app alone
 * (see {@link candidateStreamNames}); the stream must exist in the hub (a push-only stream is
 * configured with no sources), as go2rtc and strom's RTSP publishing.
 *
 * Lifetime: the session ends when the connection closes (either side), on bad input (malformed
 * chunks, limits exceeded, undecodable AMF: logged with what and where), on `deleteStream`, on
 * timeout (no message for `sessionTimeoutMs` while not playing; a player whose socket stays full
 * that long), or when the server closes. {@link RtmpServerSession.release} runs exactly once.
 *
 * @module
 */
import type { ConnectionGate } from "../../core/connection_gate.ts";
import { CodecMismatchError, SourceError, StreamDisabledError } from "../../core/errors.ts";
import type { StreamHub } from "../../core/hub.ts";
import type { Logger } from "../../core/log.ts";
import type { Stream } from "../../core/stream.ts";
import type { Amf0Value } from "../../format/flv/amf0.ts";
import { Amf0EcmaArray, encodeAmf0 } from "../../format/flv/amf0.ts";
import { outputMedias } from "../http/output_medias.ts";
import type { TcpConn } from "../../runtime/mod.ts";
import { accessQuery, type RtmpAccess } from "./access.ts";
import { Csid, RtmpConnection } from "./connection.ts";
import { RtmpConsumer, RTMP_CODECS } from "./consumer.ts";
import { FlvIngest } from "./flv_ingest.ts";
import {
  decodeCommand,
  RtmpError,
  type RtmpCommand,
  type RtmpMessage,
  RtmpMessageType,
  userControl,
  UserControlEvent,
} from "./messages.ts";
import { RtmpPublisher } from "./publisher.ts";
import { candidateStreamNames } from "./url.ts";

/** What a session needs from its server. */
export interface RtmpSessionContext {
  hub: StreamHub;
  log: Logger;
  /** No message for this long (while not playing or publishing media) closes the session. */
  sessionTimeoutMs: number;
  /** Bytes a player's socket may hold before frames wait (and then drop). */
  maxBufferedBytes: number;
  /** How long a publisher's media may lack a track announced in its metadata before going without. */
  trackWaitMs: number;
  /** Largest RTMP message accepted from a peer. */
  maxMessageBytes: number;
  /** Decides each play and publish; everyone may do both without it. */
  access?: RtmpAccess;
  onRelease: (session: RtmpServerSession) => void;
  /** Admits players (per-stream limit); none: no limit. */
  gate?: ConnectionGate;
}

const MEDIA_STREAM_ID = 1;

/**
 * A server-side RTMP session.
 *
 * @example
 * ```ts
 * const session = new RtmpServerSession(context, conn);
 * await session.run(); // resolves when released
 * ```
 */
export class RtmpServerSession {
  readonly rtmp: RtmpConnection;
  /** Commands handled. */
  commands = 0;
  readonly #ctx: RtmpSessionContext;
  #log: Logger;
  #app = "";
  #tcUrl = "";
  #flashVer: string | undefined;
  #stream: Stream | undefined;
  #consumer: RtmpConsumer | undefined;
  #ingest: FlvIngest | undefined;
  #publisher: RtmpPublisher | undefined;
  #firstTrackAt = 0;
  #lastActivity = Date.now();
  #stalledSince = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #released = false;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(ctx: RtmpSessionContext, conn: TcpConn) {
    this.#ctx = ctx;
    this.rtmp = new RtmpConnection(conn, { role: "server", maxMessageBytes: ctx.maxMessageBytes });
    this.#log = ctx.log.child({ remote: this.rtmp.peer });
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** `player`, `publisher`, or `none` before play/publish. */
  get role(): "player" | "publisher" | "none" {
    return this.#consumer ? "player" : this.#ingest ? "publisher" : "none";
  }

  /** Whether {@link release} ran. */
  get released(): boolean {
    return this.#released;
  }

  /** The player's consumer, after `play`. */
  get consumer(): RtmpConsumer | undefined {
    return this.#consumer;
  }

  /** Runs the session until the connection ends; then releases it. */
  run(): Promise<void> {
    this.rtmp.onMessage = this.#onMessage;
    this.rtmp.onClose = (error) => {
      if (error instanceof RtmpError && (error.code === "Timeout" || error.code === "Closed")) {
        // A port scanner or a client that gave up: not bad input.
        this.#log.debug("rtmp session ended", { error: error.message });
      } else if (error) {
        const what = error instanceof RtmpError ? "rtmp session closed on bad input" : "rtmp session failed";
        this.#log.warn(what, { error: error instanceof Error ? error.message : String(error) });
      }
      this.release();
    };
    const tickMs = Math.max(50, Math.min(5000, this.#ctx.sessionTimeoutMs / 4));
    this.#timer = setInterval(this.#tick, tickMs);
    this.rtmp.start().catch(() => {/* reported through onClose */});
    return this.#done;
  }

  readonly #onMessage = (msg: RtmpMessage): void => {
    if (this.#released) return;
    this.#lastActivity = Date.now();
    switch (msg.type) {
      case RtmpMessageType.AUDIO:
      case RtmpMessageType.VIDEO:
      case RtmpMessageType.DATA_AMF0:
      case RtmpMessageType.AGGREGATE: {
        const ingest = this.#ingest;
        if (!ingest) return; // media from a client that did not publish: ignored
        ingest.push(msg.type, msg.timestamp, msg.payload);
        if (!ingest.ready && ingest.hasTrack) {
          this.#firstTrackAt ||= Date.now();
          if (Date.now() - this.#firstTrackAt > this.#ctx.trackWaitMs) ingest.finish();
        }
        return;
      }
      case RtmpMessageType.COMMAND_AMF0:
      case RtmpMessageType.COMMAND_AMF3: {
        const cmd = decodeCommand(msg.type, msg.payload); // throws: the connection fails with it
        this.commands++;
        this.#queue = this.#queue.then(() => this.#command(cmd, msg.streamId)).catch((error) => {
          this.#log.warn("rtmp command failed", { command: cmd.name, error: String(error) });
          this.close();
        });
        return;
      }
      default:
        return; // user control events, shared objects, AMF3 data: nothing to do
    }
  };

  async #command(cmd: RtmpCommand, streamId: number): Promise<void> {
    if (this.#released) return;
    // Signalling trace (log.rtmp: trace); the logger masks token-like values in the arguments.
    this.#log.trace("rtmp command", { name: cmd.name, streamId, args: cmd.args });
    switch (cmd.name) {
      case "connect":
        return this.#connect(cmd);
      case "createStream":
        this.rtmp.command(0, "_result", cmd.transactionId, null, MEDIA_STREAM_ID);
        return;
      case "publish":
        return await this.#publish(cmd, streamId || MEDIA_STREAM_ID);
      case "play":
        return await this.#play(cmd, streamId || MEDIA_STREAM_ID);
      case "deleteStream":
      case "closeStream":
      case "FCUnpublish":
        if (this.#ingest) this.close(true);
        return;
      case "pause":
      case "seek":
      case "receiveAudio":
      case "receiveVideo":
        return;
      default:
        // releaseStream, FCPublish, FCSubscribe, getStreamLength, _checkbw...: acknowledge.
        if (cmd.transactionId > 0) this.rtmp.command(0, "_result", cmd.transactionId, null, undefined);
    }
  }

  #connect(cmd: RtmpCommand): void {
    const o = isObject(cmd.object) ? cmd.object : {};
    this.#app = typeof o.app === "string" ? o.app : "";
    this.#tcUrl = typeof o.tcUrl === "string" ? o.tcUrl : "";
    this.#flashVer = typeof o.flashVer === "string" ? o.flashVer : undefined;
    this.#log = this.#log.child({ app: this.#app });
    this.rtmp.sendServerControls();
    const props: { [k: string]: Amf0Value } = { fmsVer: "FMS/3,0,1,123", capabilities: 31, mode: 1 };
    // Enhanced RTMP: a client that lists FourCCs learns which ones we take.
    if (Array.isArray(o.fourCcList)) props.fourCcList = ["avc1", "hvc1"];
    this.rtmp.command(0, "_result", cmd.transactionId, props, {
      level: "status",
      code: "NetConnection.Connect.Success",
      description: "Connection succeeded.",
      objectEncoding: typeof o.objectEncoding === "number" ? o.objectEncoding : 0,
    });
  }

  #resolve(name: string): { stream: Stream | undefined; tried: string[] } {
    const tried = candidateStreamNames(this.#app, name);
    for (const n of tried) {
      const stream = this.#ctx.hub.get(n);
      if (stream) return { stream, tried };
    }
    return { stream: undefined, tried };
  }

  #status(streamId: number, level: "status" | "error", code: string, description: string): void {
    this.rtmp.command(streamId, "onStatus", 0, null, { level, code, description });
  }

  // Asks the access hook; on refusal sends the error status and closes. Returns whether to go on.
  async #allowed(action: "read" | "publish", stream: Stream, name: string, streamId: number): Promise<boolean> {
    const access = this.#ctx.access;
    if (!access) return true;
    const result = await access.check({
      stream: stream.name,
      action,
      app: this.#app,
      streamName: name,
      query: accessQuery(name, this.#app, this.#tcUrl),
      remoteAddr: this.rtmp.conn.remoteAddr.hostname,
    });
    if (this.#released) return false;
    if (result.ok) return true;
    this.#log.warn(`rtmp ${action === "read" ? "play" : "publish"} refused`, { stream: stream.name, reason: result.reason });
    const code = action === "read" ? "NetStream.Play.Failed" : "NetStream.Publish.Unauthorized";
    this.#status(streamId, "error", code, `Not allowed to ${action === "read" ? "play" : "publish"} ${stream.name}: ${result.reason}`);
    this.close(true);
    return false;
  }

  async #publish(cmd: RtmpCommand, streamId: number): Promise<void> {
    const name = typeof cmd.args[0] === "string" ? cmd.args[0] : "";
    if (this.#ingest || this.#consumer) {
      this.#status(streamId, "error", "NetStream.Publish.BadName", "This connection already plays or publishes");
      return;
    }
    const { stream, tried } = this.#resolve(name);
    if (!stream) {
      const text = `No stream ${tried.map((t) => `"${t}"`).join(" or ") || "(no name)"} to publish into; ` +
        "add it under streams: in the config (with no sources for a push-only stream)";
      this.#log.warn("rtmp publish refused", { name, app: this.#app, reason: "stream not found" });
      this.#status(streamId, "error", "NetStream.Publish.BadName", text);
      this.close(true);
      return;
    }
    if (!(await this.#allowed("publish", stream, name, streamId))) return;
    const refused = stream.disabledError();
    if (refused) {
      this.#log.info("rtmp publish refused", { stream: stream.name, reason: "stream disabled" });
      this.#status(streamId, "error", "NetStream.Publish.Rejected", refused.message);
      this.close(true);
      return;
    }
    this.#stream = stream;
    const ingest = new FlvIngest();
    this.#ingest = ingest;
    ingest.onReady = () => {
      if (this.#released) return;
      if (!ingest.medias.length) {
        this.#log.warn("rtmp publisher sent no usable track", { stream: stream.name });
        this.close();
        return;
      }
      const publisher = new RtmpPublisher({
        ingest,
        url: this.#tcUrl ? `${this.#tcUrl}/${name.replace(/\?.*$/, "")}` : undefined,
        remoteAddr: this.rtmp.peer,
        userAgent: this.#flashVer,
        close: () => this.close(),
        bytesIn: () => this.rtmp.bytesIn,
      });
      this.#publisher = publisher;
      stream.addPublisher(publisher).catch((error) => {
        this.#log.warn("rtmp publisher rejected by the stream", { error: String(error) });
        this.close();
      });
      this.#log.info("rtmp publisher connected", {
        stream: stream.name,
        medias: ingest.medias.map((m) => m.codecs[0].name).join(","),
      });
    };
    this.#status(streamId, "status", "NetStream.Publish.Start", `Publishing ${stream.name}.`);
  }

  async #play(cmd: RtmpCommand, streamId: number): Promise<void> {
    const name = typeof cmd.args[0] === "string" ? cmd.args[0] : "";
    if (this.#ingest || this.#consumer) {
      this.#status(streamId, "error", "NetStream.Play.Failed", "This connection already plays or publishes");
      return;
    }
    const { stream, tried } = this.#resolve(name);
    if (!stream) {
      this.#log.info("rtmp play refused", { name, app: this.#app, reason: "stream not found" });
      this.#status(
        streamId,
        "error",
        "NetStream.Play.StreamNotFound",
        `No stream ${tried.map((t) => `"${t}"`).join(" or ") || "(no name)"}`,
      );
      this.close(true);
      return;
    }
    if (!(await this.#allowed("read", stream, name, streamId))) return;
    const refused = this.#ctx.gate?.admitViewer("rtmp", stream.name, stream.consumers().length);
    if (refused) {
      this.#status(streamId, "error", "NetStream.Play.Failed", refused.message);
      this.close(true);
      return;
    }
    const q = name.indexOf("?");
    const query = new URLSearchParams(q >= 0 ? name.slice(q + 1) : "");
    const consumer = new RtmpConsumer(outputMedias(query, RTMP_CODECS), this.rtmp, {
      streamId,
      maxBufferedBytes: this.#ctx.maxBufferedBytes,
      peer: { remoteAddr: this.rtmp.peer, userAgent: this.#flashVer },
    });
    consumer.onError = (error) => {
      this.#log.debug("rtmp player output failed", { error: String(error) });
      this.close();
    };
    this.#consumer = consumer;
    this.#stream = stream;
    try {
      await stream.addConsumer(consumer);
    } catch (error) {
      this.#consumer = undefined;
      consumer.stop();
      if (
        !(error instanceof CodecMismatchError || error instanceof SourceError || error instanceof StreamDisabledError)
      ) throw error;
      this.#status(streamId, "error", "NetStream.Play.Failed", error.message);
      this.close(true);
      return;
    }
    if (this.#released) {
      await stream.removeConsumer(consumer).catch(() => {});
      return;
    }
    // The stream stopped the player (stream deleted, server shutting down): hang up.
    consumer.onStop = () => this.close(true);
    this.rtmp.send(userControl(UserControlEvent.STREAM_BEGIN, streamId));
    this.#status(streamId, "status", "NetStream.Play.Reset", `Playing and resetting ${stream.name}.`);
    this.#status(streamId, "status", "NetStream.Play.Start", `Started playing ${stream.name}.`);
    this.rtmp.send({
      csid: Csid.DATA,
      type: RtmpMessageType.DATA_AMF0,
      streamId,
      timestamp: 0,
      payload: encodeAmf0(["|RtmpSampleAccess", true, true]),
    });
    try {
      consumer.start(stream.name);
    } catch (error) {
      this.#status(streamId, "error", "NetStream.Play.Failed", (error as Error).message);
      this.close(true);
      return;
    }
    this.#log.info("rtmp player connected", { stream: stream.name });
  }

  readonly #tick = (): void => {
    if (this.#released) return;
    const now = Date.now();
    const timeout = this.#ctx.sessionTimeoutMs;
    const playing = this.#consumer?.started;
    if (!playing && now - this.#lastActivity > timeout) {
      this.#log.debug("rtmp session timed out", { idleMs: now - this.#lastActivity });
      this.close();
      return;
    }
    const ingest = this.#ingest;
    if (ingest && !ingest.ready && ingest.hasTrack && now - this.#firstTrackAt > this.#ctx.trackWaitMs) {
      ingest.finish();
    }
    // A player that stopped reading: its socket stays over the bound; give up after the timeout.
    if (this.rtmp.conn.bufferedAmount > this.#ctx.maxBufferedBytes) {
      if (!this.#stalledSince) this.#stalledSince = now;
      else if (now - this.#stalledSince > timeout) {
        this.#log.debug("rtmp player stalled, closing", { buffered: this.rtmp.conn.bufferedAmount });
        this.close();
      }
    } else {
      this.#stalledSince = 0;
    }
  };

  /** Closes the connection (`graceful`: after what is queued, e.g. an error status); releases the session. */
  close(graceful = false): void {
    if (graceful) this.rtmp.close();
    else this.rtmp.fail(undefined);
    this.release();
  }

  /** Releases everything the session holds. Runs once. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#timer);
    const stream = this.#stream;
    const consumer = this.#consumer;
    if (consumer) {
      if (stream) stream.removeConsumer(consumer).catch(() => {});
      else consumer.stop();
    }
    const publisher = this.#publisher;
    if (publisher) {
      publisher.end();
      stream?.removePublisher(publisher);
      this.#log.info("rtmp publisher disconnected", { stream: stream?.name });
    }
    if (!this.rtmp.closed) this.rtmp.fail(undefined);
    this.#ctx.onRelease(this);
    this.#resolveDone();
  }
}

function isObject(v: Amf0Value): v is { [k: string]: Amf0Value } {
  return !!v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Amf0EcmaArray);
}
