/**
 * A camera (or any RTSP server) as a strom source: `rtsp://`, `rtsps://` and `rtspx://` URLs with
 * go2rtc's fragment options `#transport=udp`, `#timeout=N` (seconds), `#media=video|audio`,
 * `#backchannel=0` (do not ask for the ONVIF backchannel; it is asked for by default).
 *
 * RTSP cannot add a track to a session once it plays. When a new viewer asks for a track that was
 * not set up, this producer reconnects itself (DESCRIBE, SETUP of every track, PLAY) and swaps the
 * connection under its receivers, as go2rtc does; `start()` keeps running across that swap.
 *
 * @module
 */
import { MAX_RTSP_REDIRECTS, redirectTarget, RTSP_REDIRECTS } from "./redirect.ts";
import type { Codec } from "../../core/codec.ts";
import {
  type ConnectionInfo,
  nextConnectionId,
  type Producer,
  type SourceContext,
} from "../../core/connection.ts";
import { redactUrl } from "../../core/errors.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type Media, mediaToString, type SdpMedia } from "../../core/media.ts";
import { Receiver } from "../../core/fanout.ts";
import { registerSource } from "../../core/registry.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { RtspBackchannel } from "./backchannel.ts";
import { RtspClient, type RtspClientOptions, RtspError } from "./client.ts";
import { createDepacketizer, type FrameDepacketizer } from "./depay.ts";
import { parseRtspUrl } from "./url.ts";

interface Track {
  index: number;
  media: Media;
  codec: Codec;
  receiver: Receiver;
  depay: FrameDepacketizer;
  channel: number;
  /** SSRC of the last RTP packet, for PLI (-1 before the first). */
  ssrc: number;
}

/** Options of {@link RtspClientProducer.dial}. */
export interface RtspProducerOptions {
  signal?: AbortSignal;
  log?: Logger;
  userAgent?: string;
}

/**
 * Client options from a source URL's fragment: `#transport=udp#timeout=10#backchannel=0`. The ONVIF
 * backchannel is asked for unless `#backchannel=0` (or `false`) says not to. Unlike go2rtc, other
 * options do not turn it off.
 *
 * @example
 * ```ts
 * clientOptionsFromUrl("rtsp://cam/1#transport=udp#timeout=10"); // { transport: "udp", timeoutMs: 10000, readTimeoutMs: 10000, backchannel: true }
 * ```
 */
export function clientOptionsFromUrl(url: string): RtspClientOptions {
  const o = parseRtspUrl(url).options;
  const opts: RtspClientOptions = {};
  const transport = o.get("transport")?.toLowerCase();
  if (transport === "udp") opts.transport = "udp";
  else if (transport === "tcp") opts.transport = "tcp";
  const timeout = Number(o.get("timeout"));
  if (timeout > 0) {
    opts.timeoutMs = timeout * 1000;
    opts.readTimeoutMs = timeout * 1000;
  }
  const bc = o.get("backchannel")?.toLowerCase();
  opts.backchannel = bc !== "0" && bc !== "false";
  return opts;
}

/**
 * Producer over an {@link RtspClient}.
 *
 * @example
 * ```ts
 * const producer = await RtspClientProducer.dial("rtsp://admin:pass@10.0.0.5/stream1");
 * const video = producer.medias().find((m) => m.kind === "video")!;
 * const receiver = await producer.track(video, video.codecs[0]);
 * producer.start().catch(console.error);
 * ```
 */
export class RtspClientProducer implements Producer {
  readonly id = nextConnectionId();
  readonly url: string;
  readonly #options: RtspClientOptions;
  readonly #log: Logger;
  #client: RtspClient;
  #sdpMedias: SdpMedia[] = [];
  #medias: Media[] = [];
  #tracks: Track[] = [];
  #backchannels: RtspBackchannel[] = [];
  // Backchannels waiting for their SETUP (0) or for a retry after a failed one (time in ms).
  readonly #pendingSetups = new Map<RtspBackchannel, number>();
  // RTP channel / 2 -> tracks on it, for a lookup without search per packet.
  #byChannel: (Track[] | undefined)[] = [];
  #state: "ready" | "playing" | "stopped" = "ready";
  #lock: Promise<unknown> = Promise.resolve();
  #stopping: Promise<void> | undefined;
  #startedAt = new Date().toISOString();
  // The URL that answered, after redirects (the source's own URL otherwise).
  #dialed: string;

  private constructor(url: string, client: RtspClient, options: RtspClientOptions) {
    this.url = url;
    this.#dialed = url;
    this.#client = client;
    this.#options = options;
    this.#log = options.log ?? silentLogger;
  }

