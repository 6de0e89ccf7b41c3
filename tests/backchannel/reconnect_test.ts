/**
 * Two-way audio across a camera reconnect: a talker attached to a stream whose source is an RTSP
 * test camera keeps talking when the camera's connection drops and strom reconnects. Its audio
 * during the gap goes nowhere (nothing piles up), and after the reconnect the camera's new
 * backchannel session gets it again (a new SSRC, each session a well-formed RTP stream), which
 * ffmpeg decodes. A camera that comes back without a backchannel closes a talker that only talks,
 * with a BackchannelLostError.
 */
import { afterEach, describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { AudioTalker, BackchannelLostError } from "../../lib/core/backchannel.ts";
import type { Codec } from "../../lib/core/codec.ts";
import type { Frame } from "../../lib/core/frame.ts";
import { Stream } from "../../lib/core/stream.ts";
import { StreamHub } from "../../lib/core/hub.ts";
import { Receiver } from "../../lib/core/fanout.ts";
import { RecordingConsumer } from "../../lib/core/_testing.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { registerRtspSources, RtspClientProducer } from "../../lib/protocol/rtsp/producer.ts";
import { registerBackchannelTranscoders } from "../../lib/protocol/ffmpeg/audio_transcoder.ts";
import { TsDemuxer } from "../../lib/format/mpegts/ts_demuxer.ts";
import type { RtpPacket } from "../../lib/rtp/packet.ts";
import { BackchannelCamera } from "../_support/backchannel_camera.ts";
import { ffmpeg, hasEncoder, toneAlaw } from "../_support/ffmpeg.ts";
import { grownSince as grown, resources, resourcesMeasurable as measurable } from "../_support/resources.ts";
import { concatBytes, hasTool } from "../_support/process.ts";
import { sleep, waitFor } from "../rtsp/_helpers.ts";

const hasFfmpeg = await hasTool("ffmpeg");
const hasOpus = hasFfmpeg && await hasEncoder("libopus");

const PCMA: Codec = { name: "PCMA", clockRate: 8000 };
/** Reconnect quickly: the first retry 100 ms after the drop. */
const FAST = { graceMs: 200, reconnectDelaysMs: [100, 200] };

/** 20 ms A-law frames with timestamps counting samples from `start`. */
function alawFrames(bytes: Uint8Array, start = 0): Frame[] {
  const frames: Frame[] = [];
  for (let off = 0; off < bytes.length; off += 160) {
    frames.push({ timestamp: start + off, keyframe: true, data: bytes.subarray(off, off + 160) });
  }
  return frames;
}

/** Pushes frames at twice real time (10 per 100 ms). */
async function talk(push: (f: Frame) => void, frames: Frame[]): Promise<void> {
  for (let i = 0; i < frames.length; i += 10) {
    for (const f of frames.slice(i, i + 10)) push(f);
    await sleep(100);
  }
}

/** ffmpeg's decoding of A-law: seconds of audio and the tone's frequency (zero crossings). */
async function decode(alaw: Uint8Array): Promise<{ seconds: number; hz: number }> {
  const res = await ffmpeg(["-f", "alaw", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-f", "s16le", "pipe:1"], 15_000, alaw);
  if (res.code !== 0) throw new Error(`ffmpeg could not decode the camera's audio: ${res.stderr}`);
  const out = res.stdout;
  const samples = new Int16Array(out.buffer.slice(out.byteOffset, out.byteOffset + (out.length & ~1))).subarray(800);
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1] < 0) !== (samples[i] < 0)) crossings++;
  return { seconds: out.length / 2 / 8000, hz: crossings / 2 / (samples.length / 8000) };
}

/** One SSRC, one payload type, sequence +1 and timestamps advancing by the samples sent. */
function expectWellFormed(packets: RtpPacket[], pt = 8): void {
  expect(packets.length).toBeGreaterThan(0);
  expect(new Set(packets.map((p) => p.payloadType))).toEqual(new Set([pt]));
  expect(new Set(packets.map((p) => p.ssrc)).size).toBe(1);
  for (let i = 1; i < packets.length; i++) {
    expect((packets[i].sequenceNumber - packets[i - 1].sequenceNumber) & 0xffff).toBe(1);
    const dt = (packets[i].timestamp - packets[i - 1].timestamp) >>> 0;
    expect(dt).toBeGreaterThanOrEqual(packets[i - 1].payload.length);
    expect(dt).toBeLessThan(8000 * 5); // no jump beyond the seconds that passed
  }
}

function plays(camera: BackchannelCamera): number {
  return camera.requests.filter((r) => r.method === "PLAY").length;
}

/** Drops the camera's connections and waits for strom to be playing again on a new one. */
async function dropAndWaitReconnect(camera: BackchannelCamera): Promise<void> {
  const before = plays(camera);
  camera.dropConnections();
  await waitFor("strom to reconnect to the camera", () => plays(camera) > before, 10_000);
  await sleep(50);
}

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

