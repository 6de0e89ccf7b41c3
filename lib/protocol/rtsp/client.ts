/**
 * RTSP client (RFC 2326): the request/response exchange with a camera or another server, media over
 * TCP interleaved frames (default) or UDP, authentication, keep-alive and timeouts.
 *
 * ```text
 * OPTIONS -> DESCRIBE (SDP) -> SETUP per track -> PLAY -> ... RTP ... -> TEARDOWN
 *            401? answer the Basic/Digest challenge once and repeat the request
 * ```
 *
 * Media packets go to {@link RtspClient.onRtp} synchronously from the read loop, in order (UDP
 * packets pass a reorder buffer first).
 *
 * @module
 */
import { type Logger, silentLogger } from "../../core/log.ts";
import type { SdpMedia, SessionDescription } from "../../core/media.ts";
import { withoutUserinfo } from "../../core/redact.ts";
import { NetError, type TcpConn, tcpConnect, type UdpSocket } from "../../runtime/mod.ts";
import { formatAddress } from "../../runtime/address.ts";
import { type RtpPacket, tryParseRtp } from "../../rtp/packet.ts";
import { ReorderBuffer } from "../../rtp/reorder.ts";
import { serializeRtcp } from "../../rtp/rtcp.ts";
import { RtspAuthClient } from "./auth.ts";
import { RtspHeaders } from "./headers.ts";
import {
  bodyText,
  interleavedFrame,
  type RtspEvent,
  RtspMessageParser,
  type RtspRequest,
  type RtspResponse,
  serializeRequest,
  serializeResponse,
  writeInterleavedHeader,
} from "./message.ts";
import { parseCameraSdp } from "./sdp_fix.ts";
import { parseTransport } from "./transport.ts";
import { bindUdpPair } from "./udp_pair.ts";
import { parseRtspUrl, resolveControl, type RtspUrl } from "./url.ts";

/** Options of {@link RtspClient}. */
export interface RtspClientOptions {
  /** Media transport: `tcp` (interleaved, default) or `udp`. */
  transport?: "tcp" | "udp";
  /** Connect and per-request timeout in ms. Default 5000. */
  timeoutMs?: number;
  /** While playing, fail when no byte arrived for this long (ms). Default 10 000. */
  readTimeoutMs?: number;
  /** Ask for the ONVIF backchannel on DESCRIBE (`Require: www.onvif.org/ver20/backchannel`). */
  backchannel?: boolean;
  userAgent?: string;
  /** Aborting closes the connection, until {@link RtspClient.releaseSignal} is called. */
  signal?: AbortSignal;
  log?: Logger;
}

/**
 * A request got a non-success status.
 *
 * @example
 * ```ts
 * try { await client.describe(); } catch (e) { if (e instanceof RtspError && e.status === 404) ... }
 * ```
 */
export class RtspError extends Error {
  override name = "RtspError";
  readonly status: number;
  readonly method: string;
  readonly url: string;
  /** The `Location` of a redirect (3xx), to follow. */
  location?: string;
  constructor(method: string, url: string, status: number, reason: string, hint = "") {
    super(`RTSP ${method} ${url} failed: ${status} ${reason}${hint ? `. ${hint}` : ""}`);
    this.status = status;
    this.method = method;
    this.url = url;
  }
}

/** The result of DESCRIBE. */
export interface RtspDescription {
  sdp: SessionDescription;
  /** Base URL for resolving controls (Content-Base, Content-Location, else the request URL). */
  baseUrl: string;
  /** The raw SDP text. */
  text: string;
  /** Whether the backchannel Require header was accepted. */
  backchannel: boolean;
}

