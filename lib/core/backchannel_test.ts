import { describe, expect, it } from "bun:test";
import type { Codec } from "./codec.ts";
import type { Media } from "./media.ts";
import { Receiver, Sender } from "./fanout.ts";
import { type Frame } from "./frame.ts";
import {
  attachBackchannel,
  AudioTalker,
  type AudioTranscoder,
  backchannelMismatch,
  findAudioTranscoder,
  registerAudioTranscoder,
  unregisterAudioTranscoder,
} from "./backchannel.ts";
import { audioMedia, H264, MemoryProducer, tick, videoMedia } from "./_testing.ts";
import { Stream } from "./stream.ts";
import { registerSource, unregisterSource } from "./registry.ts";

const PCMA: Codec = { name: "PCMA", clockRate: 8000, payloadType: 8 };
const PCMU: Codec = { name: "PCMU", clockRate: 8000, payloadType: 0 };
const OPUS: Codec = { name: "OPUS", clockRate: 48000, channels: 2, payloadType: 111 };
const G726: Codec = { name: "G726-32", clockRate: 8000, payloadType: 97 };

/** A camera-like producer with a speaker: records what reaches its backchannel. */
class SpeakerProducer extends MemoryProducer {
  readonly heard: { codec: Codec; frame: Frame }[] = [];
  readonly speakerSenders: Sender[] = [];
  addTrack(media: Media, codec: Codec, receiver: Receiver): void {
    const s = new Sender(media, codec, (frame) => {
      this.heard.push({ codec, frame });
    });
    this.speakerSenders.push(s);
    receiver.addSender(s);
  }
}

// A test transcoder: "OPUS" to any G.711 by replacing the bytes (the real ones are in
// lib/codec/g711 and lib/protocol/ffmpeg).
class FakeOpusTranscoder implements AudioTranscoder {
  readonly output: Receiver;
  readonly #in: Sender;
  closed = false;
  constructor(input: Receiver, to: Codec, media: Media) {
    this.output = new Receiver(media, to);
    this.#in = new Sender(input.media, input.codec, (f) => {
      this.output.push({ timestamp: f.timestamp / 6, keyframe: true, data: new Uint8Array(160) });
    });
    input.addSender(this.#in);
  }
  close(): void {
    this.closed = true;
    this.#in.close();
  }
}

describe("backchannel", () => {
  it("attaches a talker directly when the source takes its codec, in the source's order", async () => {
    const cam = new SpeakerProducer([videoMedia("recvonly", H264), audioMedia("sendonly", PCMU, PCMA)]);
    const talker = new AudioTalker([PCMA, PCMU]);
    const link = await attachBackchannel(cam, cam.medias()[1], talker, talker.medias()[0]);
    expect(link?.codec.name).toBe("PCMU");
    expect(talker.codec?.name).toBe("PCMU");
    talker.push({ timestamp: 0, keyframe: true, data: new Uint8Array(160) });
    await tick();
    expect(cam.heard.length).toBe(1);
    link!.close();
    expect(cam.speakerSenders[0].closed).toBe(true);
  });

  it("does not pair a source's received media or a talker that cannot talk", async () => {
    const cam = new SpeakerProducer([audioMedia("recvonly", PCMA)]);
    const talker = new AudioTalker([PCMA]);
    expect(await attachBackchannel(cam, cam.medias()[0], talker, talker.medias()[0])).toBeUndefined();
    const plain = new MemoryProducer([audioMedia("sendonly", PCMA)]); // no addTrack
    expect(await attachBackchannel(plain, plain.medias()[0], talker, talker.medias()[0])).toBeUndefined();
  });

  it("puts a registered transcoder between codecs that differ, and closes it with the link", async () => {
    let made: FakeOpusTranscoder | undefined;
    registerAudioTranscoder({
      name: "test-opus",
      canTranscode: (from, to) => from.name === "OPUS" && (to.name === "PCMA" || to.name === "PCMU"),
      create: (input, to, media) => (made = new FakeOpusTranscoder(input, to, media)),
    });
    try {
      expect(findAudioTranscoder(OPUS, PCMA)?.name).toBe("test-opus");
      expect(findAudioTranscoder(OPUS, G726)).toBeUndefined();
      const cam = new SpeakerProducer([audioMedia("sendonly", PCMA)]);
      const talker = new AudioTalker([OPUS]);
      const link = await attachBackchannel(cam, cam.medias()[0], talker, talker.medias()[0]);
      expect(link?.transcoder).toBe("test-opus");
      expect(talker.codec?.name).toBe("OPUS");
      talker.push({ timestamp: 960, keyframe: true, data: new Uint8Array(40) });
      await tick();
      expect(cam.heard.map((h) => h.codec.name)).toEqual(["PCMA"]);
      link!.close();
      expect(made?.closed).toBe(true);
      expect(cam.speakerSenders[0].closed).toBe(true);
    } finally {
      unregisterAudioTranscoder("test-opus");
    }
  });

  it("Stream pairs a talker with the source's backchannel and detaches it when the talker leaves", async () => {
    const cam = new SpeakerProducer([videoMedia("recvonly", H264), audioMedia("sendonly", PCMA)]);
    registerSource("bctest", () => Promise.resolve(cam));
    try {
      const stream = new Stream("door", ["bctest:cam"], { graceMs: 10_000 });
      const talker = new AudioTalker([OPUS, PCMA]);
      await stream.addConsumer(talker);
      expect(talker.codec?.name).toBe("PCMA");
      expect(cam.started).toBe(1);
      talker.push({ timestamp: 0, keyframe: true, data: new Uint8Array(160) });
      await tick();
      expect(cam.heard.length).toBe(1);
      await stream.removeConsumer(talker);
      expect(cam.speakerSenders[0].closed).toBe(true);
      await stream.close();
    } finally {
      unregisterSource("bctest");
    }
  });

  it("explains a talker's mismatch in terms of two-way audio", () => {
    const talker = new AudioTalker([PCMA]).medias();
    const none = backchannelMismatch("door", talker, [audioMedia("recvonly", PCMA)]);
    expect(none?.message).toContain("none of its sources has a backchannel");
    const other = backchannelMismatch("door", talker, [audioMedia("sendonly", G726)]);
    expect(other?.message).toContain("takes audio:G726-32/8000 and the talker sends audio:PCMA/8000");
    expect(other?.wanted).toEqual(["audio:PCMA/8000"]);
    // A viewer that also wants to receive gets the stream's usual error.
    expect(backchannelMismatch("door", [audioMedia("sendonly", PCMA), ...talker], [])).toBeUndefined();
  });

  it("Stream reports a codec mismatch when nothing converts the talker's codec", async () => {
    const cam = new SpeakerProducer([audioMedia("sendonly", G726)]);
    registerSource("bctest2", () => Promise.resolve(cam));
    try {
      const stream = new Stream("door", ["bctest2:cam"], { graceMs: 10 });
      await expect(stream.addConsumer(new AudioTalker([PCMA]))).rejects.toThrow(/audio:G726-32/);
      await stream.close();
    } finally {
      unregisterSource("bctest2");
    }
  });
});