describe("two-way audio across a camera reconnect", () => {
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
    "a talker keeps talking: audio in the gap is dropped, then the new backchannel session gets it and ffmpeg decodes it (needs ffmpeg)",
    async () => {
      camera = await new BackchannelCamera().start();
      const alaw = await toneAlaw(1);
      stream = new Stream("door", [camera.url], FAST);
      const talker = new AudioTalker([PCMA]);
      await stream.addConsumer(talker);
      await waitFor("the camera to play", () => plays(camera!) === 1, 5_000);
      await talk((f) => talker.push(f), alawFrames(alaw));
      await waitFor("1 s of audio before the drop", () => camera!.speakerPackets.length >= 50, 5_000);
      const first = camera.speakerPackets.splice(0);

      // The camera goes away; the talker goes on talking (2 s at 8x real time: nowhere to go).
      const before = plays(camera);
      camera.dropConnections();
      for (let i = 0; i < 100; i++) talker.push({ timestamp: 8000 + i * 160, keyframe: true, data: new Uint8Array(160) });
      await waitFor("strom to reconnect", () => plays(camera!) > before, 10_000);
      await sleep(50);
      // The talker stayed attached; the camera's new session set its speaker up before PLAY.
      expect(stream.consumers()).toContain(talker);
      expect(talker.error).toBeUndefined();
      const setups = camera.requests.filter((r) => r.method === "SETUP").map((r) => `${r.conn}:${r.uri.split("/").pop()}`);
      expect(setups).toEqual(["1:speaker", "2:speaker"]);
      expect(camera.describes()).toEqual([true, true]);
      // Nothing of the gap piled up for the new session (at most what was held, 1 s, is bounded).
      expect(camera.speakerPackets.length).toBeLessThanOrEqual(50);
      camera.speakerPackets.length = 0;

      await talk((f) => talker.push(f), alawFrames(alaw, 40_000));
      await waitFor("1 s of audio after the reconnect", () => camera!.speakerPackets.length >= 50, 5_000);
      const second = camera.speakerPackets.slice(0, 50);
      expectWellFormed(first);
      expectWellFormed(second);
      expect(second[0].ssrc).not.toBe(first[0].ssrc);
      expect(concatBytes(second.map((p) => p.payload))).toEqual(alaw);
      const heard = await decode(concatBytes(second.map((p) => p.payload)));
      expect(heard.seconds).toBeCloseTo(1, 1);
      expect(Math.abs(heard.hz - 440)).toBeLessThan(10);
      await stream.removeConsumer(talker);
    },
    30_000,
  );

  it.skipIf(!hasOpus)(
    "an Opus talker through ffmpeg talks again after the reconnect; ffmpeg stops with the talker (needs ffmpeg with libopus)",
    async () => {
      camera = await new BackchannelCamera().start();
      const made = await ffmpeg([
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=1.5",
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
      const opus = [...demux.push(made.stdout), ...demux.flush()].map((o) => o.frame);
      stream = new Stream("door", [camera.url], FAST);
      const talker = new AudioTalker([{ name: "OPUS", clockRate: 48000, channels: 2 }]);
      await stream.addConsumer(talker);
      await talk((f) => talker.push(f), opus.slice(0, 25));
      await waitFor("audio before the drop", () => camera!.speakerPackets.length >= 10, 10_000);
      await dropAndWaitReconnect(camera);
      expect(transcoderProcesses()).toBe(1); // the same ffmpeg carries on
      camera.speakerPackets.length = 0;
      // Later Opus timestamps: the talker's clock went on during the gap.
      await talk((f) => talker.push({ ...f, timestamp: f.timestamp + 480_000 }), opus);
      await waitFor("1.2 s of audio after the reconnect", () => camera!.speakerPackets.length >= 60, 10_000);
      const packets = camera.speakerPackets.slice();
      expectWellFormed(packets);
      const heard = await decode(concatBytes(packets.map((p) => p.payload)));
      expect(heard.seconds).toBeGreaterThan(1.1);
      expect(Math.abs(heard.hz - 440)).toBeLessThan(15);
      expect(transcoderProcesses()).toBe(1);
      await stream.removeConsumer(talker);
      await waitFor("ffmpeg to exit after the talker left", () => transcoderProcesses() === 0, 5_000);
    },
    40_000,
  );

  it.skipIf(!hasFfmpeg)(
    "an RTSP client talking through strom's RTSP server (?backchannel=1) is heard again after the camera reconnects (needs ffmpeg)",
    async () => {
      camera = await new BackchannelCamera().start();
      const alaw = await toneAlaw(1);
      const hub = new StreamHub(FAST);
      hub.set("door", [camera.url]);
      const server = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      try {
        const client = await RtspClientProducer.dial(`rtsp://127.0.0.1:${server.addr.port}/door?backchannel=1`);
        const speaker = client.medias().find((m) => m.direction === "sendonly")!;
        const mic = new Receiver({ kind: "audio", direction: "recvonly", codecs: [PCMA] }, speaker.codecs[0]);
        await client.addTrack(speaker, speaker.codecs[0], mic);
        const run = client.start();
        await waitFor("the camera to play", () => plays(camera!) >= 1, 5_000);
        await talk((f) => mic.push(f), alawFrames(alaw.subarray(0, 4000)));
        await waitFor("audio before the drop", () => camera!.speakerPackets.length >= 25, 5_000);
        await dropAndWaitReconnect(camera);
        camera.speakerPackets.length = 0;
        await talk((f) => mic.push(f), alawFrames(alaw, 16_000));
        await waitFor("1 s of audio after the reconnect", () => camera!.speakerPackets.length >= 50, 5_000);
        expectWellFormed(camera.speakerPackets);
        const heard = await decode(concatBytes(camera.speakerPackets.map((p) => p.payload)));
        expect(Math.abs(heard.hz - 440)).toBeLessThan(10);
        await client.stop();
        await run.catch(() => {});
      } finally {
        await server.close();
        await hub.close();
      }
    },
    30_000,
  );

  it.skipIf(!hasFfmpeg)(
    "a camera that is down for a while and restarts on the same port hears the talker again (needs ffmpeg)",
    async () => {
      camera = await new BackchannelCamera().start();
      const port = camera.port;
      const alaw = await toneAlaw(1);
      stream = new Stream("door", [camera.url], FAST);
      const talker = new AudioTalker([PCMA]);
      await stream.addConsumer(talker);
      await talk((f) => talker.push(f), alawFrames(alaw.subarray(0, 2000)));
      await waitFor("audio before the restart", () => camera!.speakerPackets.length >= 10, 5_000);
      await camera.close();
      // Down for ~1 s: the reconnects fail (connection refused) and go on, the talker keeps talking.
      for (let i = 0; i < 10; i++) {
        talker.push({ timestamp: 16_000 + i * 160, keyframe: true, data: new Uint8Array(160) });
        await sleep(100);
      }
      expect(stream.info().producers).toEqual([expect.objectContaining({ state: "reconnecting" })]);
      camera = await new BackchannelCamera().start(port);
      await waitFor("strom to reconnect to the restarted camera", () => plays(camera!) === 1, 10_000);
      await sleep(50);
      expect(camera.requests.filter((r) => r.method === "SETUP").map((r) => r.uri.split("/").pop())).toEqual([
        "speaker",
      ]);
      await talk((f) => talker.push(f), alawFrames(alaw, 40_000));
      await waitFor("1 s of audio after the restart", () => camera!.speakerPackets.length >= 50, 5_000);
      expectWellFormed(camera.speakerPackets);
      expect(concatBytes(camera.speakerPackets.slice(0, 50).map((p) => p.payload))).toEqual(alaw);
      expect(talker.error).toBeUndefined();
      await stream.removeConsumer(talker);
    },
    30_000,
  );

  it.skipIf(!hasFfmpeg)(
    "a camera whose speaker takes another codec after the reconnect gets the talker's audio converted (needs ffmpeg)",
    async () => {
      camera = await new BackchannelCamera().start();
      const alaw = await toneAlaw(1);
      stream = new Stream("door", [camera.url], FAST);
      const talker = new AudioTalker([PCMA]);
      await stream.addConsumer(talker);
      for (let i = 0; i < 5; i++) talker.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160) });
      await waitFor("audio before the drop", () => camera!.speakerPackets.length >= 5, 5_000);
      camera.options.speaker = ["0 PCMU/8000"]; // reconfigured while it was away
      await dropAndWaitReconnect(camera);
      camera.speakerPackets.length = 0;
      await talk((f) => talker.push(f), alawFrames(alaw, 8000));
      await waitFor("1 s of audio after the reconnect", () => camera!.speakerPackets.length >= 50, 5_000);
      expectWellFormed(camera.speakerPackets, 0);
      const res = await ffmpeg(
        ["-f", "mulaw", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-f", "alaw", "pipe:1"],
        15_000,
        concatBytes(camera.speakerPackets.map((p) => p.payload)),
      );
      expect(res.code).toBe(0);
      const heard = await decode(res.stdout);
      expect(Math.abs(heard.hz - 440)).toBeLessThan(10);
      expect(talker.error).toBeUndefined();
      expect(transcoderProcesses()).toBe(0); // G.711 to G.711 in process
      await stream.removeConsumer(talker);
    },
    20_000,
  );

  it("a talker that has not spoken yet is re-attached without setting the speaker up until it speaks", async () => {
    camera = await new BackchannelCamera().start();
    stream = new Stream("door", [camera.url], { ...FAST, graceMs: 5_000 });
    const viewer = new RecordingConsumer([{ kind: "audio", direction: "sendonly", codecs: [PCMA] }]);
    await stream.addConsumer(viewer);
    await waitFor("the camera to play", () => plays(camera!) === 1, 5_000);
    const talker = new AudioTalker([PCMA]);
    await stream.addConsumer(talker);
    await dropAndWaitReconnect(camera);
    const controls = () => camera!.requests.filter((r) => r.method === "SETUP").map((r) => r.uri.split("/").pop());
    expect(controls()).toEqual(["mic", "mic"]);
    for (let i = 0; i < 10; i++) talker.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160).fill(i) });
    await waitFor("the talker's packets", () => camera!.speakerPackets.length >= 10, 5_000);
    expect(controls().slice(2)).toEqual(["mic", "speaker"]);
    expect(camera.speakerPackets.map((p) => p.payload[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const frames = viewer.frames.audio.length;
    await waitFor("the camera's audio plays on", () => viewer.frames.audio.length > frames + 3, 5_000);
  }, 20_000);

  it("a camera that comes back without a backchannel closes a talker that only talks, saying why", async () => {
    camera = await new BackchannelCamera().start();
    stream = new Stream("door", [camera.url], FAST);
    const talker = new AudioTalker([PCMA]);
    const errors: Error[] = [];
    talker.onError = (e) => errors.push(e);
    await stream.addConsumer(talker);
    for (let i = 0; i < 5; i++) talker.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160) });
    await waitFor("audio before the drop", () => camera!.speakerPackets.length >= 5, 5_000);
    camera.options.backchannel = "refuse"; // e.g. two-way audio turned off in the camera
    await dropAndWaitReconnect(camera);
    await waitFor("the talker to be closed", () => !stream!.consumers().includes(talker), 5_000);
    expect(errors.length).toBe(1);
    expect(errors[0]).toBeInstanceOf(BackchannelLostError);
    expect(errors[0].message).toMatch(/reconnected without its backchannel .*PCMA\/8000: it offers no backchannel now/);
    expect((errors[0] as BackchannelLostError).stream).toBe("door");
    // Nobody left: the source stops after the grace period instead of reconnecting forever.
    await waitFor("the source to stop", () => stream!.producers().length === 0, 5_000);
  }, 20_000);

  it("a talker that also watches keeps watching when the camera comes back without a backchannel", async () => {
    camera = await new BackchannelCamera().start();
    stream = new Stream("door", [camera.url], FAST);
    // One consumer that plays the camera's microphone and talks (as a WebRTC peer with sendrecv audio).
    const both = new (class extends RecordingConsumer {
      lost: Error | undefined;
      readonly mic = new AudioTalker([PCMA]);
      constructor() {
        super([{ kind: "audio", direction: "sendonly", codecs: [PCMA] }, ...new AudioTalker([PCMA]).medias()]);
      }
      track(media: import("../../lib/core/media.ts").Media, codec: Codec) {
        return this.mic.track(media, codec);
      }
      backchannelLost(error: Error) {
        this.lost = error;
      }
    })();
    await stream.addConsumer(both);
    for (let i = 0; i < 5; i++) both.mic.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160) });
    await waitFor("audio before the drop", () => camera!.speakerPackets.length >= 5, 5_000);
    camera.options.backchannel = "refuse";
    await dropAndWaitReconnect(camera);
    await waitFor("the talker to be told", () => both.lost !== undefined, 5_000);
    expect(both.lost).toBeInstanceOf(BackchannelLostError);
    expect(stream.consumers()).toContain(both);
    const frames = both.frames.audio.length;
    await waitFor("the camera's audio plays on", () => both.frames.audio.length > frames + 3, 5_000);
  }, 20_000);

  it.skipIf(!measurable)(
    "leaves no socket, timer or process behind after a talker lived through reconnects",
    async () => {
      await sleep(100);
      const before = resources();
      for (const transport of ["tcp", "udp"]) {
        camera = await new BackchannelCamera().start();
        stream = new Stream("door", [`${camera.url}#transport=${transport}`], { ...FAST, graceMs: 50 });
        const talker = new AudioTalker([PCMA]);
        await stream.addConsumer(talker);
        for (let i = 0; i < 5; i++) talker.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160) });
        await waitFor("audio at the camera", () => camera!.speakerPackets.length >= 5, 5_000);
        await dropAndWaitReconnect(camera);
        camera.speakerPackets.length = 0;
        for (let i = 0; i < 5; i++) talker.push({ timestamp: 800 + i * 160, keyframe: true, data: new Uint8Array(160) });
        await waitFor("audio after the reconnect", () => camera!.speakerPackets.length >= 5, 5_000);
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
});