  /**
   * Connects, sends OPTIONS and DESCRIBE, and returns a producer ready for `track()`.
   * Asks for the ONVIF backchannel unless `#backchannel=0` (describing again without it when the
   * camera refuses it, e.g. 551 Option Not Supported, or hangs up).
   */
  static async dial(url: string, options: RtspProducerOptions = {}): Promise<RtspClientProducer> {
    const clientOptions: RtspClientOptions = {
      ...clientOptionsFromUrl(url),
      signal: options.signal,
      log: options.log,
      userAgent: options.userAgent,
    };
    const mediaFilter = parseRtspUrl(url).options.get("media")?.toLowerCase();
    let client: RtspClient;
    let described;
    let dialed = url;
    try {
      ({ client, described, url: dialed } = await RtspClientProducer.#follow(url, clientOptions));
    } catch (error) {
      if (!clientOptions.backchannel || error instanceof RtspError || options.signal?.aborted) throw error;
      // Some cameras drop the connection on the ONVIF Require header: try once more without it.
      clientOptions.backchannel = false;
      ({ client, described, url: dialed } = await RtspClientProducer.#follow(url, clientOptions));
    }
    // The dial signal (stream stopped, dial timeout) only governs dialing.
    client.releaseSignal();
    const producer = new RtspClientProducer(url, client, { ...clientOptions, signal: undefined });
    producer.#dialed = dialed;
    producer.#describe(described.sdp.medias, described.backchannel, mediaFilter);
    producer.#attach(client);
    return producer;
  }

  // #open, following up to MAX_RTSP_REDIRECTS redirects; returns the URL that answered too.
  static async #follow(url: string, options: RtspClientOptions) {
    let target = url;
    for (let hop = 0;; hop++) {
      try {
        return { ...(await RtspClientProducer.#open(target, options)), url: target };
      } catch (error) {
        if (!(error instanceof RtspError) || !error.location || !RTSP_REDIRECTS.has(error.status)) throw error;
        if (hop >= MAX_RTSP_REDIRECTS) {
          throw new RtspError(
            error.method,
            error.url,
            error.status,
            "redirected again",
            `strom follows ${MAX_RTSP_REDIRECTS} redirects at most; give the final URL (the last Location was ${redactUrl(error.location)})`,
          );
        }
        const next = redirectTarget(target, error.location);
        options.log?.info("rtsp: source redirected", { from: redactUrl(target), to: redactUrl(next), status: error.status });
        target = next;
      }
    }
  }

  static async #open(url: string, options: RtspClientOptions) {
    const client = new RtspClient(url, options);
    try {
      await client.connect();
      try {
        await client.optionsRequest();
      } catch (error) {
        // OPTIONS is optional for many cameras; only auth and transport errors are fatal.
        if (!(error instanceof RtspError) || error.status === 401) throw error;
      }
      const described = await client.describe();
      // debug.dump_sdp writes this at info; otherwise it is part of the trace-level signalling log.
      options.log?.trace("rtsp: DESCRIBE answer", { dump: "sdp", url: redactUrl(url), sdp: described.text });
      return { client, described };
    } catch (error) {
      client.close(error instanceof Error ? error : undefined);
      throw error;
    }
  }

  #describe(sdpMedias: SdpMedia[], backchannel: boolean, filter: string | undefined): void {
    this.#sdpMedias = [];
    this.#medias = [];
    for (const m of sdpMedias) {
      if (!m.codecs.length) continue;
      // ONVIF (Streaming Spec 5.3) writes directions from the client's side, as go2rtc reads them:
      // `a=sendonly` is the backchannel (we send to the camera's speaker); anything else is media
      // we receive. Without an accepted backchannel a `sendonly` media is a camera bug (go2rtc
      // issue #771) and is received like the rest.
      const ours = backchannel && m.direction === "sendonly" ? "sendonly" : "recvonly";
      if (filter && (filter === "video" || filter === "audio") && m.kind !== filter) continue;
      this.#sdpMedias.push(m);
      this.#medias.push({ kind: m.kind, direction: ours, codecs: m.codecs.map((c) => ({ ...c })), id: m.id });
    }
  }

  #attach(client: RtspClient): void {
    client.onRtp = this.#onRtp;
  }

