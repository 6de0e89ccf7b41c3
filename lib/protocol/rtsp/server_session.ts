/**
 * One RTSP connection to strom's server: a viewer (DESCRIBE/SETUP/PLAY) or a publisher
 * (ANNOUNCE/SETUP/RECORD), over TCP interleaved or UDP.
 *
 * Lifetime: the session ends when the connection closes (either side), on TEARDOWN, on a fatal
 * parse error, on timeout (no request or RTCP for `sessionTimeoutMs` while not streaming over TCP,
 * or a write stall that long), or when the server closes. Whatever the cause, {@link release}
 * runs exactly once: the consumer leaves its stream, the publisher is removed, UDP sockets close.
 *
 * @module
 */
import { randomHex } from "../../core/bytes.ts";
import { CodecMismatchError, SourceError, StreamDisabledError, StreamNotFoundError } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import { parseMediaQuery } from "../../core/media.ts";
import type { StreamHub } from "../../core/hub.ts";
import type { Stream } from "../../core/stream.ts";
import { withoutUserinfo } from "../../core/redact.ts";
import type { TcpConn, UdpSocket } from "../../runtime/mod.ts";
import { formatAddress } from "../../runtime/address.ts";
import { type RtpPacket, tryParseRtp } from "../../rtp/packet.ts";
import { ReorderBuffer } from "../../rtp/reorder.ts";
import { isRtcp } from "../../rtp/rtcp.ts";
import type { RtspAccess } from "./access.ts";
import { RtspViewerConsumer } from "./consumer.ts";
import { viewerMedias } from "./viewer_query.ts";
import { RtspHeaders } from "./headers.ts";
import type { ConnectionGate } from "../../core/connection_gate.ts";
import {
  bodyText,
  type RtspEvent,
  RtspMessageParser,
  type RtspRequest,
  serializeResponse,
  STATUS_TEXT,
} from "./message.ts";
import { PacketSizeError, parsePacketSize } from "./packet_size.ts";
import { RtspPublisher } from "./publisher.ts";
import { parseCameraSdp } from "./sdp_fix.ts";
import { formatTransport, parseTransport, type TransportSpec } from "./transport.ts";
import { bindUdpPair } from "./udp_pair.ts";
import { requestPath } from "./url.ts";

/** What a session needs from its server. */
export interface SessionContext {
  hub: StreamHub;
  /** Who may do what; undefined lets everyone in. */
  access: RtspAccess | undefined;
  defaultQuery: string;
  log: Logger;
  sessionTimeoutMs: number;
  maxBufferedBytes: number;
  /** `rtsp.pkt_size` (undefined: forward the source's own packets). */
  packetSize: number | undefined;
  /** Called once when the session is released. */
  onRelease: (session: RtspServerSession) => void;
  /** See `RtspServerOptions.redirect`. */
  redirect?: (stream: string, remoteAddress: string) => string | undefined;
  /** Admits viewers (per-stream limit); none: no limit. */
  gate?: ConnectionGate;
  /** A request started (or the connection opened) must be complete within this long while not streaming. */
  headerTimeoutMs?: number;
}

const PUBLIC =
  "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, ANNOUNCE, RECORD, GET_PARAMETER, SET_PARAMETER";

/** The query key a cluster's redirect adds, so the node it sends a viewer to serves it. */
const CLUSTER_HOP = "cluster_hop";
const encoder = new TextEncoder();
/** Bytes a client may send while one of its requests is being answered. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  contentType?: string;
  /** Close the connection after writing. */
  close?: boolean;
  /** `WWW-Authenticate` values, one field each. */
  auth?: string[];
}

/**
 * A server-side RTSP session bound to one TCP connection.
 *
 * @example
 * ```ts
 * const session = new RtspServerSession(context, conn);
 * session.run(); // resolves when released
 * ```
 */
