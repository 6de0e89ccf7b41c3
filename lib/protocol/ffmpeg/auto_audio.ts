/**
 * `ffmpeg:<input>#audio=auto`, as go2rtc's `internal/ffmpeg/producer.go`: the source offers the
 * audio codecs ffmpeg can make (best first) without running anything; once a consumer picked one
 * (a camera's backchannel when playing a file to its speaker, or a viewer asking `?audio=pcma`),
 * `start()` runs ffmpeg with that codec's preset and forwards its audio.
 *
 * ```text
 * ffmpeg:/media/bell.mp3#audio=auto  --(camera takes PCMA/8000)-->  ffmpeg:/media/bell.mp3#audio=pcma/8000
 * ```
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import { redactUrl, SourceError } from "../../core/errors.ts";
import { Receiver, Sender } from "../../core/fanout.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type Media, mediaToString } from "../../core/media.ts";
import { parseHashParams } from "../exec/params.ts";

/** The codecs `#audio=auto` offers, best first (go2rtc's list). */
export const AUTO_AUDIO_CODECS: readonly Codec[] = Object.freeze([
  { name: "OPUS", clockRate: 48000, channels: 2 },
  {
    name: "MPEG4-GENERIC",
    clockRate: 16000,
    channels: 1,
    fmtp: "streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1408",
  },
  { name: "L16", clockRate: 16000, channels: 1 },
  { name: "PCMA", clockRate: 16000, channels: 1 },
  { name: "PCMU", clockRate: 16000, channels: 1 },
  { name: "L16", clockRate: 8000, channels: 1 },
  { name: "PCMA", clockRate: 8000, channels: 1 },
  { name: "PCMU", clockRate: 8000, channels: 1 },
]);

/**
 * The `#audio=` preset that makes `codec` (one of {@link AUTO_AUDIO_CODECS}).
 *
 * @example
 * ```ts
 * autoAudioPreset({ name: "PCMA", clockRate: 16000 }); // "pcma/16000"
 * ```
 */
export function autoAudioPreset(codec: Codec): string {
  switch (codec.name) {
    case "PCMA":
    case "PCMU":
      return `${codec.name.toLowerCase()}/${codec.clockRate || 8000}`;
    case "L16":
      return `pcm/${codec.clockRate || 8000}`;
    case "MPEG4-GENERIC":
      return "aac/16000";
    case "OPUS":
      return "opus";
  }
  throw new RangeError(`#audio=auto cannot make ${codec.name}`);
}

/**
 * The URL with `#audio=auto` replaced by the preset of `codec` (other options kept).
 *
 * @example
 * ```ts
 * autoAudioUrl("ffmpeg:/a.mp3#audio=auto#input=file", { name: "OPUS", clockRate: 48000 });
 * // "ffmpeg:/a.mp3#audio=opus#input=file"
 * ```
 */
export function autoAudioUrl(url: string, codec: Codec): string {
  const hash = url.indexOf("#");
  let out = (hash >= 0 ? url.slice(0, hash) : url) + "#audio=" + autoAudioPreset(codec);
  for (const [key, values] of parseHashParams(hash >= 0 ? url.slice(hash + 1) : "")) {
    if (key === "audio") continue;
    for (const value of values) out += "#" + key + (value === "" ? "" : "=" + value);
  }
  return out;
}

/**
 * The `#audio=auto` source. Created by the `ffmpeg` scheme; `dial` runs the real ffmpeg source.
 *
 * @example
 * ```ts
 * const p = FfmpegAutoAudioProducer.create("ffmpeg:/a.mp3#audio=auto", (u) => dialSource(u, ctx));
 * const r = p.track(p.medias()[0], { name: "PCMA", clockRate: 8000 });
 * await p.start(); // runs ffmpeg ... -c:a pcm_alaw -ar:a 8000 ...
 * ```
 */
export class FfmpegAutoAudioProducer implements Producer {
  readonly #id = nextConnectionId();
  readonly #url: string;
  readonly #dial: (url: string) => Promise<Producer>;
  readonly #log: Logger;
  readonly #media: Media;
  #receiver: Receiver | undefined;
  #inner: Producer | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  private constructor(url: string, dial: (url: string) => Promise<Producer>, log: Logger) {
    this.#url = url;
    this.#dial = dial;
    this.#log = log;
    this.#media = { kind: "audio", direction: "recvonly", codecs: AUTO_AUDIO_CODECS.map((c) => ({ ...c })), id: "auto" };
  }

  /**
   * @throws {SourceError} when the URL asks for video or more than one audio (as go2rtc, auto is
   *   for one audio output only).
   */
  static create(url: string, dial: (url: string) => Promise<Producer>, log?: Logger): FfmpegAutoAudioProducer {
    const hash = url.indexOf("#");
    const params = parseHashParams(hash >= 0 ? url.slice(hash + 1) : "");
    if (params.has("video") || (params.get("audio") ?? []).length !== 1) {
      throw new SourceError(
        url,
        "#audio=auto makes one audio output only: remove #video= and the other #audio= options (or name the codec, e.g. #audio=pcma)",
      );
    }
    return new FfmpegAutoAudioProducer(url, dial, log ?? silentLogger);
  }

  medias(): Media[] {
    return [this.#media];
  }

  /** Picks the codec ffmpeg will make. One codec per source: a second, different one is refused. */
  track(media: Media, codec: Codec): Receiver {
    const own = this.#media.codecs.find((c) =>
      c.name === codec.name && (!codec.clockRate || c.clockRate === codec.clockRate)
    );
    if (!own) throw new RangeError(`#audio=auto cannot make ${codec.name}/${codec.clockRate}`);
    if (this.#receiver) {
      if (this.#receiver.codec === own) return this.#receiver;
      throw new RangeError(
        `#audio=auto already makes ${this.#receiver.codec.name}/${this.#receiver.codec.clockRate} for another consumer; ` +
          "add a second source for a second codec",
      );
    }
    this.#receiver = new Receiver({ ...this.#media, codecs: [own] }, own);
    return this.#receiver;
  }

  /** Runs ffmpeg with the picked codec until it ends. */
  start(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  async #run(): Promise<void> {
    const receiver = this.#receiver;
    if (!receiver) throw new SourceError(this.#url, "#audio=auto was started before a consumer picked a codec");
    const url = autoAudioUrl(this.#url, receiver.codec);
    this.#log.debug("ffmpeg #audio=auto picked a codec", { url: redactUrl(url) });
    const inner = await this.#dial(url);
    this.#inner = inner;
    if (this.#stopped) {
      await inner.stop();
      return;
    }
    const media = inner.medias().find((m) => m.kind === "audio");
    if (!media) {
      await inner.stop();
      throw new SourceError(url, "ffmpeg made no audio track");
    }
    const innerReceiver = await inner.track(media, media.codecs[0]);
    const forward = new Sender(media, media.codecs[0], (frame: Frame) => receiver.push(frame), { capacity: 256 });
    innerReceiver.addSender(forward);
    try {
      await inner.start();
    } finally {
      forward.close();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#inner?.stop();
  }

  info(): ConnectionInfo {
    if (this.#inner) return { ...this.#inner.info(), id: this.#id, url: redactUrl(this.#url) };
    return {
      id: this.#id,
      format: "ffmpeg",
      url: redactUrl(this.#url),
      medias: [mediaToString(this.#media)],
    };
  }
}
