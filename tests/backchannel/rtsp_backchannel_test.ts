/**
 * Two-way audio to an RTSP camera's ONVIF backchannel, end to end: a talker (audio made by ffmpeg)
 * attached to a stream whose source is a test camera with a speaker; the camera records the RTP it
 * gets, and ffmpeg decodes it back.
 */
import { afterEach, describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { AudioTalker } from "../../lib/core/backchannel.ts";
import type { Codec } from "../../lib/core/codec.ts";
import type { Frame } from "../../lib/core/frame.ts";
import { Stream } from "../../lib/core/stream.ts";
import { StreamHub } from "../../lib/core/hub.ts";
import { Receiver, Sender } from "../../lib/core/fanout.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { RecordingConsumer } from "../../lib/core/_testing.ts";
import { registerRtspSources, RtspClientProducer } from "../../lib/protocol/rtsp/producer.ts";
import { registerBackchannelTranscoders } from "../../lib/protocol/ffmpeg/audio_transcoder.ts";
import { TsDemuxer } from "../../lib/format/mpegts/ts_demuxer.ts";
import type { RtpPacket } from "../../lib/rtp/packet.ts";
import { BackchannelCamera } from "../_support/backchannel_camera.ts";
import { ffmpeg, hasEncoder, toneAlaw as toneAlawFor } from "../_support/ffmpeg.ts";
import { grownSince as grown, resources, resourcesMeasurable as measurable } from "../_support/resources.ts";
import { concatBytes, hasTool } from "../_support/process.ts";
import { sleep, waitFor } from "../rtsp/_helpers.ts";

const hasFfmpeg = await hasTool("ffmpeg");
const hasOpus = hasFfmpeg && await hasEncoder("libopus");


/** 2 s (or `seconds`) of a 440 Hz tone as raw A-law at 8 kHz. */
const toneAlaw = (seconds = 2): Promise<Uint8Array> => toneAlawFor(seconds);
const PCMA: Codec = { name: "PCMA", clockRate: 8000 };

/** ffmpeg transcoders (our children reading MPEG-TS from stdin) running now, from /proc (Linux). */
function transcoderProcesses(): number {
  let n = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (cmd.includes("mpegts") && cmd.includes("pipe:0") && cmd.includes("pcm_alaw")) n++;
    } catch { /* gone meanwhile */ }
  }
  return n;
}

/** Pushes 20 ms frames at twice real time (10 frames per 100 ms). */
async function talk(talker: AudioTalker, frames: Frame[]): Promise<void> {
  for (let i = 0; i < frames.length; i += 10) {
    for (const f of frames.slice(i, i + 10)) talker.push(f);
    await sleep(100);
  }
}

function alawFrames(bytes: Uint8Array): Frame[] {
  const frames: Frame[] = [];
  for (let off = 0; off < bytes.length; off += 160) {
    frames.push({ timestamp: off, keyframe: true, data: bytes.subarray(off, off + 160) });
  }
  return frames;
}

/** Decodes A-law (or µ-law) with ffmpeg to 16-bit PCM; returns the samples. */
async function decodeAlaw(bytes: Uint8Array, format = "alaw"): Promise<Int16Array> {
  const res = await ffmpeg(
    ["-f", format, "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-f", "s16le", "pipe:1"],
    15_000,
    bytes,
  );
  if (res.code !== 0) {
    throw new Error(`ffmpeg could not decode the camera's audio as pcm_alaw: ${res.stderr}`);
  }
  const out = res.stdout;
  return new Int16Array(out.buffer.slice(out.byteOffset, out.byteOffset + (out.length & ~1)));
}

/** Tone frequency from zero crossings of the loud part of the signal. */
function frequency(samples: Int16Array, rate: number): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1] < 0) !== (samples[i] < 0)) crossings++;
  return crossings / 2 / (samples.length / rate);
}

/** Checks the RTP a camera got: one SSRC and payload type, sequence +1, timestamps + samples. */
function expectWellFormed(packets: RtpPacket[], pt: number): void {
  expect(new Set(packets.map((p) => p.payloadType))).toEqual(new Set([pt]));
  expect(new Set(packets.map((p) => p.ssrc)).size).toBe(1);
  for (let i = 1; i < packets.length; i++) {
    expect((packets[i].sequenceNumber - packets[i - 1].sequenceNumber) & 0xffff).toBe(1);
    // G.711 at 8 kHz: the timestamp advances by the samples (bytes) of the previous packet.
    const dt = (packets[i].timestamp - packets[i - 1].timestamp) >>> 0;
    expect(dt).toBeGreaterThanOrEqual(packets[i - 1].payload.length);
  }
}