  readonly #onRtp = (channel: number, pkt: RtpPacket): void => {
    const list = this.#byChannel[channel >> 1];
    if (!list) return;
    if (list.length === 1) {
      list[0].ssrc = pkt.ssrc;
      list[0].depay.push(pkt);
      return;
    }
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      if (t.codec.payloadType !== undefined && t.codec.payloadType !== pkt.payloadType) continue;
      t.ssrc = pkt.ssrc;
      t.depay.push(pkt);
    }
  };

  medias(): Media[] {
    return this.#medias;
  }

  #indexOf(media: Media): number {
    let i = this.#medias.indexOf(media);
    if (i < 0) {
      i = this.#medias.findIndex((m) =>
        m.kind === media.kind && m.id === media.id && m.direction === media.direction
      );
    }
    if (i < 0) {
      throw new RangeError(`RTSP source ${redactUrl(this.url)} has no media "${mediaToString(media)}"`);
    }
    return i;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  /** SETUP of one media (or, after PLAY, a reconnect that sets up every track again). */
  track(media: Media, codec: Codec): Promise<Receiver> {
    return this.#serial(async () => {
      if (this.#state === "stopped") throw new Error(`RTSP source ${redactUrl(this.url)} is stopped`);
      const index = this.#indexOf(media);
      const existing = this.#tracks.find((t) =>
        t.index === index && t.codec.name === codec.name &&
        t.codec.payloadType === codec.payloadType
      );
      if (existing) return existing.receiver;
      const m = this.#medias[index];
      const receiver = new Receiver(m, codec);
      const track: Track = {
        index,
        media: m,
        codec,
        receiver,
        depay: createDepacketizer(codec, m.kind, (frame) => receiver.push(frame)),
        channel: -1,
        ssrc: -1,
      };
      const shared = this.#tracks.find((t) => t.index === index) ??
        this.#backchannels.find((b) => b.index === index);
      if (shared && shared.channel >= 0) {
        track.channel = shared.channel;
      } else if (this.#state === "ready") {
        track.channel = await this.#client.setup(this.#sdpMedias[index]);
      }
      this.#tracks.push(track);
      if (track.channel >= 0) this.#index();
      else await this.#restart();
      return track.receiver;
    });
  }

  /**
   * Asks the camera for a keyframe of a video media: an RTCP PLI on its channel (once its RTP has
   * arrived, so the SSRC is known). Viewers call it through the receiver when the GOP cache has no
   * keyframe (lib/core/fanout.ts `Receiver.requestKeyframe`).
   */
  requestKeyframe(media: Media): void {
    if (this.#state === "stopped") return;
    let index: number;
    try {
      index = this.#indexOf(media);
    } catch {
      return;
    }
    const track = this.#tracks.find((t) => t.index === index && t.channel >= 0 && t.ssrc >= 0);
    if (!track) return;
    if (this.#client.sendPli(track.channel, track.ssrc)) {
      this.#log.debug("keyframe requested (RTCP PLI)", { channel: track.channel, ssrc: track.ssrc });
    }
  }

  /**
   * Backchannel: sends a talker's audio (frames of `receiver`, in `codec`) to the camera's
   * speaker. The media must be one of {@link medias} with direction `sendonly`. Several talkers
   * may attach; one talks at a time (see RtspBackchannel). Before PLAY this SETUPs the media;
   * after PLAY a media not set up yet needs a reconnect (RTSP cannot add a track to a playing
   * session), which keeps every viewer's receiver.
   */
  addTrack(media: Media, codec: Codec, receiver: Receiver): Promise<void> {
    return this.#serial(async () => {
      if (this.#state === "stopped") throw new Error(`RTSP source ${redactUrl(this.url)} is stopped`);
      const index = this.#indexOf(media);
      const m = this.#medias[index];
      if (m.direction !== "sendonly") {
        throw new RangeError(
          `RTSP source ${redactUrl(this.url)}: media "${
            mediaToString(m)
          }" is not a backchannel (sendonly) media`,
        );
      }
      let bc = this.#backchannels.find((b) =>
        b.index === index && b.codec.name === codec.name && b.codec.payloadType === codec.payloadType
      );
      if (!bc) {
        bc = new RtspBackchannel(index, m, codec, this.#sendFramed);
        const shared = this.#backchannels.find((b) => b.index === index) ??
          this.#tracks.find((t) => t.index === index);
        if (shared && shared.channel >= 0) bc.channel = shared.channel;
        this.#backchannels.push(bc);
        if (bc.channel >= 0 || this.#state === "ready") {
          bc.setupWanted = true;
          if (bc.channel < 0) {
            try {
              bc.channel = await this.#client.setup(this.#sdpMedias[index]);
            } catch (error) {
              // E.g. 453 from a camera whose backchannel another client holds: the talker gets the
              // error, the camera's other media play on.
              this.#backchannels.splice(this.#backchannels.indexOf(bc), 1);
              throw error;
            }
          }
        } else {
          // Playing: setting the media up needs a reconnect, so it waits for the talker's first
          // audio (held meanwhile). A reader that could talk but never does costs the camera
          // nothing (e.g. another strom or go2rtc reading through strom's RTSP server).
          const lazy = bc;
          bc.onSetupNeeded = () => this.#setupLater(lazy);
        }
      }
      bc.attach(receiver);
    });
  }

  #setupLater(bc: RtspBackchannel): void {
    const pending = this.#pendingSetups.get(bc);
    if (pending !== undefined && (pending === 0 || performance.now() < pending)) return;
    this.#pendingSetups.set(bc, 0);
    this.#serial(async () => {
      if (this.#state !== "playing" || bc.channel >= 0) return;
      bc.setupWanted = true;
      await this.#restart();
    }).then(
      () => {
        this.#pendingSetups.delete(bc);
        bc.flush();
      },
      (error) => {
        bc.setupWanted = false;
        // Try again with the talker's audio 5 s later at the earliest.
        this.#pendingSetups.set(bc, performance.now() + 5000);
        this.#log.warn("rtsp: cannot set the backchannel up", {
          url: redactUrl(this.url),
          error: error instanceof Error ? error.message : String(error),
        });
      },
    );
  }

  // Called per backchannel packet: no closure, the current client is read each time (a restart
  // swaps it, and packets wait for its PLAY).
  readonly #sendFramed = (channel: number, framed: Uint8Array): boolean =>
    this.#client.sendFramedRtp(channel, framed);

  #index(): void {
    const by: (Track[] | undefined)[] = [];
    for (const t of this.#tracks) {
      if (t.channel < 0) continue;
      (by[t.channel >> 1] ??= []).push(t);
    }
    this.#byChannel = by;
  }

  // A new track while playing: a second connection with every track, then swap.
  async #restart(): Promise<void> {
    if (this.#state !== "playing") return;
    const old = this.#client;
    const client = new RtspClient(this.#dialed, this.#options);
    this.#log.info("rtsp: reconnecting to add a track", { url: redactUrl(this.#dialed) });
    try {
      await client.connect();
      await client.optionsRequest().catch((e) => {
        if (!(e instanceof RtspError) || e.status === 401) throw e;
      });
      const { sdp } = await client.describe();
      const channels = new Map<number, number>();
      for (
        const index of new Set([
          ...this.#tracks.map((t) => t.index),
          ...this.#backchannels.filter((b) => b.setupWanted).map((b) => b.index),
        ])
      ) {
        const m = this.#sdpMedias[index];
        const fresh = sdp.medias.find((x) => x.id === m.id && x.kind === m.kind) ?? sdp.medias[index] ?? m;
        channels.set(index, await client.setup(fresh));
      }
      for (const t of this.#tracks) {
        t.channel = channels.get(t.index)!;
        const receiver = t.receiver;
        t.depay = createDepacketizer(t.codec, t.media.kind, (frame) => receiver.push(frame));
      }
      for (const b of this.#backchannels) b.channel = channels.get(b.index) ?? -1;
      this.#index();
      this.#client = client;
      this.#attach(client);
      await client.play();
      for (const b of this.#backchannels) b.flush();
    } catch (error) {
      client.close(error instanceof Error ? error : undefined);
      throw error;
    }
    old.onRtp = undefined;
    old.teardown().catch(() => {});
  }

  /** PLAY, then runs until the connection ends. Rejects on errors and timeouts. */
  async start(): Promise<void> {
    await this.#serial(async () => {
      if (this.#state !== "ready") return;
      await this.#client.play();
      this.#state = "playing";
      for (const b of this.#backchannels) b.flush();
    });
    for (;;) {
      const client = this.#client;
      const error = await client.closed;
      if (this.#state === "stopped") return;
      if (this.#client !== client) continue; // swapped by #restart
      this.#state = "stopped";
      if (error) throw error;
      return;
    }
  }

  /** TEARDOWN and close. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === "stopped" && this.#stopping) return await this.#stopping;
    this.#state = "stopped";
    for (const b of this.#backchannels) b.close();
    this.#stopping = this.#client.teardown();
    await this.#stopping;
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      format: "rtsp",
      protocol: this.#client.protocol,
      remoteAddr: this.#client.remoteAddr,
      url: redactUrl(this.url),
      medias: this.#medias.map(mediaToString),
      bytesIn: this.#client.bytesIn,
      bytesOut: this.#client.bytesOut,
      startedAt: this.#startedAt,
    };
  }
}

/**
 * Registers the `rtsp`, `rtsps` and `rtspx` source schemes. Call once at startup (nothing is
 * registered at import time).
 *
 * @example
 * ```ts
 * registerRtspSources({ log });
 * hub.set("door", ["rtsp://admin:pass@10.0.0.5/stream1#transport=udp"]);
 * ```
 */
export function registerRtspSources(options: { log?: Logger; userAgent?: string } = {}): void {
  const factory = (url: string, ctx: SourceContext) =>
    RtspClientProducer.dial(url, {
      signal: ctx.signal,
      // The stream's logger names the stream in each line; `module: rtsp` picks `log.rtsp`'s level.
      log: (ctx.log ?? options.log)?.child({ module: "rtsp" }),
      userAgent: options.userAgent,
    });
  registerSource("rtsp", factory);
  registerSource("rtsps", factory);
  registerSource("rtspx", factory);
}
