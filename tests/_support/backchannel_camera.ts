/**
 * An RTSP test camera with an ONVIF backchannel (ONVIF Streaming Spec section 5.3), for two-way
 * audio tests: it describes its microphone (PCMA, which it streams after PLAY) and, when asked
 * with `Require: www.onvif.org/ver20/backchannel`, a `sendonly` speaker media; it records every
 * request and every RTP packet it receives on the speaker, over TCP (interleaved) or UDP.
 *
 * @module
 */
import { type TcpConn, tcpListen, type TcpListener, udpBind, type UdpSocket } from "../../lib/runtime/mod.ts";
import { parseRtp, type RtpPacket, serializeRtp } from "../../lib/rtp/packet.ts";
import { RtspHeaders } from "../../lib/protocol/rtsp/headers.ts";
import {
  interleavedFrame,
  RtspMessageParser,
  type RtspRequest,
  serializeResponse,
} from "../../lib/protocol/rtsp/message.ts";
import { parseTransport } from "../../lib/protocol/rtsp/transport.ts";

/** The ONVIF Require tag for the backchannel. */
export const ONVIF_BACKCHANNEL = "www.onvif.org/ver20/backchannel";

/** Options of {@link BackchannelCamera}. */
export interface BackchannelCameraOptions {
  /**
   * How it answers a DESCRIBE with the Require tag: `accept` (describes the speaker), `refuse`
   * (551 Option Not Supported, as RFC 2326 section 12.32 says), `hangup` (closes the connection,
   * as some cameras do).
   */
  backchannel?: "accept" | "refuse" | "hangup";
  /** The speaker's codecs as SDP `<pt> <name>/<rate>` (default `8 PCMA/8000`). */
  speaker?: string[];
  /** Answer the speaker's SETUP with this status (e.g. 453, as a camera whose speaker is in use). */
  speakerSetupStatus?: number;
}

/** One request the camera got, with the connection it came on. */
export interface CameraRequest {
  conn: number;
  method: string;
  uri: string;
  headers: RtspHeaders;
}

/**
 * The camera. `start()` listens on 127.0.0.1 (port 0); `url` is its RTSP URL.
 *
 * @example
 * ```ts
 * const cam = await new BackchannelCamera().start();
 * // dial cam.url, talk...
 * cam.speakerPackets; // RTP the camera's speaker received
 * await cam.close();
 * ```
 */
export class BackchannelCamera {
  readonly options: BackchannelCameraOptions;
  readonly requests: CameraRequest[] = [];
  /** RTP received on the speaker media, in arrival order. */
  readonly speakerPackets: RtpPacket[] = [];
  /** How the speaker's packets came: `tcp` or `udp`. */
  readonly speakerTransports = new Set<string>();
  /** Microphone packets sent. */
  micPackets = 0;
  #listener: TcpListener | undefined;
  #conns = 0;
  readonly #open = new Set<TcpConn>();
  readonly #sockets = new Set<UdpSocket>();
  readonly #timers = new Set<ReturnType<typeof setInterval>>();

  constructor(options: BackchannelCameraOptions = {}) {
    this.options = options;
  }

  get port(): number {
    return this.#listener!.addr.port;
  }

  /** `rtsp://127.0.0.1:<port>/onvif` (append `#...` options as needed). */
  get url(): string {
    return `rtsp://127.0.0.1:${this.port}/onvif`;
  }

  /** Listens on `port` (default 0: any free one), e.g. the port of a camera that was closed, as a restart. */
  async start(port = 0): Promise<this> {
    this.#listener = await tcpListen({ hostname: "127.0.0.1", port, onConnection: (c) => this.#serve(c) });
    return this;
  }

  /** The DESCRIBE requests, as whether each carried the Require tag. */
  describes(): boolean[] {
    return this.requests.filter((r) => r.method === "DESCRIBE").map((r) =>
      (r.headers.get("Require") ?? "").includes(ONVIF_BACKCHANNEL)
    );
  }

  sdp(backchannel: boolean): string {
    const lines = [
      "v=0",
      "o=- 1 1 IN IP4 127.0.0.1",
      "s=ONVIF test camera",
      "t=0 0",
      "a=control:*",
      // The camera's microphone: we receive it (ONVIF writes directions from the client's side).
      "m=audio 0 RTP/AVP 8",
      "a=rtpmap:8 PCMA/8000",
      "a=recvonly",
      "a=control:mic",
    ];
    if (backchannel) {
      const speaker = this.options.speaker ?? ["8 PCMA/8000"];
      lines.push(`m=audio 0 RTP/AVP ${speaker.map((s) => s.split(" ")[0]).join(" ")}`);
      for (const s of speaker) lines.push(`a=rtpmap:${s}`);
      lines.push("a=sendonly", "a=control:speaker");
    }
    return lines.join("\r\n") + "\r\n";
  }

