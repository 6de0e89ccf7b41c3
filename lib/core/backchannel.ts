/**
 * Two-way audio: a viewer's audio (a browser microphone, an RTSP client's backchannel, a file) to
 * a source that takes audio (a camera's ONVIF backchannel speaker).
 *
 * Directions are from our side, as everywhere in strom: the source offers a `sendonly` audio media
 * (we send to it), the talking consumer a `recvonly` one (we receive from it). {@link Stream} pairs
 * them with {@link attachBackchannel}: the consumer's `track(media, codec)` gives the
 * {@link Receiver} its audio arrives on, and the producer's `addTrack(media, codec, receiver)`
 * attaches a {@link Sender} to it that writes to the camera. When the codecs differ (a browser's
 * Opus, a camera's PCMA), a registered {@link AudioTranscoderFactory} sits in between.
 *
 * ```text
 * talker.track() -> Receiver --(AudioTranscoder, if needed)--> Receiver -> producer.addTrack() -> camera
 * ```
 *
 * @module
 */
import { type Codec, codecMatch, CodecName, codecToString } from "./codec.ts";
import { type ConnectionInfo, type Consumer, nextConnectionId, type Producer } from "./connection.ts";
import { CodecMismatchError } from "./errors.ts";
import type { Frame } from "./frame.ts";
import { matchMedia, type Media } from "./media.ts";
import { Receiver, type Sender } from "./fanout.ts";

/**
 * Converts a talker's audio into the codec a source's backchannel takes.
 *
 * @example
 * ```ts
 * const tc = factory.create(talkerReceiver, { name: "PCMA", clockRate: 8000 }, cameraMedia);
 * await producer.addTrack(cameraMedia, tc.output.codec, tc.output);
 * // when the talker leaves:
 * tc.close();
 * ```
 */
export interface AudioTranscoder {
  /** Frames in the target codec. */
  readonly output: Receiver;
  /** Detaches from the input and releases what it holds (a process, queues). Idempotent. */
  close(): void;
}

/**
 * Makes {@link AudioTranscoder}s for the codec pairs it knows.
 *
 * @example
 * ```ts
 * registerAudioTranscoder({
 *   name: "pcm",
 *   canTranscode: (from, to) => isPcmCodec(from) && isPcmCodec(to),
 *   create: (input, to, media) => new PcmAudioTranscoder(input, to, media),
 * });
 * ```
 */
export interface AudioTranscoderFactory {
  /** Shown in logs and `/api/streams`: `pcm`, `ffmpeg`. */
  name: string;
  /** Whether this factory converts `from` (the talker's codec) into `to` (the source's). */
  canTranscode(from: Codec, to: Codec): boolean;
  /** Starts converting the frames of `input`. Must not throw for a pair `canTranscode` accepted. */
  create(input: Receiver, to: Codec, media: Media): AudioTranscoder;
}

const factories: AudioTranscoderFactory[] = [];

/**
 * Adds a transcoder factory (or replaces one of the same name). Factories are tried in the order
 * they were first registered, so register cheap in-process ones before process-based ones.
 *
 * @example
 * ```ts
 * registerAudioTranscoder(pcmTranscoderFactory);
 * ```
 */
export function registerAudioTranscoder(factory: AudioTranscoderFactory): void {
  const i = factories.findIndex((f) => f.name === factory.name);
  if (i >= 0) factories[i] = factory;
  else factories.push(factory);
}

/**
 * Removes a transcoder factory by name.
 *
 * @example
 * ```ts
 * unregisterAudioTranscoder("ffmpeg");
 * ```
 */
export function unregisterAudioTranscoder(name: string): void {
  const i = factories.findIndex((f) => f.name === name);
  if (i >= 0) factories.splice(i, 1);
}

/**
 * The first registered factory that converts `from` into `to`, if any.
 *
 * @example
 * ```ts
 * findAudioTranscoder({ name: "OPUS", clockRate: 48000, channels: 2 }, { name: "PCMA", clockRate: 8000 })?.name; // "ffmpeg"
 * ```
 */
export function findAudioTranscoder(from: Codec, to: Codec): AudioTranscoderFactory | undefined {
  return factories.find((f) => f.canTranscode(from, to));
}

/**
 * A talker attached to a source's backchannel. Closing it detaches the source's sender and stops
 * the transcoder, if any.
 *
 * @example
 * ```ts
 * const link = await attachBackchannel(camera, speakerMedia, talker, micMedia);
 * console.log(link?.talkerCodec.name, "->", link?.codec.name, link?.transcoder ?? "direct");
 * link?.close();
 * ```
 */