export class RtspServerSession {
  readonly id = randomHex(8).toUpperCase();
  readonly conn: TcpConn;
  /** Requests handled. */
  requests = 0;
  /** Interleaved frames or datagrams that could not be used (bad RTP, unknown channel). */
  badPackets = 0;
  readonly #ctx: SessionContext;
  readonly #log: Logger;
  readonly #parser = new RtspMessageParser();
  readonly #remote: string;
  #consumer: RtspViewerConsumer | undefined;
  #publisher: RtspPublisher | undefined;
  #stream: Stream | undefined;
  #published = false;
  #udp: UdpSocket[] = [];
  #udpReorder: ReorderBuffer[] = [];
  #nextChannel = 0;
  #lastActivity = Date.now();
  // When the request being received started (the connection opened, at first); 0 when none is partial.
  #requestSince = Date.now();
  #stalledSince = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #released = false;
  #sessionSent = false;
  /** A request is being answered (see #pump). */
  #handling = false;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(ctx: SessionContext, conn: TcpConn) {
    this.#ctx = ctx;
    this.conn = conn;
    const a = conn.remoteAddr;
    this.#remote = formatAddress(a.hostname, a.port);
    this.#log = ctx.log.child({ session: this.id, remote: this.#remote });
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** Whether {@link release} ran. */
  get released(): boolean {
    return this.#released;
  }

  /** `viewer`, `publisher`, or `none` before DESCRIBE/ANNOUNCE. */
  get role(): "viewer" | "publisher" | "none" {
    return this.#consumer ? "viewer" : this.#publisher ? "publisher" : "none";
  }

  /** The viewer consumer, after DESCRIBE. */
  get consumer(): RtspViewerConsumer | undefined {
    return this.#consumer;
  }

  /** Reads and handles requests until the connection ends; then releases the session. */
  run(): Promise<void> {
    this.conn.closed.then(() => this.release());
    const tickMs = Math.max(
      50,
      Math.min(5000, this.#ctx.sessionTimeoutMs / 4, (this.#ctx.headerTimeoutMs ?? Infinity) / 4),
    );
    this.#timer = setInterval(this.#tick, tickMs);
    // Synchronous reads (TcpConn.read): a publisher's RTP reaches the stream without a stream
    // promise per chunk on its way.
    this.conn.read(this.#onChunk, (error) => {
      if (error) this.#log.debug("rtsp session read failed", { error: String(error) });
      this.release();
    });
    return this.#done;
  }

