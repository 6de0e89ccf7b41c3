/**
 * Test helpers for the core: a programmable in-memory producer and a recording consumer. Not
 * exported from mod.ts.
 *
 * @module
 */
import type { Codec } from "./codec.ts";
import { type ConnectionInfo, type Consumer, nextConnectionId, type Producer } from "./connection.ts";
import type { Frame } from "./frame.ts";
import type { Media } from "./media.ts";
import { Receiver, Sender } from "./fanout.ts";

export const H264: Codec = { name: "H264", clockRate: 90000, payloadType: 96 };
export const AAC: Codec = { name: "MPEG4-GENERIC", clockRate: 48000, channels: 1, payloadType: 97 };
export const OPUS: Codec = { name: "OPUS", clockRate: 48000, channels: 2, payloadType: 111 };

/** A producer whose frames the test pushes by hand; `end()` makes start() settle. */
export class MemoryProducer implements Producer {
  readonly id = nextConnectionId();
  readonly receivers: Receiver[] = [];
  started = 0;
  stopped = 0;
  #medias: Media[];
  #settle: ((error?: Error) => void) | undefined;

  constructor(medias: Media[]) {
    this.#medias = medias;
  }

  medias(): Media[] {
    return this.#medias;
  }

  track(media: Media, codec: Codec): Receiver {
    const r = new Receiver(media, codec);
    this.receivers.push(r);
    return r;
  }

  start(): Promise<void> {
    this.started++;
    return new Promise((resolve, reject) => {
      this.#settle = (error) => (error ? reject(error) : resolve());
    });
  }

  /** Ends the running `start()` like a dropped connection. */
  end(error?: Error): void {
    const settle = this.#settle;
    this.#settle = undefined;
    settle?.(error);
  }

  push(kind: "video" | "audio", frame: Frame): void {
    for (const r of this.receivers) if (r.media.kind === kind) r.push(frame);
  }

  stop(): Promise<void> {
    this.stopped++;
    this.end();
    return Promise.resolve();
  }

  info(): ConnectionInfo {
    return { id: this.id, format: "memory" };
  }
}

/** A consumer that records the frames it gets per kind. */
export class RecordingConsumer implements Consumer {
  readonly id = nextConnectionId();
  readonly frames: { video: Frame[]; audio: Frame[] } = { video: [], audio: [] };
  readonly tracks: { media: Media; codec: Codec }[] = [];
  readonly senders: Sender[] = [];
  stopped = 0;
  source?: string;
  #medias: Media[];

  constructor(medias: Media[], source?: string) {
    this.#medias = medias;
    this.source = source;
  }

  medias(): Media[] {
    return this.#medias;
  }

  addTrack(media: Media, codec: Codec, receiver: Receiver): void {
    this.tracks.push({ media, codec });
    const sender = new Sender(media, codec, (frame) => {
      this.frames[media.kind].push(frame);
    });
    this.senders.push(sender);
    receiver.addSender(sender);
  }

  stop(): void {
    this.stopped++;
    for (const s of this.senders) s.close();
  }

  info(): ConnectionInfo {
    return { id: this.id, format: "recording" };
  }
}

export function videoMedia(direction: Media["direction"], ...codecs: Codec[]): Media {
  return { kind: "video", direction, codecs };
}

export function audioMedia(direction: Media["direction"], ...codecs: Codec[]): Media {
  return { kind: "audio", direction, codecs };
}

export function frame(timestamp: number, keyframe = false, size = 100): Frame {
  return { timestamp, keyframe, data: new Uint8Array(size) };
}

/** Waits until `check()` is true, polling every 5 ms, at most `ms`. */
export async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const tick = () => new Promise((r) => setTimeout(r, 0));