interface Pending {
  cseq: number;
  resolve: (res: RtspResponse) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface UdpTrack {
  channel: number;
  rtp: UdpSocket;
  rtcp: UdpSocket;
  serverHost: string;
  serverRtpPort: number;
  serverRtcpPort: number;
  reorder: ReorderBuffer;
  // Receiver statistics for RTCP RR (RFC 3550 appendix A.3).
  ssrc: number;
  baseSeq: number;
  maxSeq: number;
  cycles: number;
  received: number;
  expectedPrior: number;
  receivedPrior: number;
}

const HINTS: Record<number, string> = {
  401:
    "Check the user name and password in the URL (rtsp://user:pass@host/...); special characters must be percent-encoded",
  403: "The camera refuses this user; check its permissions",
  404: "Check the path of the URL; camera vendors document it (e.g. /Streaming/Channels/101)",
  454: "The session expired; strom reconnects",
  461: "The camera does not support this transport; try #transport=udp or #transport=tcp",
};

/**
 * A connection to an RTSP server.
 *
 * @example
 * ```ts
 * const client = new RtspClient("rtsp://admin:pass@192.168.1.10/stream1");
 * await client.connect();
 * const { sdp } = await client.describe();
 * const channel = await client.setup(sdp.medias[0]);
 * client.onRtp = (ch, pkt) => console.log(ch, pkt.sequenceNumber);
 * await client.play();
 * const error = await client.closed; // undefined after TEARDOWN/EOF
 * ```
 */
export class RtspClient {
  url: RtspUrl;
  readonly options: RtspClientOptions;
  readonly log: Logger;
  /** Session id from the first SETUP. */
  session: string | undefined;
  /** Session timeout in seconds (Session header `timeout=`, default 60). */
  sessionTimeout = 60;
  /** Methods from the OPTIONS `Public` header (upper case). */
  readonly publicMethods = new Set<string>();
  /** The base URL after DESCRIBE. */
  baseUrl: string;
  /** Session-level control of the last DESCRIBE (aggregate URL for PLAY). */
  sessionControl: string | undefined;
  bytesIn = 0;
  bytesOut = 0;
  /** RTP/RTCP payloads that could not be parsed, or arrived on unknown channels. */
  badPackets = 0;
  /** Called for every RTP packet with the RTP channel given by {@link setup}. */
  onRtp: ((channel: number, pkt: RtpPacket) => void) | undefined;
  /** Called for every RTCP packet with the RTP channel of its track. */
  onRtcp: ((channel: number, data: Uint8Array) => void) | undefined;
  /** Resolves when the connection is gone: `undefined` for EOF/TEARDOWN/close(), else the error. Never rejects. */
  readonly closed: Promise<Error | undefined>;

  #conn: TcpConn | undefined;
  #parser = new RtspMessageParser();
  #cseq = 0;
  #pending: Pending[] = [];
  #auth: RtspAuthClient;
  #closedResolve!: (error: Error | undefined) => void;
  #isClosed = false;
  #playing = false;
  #lastData = 0;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #lastKeepalive = 0;
  #lastRr = 0;
  #keepaliveMethod: "GET_PARAMETER" | "OPTIONS" = "OPTIONS";
  #nextChannel = 0;
  // Whether the last DESCRIBE got the ONVIF backchannel, and how many set-up media we receive on:
  // a session that only sends (a talker on the camera's speaker) gets no data to time out on.
  #backchannelAccepted = false;
  #receiving = 0;
  #udp: UdpTrack[] = [];
  #abortListener: (() => void) | undefined;

