/**
 * A custom source scheme in a few lines: `counter:` produces a synthetic "video" track whose frames
 * are just counters, and a consumer prints what it receives. Shows strom's plugin API
 * (registerSource) and the Producer/Consumer model without any network.
 *
 *   node --import tsx examples/custom_source.ts
 */
import {
  type Codec,
  type ConnectionInfo,
  type Consumer,
  type Media,
  nextConnectionId,
  type Producer,
  Receiver,
  registerSource,
  Sender,
  StreamHub,
} from "../mod.ts";

class CounterProducer implements Producer {
  readonly #id = nextConnectionId();
  readonly #media: Media = { kind: "video", direction: "recvonly", codecs: [{ name: "JPEG", clockRate: 90000 }] };
  #receiver: Receiver | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #done: (() => void) | undefined;

  medias(): Media[] {
    return [this.#media];
  }
  track(media: Media, codec: Codec): Receiver {
    return (this.#receiver ??= new Receiver(media, codec));
  }
  start(): Promise<void> {
    let n = 0;
    this.#timer = setInterval(() => {
      this.#receiver?.push({ timestamp: n * 9000, keyframe: true, data: new Uint8Array([n++ & 0xff]) });
    }, 100);
    return new Promise((resolve) => (this.#done = resolve));
  }
  stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#done?.();
    return Promise.resolve();
  }
  info(): ConnectionInfo {
    return { id: this.#id, format: "counter" };
  }
}

class PrintConsumer implements Consumer {
  readonly #id = nextConnectionId();
  readonly #senders: Sender[] = [];
  medias(): Media[] {
    return [{ kind: "video", direction: "sendonly", codecs: [{ name: "ANY", clockRate: 0 }] }];
  }
  addTrack(media: Media, codec: Codec, receiver: Receiver): void {
    const sender = new Sender(media, codec, (frame) => console.log(`frame ${frame.data[0]} at ${frame.timestamp}`));
    this.#senders.push(sender);
    receiver.addSender(sender);
  }
  stop(): void {
    for (const s of this.#senders) s.close();
  }
  info(): ConnectionInfo {
    return { id: this.#id, format: "print" };
  }
}

registerSource("counter", () => Promise.resolve(new CounterProducer()));
const hub = new StreamHub({ graceMs: 0 });
const stream = hub.set("numbers", ["counter:"]);
const viewer = new PrintConsumer();
await stream.addConsumer(viewer);
await new Promise((r) => setTimeout(r, 550));
await stream.removeConsumer(viewer);
await hub.close();
