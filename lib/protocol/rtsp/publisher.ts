/**
 * A client that pushes media to strom with ANNOUNCE + RECORD (`ffmpeg -f rtsp rtsp://host/name`),
 * as a producer of an existing stream (go2rtc's RTSP ingest).
 *
 * Receivers are created for every announced media at once, so the GOP cache fills from the first
 * keyframe and the first viewer starts instantly.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import { type Media, mediaToString, type SdpMedia } from "../../core/media.ts";
import { Receiver } from "../../core/fanout.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { createDepacketizer, type FrameDepacketizer } from "./depay.ts";

interface PublishedTrack {
  media: Media;
  codec: Codec;
  receiver: Receiver;
  depay: FrameDepacketizer;
  /** RTP channel after SETUP, -1 before. */
  channel: number;
}

/** Options of {@link RtspPublisher}. */
export interface RtspPublisherOptions {
  /** Medias of the ANNOUNCE SDP, as the publisher wrote them. */
  medias: SdpMedia[];
  url?: string;
  remoteAddr?: string;
  userAgent?: string;
  /** Protocol detail for `/api/streams`: `rtsp+tcp` or `rtsp+udp`. */
  protocol?: string;
  /** Closes the publisher's connection (called by `stop()`). */
  close: () => void;
}

/**
 * A publishing RTSP session as a producer.
 *
 * @example
 * ```ts
 * const publisher = new RtspPublisher({ medias: sdp.medias, close: () => conn.close() });
 * publisher.setChannel(0, 0); // SETUP of the first media on interleaved=0-1
 * await stream.addPublisher(publisher);
 * // for each interleaved RTP packet:
 * publisher.onRtp(channel, pkt);
 * ```
 */
export class RtspPublisher implements Producer {
  readonly id = nextConnectionId();
  readonly #tracks: PublishedTrack[] = [];
  readonly #options: RtspPublisherOptions;
  readonly #medias: Media[];
  readonly #startedAt = new Date().toISOString();
  #byChannel: (PublishedTrack | undefined)[] = [];
  #ended = false;
  #endWaiters: (() => void)[] = [];
  bytesIn = 0;
  protocol: string;

  constructor(options: RtspPublisherOptions) {
    this.#options = options;
    this.protocol = options.protocol ?? "rtsp+tcp";
    this.#medias = [];
    for (const m of options.medias) {
      // The publisher sends (sendonly/sendrecv, or nothing written): we receive.
      if (!m.codecs.length || m.direction === "recvonly" || m.direction === "inactive") continue;
      const codec = m.codecs[0];
      const media: Media = { kind: m.kind, direction: "recvonly", codecs: [codec], id: m.id };
      const receiver = new Receiver(media, codec);
      this.#medias.push(media);
      this.#tracks.push({
        media,
        codec,
        receiver,
        depay: createDepacketizer(codec, m.kind, (frame) => receiver.push(frame)),
        channel: -1,
      });
    }
  }

  medias(): Media[] {
    return this.#medias;
  }

  /** Index of the media a SETUP URL names (by its control), or the first one not set up. */
  indexFor(uri: string): number {
    for (let i = 0; i < this.#tracks.length; i++) {
      const id = this.#tracks[i].media.id;
      if (id && (uri === id || uri.endsWith("/" + id) || (id.startsWith("rtsp") && uri === id))) return i;
    }
    return this.#tracks.findIndex((t) => t.channel < 0);
  }

  /** Records where a media's packets arrive. */
  setChannel(index: number, channel: number): void {
    const t = this.#tracks[index];
    if (!t) return;
    t.channel = channel;
    const by: (PublishedTrack | undefined)[] = [];
    for (const x of this.#tracks) if (x.channel >= 0) by[x.channel >> 1] = x;
    this.#byChannel = by;
  }

  /** One RTP packet from the publisher. */
  onRtp(channel: number, pkt: RtpPacket): void {
    const t = this.#byChannel[channel >> 1];
    if (t) t.depay.push(pkt);
  }

  track(media: Media, codec: Codec): Receiver {
    let t = this.#tracks.find((x) => x.media === media);
    t ??= this.#tracks.find((x) => x.media.kind === media.kind && x.codec.name === codec.name);
    if (!t) {
      throw new RangeError(
        `RTSP publisher has no ${media.kind} track with ${codec.name}; it announced ${
          this.#medias.map(mediaToString).join("; ")
        }`,
      );
    }
    return t.receiver;
  }

  /** Resolves when the publisher disconnects. */
  start(): Promise<void> {
    if (this.#ended) return Promise.resolve();
    return new Promise((resolve) => this.#endWaiters.push(resolve));
  }

  /** Called by the session when the connection ended. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const w of this.#endWaiters.splice(0)) w();
  }

  /** Disconnects the publisher. */
  stop(): Promise<void> {
    this.#options.close();
    this.end();
    return Promise.resolve();
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      format: "rtsp",
      protocol: this.protocol,
      remoteAddr: this.#options.remoteAddr,
      url: this.#options.url,
      userAgent: this.#options.userAgent,
      medias: this.#medias.map(mediaToString),
      bytesIn: this.bytesIn,
      startedAt: this.#startedAt,
    };
  }
}