  #serve(conn: TcpConn): void {
    const id = ++this.#conns;
    this.#open.add(conn);
    const parser = new RtspMessageParser();
    // Per connection: the tracks set up, by control name.
    const tracks = new Map<string, { channel: number; udp?: { socket: UdpSocket; clientPort: number } }>();
    const speakerChannels = new Set<number>();
    const enc = new TextEncoder();
    conn.read((chunk) => {
      parser.push(chunk);
      for (let ev = parser.next(); ev; ev = parser.next()) {
        if (ev.type === "interleaved") {
          if (speakerChannels.has(ev.channel)) this.#record(ev.data, "tcp");
          continue;
        }
        if (ev.type !== "request") continue;
        this.#handle(id, conn, ev.request, tracks, speakerChannels, enc).catch(() => conn.destroy());
      }
    }, () => this.#open.delete(conn));
  }

  #record(data: Uint8Array, transport: string): void {
    try {
      const pkt = parseRtp(data);
      if (pkt.payload.length === 0) return; // a client's NAT punch (RFC 7604 section 3.2), not audio
      this.speakerPackets.push(pkt);
      this.speakerTransports.add(transport);
    } catch { /* not RTP: ignored, the test sees the count */ }
  }

  async #handle(
    id: number,
    conn: TcpConn,
    req: RtspRequest,
    tracks: Map<string, { channel: number; udp?: { socket: UdpSocket; clientPort: number } }>,
    speakerChannels: Set<number>,
    enc: TextEncoder,
  ): Promise<void> {
    this.requests.push({ conn: id, method: req.method, uri: req.uri, headers: req.headers });
    const headers = new RtspHeaders({ CSeq: req.headers.get("CSeq") ?? "0" });
    let status = 200;
    let body = "";
    const wantsBackchannel = (req.headers.get("Require") ?? "").includes(ONVIF_BACKCHANNEL);
    const mode = this.options.backchannel ?? "accept";
    switch (req.method) {
      case "OPTIONS":
        headers.set("Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN");
        break;
      case "DESCRIBE":
        if (wantsBackchannel && mode === "hangup") {
          conn.destroy();
          return;
        }
        if (wantsBackchannel && mode === "refuse") {
          status = 551;
          headers.set("Unsupported", ONVIF_BACKCHANNEL);
          break;
        }
        headers.set("Content-Base", `rtsp://127.0.0.1:${this.port}/onvif/`);
        headers.set("Content-Type", "application/sdp");
        body = this.sdp(wantsBackchannel);
        break;
      case "SETUP": {
        const control = req.uri.split("/").pop() ?? "";
        if (control === "speaker" && this.options.speakerSetupStatus) {
          status = this.options.speakerSetupStatus;
          break;
        }
        const t = parseTransport(req.headers.get("Transport") ?? "RTP/AVP")[0];
        headers.set("Session", "C0FFEE;timeout=60");
        if (t.lower === "tcp" && t.interleaved) {
          tracks.set(control, { channel: t.interleaved[0] });
          if (control === "speaker") speakerChannels.add(t.interleaved[0]);
          headers.set("Transport", `RTP/AVP/TCP;unicast;interleaved=${t.interleaved[0]}-${t.interleaved[1]}`);
        } else if (t.clientPort) {
          const socket = await udpBind({ hostname: "127.0.0.1", port: 0 });
          this.#sockets.add(socket);
          if (control === "speaker") socket.onMessage = (data) => this.#record(data, "udp");
          tracks.set(control, { channel: -1, udp: { socket, clientPort: t.clientPort[0] } });
          headers.set(
            "Transport",
            `RTP/AVP;unicast;client_port=${t.clientPort[0]}-${
              t.clientPort[1]
            };server_port=${socket.addr.port}-${socket.addr.port + 1}`,
          );
        } else {
          status = 461;
        }
        break;
      }
      case "PLAY":
        this.#streamMic(conn, tracks.get("mic"));
        break;
      case "TEARDOWN":
        break;
      default:
        status = 501;
    }
    conn.write(serializeResponse({
      status,
      reason: status === 200 ? "OK" : status === 551 ? "Option not supported" : "Error",
      headers,
      body: enc.encode(body),
    }));
  }

  // 20 ms of A-law silence every 20 ms on the microphone track, so the client's read timeout
  // never fires.
  #streamMic(
    conn: TcpConn,
    mic: { channel: number; udp?: { socket: UdpSocket; clientPort: number } } | undefined,
  ): void {
    if (!mic) return;
    let seq = 0;
    const timer = setInterval(() => {
      const pkt = serializeRtp({
        payloadType: 8,
        sequenceNumber: seq++ & 0xffff,
        timestamp: seq * 160,
        ssrc: 0xcafe,
        marker: false,
        payload: new Uint8Array(160).fill(0xd5),
      });
      this.micPackets++;
      if (mic.udp) mic.udp.socket.send(pkt, mic.udp.clientPort, "127.0.0.1");
      else conn.write(interleavedFrame(mic.channel, pkt));
    }, 20);
    this.#timers.add(timer);
    conn.closed.then(() => {
      clearInterval(timer);
      this.#timers.delete(timer);
    });
  }

  /**
   * Closes every open connection and the UDP sockets set up on them, as a camera that reboots or a
   * network that drops; it keeps listening, so a client can connect again.
   */
  dropConnections(): void {
    for (const c of this.#open) c.destroy();
    for (const s of this.#sockets) s.close();
    this.#sockets.clear();
  }

  /** Connections accepted so far. */
  get connections(): number {
    return this.#conns;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
    for (const c of this.#open) c.destroy();
    for (const s of this.#sockets) s.close();
    await this.#listener?.close();
  }
}