/** Waits until the camera got PLAY (and the client its answer). */
async function waitPlaying(camera: BackchannelCamera, plays = 1): Promise<void> {
  await waitFor(
    "the camera to play",
    () => camera.requests.filter((r) => r.method === "PLAY").length >= plays,
    5_000,
  );
  await sleep(50);
}

describe("RTSP ONVIF backchannel", () => {
  let camera: BackchannelCamera | undefined;
  let stream: Stream | undefined;
  registerRtspSources();
  registerBackchannelTranscoders();
  afterEach(async () => {
    await stream?.close();
    await camera?.close();
    stream = undefined;
    camera = undefined;
  });

  it.skipIf(!hasFfmpeg)(
    "a talker's PCMA reaches the camera's speaker over TCP as RTP ffmpeg decodes (needs ffmpeg)",
    async () => {
      camera = await new BackchannelCamera().start();
      const alaw = await toneAlaw(2);
      stream = new Stream("door", [camera.url], { graceMs: 200 });
      const talker = new AudioTalker([PCMA]);
      await stream.addConsumer(talker);
      expect(talker.codec?.name).toBe("PCMA");
      await waitPlaying(camera);
      expect(camera.describes()).toEqual([true]);
      expect(camera.requests.filter((r) => r.method === "SETUP").map((r) => r.uri.split("/").pop())).toEqual([
        "speaker",
      ]);
      await talk(talker, alawFrames(alaw));
      await waitFor("100 packets at the camera", () => camera!.speakerPackets.length >= 100, 5_000);
      const packets = camera.speakerPackets;
      expect([...camera.speakerTransports]).toEqual(["tcp"]);
      expectWellFormed(packets, 8);
      // 20 ms packets, timestamps exactly 8 kHz apart, bytes unchanged.
      expect(packets.every((p) => p.payload.length === 160)).toBe(true);
      expect((packets[99].timestamp - packets[0].timestamp) >>> 0).toBe(99 * 160);
      const received = concatBytes(packets.map((p) => p.payload));
      expect(received).toEqual(alaw);
      const samples = await decodeAlaw(received);
      expect(samples.length / 8000).toBeCloseTo(2, 2);
      expect(Math.abs(frequency(samples, 8000) - 440)).toBeLessThan(10);
      await stream.removeConsumer(talker);
    },
    20_000,
  );

  it.skipIf(!hasOpus)(
    "a talker's Opus reaches a PCMA-only camera through ffmpeg, and ffmpeg stops with the talker (needs ffmpeg with libopus)",
    async () => {
      camera = await new BackchannelCamera().start();
      const made = await ffmpeg([
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=2",
        "-c:a",
        "libopus",
        "-b:a",
        "32k",
        "-f",
        "mpegts",
        "pipe:1",
      ]);
      expect(made.code).toBe(0);
      const demux = new TsDemuxer();
      const opus = [...demux.push(made.stdout), ...demux.flush()];
      const opusCodec = opus[0].track.codec;
      stream = new Stream("door", [camera.url], { graceMs: 200 });
      // Opus only, as a browser that offers nothing else: the camera takes PCMA only.
      const talker = new AudioTalker([{ name: "OPUS", clockRate: 48000, channels: 2 }]);
      await stream.addConsumer(talker);
      expect(talker.codec?.name).toBe("OPUS");
      expect(transcoderProcesses()).toBe(0); // started by the first frame, not before
      await talk(talker, opus.map((o) => o.frame));
      expect(transcoderProcesses()).toBe(1);
      await waitFor("1.8 s of audio at the camera", () => camera!.speakerPackets.length >= 90, 10_000);
      const packets = camera.speakerPackets;
      expectWellFormed(packets, 8);
      expect(packets.every((p) => p.payload.length === 160)).toBe(true);
      const samples = await decodeAlaw(concatBytes(packets.map((p) => p.payload)));
      expect(samples.length / 8000).toBeGreaterThan(1.8);
      expect(Math.abs(frequency(samples.subarray(800), 8000) - 440)).toBeLessThan(15);
      expect(opusCodec.name).toBe("OPUS");
      await stream.removeConsumer(talker);
      await waitFor("ffmpeg to exit after the talker left", () => transcoderProcesses() === 0, 5_000);
    },
    30_000,
  );

  it.skipIf(!hasFfmpeg)(
    "an RTSP client talking through strom's RTSP server reaches the camera (needs ffmpeg)",
    async () => {
      camera = await new BackchannelCamera().start();
      const alaw = await toneAlaw(1);
      const hub = new StreamHub({ graceMs: 200 });
      hub.set("door", [camera.url]);
      const server = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      try {
        // strom's own RTSP client as the talker: it asks strom's server for the backchannel by default.
        const client = await RtspClientProducer.dial(`rtsp://127.0.0.1:${server.addr.port}/door`);
        const medias = client.medias();
        expect(medias.map((m) => `${m.kind}:${m.direction}:${m.codecs[0].name}`)).toEqual([
          "audio:recvonly:PCMA",
          "audio:sendonly:PCMA",
        ]);
        const mic = new Receiver(
          { kind: "audio", direction: "recvonly", codecs: [PCMA] },
          medias[1].codecs[0],
        );
        await client.addTrack(medias[1], medias[1].codecs[0], mic);
        const run = client.start();
        await waitPlaying(camera);
        for (let off = 0, i = 0; off < alaw.length; off += 160, i++) {
          mic.push({ timestamp: off, keyframe: true, data: alaw.subarray(off, off + 160) });
          if (i % 10 === 9) await sleep(100);
        }
        await waitFor("1 s of audio at the camera", () => camera!.speakerPackets.length >= 50, 5_000);
        expectWellFormed(camera.speakerPackets, 8);
        expect(concatBytes(camera.speakerPackets.map((p) => p.payload))).toEqual(alaw);
        await client.stop();
        await run.catch(() => {});
      } finally {
        await server.close();
        await hub.close();
      }
    },
    20_000,
  );

  it.skipIf(!hasFfmpeg)(
    "a talker's PCMA reaches a PCMU-only camera converted in process (needs ffmpeg)",
    async () => {
      camera = await new BackchannelCamera({ speaker: ["0 PCMU/8000"] }).start();
      const alaw = await toneAlaw(1);
      stream = new Stream("door", [camera.url], { graceMs: 200 });
      const talker = new AudioTalker([PCMA]);
      await stream.addConsumer(talker);
      await talk(talker, alawFrames(alaw));
      await waitFor("1 s of audio at the camera", () => camera!.speakerPackets.length >= 50, 5_000);
      expectWellFormed(camera.speakerPackets, 0);
      const samples = await decodeAlaw(concatBytes(camera.speakerPackets.map((p) => p.payload)), "mulaw");
      expect(samples.length).toBe(8000);
      expect(Math.abs(frequency(samples, 8000) - 440)).toBeLessThan(10);
      expect(transcoderProcesses()).toBe(0); // no ffmpeg for G.711 to G.711
    },
    20_000,
  );

  it(
    "a reader of strom's RTSP server that may talk but does not leaves the playing camera alone",
    async () => {
      camera = await new BackchannelCamera().start();
      const hub = new StreamHub({ graceMs: 200 });
      const door = hub.set("door", [camera.url]);
      const server = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      try {
        const viewer = new RecordingConsumer([{ kind: "audio", direction: "sendonly", codecs: [PCMA] }]);
        await door.addConsumer(viewer);
        await waitPlaying(camera);
        // Another strom (or go2rtc) reading with the ONVIF Require header, as it does by default.
        const reader = await RtspClientProducer.dial(`rtsp://127.0.0.1:${server.addr.port}/door`);
        expect(reader.medias().map((m) => m.direction)).toEqual(["recvonly", "sendonly"]);
        const audio = await reader.track(reader.medias()[0], reader.medias()[0].codecs[0]);
        let frames = 0;
        audio.addSender(
          new Sender(audio.media, audio.codec, () => {
            frames++;
          }),
        );
        const run = reader.start();
        await waitFor("the reader to play", () => frames > 5, 5_000);
        expect(camera.requests.map((r) => r.method)).toEqual(["OPTIONS", "DESCRIBE", "SETUP", "PLAY"]);
        await reader.stop();
        await run.catch(() => {});
        await door.removeConsumer(viewer);
      } finally {
        await server.close();
        await hub.close();
      }
    },
    15_000,
  );

  it(
    "a camera that refuses the speaker's SETUP fails the talker with its answer; its audio plays on",
    async () => {
      camera = await new BackchannelCamera({ speakerSetupStatus: 453 }).start();
      stream = new Stream("door", [camera.url], { graceMs: 200 });
      await expect(stream.addConsumer(new AudioTalker([PCMA]))).rejects.toThrow(
        /backchannel \(two-way audio\) failed: RTSP SETUP .*453/,
      );
      const viewer = new RecordingConsumer([{ kind: "audio", direction: "sendonly", codecs: [PCMA] }]);
      await stream.addConsumer(viewer);
      await waitFor("camera audio", () => viewer.frames.audio.length >= 3, 5_000);
      expect(camera.requests.filter((r) => r.method === "SETUP").map((r) => r.uri.split("/").pop())).toEqual([
        "speaker",
        "mic",
      ]);
    },
    10_000,
  );

  it.skipIf(!measurable || !hasOpus)(
    "leaves no socket, pipe, timer or process behind after talkers over TCP, UDP and through ffmpeg (needs ffmpeg with libopus)",
    async () => {
      const made = await ffmpeg([
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=0.5",
        "-c:a",
        "libopus",
        "-f",
        "mpegts",
        "pipe:1",
      ]);
      const demux = new TsDemuxer();
      const opus = [...demux.push(made.stdout), ...demux.flush()].map((o) => o.frame);
      await sleep(100);
      const before = resources();
      for (const transport of ["tcp", "udp"]) {
        camera = await new BackchannelCamera().start();
        stream = new Stream("door", [`${camera.url}#transport=${transport}`], { graceMs: 50 });
        const talker = new AudioTalker([{ name: "OPUS", clockRate: 48000, channels: 2 }]);
        await stream.addConsumer(talker);
        await talk(talker, opus);
        await waitFor("audio at the camera", () => camera!.speakerPackets.length >= 10, 10_000);
        await stream.removeConsumer(talker);
        await stream.close();
        await camera.close();
        stream = undefined;
        camera = undefined;
      }
      await waitFor("every resource released", () => grown(before) === "[]", 5_000).catch(() => {
        expect(grown(before)).toBe("[]");
      });
    },
    30_000,
  );

  it("a talker-only session is not ended by the read timeout (the camera sends nothing back)", async () => {
    camera = await new BackchannelCamera().start();
    // #timeout=1: a receiving session without data for 1 s would be closed.
    stream = new Stream("door", [`${camera.url}#timeout=1`], { graceMs: 200 });
    const talker = new AudioTalker([PCMA]);
    await stream.addConsumer(talker);
    for (let i = 0; i < 25; i++) {
      talker.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160) });
      await sleep(100); // 2.5 s at a slow pace
    }
    await waitFor("25 packets", () => camera!.speakerPackets.length >= 25, 3_000);
    expect(camera.requests.filter((r) => r.method === "DESCRIBE").length).toBe(1);
    expect(camera.requests.some((r) => r.method === "TEARDOWN")).toBe(false);
  }, 15_000);

  it("sends over UDP with #transport=udp", async () => {
    camera = await new BackchannelCamera().start();
    stream = new Stream("door", [`${camera.url}#transport=udp`], { graceMs: 200 });
    const talker = new AudioTalker([PCMA]);
    await stream.addConsumer(talker);
    await waitPlaying(camera);
    for (let i = 0; i < 20; i++) {
      talker.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160).fill(0x55 + (i & 1)) });
    }
    await waitFor("20 packets over UDP", () => camera!.speakerPackets.length >= 20, 5_000);
    expect([...camera.speakerTransports]).toEqual(["udp"]);
    expectWellFormed(camera.speakerPackets, 8);
    const setup = camera.requests.find((r) => r.method === "SETUP")!;
    expect(setup.headers.get("Transport")).toContain("client_port=");
  }, 15_000);

  it("#backchannel=0 sends no Require header and offers no backchannel", async () => {
    camera = await new BackchannelCamera().start();
    const producer = await RtspClientProducer.dial(`${camera.url}#backchannel=0`);
    try {
      expect(camera.describes()).toEqual([false]);
      expect(producer.medias().map((m) => `${m.kind}:${m.direction}`)).toEqual(["audio:recvonly"]);
    } finally {
      await producer.stop();
    }
    stream = new Stream("door", [`${camera.url}#backchannel=0`], { graceMs: 200 });
    await expect(stream.addConsumer(new AudioTalker([PCMA]))).rejects.toThrow(
      /none of its sources has a backchannel/,
    );
  }, 10_000);

  it("asks again without the Require header when the camera answers 551 Option Not Supported", async () => {
    camera = await new BackchannelCamera({ backchannel: "refuse" }).start();
    const producer = await RtspClientProducer.dial(camera.url);
    try {
      expect(camera.describes()).toEqual([true, false]);
      expect(producer.medias().map((m) => `${m.kind}:${m.direction}`)).toEqual(["audio:recvonly"]);
      // The camera's own audio still plays.
      const viewer = new RecordingConsumer([{ kind: "audio", direction: "sendonly", codecs: [PCMA] }]);
      stream = new Stream("door", [camera.url], { graceMs: 200 });
      await stream.addConsumer(viewer);
      await waitFor("camera audio", () => viewer.frames.audio.length >= 3, 5_000);
      await expect(stream.addConsumer(new AudioTalker([PCMA]))).rejects.toThrow(
        /none of its sources has a backchannel/,
      );
    } finally {
      await producer.stop();
    }
  }, 10_000);

  it("dials again without the Require header when the camera hangs up on it", async () => {
    camera = await new BackchannelCamera({ backchannel: "hangup" }).start();
    const producer = await RtspClientProducer.dial(camera.url);
    try {
      expect(camera.describes()).toEqual([true, false]);
      expect(new Set(camera.requests.map((r) => r.conn)).size).toBe(2);
      expect(producer.medias().length).toBe(1);
    } finally {
      await producer.stop();
    }
  }, 10_000);

  it("a second talker reuses the set-up backchannel; timestamps and sequence numbers continue", async () => {
    camera = await new BackchannelCamera().start();
    stream = new Stream("door", [camera.url], { graceMs: 5_000 });
    // A viewer of the camera's microphone keeps the source running between the talkers.
    const viewer = new RecordingConsumer([{ kind: "audio", direction: "sendonly", codecs: [PCMA] }]);
    await stream.addConsumer(viewer);
    const first = new AudioTalker([PCMA]);
    await stream.addConsumer(first);
    await waitPlaying(camera);
    for (let i = 0; i < 10; i++) {
      first.push({ timestamp: 1000 + i * 160, keyframe: true, data: new Uint8Array(160) });
    }
    await waitFor("the first talker's packets", () => camera!.speakerPackets.length >= 10, 5_000);
    const requests = camera.requests.length;
    await stream.removeConsumer(first);
    const second = new AudioTalker([PCMA]);
    await stream.addConsumer(second);
    // Its own timeline starts at 0: the camera must still see one continuous stream.
    for (let i = 0; i < 10; i++) {
      second.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160) });
    }
    await waitFor("the second talker's packets", () => camera!.speakerPackets.length >= 20, 5_000);
    expectWellFormed(camera.speakerPackets, 8);
    // No reconnect (DESCRIBE, SETUP, PLAY) for the second talker: only keep-alives, if anything.
    expect(camera.requests.slice(requests).filter((r) => r.method !== "OPTIONS")).toEqual([]);
    await stream.removeConsumer(second);
    await stream.removeConsumer(viewer);
  }, 15_000);

  it(
    "a talker that comes while the camera plays makes the source reconnect with the backchannel at its first audio, which is not lost",
    async () => {
      camera = await new BackchannelCamera().start();
      stream = new Stream("door", [camera.url], { graceMs: 5_000 });
      const viewer = new RecordingConsumer([{ kind: "audio", direction: "sendonly", codecs: [PCMA] }]);
      await stream.addConsumer(viewer);
      await waitPlaying(camera);
      const talker = new AudioTalker([PCMA]);
      await stream.addConsumer(talker);
      await sleep(100);
      // Nothing said yet: the camera is left alone.
      expect(camera.requests.filter((r) => r.method === "PLAY").length).toBe(1);
      for (let i = 0; i < 10; i++) {
        talker.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160).fill(i) });
      }
      await waitFor("the talker's packets", () => camera!.speakerPackets.length >= 10, 5_000);
      expect(camera.requests.filter((r) => r.method === "PLAY").length).toBe(2);
      // Held during the reconnect, then sent in order.
      expect(camera.speakerPackets.map((p) => p.payload[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const before = viewer.frames.audio.length;
      await waitFor("camera audio after the reconnect", () => viewer.frames.audio.length > before + 3, 5_000);
    },
    15_000,
  );
});