  readonly #onChunk = (chunk: Uint8Array): void => {
    if (this.#released) return;
    this.#lastActivity = Date.now();
    if (this.#consumer) this.#consumer.bytesIn += chunk.length;
    if (this.#publisher) this.#publisher.bytesIn += chunk.length;
    this.#parser.push(chunk);
    if (this.#handling) {
      // A request is being answered; what comes meanwhile waits in the parser, in order. A client
      // that keeps sending without waiting for the answer is cut off rather than buffered forever.
      if (this.#parser.buffered > MAX_PENDING_BYTES) {
        this.#log.warn("rtsp client sent more than 8 MiB while a request was pending; closing", {});
        this.conn.destroy();
        this.release();
      }
      return;
    }
    this.#pump();
  };

  // Handles what the parser holds, in order. Interleaved packets go through synchronously; a request
  // is answered asynchronously (DESCRIBE may dial a camera) and the rest waits until it is done.
  #pump(): void {
    try {
      for (let ev = this.#parser.next(); ev; ev = this.#parser.next()) {
        if (this.#released) return;
        if (ev.type === "interleaved") {
          this.#onInterleaved(ev.channel, ev.data);
          continue;
        }
        this.#handling = true;
        this.#requestSince = 0;
        this.#onEvent(ev).then(this.#resume, this.#resume);
        return;
      }
      this.#requestSince = this.#parser.buffered > 0 ? (this.#requestSince || Date.now()) : 0;
    } catch (error) {
      this.#log.debug("rtsp session input failed", { error: String(error) });
      this.conn.destroy();
      this.release();
    }
  }

  readonly #resume = (): void => {
    this.#handling = false;
    if (!this.#released) this.#pump();
  };

  #onInterleaved(channel: number, data: Uint8Array): void {
    // RTCP from the peer (on the odd channel, or muxed onto the RTP one, RFC 5761): counts as
    // activity, nothing else needed; a BYE does not end the session (see consumer.ts).
    if (channel & 1 || isRtcp(data)) return;
    const pkt = tryParseRtp(data);
    if (!pkt) {
      this.badPackets++;
      return;
    }
    if (this.#publisher) this.#publisher.onRtp(channel, pkt);
    else if (this.#consumer) this.#consumer.onRtp(channel, pkt);
  }

  async #onEvent(ev: RtspEvent): Promise<void> {
    if (ev.type === "response") return; // we send no requests
    if (ev.type === "error") {
      this.#log.debug("rtsp bad request", { error: ev.error.message });
      this.#write("0", { status: 400, body: ev.error.message + "\r\n", close: ev.error.fatal });
      return;
    }
    if (ev.type !== "request") return;
    const req = ev.request;
    this.requests++;
    const cseq = req.headers.get("CSeq") ?? "0";
    let reply: Reply;
    try {
      reply = await this.#handle(req);
    } catch (error) {
      this.#log.warn("rtsp request failed", { method: req.method, error: String(error) });
      reply = { status: 500, body: `${error instanceof Error ? error.message : String(error)}\r\n` };
    }
    if (this.#released) return;
    // Signalling trace (log.rtsp: trace); SDPs also with debug.dump_sdp.
    this.#log.trace("rtsp request", { method: req.method, uri: req.uri, status: reply.status });
    if (req.method === "ANNOUNCE" && req.body.length) this.#log.trace("rtsp: ANNOUNCE offer", { dump: "sdp", sdp: new TextDecoder().decode(req.body) });
    if (req.method === "DESCRIBE" && reply.status === 200) this.#log.trace("rtsp: DESCRIBE answer", { dump: "sdp", sdp: reply.body });
    this.#write(cseq, reply);
    if (req.method === "PLAY" && reply.status === 200) this.#consumer?.startSending();
  }

  #write(cseq: string, reply: Reply): void {
    const headers = new RtspHeaders({ CSeq: cseq });
    headers.set("Server", "strom");
    headers.set("Date", new Date().toUTCString());
    if (this.#sessionSent) {
      headers.set("Session", `${this.id};timeout=${Math.round(this.#ctx.sessionTimeoutMs / 1000)}`);
    }
    for (const [k, v] of Object.entries(reply.headers ?? {})) headers.set(k, v);
    for (const v of reply.auth ?? []) headers.append("WWW-Authenticate", v);
    const body = reply.body ? encoder.encode(reply.body) : new Uint8Array(0);
    if (body.length) headers.set("Content-Type", reply.contentType ?? "text/plain; charset=utf-8");
    const status = reply.status;
    this.conn.write(serializeResponse({ status, reason: STATUS_TEXT[status] ?? "Unknown", headers, body }));
    if (reply.close) this.conn.close();
  }

  async #handle(req: RtspRequest): Promise<Reply> {
    if (req.version !== "RTSP/1.0" && req.version !== undefined && !req.version.startsWith("RTSP/1.")) {
      return { status: 505, body: `Only RTSP/1.0 is supported, got ${req.version}\r\n` };
    }
    const access = this.#ctx.access;
    if (access) {
      const publishing = req.method === "ANNOUNCE" || req.method === "RECORD" ||
        (this.#publisher !== undefined && req.method !== "TEARDOWN");
      const result = await access.check({
        method: req.method,
        uri: req.uri,
        stream: req.uri === "*" ? "" : requestPath(req.uri).name,
        action: publishing ? "publish" : "read",
        authorization: req.headers.get("Authorization") ?? undefined,
        remoteAddr: this.conn.remoteAddr.hostname,
      });
      if (!result.ok) {
        return { status: result.status, auth: result.challenges, body: result.reason + "\r\n", close: result.status === 429 };
      }
    }
    const session = req.headers.get("Session");
    if (session && this.#sessionSent && session.split(";")[0].trim() !== this.id) {
      return { status: 454, body: `Session "${session}" not found on this connection\r\n` };
    }
    switch (req.method) {
      case "OPTIONS":
        return { status: 200, headers: { Public: PUBLIC } };
      case "DESCRIBE":
        return await this.#describe(req);
      case "ANNOUNCE":
        return this.#announce(req);
      case "SETUP":
        return await this.#setup(req);
      case "PLAY":
        return this.#play(req);
      case "RECORD":
        return this.#record();
      case "PAUSE":
        this.#consumer?.pause();
        return { status: 200 };
      case "TEARDOWN":
        return { status: 200, close: true };
      case "GET_PARAMETER":
      case "SET_PARAMETER":
        return { status: 200 };
      default:
        return {
          status: 501,
          headers: { Public: PUBLIC },
          body: `Method ${req.method} is not supported\r\n`,
        };
    }
  }

  async #describe(req: RtspRequest): Promise<Reply> {
    if (this.#publisher) {
      return { status: 455, body: "This connection is publishing; DESCRIBE is not valid now\r\n" };
    }
    const { name, query } = requestPath(req.uri);
    const stream = this.#ctx.hub.get(name);
    if (!stream) return { status: 404, body: new StreamNotFoundError(name).message + "\r\n" };
    // A cluster's load balancer may send a new viewer to another node (RFC 2326 section 11.3.3); a
    // request it already sent is marked with cluster_hop and served where it arrives, and so is the
    // server's own ffmpeg reading a stream for an ffmpeg: source (marked with source=), and another
    // strom (an edge, a relay: one connection that serves all its viewers, so sending it elsewhere
    // balances nothing).
    const elsewhere = this.#consumer || query.has(CLUSTER_HOP) || query.has("source") ||
        /^strom\b/i.test(req.headers.get("User-Agent") ?? "")
      ? undefined
      : this.#ctx.redirect?.(name, this.conn.remoteAddr.hostname);
    if (elsewhere) {
      const q = new URLSearchParams(query);
      q.set(CLUSTER_HOP, "1");
      return { status: 302, headers: { Location: `${elsewhere.replace(/\/+$/, "")}/${encodeURIComponent(name)}?${q}` } };
    }
    const refused = this.#consumer ? undefined : this.#ctx.gate?.admitViewer("rtsp", name, stream.consumers().length);
    if (refused) return { status: 453, body: `${refused.message}\r\n` };
    if (this.#consumer) {
      // A second DESCRIBE replaces the first viewer.
      await this.#stream?.removeConsumer(this.#consumer).catch(() => {});
      this.#consumer = undefined;
    }
    // RFC 2326 section 12.32: refuse options we do not know; the ONVIF backchannel tag asks for
    // the same as `?backchannel=1`.
    const require = (req.headers.get("Require") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const unsupported = require.filter((r) => r.toLowerCase() !== "www.onvif.org/ver20/backchannel");
    if (unsupported.length) {
      return {
        status: 551,
        headers: { Unsupported: unsupported.join(", ") },
        body: `Unsupported option ${unsupported.join(", ")}\r\n`,
      };
    }
    if (require.length && !query.has("backchannel")) query.set("backchannel", "1");
    let packetSize = this.#ctx.packetSize;
    try {
      packetSize = parsePacketSize(query.get("pkt_size"), "The URL's ?pkt_size=") ?? packetSize;
    } catch (error) {
      if (error instanceof PacketSizeError) return { status: 400, body: error.message + "\r\n" };
      throw error;
    }
    const medias = viewerMedias(query, this.#ctx.defaultQuery, parseMediaQuery);
    const consumer = new RtspViewerConsumer({
      conn: this.conn,
      medias,
      url: withoutUserinfo(req.uri),
      userAgent: req.headers.get("User-Agent"),
      log: this.#log,
      maxBufferedBytes: this.#ctx.maxBufferedBytes,
      source: query.get("source") ?? undefined,
      packetSize,
    });
    try {
      await stream.addConsumer(consumer);
    } catch (error) {
      consumer.stop();
      if (error instanceof CodecMismatchError) return { status: 415, body: error.message + "\r\n" };
      if (error instanceof SourceError || error instanceof StreamDisabledError) {
        return { status: 503, body: error.message + "\r\n" };
      }
      throw error;
    }
    if (this.#released) {
      await stream.removeConsumer(consumer).catch(() => {});
      return { status: 500 };
    }
    this.#consumer = consumer;
    this.#stream = stream;
    const base = req.uri.endsWith("/") ? req.uri : req.uri + "/";
    const address = this.conn.localAddr.hostname || "0.0.0.0";
    return {
      status: 200,
      headers: { "Content-Base": base },
      contentType: "application/sdp",
      body: consumer.sdp(address),
    };
  }

  #announce(req: RtspRequest): Reply {
    if (this.#consumer) {
      return { status: 455, body: "This connection is playing; ANNOUNCE is not valid now\r\n" };
    }
    if (this.#publisher) return { status: 455, body: "Already announced on this connection\r\n" };
    const { name } = requestPath(req.uri);
    const stream = this.#ctx.hub.get(name);
    if (!stream) return { status: 404, body: new StreamNotFoundError(name).message + "\r\n" };
    const refused = stream.disabledError();
    if (refused) return { status: 503, body: refused.message + "\r\n" };
    let medias;
    try {
      medias = parseCameraSdp(bodyText(req)).medias;
    } catch (error) {
      return { status: 400, body: `Cannot use the ANNOUNCE body: ${(error as Error).message}\r\n` };
    }
    const publisher = new RtspPublisher({
      medias,
      url: withoutUserinfo(req.uri),
      remoteAddr: this.#remote,
      userAgent: req.headers.get("User-Agent"),
      close: () => this.conn.close(),
    });
    if (!publisher.medias().length) {
      return { status: 415, body: "The ANNOUNCE SDP has no media strom can receive\r\n" };
    }
    this.#publisher = publisher;
    this.#stream = stream;
    return { status: 200 };
  }

  #pickTransport(header: string | undefined): TransportSpec | Reply {
    if (!header) return { status: 400, body: "SETUP needs a Transport header\r\n" };
    let specs: TransportSpec[];
    try {
      specs = parseTransport(header);
    } catch (error) {
      return { status: 400, body: (error as Error).message + "\r\n" };
    }
    for (const spec of specs) {
      if (!/^RTP\/AVP/i.test(spec.protocol)) continue;
      if (spec.lower === "tcp") return spec;
      if (spec.unicast && spec.clientPort) return spec;
    }
    return {
      status: 461,
      body:
        `None of the transports "${header}" is supported; use RTP/AVP/TCP (interleaved) or RTP/AVP unicast UDP\r\n`,
    };
  }

  async #setup(req: RtspRequest): Promise<Reply> {
    const picked = this.#pickTransport(req.headers.get("Transport"));
    if ("status" in picked) return picked;
    const spec = picked;
    const consumer = this.#consumer;
    const publisher = this.#publisher;
    let index = -1;
    if (consumer) {
      const track = consumer.trackFor(req.uri);
      if (!track) {
        return { status: 404, body: `No track for "${req.uri}"; use the controls from DESCRIBE\r\n` };
      }
      index = track.index;
    } else if (publisher) {
      index = publisher.indexFor(req.uri);
      if (index < 0) return { status: 404, body: `No announced media for "${req.uri}"\r\n` };
    } else {
      return { status: 455, body: "SETUP needs a DESCRIBE (to play) or ANNOUNCE (to publish) first\r\n" };
    }
    let answer: TransportSpec;
    if (spec.lower === "tcp") {
      const channel = spec.interleaved?.[0] ?? this.#nextChannel;
      this.#nextChannel = Math.max(this.#nextChannel, channel + 2);
      answer = {
        protocol: "RTP/AVP/TCP",
        lower: "tcp",
        unicast: true,
        interleaved: [channel, channel + 1],
        params: {},
      };
      if (consumer) {
        const track = consumer.tracks[index];
        track.transport = { type: "tcp", channel };
        answer.ssrc = track.ssrc;
      } else {
        publisher!.setChannel(index, channel);
      }
    } else {
      const host = this.conn.remoteAddr.hostname;
      const [rtp, rtcp] = await bindUdpPair(host.includes(":") ? "::" : "0.0.0.0");
      if (this.#released) {
        rtp.close();
        rtcp.close();
        return { status: 500 };
      }
      this.#udp.push(rtp, rtcp);
      const clientPort = spec.clientPort!;
      const channel = this.#nextChannel;
      this.#nextChannel += 2;
      answer = {
        protocol: "RTP/AVP",
        lower: "udp",
        unicast: true,
        clientPort,
        serverPort: [rtp.addr.port, rtcp.addr.port],
        params: {},
      };
      rtcp.onMessage = () => {
        this.#lastActivity = Date.now();
      };
      if (consumer) {
        const track = consumer.tracks[index];
        track.transport = { type: "udp", rtp, rtcp, host, port: clientPort[0], rtcpPort: clientPort[1] };
        answer.ssrc = track.ssrc;
        const backchannel = track.backchannel;
        if (backchannel) {
          rtp.onMessage = (data) => this.#onDatagram(data, (pkt) => backchannel.depacketizer.push(pkt));
        }
      } else {
        publisher!.protocol = "rtsp+udp";
        publisher!.setChannel(index, channel);
        const reorder = new ReorderBuffer({ onPacket: (pkt) => publisher!.onRtp(channel, pkt) });
        this.#udpReorder.push(reorder);
        rtp.onMessage = (data) => this.#onDatagram(data, (pkt) => reorder.push(pkt));
      }
    }
    this.#sessionSent = true;
    return { status: 200, headers: { Transport: formatTransport(answer) } };
  }

  #onDatagram(data: Uint8Array, push: (pkt: RtpPacket) => void): void {
    this.#lastActivity = Date.now();
    if (this.#publisher) this.#publisher.bytesIn += data.length;
    if (isRtcp(data)) return; // RTCP muxed onto the RTP port (RFC 5761) is not media
    const pkt = tryParseRtp(data);
    if (!pkt) {
      this.badPackets++;
      return;
    }
    push(pkt);
  }

  #play(req: RtspRequest): Reply {
    const consumer = this.#consumer;
    if (!consumer) return { status: 455, body: "PLAY needs DESCRIBE and SETUP first\r\n" };
    if (!consumer.tracks.some((t) => t.transport)) {
      return { status: 455, body: "PLAY needs SETUP of at least one track\r\n" };
    }
    const base = req.uri.replace(/\/trackID=\d+\/?$/i, "");
    const rtpInfo = consumer.play(base);
    const headers: Record<string, string> = { Range: "npt=0.000-" };
    if (rtpInfo) headers["RTP-Info"] = rtpInfo;
    return { status: 200, headers };
  }

