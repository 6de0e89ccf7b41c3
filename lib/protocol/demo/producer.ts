/**
 * The built-in `demo:` source: an embedded H.264 + AAC clip played in a loop in real time, so a
 * server has a stream to show without any camera.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import type { Frame } from "../../core/frame.ts";
import { type Media, mediaToString } from "../../core/media.ts";
import { Receiver } from "../../core/fanout.ts";
import { type DemoClip, loadDemoClip } from "./clip.ts";

/** Options of a {@link DemoProducer}. */
export interface DemoProducerOptions {
  /** Source URL shown in `info()`. Default `demo:`. */
  url?: string;
  /**
   * Playback speed: 1 is real time, 4 plays four times faster (timestamps are unchanged, only the
   * pacing). Tests use it to reach the loop point quickly.
   */
  speed?: number;
}

const VIDEO_CLOCK = 90000;
const AAC_FRAME_SAMPLES = 1024;
// After a stall longer than this (a blocked event loop, a suspended laptop) the clock is moved
// forward instead of bursting every missed frame at once.
const MAX_LAG_MS = 500;

/**
 * Plays the embedded demo clip forever: one recvonly H.264 video media and one recvonly AAC audio
 * media, timestamps increasing continuously across loops (video 90 kHz, audio 48 kHz).
 *
 * Pacing uses a single timer chain: each tick pushes every frame that is due, then schedules itself
 * for the next due frame, computing due times from the start time (not from the previous tick), so
 * timer lateness never accumulates into drift.
 *
 * @example
 * ```ts
 * const demo = new DemoProducer();
 * const [video] = demo.medias();
 * const receiver = demo.track(video, video.codecs[0]);
 * receiver.addSender(new Sender(video, video.codecs[0], (frame) => console.log(frame.timestamp)));
 * demo.start(); // resolves after demo.stop()
 * ```
 */
export class DemoProducer implements Producer {
  readonly #id = nextConnectionId();
  readonly #url: string;
  readonly #speed: number;
  readonly #clip: DemoClip;
  readonly #medias: Media[];
  readonly #receivers = new Map<Media, Receiver>();
  #video: Receiver | undefined;
  #audio: Receiver | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #resolve: (() => void) | undefined;
  #stopped = false;
  #startedAt: string | undefined;
  #bytes = 0;
  // Media-time origin in performance.now() milliseconds, and the next frame numbers (since start).
  #t0 = 0;
  #videoN = 0;
  #audioN = 0;
  readonly #videoStepMs: number;
  readonly #audioStepMs: number;
  readonly #videoStepTs: number;

  constructor(options: DemoProducerOptions = {}) {
    this.#url = options.url ?? "demo:";
    const speed = options.speed ?? 1;
    if (!(speed > 0) || !Number.isFinite(speed)) {
      throw new RangeError(`DemoProducer speed must be a positive number, got ${speed}`);
    }
    this.#speed = speed;
    this.#clip = loadDemoClip();
    const { video, audio } = this.#clip;
    this.#videoStepMs = 1000 / video.fps;
    this.#videoStepTs = VIDEO_CLOCK / video.fps;
    this.#audioStepMs = (AAC_FRAME_SAMPLES * 1000) / audio.sampleRate;
    this.#medias = [
      {
        kind: "video",
        direction: "recvonly",
        id: "video",
        codecs: [{ name: "H264", clockRate: VIDEO_CLOCK, payloadType: 96, fmtp: video.fmtp }],
      },
      {
        kind: "audio",
        direction: "recvonly",
        id: "audio",
        codecs: [{
          name: "MPEG4-GENERIC",
          clockRate: audio.sampleRate,
          channels: audio.channels,
          payloadType: 97,
          fmtp: audio.fmtp,
        }],
      },
    ];
  }

  /** One recvonly H.264 video media and one recvonly MPEG4-GENERIC (AAC) audio media. */
  medias(): Media[] {
    return this.#medias;
  }

  /** Returns the receiver of a media (the same one on repeated calls). */
  track(media: Media, _codec: Codec): Receiver {
    const own = this.#medias.find((m) => m === media || (m.kind === media.kind && m.id === media.id)) ??
      this.#medias.find((m) => m.kind === media.kind);
    if (!own) throw new RangeError(`DemoProducer has no ${media.kind} media`);
    let receiver = this.#receivers.get(own);
    if (!receiver) {
      receiver = new Receiver(own, own.codecs[0]);
      this.#receivers.set(own, receiver);
      if (own.kind === "video") this.#video = receiver;
      else this.#audio = receiver;
    }
    return receiver;
  }

  /** Starts playing; resolves when {@link stop} is called. Calling it again returns the same promise. */
  start(): Promise<void> {
    if (this.#running) return this.#running;
    if (this.#stopped) return (this.#running = Promise.resolve());
    this.#running = new Promise<void>((resolve) => (this.#resolve = resolve));
    this.#startedAt = new Date().toISOString();
    this.#t0 = performance.now();
    this.#tick();
    return this.#running;
  }

  /** Stops playing and resolves {@link start}. Idempotent. */
  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#resolve?.();
    this.#resolve = undefined;
    return Promise.resolve();
  }

  info(): ConnectionInfo {
    return {
      id: this.#id,
      format: "demo",
      protocol: "internal",
      url: this.#url,
      medias: this.#medias.map(mediaToString),
      bytesIn: this.#bytes,
      startedAt: this.#startedAt,
    };
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    if (this.#stopped) return;
    let elapsed = (performance.now() - this.#t0) * this.#speed;
    const nextDue = Math.min(this.#videoN * this.#videoStepMs, this.#audioN * this.#audioStepMs);
    if (elapsed - nextDue > MAX_LAG_MS) {
      // Shift the origin so playback resumes now instead of bursting the backlog.
      this.#t0 += (elapsed - nextDue) / this.#speed;
      elapsed = nextDue;
    }
    const { video, audio } = this.#clip;
    while (this.#videoN * this.#videoStepMs <= elapsed) {
      const i = this.#videoN % video.frames.length;
      this.#push(this.#video, {
        timestamp: Math.round(this.#videoN * this.#videoStepTs),
        keyframe: video.keyframes[i],
        data: video.frames[i],
      });
      this.#videoN++;
    }
    while (this.#audioN * this.#audioStepMs <= elapsed) {
      const i = this.#audioN % audio.frames.length;
      this.#push(this.#audio, {
        timestamp: this.#audioN * AAC_FRAME_SAMPLES,
        keyframe: true,
        data: audio.frames[i],
      });
      this.#audioN++;
    }
    if (this.#stopped) return; // a sender's handler may have stopped us synchronously
    const due = Math.min(this.#videoN * this.#videoStepMs, this.#audioN * this.#audioStepMs);
    const delay = due / this.#speed - (performance.now() - this.#t0);
    this.#timer = setTimeout(this.#tick, delay > 0 ? delay : 0);
  };

  #push(receiver: Receiver | undefined, frame: Frame): void {
    if (!receiver) return;
    this.#bytes += frame.data.length;
    receiver.push(frame);
  }
}
