/**
 * A werift peer that publishes to strom over WebRTC (WHIP or /api/ws?dst=): it offers to send
 * H.264 (and Opus), and forwards real RTP from ffmpeg (`-f rtp` to a local UDP socket) into its
 * tracks. werift rewrites SSRC, payload type, sequence and timestamp offsets for the session.
 *
 * @module
 */
import { RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpTransceiver } from "werift";
import { udpBind, type UdpSocket } from "../../lib/runtime/udp.ts";
import { ffmpegBackground } from "../rtmp/_helpers.ts";

const FEEDBACK = [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "ccm", parameter: "fir" }];

/** Options of {@link Publisher}. */
export interface PublisherOptions {
  /** Video codecs offered (default VP8 first, then H.264 Constrained Baseline, as Chrome does). */
  video?: RTCRtpCodecParameters[];
  /** Also send an Opus track. */
  audio?: boolean;
}

/** The H.264 + VP8 list a browser offers, VP8 first (strom must pick H.264). */
export const PUBLISH_VIDEO = [
  new RTCRtpCodecParameters({ mimeType: "video/VP8", clockRate: 90000, payloadType: 96, rtcpFeedback: FEEDBACK }),
  new RTCRtpCodecParameters({
    mimeType: "video/H264",
    clockRate: 90000,
    payloadType: 102,
    rtcpFeedback: FEEDBACK,
    parameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  }),
];

/** A publishing peer on loopback. */
export class Publisher {
  readonly pc: RTCPeerConnection;
  readonly video: RTCRtpTransceiver;
  readonly audio: RTCRtpTransceiver | undefined;
  /** PLIs strom sent us. */
  plis = 0;
  sent = 0;
  #sockets: UdpSocket[] = [];
  #children: ReturnType<typeof ffmpegBackground>[] = [];

  constructor(options: PublisherOptions = {}) {
    this.pc = new RTCPeerConnection({
      bundlePolicy: "max-bundle",
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ["127.0.0.1"],
      iceInterfaceAddresses: { udp4: "127.0.0.1" } as never,
      codecs: {
        video: options.video ?? PUBLISH_VIDEO,
        audio: options.audio
          ? [new RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: 111 })]
          : [],
      },
    });
    this.video = this.pc.addTransceiver("video", { direction: "sendonly" });
    if (options.audio) this.audio = this.pc.addTransceiver("audio", { direction: "sendonly" });
    this.video.sender.onRtcp.subscribe((packet) => {
      const p = packet as unknown as { type?: number; feedback?: { count?: number } };
      if (p.type === 206 && p.feedback?.count === 1) this.plis++;
    });
  }

  /** The offer, candidates included. */
  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.pc.localDescription!.sdp;
  }

  async accept(answer: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: "answer", sdp: answer });
  }

  /**
   * Starts ffmpeg making H.264 (Constrained Baseline, 1 s GOP, 320x240 at 25 fps) as RTP, sent on
   * into the video track (and Opus into the audio track when there is one), for `seconds`.
   */
  async startMedia(seconds = 20): Promise<void> {
    const videoSocket = await this.#forward(this.video);
    this.#children.push(ffmpegBackground([
      "-re", "-f", "lavfi", "-i", `testsrc=size=320x240:rate=25:duration=${seconds}`,
      "-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-g", "25", "-bf", "0",
      "-tune", "zerolatency", "-x264-params", "repeat-headers=1",
      "-payload_type", "102", "-f", "rtp", "-pkt_size", "1100", `rtp://127.0.0.1:${videoSocket.addr.port}`,
    ]));
    if (this.audio) {
      const audioSocket = await this.#forward(this.audio);
      this.#children.push(ffmpegBackground([
        "-re", "-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`,
        "-c:a", "libopus", "-ar", "48000", "-ac", "2",
        "-payload_type", "111", "-f", "rtp", `rtp://127.0.0.1:${audioSocket.addr.port}`,
      ]));
    }
  }

  async #forward(transceiver: RTCRtpTransceiver): Promise<UdpSocket> {
    const socket = await udpBind({ hostname: "127.0.0.1", port: 0 });
    this.#sockets.push(socket);
    socket.onMessage = (data) => {
      // RTCP from ffmpeg goes to port+1, not here; everything here is RTP.
      this.sent++;
      transceiver.sender.sendRtp(Buffer.from(data)).catch(() => {});
    };
    return socket;
  }

  /** ffmpeg's stderr, for failure messages. */
  log(): string {
    return this.#children.map((c) => c.log()).join("\n");
  }

  async close(): Promise<void> {
    for (const c of this.#children.splice(0)) {
      try {
        c.kill();
      } catch { /* gone */ }
      await c.exited.catch(() => {});
    }
    for (const s of this.#sockets.splice(0)) s.close();
    const transports = new Set(this.pc.getTransceivers().map((t) => t.dtlsTransport).filter((d) => !!d));
    await this.pc.close();
    for (const d of transports) await d.stop().catch(() => {});
  }
}
