/**
 * A werift peer as the other side of strom's WebRTC tests: it offers to receive video (and audio),
 * applies strom's answer, and counts what arrives.
 *
 * @module
 */
import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RTCRtpHeaderExtensionParameters,
  type RTCRtpTransceiver,
} from "werift";
import { silentLogger } from "../../lib/core/log.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import type { Module } from "../../server/modules/types.ts";
import { webrtcModule } from "../../server/modules/webrtc.ts";
import { startServer } from "../../server/server.ts";

/** Options of {@link createViewer}. */
export interface ViewerOptions {
  /** Video codecs offered (default H.264 Constrained Baseline and High, packetization-mode 1). */
  video?: RTCRtpCodecParameters[];
  /** Audio codecs offered (default Opus, PCMU, PCMA). */
  audio?: RTCRtpCodecParameters[] | false;
  /** The local IPv4 address to gather on (default 127.0.0.1): a LAN test host's address. */
  bindAddress?: string;
  /** RTP header extensions offered in the video section, by id (default none). */
  videoExtensions?: { id: number; uri: string }[];
}

const FEEDBACK = [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "ccm", parameter: "fir" }];

/** H.264 offered like Chrome does, with two profiles. */
export const H264_OFFER = [
  new RTCRtpCodecParameters({
    mimeType: "video/H264",
    clockRate: 90000,
    payloadType: 102,
    rtcpFeedback: FEEDBACK,
    parameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f",
  }),
  new RTCRtpCodecParameters({
    mimeType: "video/H264",
    clockRate: 90000,
    payloadType: 106,
    rtcpFeedback: FEEDBACK,
    parameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  }),
];

/** A viewer peer on loopback. */
export class Viewer {
  readonly pc: RTCPeerConnection;
  readonly video: RTCRtpTransceiver;
  readonly audio: RTCRtpTransceiver | undefined;
  /** RTP packets received per kind. */
  readonly packets = { video: 0, audio: 0 };
  /** Video packets received, in order: payload type, first payload byte, marker. */
  readonly videoLog: { pt: number; nal: number; marker: boolean; at: number; seq: number; ts: number }[] = [];
  /** The header extensions of each video packet received, as werift parsed them. */
  readonly videoExtensions: { id: number; payload: Uint8Array }[][] = [];
  videoSsrc = 0;

  constructor(options: ViewerOptions = {}) {
    this.pc = new RTCPeerConnection({
      // One transport for every section, as browsers do (and werift leaves an unbundled transport of
      // a section the answer rejects open after close()).
      bundlePolicy: "max-bundle",
      iceUseIpv6: false,
      iceAdditionalHostAddresses: [options.bindAddress ?? "127.0.0.1"],
      iceInterfaceAddresses: { udp4: options.bindAddress ?? "127.0.0.1" } as never,
      codecs: {
        video: options.video ?? H264_OFFER,
        audio: options.audio === false ? [] : options.audio ?? [
          new RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: 111 }),
          new RTCRtpCodecParameters({ mimeType: "audio/PCMU", clockRate: 8000, channels: 1, payloadType: 0 }),
          new RTCRtpCodecParameters({ mimeType: "audio/PCMA", clockRate: 8000, channels: 1, payloadType: 8 }),
        ],
      },
      headerExtensions: {
        video: (options.videoExtensions ?? []).map((e) => new RTCRtpHeaderExtensionParameters(e)),
      },
    });
    this.video = this.pc.addTransceiver("video", { direction: "recvonly" });
    if (options.audio !== false) this.audio = this.pc.addTransceiver("audio", { direction: "recvonly" });
    this.video.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        this.packets.video++;
        this.videoSsrc = rtp.header.ssrc;
        this.videoLog.push({
          pt: rtp.header.payloadType,
          nal: rtp.payload[0] & 0x1f,
          marker: rtp.header.marker,
          at: performance.now(),
          seq: rtp.header.sequenceNumber,
          ts: rtp.header.timestamp,
        });
        this.videoExtensions.push(rtp.header.extensions.map((e) => ({ id: e.id, payload: Uint8Array.from(e.payload) })));
      });
    });
    this.audio?.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => void this.packets.audio++));
  }

  /** The offer, candidates included (werift gathers host candidates at once). */
  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.pc.localDescription!.sdp;
  }

  async accept(answer: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: "answer", sdp: answer });
  }

  /** Whether a keyframe (IDR, or STAP-A with SPS) arrived after packet index `from`. */
  keyframeSince(from: number): boolean {
    return this.videoLog.slice(from).some((p) => p.nal === 5 || p.nal === 24 || p.nal === 7);
  }

  /** Sends a Picture Loss Indication for the video it receives. */
  async sendPli(): Promise<void> {
    await this.video.receiver.sendRtcpPLI(this.videoSsrc);
  }

  async close(): Promise<void> {
    const transports = new Set(this.pc.getTransceivers().map((t) => t.dtlsTransport).filter((d) => !!d));
    await this.pc.close();
    for (const d of transports) await d.stop().catch(() => {});
  }
}

/** Waits until `check()` holds, polling every 20 ms; throws after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Sends `offer` as go2rtc's player does over an open `/api/ws` WebSocket (`webrtc/offer`) and
 * resolves with the `webrtc/answer`; rejects with the server's `error` message or after `timeoutMs`.
 */
export function answerOverWs(ws: WebSocket, offer: string, timeoutMs = 15_000): Promise<string> {
  const answer = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no webrtc/answer within ${timeoutMs} ms`)), timeoutMs);
    ws.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as { type: string; value: string };
      if (message.type === "webrtc/answer") (clearTimeout(timer), resolve(message.value));
      if (message.type === "error") (clearTimeout(timer), reject(new Error(message.value)));
    };
  });
  ws.send(JSON.stringify({ type: "webrtc/offer", value: offer }));
  return answer;
}

/** A server {@link startDemoWebRtcServer} started. */
export interface DemoWebRtcServer {
  base: string;
  hub: StreamHub;
  close(): Promise<void>;
}

/**
 * A strom server on loopback ports with the `demo:` stream, WebRTC (no Opus transcoder) and
 * `modules` besides, `api` as its `api:` section: a cluster node stand-in in one process.
 */
export async function startDemoWebRtcServer(api: Record<string, unknown>, modules: readonly Module[] = []): Promise<DemoWebRtcServer> {
  const s = await startServer({
    configSources: [JSON.stringify({ api, streams: { demo: "demo:" }, webrtc: { listen: "127.0.0.1:0", audio_transcode: false } })],
    listen: "127.0.0.1:0",
    handleSignals: false,
    log: silentLogger,
    modules: [webrtcModule, ...modules],
  });
  return { base: s.urls[0], hub: s.hub, close: () => s.close() };
}