  constructor(url: string, options: RtspClientOptions = {}) {
    this.url = parseRtspUrl(url);
    this.options = options;
    this.log = options.log ?? silentLogger;
    this.baseUrl = this.url.href;
    this.#auth = new RtspAuthClient(this.url.username, this.url.password);
    this.closed = new Promise((resolve) => (this.#closedResolve = resolve));
  }

  get #timeout(): number {
    return this.options.timeoutMs ?? 5000;
  }

  /** Whether PLAY (or RECORD) succeeded. */
  get playing(): boolean {
    return this.#playing;
  }

  /** `rtsp+tcp` or `rtsp+udp`. */
  get protocol(): string {
    return this.options.transport === "udp" ? "rtsp+udp" : "rtsp+tcp";
  }

  /** The remote address as `host:port`, once connected. */
  get remoteAddr(): string | undefined {
    const a = this.#conn?.remoteAddr;
    return a ? formatAddress(a.hostname, a.port) : undefined;
  }

  /** Opens the TCP (or TLS) connection and starts reading. */
  async connect(): Promise<void> {
    const signal = this.options.signal;
    signal?.throwIfAborted();
    const u = this.url;
    this.#conn = await tcpConnect({
      hostname: u.hostname,
      port: u.port,
      timeoutMs: this.#timeout,
      signal,
      tls: u.tls ? (u.scheme === "rtspx" ? { rejectUnauthorized: false } : true) : undefined,
    });
    if (signal) {
      this.#abortListener = () =>
        this.close(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      signal.addEventListener("abort", this.#abortListener, { once: true });
    }
    this.#lastData = Date.now();
    this.#readLoop(this.#conn);
    this.#ticker = setInterval(this.#tick, 1000);
  }

  /**
   * Stops following `options.signal`. A dial's signal (with its dial timeout) must not end the
   * connection once it is established and handed over.
   */
  releaseSignal(): void {
    if (this.#abortListener) this.options.signal?.removeEventListener("abort", this.#abortListener);
    this.#abortListener = undefined;
  }

  // Reads synchronously (TcpConn.read): every frame's latency would otherwise include the Web
  // Stream's promise per chunk.
  #readLoop(conn: TcpConn): void {
    conn.read(
      (chunk) => {
        if (this.#isClosed) return;
        this.bytesIn += chunk.length;
        this.#lastData = Date.now();
        this.#parser.push(chunk);
        try {
          for (let ev = this.#parser.next(); ev; ev = this.#parser.next()) this.#dispatch(ev);
        } catch (error) {
          this.close(error instanceof Error ? error : new Error(String(error)));
        }
      },
      (error) =>
        this.close(
          error === undefined ? undefined : error instanceof Error ? error : new Error(String(error)),
        ),
    );
  }

  #dispatch(ev: RtspEvent): void {
    switch (ev.type) {
      case "interleaved": {
        const ch = ev.channel;
        if (ch & 1) {
          this.onRtcp?.(ch - 1, ev.data);
          return;
        }
        const pkt = tryParseRtp(ev.data);
        if (!pkt) {
          this.badPackets++;
          return;
        }
        this.onRtp?.(ch, pkt);
        return;
      }
      case "response": {
        const cseq = Number(ev.response.headers.get("CSeq"));
        // Cameras that drop CSeq get the oldest pending request matched.
        let i = this.#pending.findIndex((p) => p.cseq === cseq);
        if (i < 0 && !Number.isFinite(cseq)) i = 0;
        const p = this.#pending[i];
        if (!p) return;
        this.#pending.splice(i, 1);
        clearTimeout(p.timer);
        p.resolve(ev.response);
        return;
      }
      case "request": {
        // Server-to-client requests (keep-alives, ANNOUNCE of a stream change): acknowledge the
        // harmless ones so the server does not drop us.
        const req = ev.request;
        const ok = ["GET_PARAMETER", "SET_PARAMETER", "OPTIONS", "ANNOUNCE"].includes(req.method);
        const headers = new RtspHeaders({ CSeq: req.headers.get("CSeq") ?? "0" });
        if (this.session) headers.set("Session", this.session);
        this.#write(serializeResponse({
          status: ok ? 200 : 501,
          reason: ok ? "OK" : "Not Implemented",
          headers,
          body: new Uint8Array(0),
        }));
        return;
      }
      case "error":
        if (ev.error.fatal) this.close(ev.error);
        else this.badPackets++;
        return;
    }
  }

  #write(bytes: Uint8Array): boolean {
    const conn = this.#conn;
    if (!conn || this.#isClosed) return false;
    this.bytesOut += bytes.length;
    return conn.write(bytes);
  }