export interface BackchannelLink {
  /** The source's codec (another one after a {@link reattach} to a reconfigured camera). */
  readonly codec: Codec;
  /** The talker's codec (differs from `codec` when transcoded). */
  readonly talkerCodec: Codec;
  /** The transcoder's factory name, when one runs. */
  readonly transcoder?: string;
  /** Whether the talker has sent audio yet (a talker that never spoke is re-attached lazily). */
  readonly talked: boolean;
  /**
   * Attaches the same talker (and its transcoder, which keeps running) to another connection of
   * the source, e.g. after a reconnect: to its backchannel media that takes {@link codec}, or,
   * when its backchannel now takes another codec, to that codec directly or through a registered
   * transcoder from {@link talkerCodec} (then {@link codec} and {@link transcoder} change).
   * Resolves false, leaving the link detached, when that connection has no backchannel the
   * talker's audio can go to. Rejects when the producer fails to set it up.
   */
  reattach(producer: Producer): Promise<boolean>;
  close(): void;
}

/**
 * A talker lost its source's backchannel: after a reconnect the source no longer offers one that
 * takes the talker's codec (or refused to set it up). The talker is detached; a consumer that only
 * talks is closed.
 *
 * @example
 * ```ts
 * talker.onError = (e) => { if (e instanceof BackchannelLostError) console.log(e.stream, e.codec); };
 * ```
 */
export class BackchannelLostError extends Error {
  override name = "BackchannelLostError";
  /** The stream the talker talked to. */
  readonly stream: string;
  /** The source (secrets redacted) whose backchannel was lost. */
  readonly source: string;
  /** The codec the backchannel took, e.g. `PCMA/8000`. */
  readonly codec: string;
  constructor(stream: string, source: string, codec: string, reason: string, options?: { cause?: unknown }) {
    super(
      `Stream "${stream}": the source ${source} reconnected without its backchannel (two-way audio) for ` +
        `${codec}: ${reason}; the talker was detached. Check that the camera still has two-way audio ` +
        `enabled and is not held by another client, then talk again.`,
      options,
    );
    this.stream = stream;
    this.source = source;
    this.codec = codec;
  }
}

/** A talker's receiver (or its transcoder's output) attached to a producer's backchannel media. */
class Link implements BackchannelLink {
  readonly talkerCodec: Codec;
  readonly #talker: Receiver;
  #codec: Codec;
  #transcoder: string | undefined;
  #output: Receiver;
  #stop: (() => void) | undefined;
  #added: Sender[] = [];
  #closed = false;

  constructor(
    codec: Codec,
    talkerCodec: Codec,
    talker: Receiver,
    output: Receiver,
    transcoder?: { name: string; close(): void },
  ) {
    this.#codec = codec;
    this.talkerCodec = talkerCodec;
    this.#talker = talker;
    this.#output = output;
    this.#transcoder = transcoder?.name;
    this.#stop = transcoder ? () => transcoder.close() : undefined;
  }

  get codec(): Codec {
    return this.#codec;
  }

  get transcoder(): string | undefined {
    return this.#transcoder;
  }

  get talked(): boolean {
    return this.#talker.frames > 0;
  }