  #record(): Reply {
    const publisher = this.#publisher;
    const stream = this.#stream;
    if (!publisher || !stream) return { status: 455, body: "RECORD needs ANNOUNCE and SETUP first\r\n" };
    if (!this.#published) {
      this.#published = true;
      stream.addPublisher(publisher).catch((error) => {
        this.#log.warn("rtsp publisher rejected by the stream", { error: String(error) });
        this.conn.close();
      });
      this.#log.info("rtsp publisher connected", { stream: stream.name });
    }
    return { status: 200 };
  }

  readonly #tick = (): void => {
    if (this.#released) return;
    if (this.#consumer?.stopped) {
      // The stream ended the viewer (deleted, or its source removed with no replacement): the
      // stream logged why; hang up so the player sees the end instead of a silent connection.
      this.#log.debug("rtsp viewer ended by the stream, closing");
      this.close();
      return;
    }
    const now = Date.now();
    const timeout = this.#ctx.sessionTimeoutMs;
    const streamingTcp =
      (this.#consumer?.playing && !this.#consumer.tracks.some((t) => t.transport?.type === "udp")) ||
      (this.#published && this.#publisher?.protocol === "rtsp+tcp");
    const headerTimeout = this.#ctx.headerTimeoutMs ?? 0;
    if (!streamingTcp && headerTimeout > 0 && this.#requestSince && !this.#handling &&
      now - this.#requestSince > headerTimeout) {
      this.#log.debug("rtsp request not completed in time, closing", { waitedMs: now - this.#requestSince });
      this.close();
      return;
    }
    if (!streamingTcp && now - this.#lastActivity > timeout) {
      this.#log.debug("rtsp session timed out", { idleMs: now - this.#lastActivity });
      this.close();
      return;
    }
    // A viewer that stopped reading: its socket stays over the bound; give up after the timeout.
    if (this.conn.bufferedAmount > this.#ctx.maxBufferedBytes) {
      if (!this.#stalledSince) this.#stalledSince = now;
      else if (now - this.#stalledSince > timeout) {
        this.#log.debug("rtsp viewer stalled, closing", { buffered: this.conn.bufferedAmount });
        this.close();
      }
    } else {
      this.#stalledSince = 0;
    }
    for (const r of this.#udpReorder) if (r.size) r.flush();
  };

  /** Closes the connection; the session is released. */
  close(): void {
    this.conn.destroy();
    this.release();
  }

  /** Releases everything the session holds. Runs once; later calls do nothing. */
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
      for (const r of this.#udpReorder) r.flush();
      publisher.end();
      if (this.#published && stream) stream.removePublisher(publisher);
      this.#log.info("rtsp publisher disconnected", { stream: stream?.name });
    }
    for (const s of this.#udp.splice(0)) s.close();
    this.conn.destroy();
    this.#ctx.onRelease(this);
    this.#resolveDone();
  }
}