  readonly #tick = (): void => {
    const now = Date.now();
    if (!this.#playing) return;
    const readTimeout = this.options.readTimeoutMs ?? 10_000;
    if (this.#receiving > 0 && now - this.#lastData > readTimeout) {
      this.close(
        new NetError(
          "TimedOut",
          `RTSP ${this.url.href}: no data for ${Math.round((now - this.#lastData) / 1000)} s. ` +
            `The camera stopped sending; set #timeout=N (seconds) for a longer wait.`,
          { address: this.remoteAddr },
        ),
      );
      return;
    }
    const keepaliveMs = Math.max(1, this.sessionTimeout / 2) * 1000;
    if (now - this.#lastKeepalive >= keepaliveMs) {
      this.#lastKeepalive = now;
      this.#keepalive();
    }
    if (this.#udp.length && now - this.#lastRr >= 5000) {
      this.#lastRr = now;
      this.#sendReceiverReports();
    }
  };

  #keepalive(): void {
    const method = this.#keepaliveMethod;
    this.request(method, method === "OPTIONS" ? this.url.href : this.#aggregateUrl()).catch((error) => {
      if (error instanceof RtspError && method === "GET_PARAMETER") this.#keepaliveMethod = "OPTIONS";
    });
  }

  #aggregateUrl(): string {
    return resolveControl(this.baseUrl, this.sessionControl);
  }

  /**
   * Sends a request and waits for its response. A 401 is answered once with the URL's credentials.
   * Rejects with {@link RtspError} for other non-2xx statuses.
   */
  async request(
    method: string,
    uri: string,
    init: { headers?: Record<string, string>; body?: Uint8Array } = {},
  ): Promise<RtspResponse> {
    let res = await this.#send(method, uri, init);
    if (res.status === 401) {
      const challenges = res.headers.getAll("WWW-Authenticate");
      if (this.#auth.challenge(challenges)) res = await this.#send(method, uri, init);
    }
    this.log.trace("rtsp response", { method, uri: withoutUserinfo(uri), status: res.status });
    if (res.status < 200 || res.status >= 300) {
      const error = new RtspError(method, withoutUserinfo(uri), res.status, res.reason, HINTS[res.status]);
      if (res.status >= 300 && res.status < 400) error.location = res.headers.get("Location") ?? undefined;
      throw error;
    }
    return res;
  }

  #send(
    method: string,
    uri: string,
    init: { headers?: Record<string, string>; body?: Uint8Array },
  ): Promise<RtspResponse> {
    if (this.#isClosed || !this.#conn) {
      return Promise.reject(new NetError("BrokenPipe", `RTSP ${method} ${this.url.href}: connection closed`));
    }
    const cseq = ++this.#cseq;
    const headers = new RtspHeaders({ CSeq: cseq });
    headers.set("User-Agent", this.options.userAgent ?? "strom");
    const auth = this.#auth.authorization(method, uri);
    if (auth) headers.set("Authorization", auth);
    // Keep-alive OPTIONS carry the session too: some cameras only refresh it that way.
    if (this.session && method !== "DESCRIBE") headers.set("Session", this.session);
    for (const [k, v] of Object.entries(init.headers ?? {})) headers.set(k, v);
    const req: RtspRequest = { method, uri, headers, body: init.body ?? new Uint8Array(0) };
    return new Promise<RtspResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#pending.findIndex((p) => p.cseq === cseq);
        if (i >= 0) this.#pending.splice(i, 1);
        reject(
          new NetError(
            "TimedOut",
            `RTSP ${method} ${
              withoutUserinfo(uri)
            }: no response within ${this.#timeout} ms; raise #timeout=N (seconds)`,
            { address: this.remoteAddr },
          ),
        );
      }, this.#timeout);
      this.#pending.push({ cseq, resolve, reject, timer });
      this.#write(serializeRequest(req));
    });
  }

  /** OPTIONS: learns which methods the server supports (for the keep-alive choice). */
  async optionsRequest(): Promise<RtspResponse> {
    const res = await this.request("OPTIONS", this.url.href);
    for (const m of (res.headers.get("Public") ?? "").split(",")) {
      if (m.trim()) this.publicMethods.add(m.trim().toUpperCase());
    }
    this.#keepaliveMethod = this.publicMethods.has("GET_PARAMETER") ? "GET_PARAMETER" : "OPTIONS";
    return res;
  }

  /**
   * DESCRIBE: fetches and parses the SDP (with camera repairs). With `backchannel`, first asks with
   * the ONVIF Require header and retries without it if the server refuses.
   */
  async describe(): Promise<RtspDescription> {
    let backchannel = this.options.backchannel ?? false;
    let res: RtspResponse;
    for (;;) {
      try {
        const headers: Record<string, string> = { Accept: "application/sdp" };
        if (backchannel) headers.Require = "www.onvif.org/ver20/backchannel";
        res = await this.request("DESCRIBE", this.url.href, { headers });
        break;
      } catch (error) {
        if (backchannel && error instanceof RtspError && error.status !== 401 && error.status !== 404 && !error.location) {
          this.log.debug("backchannel refused, describing without it", { status: error.status });
          backchannel = false;
          continue;
        }
        throw error;
      }
    }
    const text = bodyText(res);
    const sdp = parseCameraSdp(text);
    let base = res.headers.get("Content-Base") ?? res.headers.get("Content-Location") ?? this.url.href;
    // A camera bug seen by go2rtc: "Content-Base: rtsp://rtsp://host:554/stream1/".
    base = base.replace(/^(rtsps?:\/\/)rtsps?:\/\//i, "$1");
    if (!/^rtsps?:\/\//i.test(base)) base = resolveControl(this.url.href, base);
    this.baseUrl = base;
    this.sessionControl = sdp.attributes.find((a) => a.toLowerCase().startsWith("control:"))?.slice(8).trim();
    this.#backchannelAccepted = backchannel;
    return { sdp, baseUrl: this.baseUrl, text, backchannel };
  }

  /**
   * SETUP for one media; returns the RTP channel the media's packets arrive on (RTCP on channel + 1).
   * Over UDP the channel is a local label for the socket pair.
   */
  async setup(media: SdpMedia, extraTransport = ""): Promise<number> {
    const channel = await this.#setup(media, extraTransport);
    // ONVIF: with the backchannel accepted, `a=sendonly` is the client sending (the camera's speaker).
    if (!(this.#backchannelAccepted && media.direction === "sendonly")) this.#receiving++;
    return channel;
  }

  async #setup(media: SdpMedia, extraTransport: string): Promise<number> {
    const uri = resolveControl(this.baseUrl, media.id);
    const channel = this.#nextChannel;
    this.#nextChannel += 2;
    if (this.options.transport === "udp") return await this.#setupUdp(uri, channel, extraTransport);
    const res = await this.request("SETUP", uri, {
      headers: { Transport: `RTP/AVP/TCP;unicast;interleaved=${channel}-${channel + 1}${extraTransport}` },
    });
    this.#takeSession(res);
    const t = res.headers.get("Transport");
    if (t) {
      try {
        const [spec] = parseTransport(t);
        if (spec.interleaved) return spec.interleaved[0];
      } catch { /* keep ours */ }
    }
    return channel;
  }

  async #setupUdp(uri: string, channel: number, extra: string): Promise<number> {
    const [rtp, rtcp] = await bindUdpPair(this.#conn?.remoteAddr.hostname.includes(":") ? "::" : "0.0.0.0");
    try {
      const res = await this.request("SETUP", uri, {
        headers: { Transport: `RTP/AVP;unicast;client_port=${rtp.addr.port}-${rtcp.addr.port}${extra}` },
      });
      this.#takeSession(res);
      const spec = parseTransport(res.headers.get("Transport") ?? "RTP/AVP")[0];
      const serverHost = spec.source ?? this.#conn!.remoteAddr.hostname;
      const track: UdpTrack = {
        channel,
        rtp,
        rtcp,
        serverHost,
        serverRtpPort: spec.serverPort?.[0] ?? 0,
        serverRtcpPort: spec.serverPort?.[1] ?? 0,
        reorder: new ReorderBuffer({ onPacket: (pkt) => this.onRtp?.(channel, pkt) }),
        ssrc: 0,
        baseSeq: -1,
        maxSeq: 0,
        cycles: 0,
        received: 0,
        expectedPrior: 0,
        receivedPrior: 0,
      };
      rtp.onMessage = (data) => {
        this.#lastData = Date.now();
        this.bytesIn += data.length;
        const pkt = tryParseRtp(data);
        if (!pkt) {
          this.badPackets++;
          return;
        }
        this.#count(track, pkt);
        track.reorder.push(pkt);
      };
      rtcp.onMessage = (data) => {
        this.#lastData = Date.now();
        this.onRtcp?.(channel, data);
      };
      this.#udp.push(track);
      // Open NAT bindings towards the server's ports (RFC 7604 section 3.2); harmless otherwise.
      if (spec.serverPort) {
        const punch = new Uint8Array([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        rtp.send(punch, spec.serverPort[0], serverHost);
      }
      return channel;
    } catch (error) {
      rtp.close();
      rtcp.close();
      throw error;
    }
  }

  #count(t: UdpTrack, pkt: RtpPacket): void {
    const seq = pkt.sequenceNumber;
    if (t.baseSeq < 0 || pkt.ssrc !== t.ssrc) {
      t.ssrc = pkt.ssrc;
      t.baseSeq = seq;
      t.maxSeq = seq;
      t.cycles = 0;
      t.received = 0;
      t.expectedPrior = 0;
      t.receivedPrior = 0;
    } else {
      const delta = (seq - t.maxSeq) & 0xffff;
      if (delta > 0 && delta < 0x8000) {
        if (seq < t.maxSeq) t.cycles += 0x10000;
        t.maxSeq = seq;
      }
    }
    t.received++;
  }

  // RTCP receiver report per UDP track (RFC 3550 section 6.4.2), so cameras that expect
  // feedback keep sending.
  #sendReceiverReports(): void {
    for (const t of this.#udp) {
      if (t.baseSeq < 0 || !t.serverRtcpPort) continue;
      const extMax = t.cycles + t.maxSeq;
      const expected = extMax - t.baseSeq + 1;
      const lost = Math.max(-0x800000, Math.min(0x7fffff, expected - t.received));
      const expectedInterval = expected - t.expectedPrior;
      const receivedInterval = t.received - t.receivedPrior;
      t.expectedPrior = expected;
      t.receivedPrior = t.received;
      const lostInterval = expectedInterval - receivedInterval;
      const fraction = expectedInterval > 0 && lostInterval > 0
        ? Math.floor((lostInterval << 8) / expectedInterval)
        : 0;
      const rr = serializeRtcp({
        type: "rr",
        ssrc: 0x5354524d, // "STRM"
        reports: [{
          ssrc: t.ssrc,
          fractionLost: Math.min(255, fraction),
          packetsLost: lost,
          highestSequence: extMax >>> 0,
          jitter: 0,
          lastSenderReport: 0,
          delaySinceLastSenderReport: 0,
        }],
      });
      t.rtcp.send(rr, t.serverRtcpPort, t.serverHost);
    }
  }

  #takeSession(res: RtspResponse): void {
    const s = res.headers.get("Session");
    if (!s) return;
    const [id, ...params] = s.split(";");
    this.session = id.trim();
    for (const p of params) {
      const m = /^\s*timeout\s*=\s*(\d+)/i.exec(p);
      if (m && Number(m[1]) > 0) this.sessionTimeout = Number(m[1]);
    }
  }

  /** PLAY on the aggregate URL. */
  async play(): Promise<RtspResponse> {
    const res = await this.request("PLAY", this.#aggregateUrl(), { headers: { Range: "npt=0.000-" } });
    this.#playing = true;
    this.#lastData = Date.now();
    this.#lastKeepalive = Date.now();
    return res;
  }

  /** ANNOUNCE an SDP (publishing to a server). */
  async announce(sdp: string): Promise<RtspResponse> {
    return await this.request("ANNOUNCE", this.url.href, {
      headers: { "Content-Type": "application/sdp" },
      body: new TextEncoder().encode(sdp),
    });
  }

  /** RECORD on the aggregate URL (publishing). */
  async record(): Promise<RtspResponse> {
    const res = await this.request("RECORD", this.#aggregateUrl(), { headers: { Range: "npt=0.000-" } });
    this.#playing = true;
    this.#lastData = Date.now();
    this.#lastKeepalive = Date.now();
    return res;
  }

  /**
   * Sends an RTCP Picture Loss Indication (RFC 4585 section 6.3.1) for the media whose RTP arrives
   * on `channel` with SSRC `mediaSsrc`: the camera answers with a keyframe. Over TCP on the
   * interleaved channel after the RTP one, over UDP to the camera's RTCP port. Returns false when
   * the connection is not playing or the channel is unknown.
   */
  sendPli(channel: number, mediaSsrc: number): boolean {
    if (!this.#playing || this.#isClosed || channel < 0) return false;
    const pli = new Uint8Array(12);
    const view = new DataView(pli.buffer);
    view.setUint8(0, 0x81); // V=2, P=0, FMT=1 (PLI)
    view.setUint8(1, 206); // PSFB
    view.setUint16(2, 2); // length in 32-bit words minus one
    view.setUint32(4, 0x5354524d); // our SSRC ("STRM", as in the receiver reports)
    view.setUint32(8, mediaSsrc >>> 0);
    let udp: UdpTrack | undefined;
    for (let i = 0; i < this.#udp.length; i++) if (this.#udp[i].channel === channel) udp = this.#udp[i];
    if (udp) {
      if (!udp.serverRtcpPort) return false;
      udp.rtcp.send(pli, udp.serverRtcpPort, udp.serverHost);
      return true;
    }
    this.#write(interleavedFrame(channel + 1, pli));
    return true;
  }

  /** Sends one RTP packet (backchannel, publishing) on a set-up channel. */
  sendRtp(channel: number, data: Uint8Array): void {
    const udp = this.#udp.find((t) => t.channel === channel);
    if (udp) {
      if (udp.serverRtpPort) udp.rtp.send(data, udp.serverRtpPort, udp.serverHost);
      return;
    }
    this.#write(interleavedFrame(channel, data));
  }

  /**
   * Sends one RTP packet that follows 4 spare bytes in `framed` (see RtspBackchannel): over TCP the
   * interleaved header is written into them, so the packet is not copied again. Returns false when
   * the channel is not set up or the connection is not playing (or gone).
   */
  sendFramedRtp(channel: number, framed: Uint8Array): boolean {
    if (!this.#playing || this.#isClosed) return false;
    let udp: UdpTrack | undefined;
    for (let i = 0; i < this.#udp.length; i++) if (this.#udp[i].channel === channel) udp = this.#udp[i];
    if (udp) {
      if (!udp.serverRtpPort) return false;
      udp.rtp.send(framed.subarray(4), udp.serverRtpPort, udp.serverHost);
      this.bytesOut += framed.length - 4;
      return true;
    }
    writeInterleavedHeader(framed, 0, channel, framed.length - 4);
    this.#write(framed);
    return true;
  }

  /** Bytes waiting in the socket's send buffer. */
  get bufferedAmount(): number {
    return this.#conn?.bufferedAmount ?? 0;
  }

  /** TEARDOWN (best effort, short wait), then close. */
  async teardown(): Promise<void> {
    if (this.#isClosed) return;
    if (this.session) {
      await Promise.race([
        this.request("TEARDOWN", this.#aggregateUrl()).catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, 500)),
      ]);
    }
    this.close();
  }

  /** Closes the connection and UDP sockets. Idempotent; `closed` resolves with `error`. */
  close(error?: Error): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#playing = false;
    clearInterval(this.#ticker);
    this.releaseSignal();
    const reason = error ?? new NetError("BrokenPipe", `RTSP ${this.url.href}: connection closed`);
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    for (const t of this.#udp.splice(0)) {
      t.rtp.close();
      t.rtcp.close();
    }
    if (error) this.#conn?.destroy();
    else this.#conn?.close();
    this.#closedResolve(error);
  }
}