  /** Attaches the output to `prodMedia` of `producer` (remembering the senders it added). */
  async attach(producer: Producer, prodMedia: Media): Promise<void> {
    const before = this.#output.senders.length;
    await producer.addTrack!(prodMedia, this.#codec, this.#output);
    this.#added = this.#output.senders.slice(before);
  }

  async reattach(producer: Producer): Promise<boolean> {
    if (this.#closed || !producer.addTrack) return false;
    this.#detach();
    const speakers = producer.medias().filter((m) =>
      m.kind === this.#talker.media.kind && m.direction === "sendonly"
    );
    const same = speakers.find((m) => m.codecs.some((c) => codecMatch(c, this.#codec)));
    if (same) {
      await this.attach(producer, same);
      return !this.#closed;
    }
    // The camera's backchannel takes another codec now (its configuration changed): the talker's
    // audio goes to it directly or through a new transcoder, from the codec the talker sends.
    for (const media of speakers) {
      for (const to of media.codecs) {
        const direct = codecMatch(to, this.talkerCodec);
        const factory = direct ? undefined : findAudioTranscoder(this.talkerCodec, to);
        if (!direct && !factory) continue;
        this.#stop?.();
        if (factory) {
          const tc = factory.create(this.#talker, to, media);
          this.#output = tc.output;
          this.#stop = () => tc.close();
        } else {
          this.#output = this.#talker;
          this.#stop = undefined;
        }
        this.#transcoder = factory?.name;
        this.#codec = to;
        await this.attach(producer, media);
        return !this.#closed;
      }
    }
    return false;
  }

  #detach(): void {
    for (const s of this.#added.splice(0)) s.close();
  }

  close(): void {
    this.#closed = true;
    this.#detach();
    this.#stop?.();
  }
}

/**
 * A consumer that has audio to send: `track()` returns the receiver its audio arrives on.
 *
 * @example
 * ```ts
 * class Mic implements TalkingConsumer {
 *   medias() { return [{ kind: "audio", direction: "recvonly", codecs: [OPUS, PCMA] }]; }
 *   track(media: Media, codec: Codec) { return this.receiver = new Receiver(media, codec); }
 *   // addTrack, stop, info ...
 * }
 * ```
 */
export interface TalkingConsumer extends Consumer {
  track(media: Media, codec: Codec): Receiver | Promise<Receiver>;
}

/**
 * Whether a consumer can send audio to a source (it implements `track()`).
 *
 * @example
 * ```ts
 * if (canTalk(consumer)) await attachBackchannel(producer, cameraMedia, consumer, micMedia);
 * ```
 */
export function canTalk(consumer: Consumer): consumer is TalkingConsumer {
  return typeof (consumer as Partial<TalkingConsumer>).track === "function";
}

/**
 * A source's media that takes audio from us and a consumer's media that sends it: same kind,
 * `sendonly` and `recvonly` (from our side).
 */
function isBackchannelPair(prodMedia: Media, consMedia: Media): boolean {
  return prodMedia.kind === consMedia.kind && prodMedia.direction === "sendonly" &&
    consMedia.direction === "recvonly";
}

const isWildcard = (c: Codec) => c.name === CodecName.ANY || c.name === CodecName.ALL;

/**
 * Connects a talking consumer's media to a source's backchannel media: directly when they share a
 * codec (the source's order first), else through the first registered transcoder that converts one
 * of the talker's codecs into one of the source's. Returns `undefined` when the medias do not pair
 * up (not a backchannel, no common or convertible codec, the producer cannot take audio).
 * Rejects when the producer fails to set the backchannel up (e.g. the camera refuses the SETUP).
 *
 * @example
 * ```ts
 * const link = await attachBackchannel(camera, camera.medias()[2], talker, talker.medias()[0]);
 * // ... later, when the talker leaves:
 * link?.close();
 * ```
 */
export async function attachBackchannel(
  producer: Producer,
  prodMedia: Media,
  consumer: Consumer,
  consMedia: Media,
): Promise<BackchannelLink | undefined> {
  if (!producer.addTrack || !canTalk(consumer) || !isBackchannelPair(prodMedia, consMedia)) return undefined;
  const pair = matchMedia(prodMedia, consMedia);
  if (pair) {
    // A wildcard talker (`?microphone`) sends what the source takes.
    const talkerCodec = isWildcard(pair.remote) ? pair.local : pair.remote;
    const receiver = await consumer.track(consMedia, talkerCodec);
    const link = new Link(pair.local, talkerCodec, receiver, receiver);
    await link.attach(producer, prodMedia);
    return link;
  }
  for (const to of prodMedia.codecs) {
    for (const from of consMedia.codecs) {
      if (isWildcard(from)) continue;
      const factory = findAudioTranscoder(from, to);
      if (!factory) continue;
      const receiver = await consumer.track(consMedia, from);
      const transcoder = factory.create(receiver, to, prodMedia);
      const link = new Link(to, from, receiver, transcoder.output, { name: factory.name, close: () => transcoder.close() });
      try {
        await link.attach(producer, prodMedia);
      } catch (error) {
        link.close();
        throw error;
      }
      return link;
    }
  }
  return undefined;
}

/**
 * The codecs a talker can send to a source media, directly or through a registered transcoder
 * (for error messages and UIs that pick a microphone codec).
 *
 * @example
 * ```ts
 * talkerCodecsFor(cameraBackchannel, [OPUS, PCMU]); // [OPUS] when only ffmpeg can convert it
 * ```
 */
export function talkerCodecsFor(prodMedia: Media, offered: Codec[]): Codec[] {
  return offered.filter((from) =>
    prodMedia.codecs.some((to) => codecMatch(to, from) || findAudioTranscoder(from, to) !== undefined)
  );
}

/**
 * The error for a consumer that only talks (every media `recvonly`) and found no source to talk
 * to, saying why in terms of two-way audio (`failures`: errors met on the way, e.g. a refused
 * SETUP); `undefined` when the consumer also wants to receive (the stream's usual codec mismatch
 * applies then).
 *
 * @example
 * ```ts
 * const error = backchannelMismatch("door", talker.medias(), producer.medias());
 * // Stream "door": no source takes audio (two-way audio): ...
 * ```
 */
export function backchannelMismatch(
  stream: string,
  wanted: Media[],
  offered: Media[],
  failures: readonly Error[] = [],
): CodecMismatchError | undefined {
  if (!wanted.length || wanted.some((m) => m.direction !== "recvonly")) return undefined;
  const talker = wanted.flatMap((m) => m.codecs.map((c) => `${m.kind}:${codecToString(c)}`));
  const speakers = offered.filter((m) => m.direction === "sendonly");
  const taken = speakers.flatMap((m) => m.codecs.map((c) => `${m.kind}:${codecToString(c)}`));
  const error = new CodecMismatchError(stream, talker, taken);
  const reasons = failures.map((e) => e.message).join("; ");
  error.message = speakers.length > 0 && failures.length > 0
    ? `Stream "${stream}": setting up the source's backchannel (two-way audio) failed: ${reasons}`
    : speakers.length === 0
    ? `Stream "${stream}": no source takes audio (two-way audio): none of its sources has a backchannel. ` +
      `RTSP cameras offer one when they support the ONVIF backchannel (a source with #backchannel=0 does ` +
      `not ask for it).`
    : `Stream "${stream}": the source's backchannel takes ${taken.join(", ")} and the talker sends ` +
      `${talker.join(", ")}; no registered transcoder converts them (registerBackchannelTranscoders() ` +
      `adds PCM conversions, and ffmpeg for Opus and AAC).`;
  if (failures.length && !error.message.includes(reasons)) error.message += ` (${reasons})`;
  return error;
}

/**
 * An in-process talker: a consumer that only sends audio, pushed by the caller. Useful to play a
 * file or a generated sound on a camera's speaker, and as the model for protocol consumers that
 * carry a microphone (WebRTC): offer a `recvonly` audio media, implement `track()`, push frames.
 *
 * @example
 * ```ts
 * const talker = new AudioTalker([{ name: "PCMA", clockRate: 8000 }, { name: "OPUS", clockRate: 48000, channels: 2 }]);
 * await stream.addConsumer(talker);      // the stream picks a codec the camera takes
 * talker.codec;                           // the codec to push, e.g. PCMA/8000
 * talker.push({ timestamp: 0, keyframe: true, data: pcma160 });
 * await stream.removeConsumer(talker);    // detaches from the camera
 * ```
 */
export class AudioTalker implements TalkingConsumer {
  readonly id = nextConnectionId();
  readonly media: Media;
  /** Set by `track()`: the codec frames must be pushed in. */
  codec: Codec | undefined;
  /** Frames pushed. */
  frames = 0;
  /** Why the talker was detached by the stream (e.g. a {@link BackchannelLostError}), if it was. */
  error: Error | undefined;
  /** Called with {@link error} when the stream detaches the talker. */
  onError: ((error: Error) => void) | undefined;
  readonly #format: string;
  #receiver: Receiver | undefined;
  #stopped = false;
  readonly #startedAt = new Date().toISOString();

  constructor(codecs: Codec[], options: { format?: string } = {}) {
    this.media = { kind: "audio", direction: "recvonly", codecs };
    this.#format = options.format ?? "talker";
  }

  medias(): Media[] {
    return [this.media];
  }

  /** A talker receives nothing. */
  addTrack(): void {}

  track(media: Media, codec: Codec): Receiver {
    if (this.#receiver && this.codec?.name === codec.name && this.codec.clockRate === codec.clockRate) {
      return this.#receiver;
    }
    this.codec = codec;
    this.#receiver = new Receiver(media, codec);
    return this.#receiver;
  }

  /** The receiver frames go to (after the stream attached the talker). */
  get receiver(): Receiver | undefined {
    return this.#receiver;
  }

  /** Sends one frame in {@link codec} towards the source. Dropped before attach and after stop. */
  push(frame: Frame): void {
    if (this.#stopped || !this.#receiver) return;
    this.frames++;
    this.#receiver.push(frame);
  }

  /** The source reconnected without a backchannel for this talker (see {@link error}). */
  backchannelLost(error: Error): void {
    this.error = error;
    this.onError?.(error);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const r = this.#receiver;
    if (r) { for (const s of r.senders.slice()) s.close(); }
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      format: this.#format,
      medias: [`audio, recvonly, ${this.media.codecs.map(codecToString).join(", ")}`],
      bytesIn: this.#receiver?.bytes ?? 0,
      startedAt: this.#startedAt,
    };
  }
}
