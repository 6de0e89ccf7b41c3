/**
 * Two-way audio over WebRTC with a werift peer: an offer whose audio section is `sendrecv` carries
 * the peer's microphone to an RTSP test camera's ONVIF backchannel (a real RTSP peer that records
 * the RTP its speaker gets). Opus goes through the ffmpeg transcoder to the camera's PCMA; a peer
 * that offers PCMA sends it as is (the answer lists the microphone's payload type first); a source
 * with `#backchannel=0` gets nothing.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from "werift";
import { Stream } from "../../lib/core/stream.ts";
import type { Frame } from "../../lib/core/frame.ts";
import { registerRtspSources } from "../../lib/protocol/rtsp/producer.ts";
import { registerBackchannelTranscoders } from "../../lib/protocol/ffmpeg/audio_transcoder.ts";
import { TsDemuxer } from "../../lib/format/mpegts/ts_demuxer.ts";
import { WebRtcServer } from "../../lib/protocol/webrtc/mod.ts";
import { BackchannelCamera } from "../_support/backchannel_camera.ts";
import { ffmpeg, hasEncoder, toneAlaw } from "../_support/ffmpeg.ts";
import { concatBytes, hasTool } from "../_support/process.ts";
import { until } from "./_peer.ts";

const hasFfmpeg = await hasTool("ffmpeg");
const hasOpus = hasFfmpeg && await hasEncoder("libopus");

registerRtspSources();
registerBackchannelTranscoders();

const OPUS = new RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: 111 });
const PCMA = new RTCRtpCodecParameters({ mimeType: "audio/PCMA", clockRate: 8000, channels: 1, payloadType: 8 });

/** A werift peer that talks: audio `sendrecv` with the given codecs, written packet by packet. */
class Talker {
  readonly pc: RTCPeerConnection;
  readonly mic = new MediaStreamTrack({ kind: "audio" });
  /** Audio packets received from strom (the camera's microphone). */
  received: number[] = [];
  #seq = 1000;

  constructor(audio: RTCRtpCodecParameters[]) {
    this.pc = new RTCPeerConnection({
      bundlePolicy: "max-bundle",
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ["127.0.0.1"],
      iceInterfaceAddresses: { udp4: "127.0.0.1" } as never,
      codecs: { audio, video: [] },
    });
    const t = this.pc.addTransceiver(this.mic, { direction: "sendrecv" });
    t.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => void this.received.push(rtp.header.payloadType)));
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.pc.localDescription!.sdp;
  }

  async accept(answer: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: "answer", sdp: answer });
  }

  /**
   * Whether this peer's own DTLS is up. strom, the DTLS server, is connected a moment before it (the
   * peer is only when strom's Finished arrives), and werift's sender drops RTP written before that
   * without a word: a test that talks once must wait for both ends.
   */
  get connected(): boolean {
    return this.pc.connectionState === "connected";
  }

  /** The payload type werift sends with (the answer's first). */
  get sendingPt(): number | undefined {
    return this.pc.getTransceivers()[0].sender.codec?.payloadType;
  }

  /** Sends frames at twice real time (10 per 100 ms). */
  async talk(frames: Frame[]): Promise<void> {
    for (let i = 0; i < frames.length; i += 10) {
      for (const f of frames.slice(i, i + 10)) {
        const header = new RtpHeader({ payloadType: 0, sequenceNumber: this.#seq++ & 0xffff, timestamp: f.timestamp, marker: false });
        this.mic.writeRtp(new RtpPacket(header, f.data as never));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    const transports = new Set(this.pc.getTransceivers().map((t) => t.dtlsTransport).filter((d) => !!d));
    await this.pc.close();
    for (const d of transports) await d.stop().catch(() => {});
  }
}

/** Opus frames (20 ms) of a 440 Hz tone, made by ffmpeg. */
async function opusTone(seconds: number): Promise<Frame[]> {
  const made = await ffmpeg([
    "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    "-c:a", "libopus", "-b:a", "32k", "-f", "mpegts", "pipe:1",
  ]);
  if (made.code !== 0) throw new Error(`ffmpeg failed: ${made.stderr}`);
  const demux = new TsDemuxer();
  return [...demux.push(made.stdout), ...demux.flush()].map((o) => o.frame);
}

/** A-law frames (20 ms, 160 bytes) of a 440 Hz tone, made by ffmpeg. */
async function alawTone(seconds: number): Promise<{ bytes: Uint8Array; frames: Frame[] }> {
  const bytes = await toneAlaw(seconds);
  const frames: Frame[] = [];
  for (let off = 0; off < bytes.length; off += 160) {
    frames.push({ timestamp: off, keyframe: true, data: bytes.subarray(off, off + 160) });
  }
  return { bytes, frames };
}

/** The camera's A-law decoded by ffmpeg; returns the tone's frequency from zero crossings. */
async function decodedFrequency(alaw: Uint8Array): Promise<{ seconds: number; hz: number }> {
  const res = await ffmpeg(["-f", "alaw", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-f", "s16le", "pipe:1"], 15_000, alaw);
  if (res.code !== 0) throw new Error(`ffmpeg could not decode the camera's audio: ${res.stderr}`);
  const out = res.stdout;
  const samples = new Int16Array(out.buffer.slice(out.byteOffset, out.byteOffset + (out.length & ~1))).subarray(800);
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1] < 0) !== (samples[i] < 0)) crossings++;
  return { seconds: out.length / 2 / 8000, hz: crossings / 2 / (samples.length / 8000) };
}

describe("WebRTC two-way audio to an RTSP camera's backchannel (werift peer)", () => {
  let camera: BackchannelCamera | undefined;
  let stream: Stream | undefined;
  let server: WebRtcServer | undefined;
  let talker: Talker | undefined;
  afterEach(async () => {
    await talker?.close();
    await server?.close();
    await stream?.close();
    await camera?.close();
    talker = undefined;
    server = undefined;
    stream = undefined;
    camera = undefined;
  });

  const setUp = async (fragment = "") => {
    camera = await new BackchannelCamera().start();
    // Reconnects 100 ms after the camera drops (tests of talking across a reconnect).
    stream = new Stream("door", [camera.url + fragment], { graceMs: 200, reconnectDelaysMs: [100, 200] });
    server = new WebRtcServer({ ice: { bindAddress: "127.0.0.1" }, connectTimeoutMs: 5000 });
  };

  test.skipIf(!hasOpus)("Opus from the peer reaches a PCMA camera through ffmpeg as a decodable tone (needs ffmpeg with libopus)", async () => {
    await setUp();
    talker = new Talker([OPUS]);
    const session = await server!.play(stream!, await talker.offer());
    // The camera's microphone is PCMA, which this peer does not take: the section only receives.
    expect(session.answer).toMatch(/m=audio \d+ \S+ 111\r?\n/);
    expect(session.answer).toContain("a=recvonly");
    expect(session.consumer.microphones.map((m) => m.codec.name)).toEqual(["OPUS"]);
    await talker.accept(session.answer);
    await until("the peer to connect", () => session.peer.state === "connected" && talker!.connected, 10_000);
    await talker.talk(await opusTone(2));
    await until("1.5 s of audio at the camera", () => camera!.speakerPackets.length >= 75, 15_000);
    const packets = camera!.speakerPackets;
    expect(new Set(packets.map((p) => p.payloadType))).toEqual(new Set([8]));
    const { seconds, hz } = await decodedFrequency(concatBytes(packets.map((p) => p.payload)));
    expect(seconds).toBeGreaterThan(1.5);
    expect(Math.abs(hz - 440)).toBeLessThan(15);
    expect(session.consumer.info().medias).toContain("audio, recvonly, OPUS/48000/2");
    expect(session.consumer.info().bytesIn).toBeGreaterThan(0);
  }, 40_000);

  test.skipIf(!hasFfmpeg)("PCMA from the peer goes to the camera as is, and the camera's microphone comes back on the same section (needs ffmpeg)", async () => {
    await setUp();
    talker = new Talker([OPUS, PCMA]);
    const session = await server!.play(stream!, await talker.offer());
    // sendrecv: strom sends the camera's PCMA and receives the peer's PCMA.
    expect(session.answer).toMatch(/m=audio \d+ \S+ 8\r?\n/);
    expect(session.answer).toContain("a=sendrecv");
    await talker.accept(session.answer);
    expect(talker.sendingPt).toBe(8);
    await until("the peer to connect", () => session.peer.state === "connected" && talker!.connected, 10_000);
    const tone = await alawTone(1);
    await talker.talk(tone.frames);
    await until("1 s of audio at the camera", () => camera!.speakerPackets.length >= 50, 10_000);
    const received = concatBytes(camera!.speakerPackets.map((p) => p.payload));
    expect(received).toEqual(tone.bytes);
    await until("the camera's microphone at the peer", () => talker!.received.length > 10, 5_000);
    expect(new Set(talker.received)).toEqual(new Set([8]));
  }, 30_000);

  test.skipIf(!hasFfmpeg)("the peer's PCMA reaches the camera again after the camera's connection drops and strom reconnects (needs ffmpeg)", async () => {
    await setUp();
    talker = new Talker([PCMA]);
    const lost: Error[] = [];
    const session = await server!.play(stream!, await talker.offer(), { onBackchannelLost: (e) => lost.push(e) });
    await talker.accept(session.answer);
    await until("the peer to connect", () => session.peer.state === "connected" && talker!.connected, 10_000);
    const tone = await alawTone(1);
    await talker.talk(tone.frames.slice(0, 20));
    await until("audio before the drop", () => camera!.speakerPackets.length >= 20, 10_000);
    const firstSsrc = camera!.speakerPackets[0].ssrc;
    const plays = () => camera!.requests.filter((r) => r.method === "PLAY").length;
    camera!.dropConnections();
    // The peer goes on talking while the camera is away: that audio goes nowhere.
    await talker.talk(tone.frames.slice(20, 30));
    await until("strom to reconnect to the camera", () => plays() === 2, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    camera!.speakerPackets.length = 0;
    await talker.talk(tone.frames);
    await until("1 s of audio after the reconnect", () => camera!.speakerPackets.length >= 50, 10_000);
    const packets = camera!.speakerPackets.slice(0, 50);
    expect(new Set(packets.map((p) => p.ssrc)).size).toBe(1);
    expect(packets[0].ssrc).not.toBe(firstSsrc);
    expect(concatBytes(packets.map((p) => p.payload))).toEqual(tone.bytes);
    const { hz } = await decodedFrequency(concatBytes(packets.map((p) => p.payload)));
    expect(Math.abs(hz - 440)).toBeLessThan(10);
    expect(lost).toEqual([]);
    expect(session.peer.state).toBe("connected");
  }, 40_000);

  test("a camera that comes back without its backchannel: the peer is told, and still hears the camera", async () => {
    await setUp();
    talker = new Talker([PCMA]);
    const lost: Error[] = [];
    const session = await server!.play(stream!, await talker.offer(), { onBackchannelLost: (e) => lost.push(e) });
    await talker.accept(session.answer);
    await until("the peer to connect", () => session.peer.state === "connected" && talker!.connected, 10_000);
    await talker.talk(Array.from({ length: 10 }, (_, i) => ({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160) })));
    await until("audio before the drop", () => camera!.speakerPackets.length >= 5, 10_000);
    camera!.options.backchannel = "refuse";
    camera!.dropConnections();
    await until("the peer to be told", () => lost.length > 0, 10_000);
    expect(lost[0].message).toMatch(/without its backchannel \(two-way audio\)/);
    const heard = talker.received.length;
    await until("the camera's microphone at the peer after the reconnect", () => talker!.received.length > heard + 10, 5_000);
    expect(session.peer.state).toBe("connected");
  }, 30_000);

  test.skipIf(!hasFfmpeg)("#backchannel=0: the camera's speaker gets nothing, the peer still hears the camera (needs ffmpeg)", async () => {
    await setUp("#backchannel=0");
    talker = new Talker([OPUS, PCMA]);
    const session = await server!.play(stream!, await talker.offer());
    expect(session.consumer.microphones).toEqual([]);
    expect(session.answer).toContain("a=sendonly");
    await talker.accept(session.answer);
    await until("the peer to connect", () => session.peer.state === "connected" && talker!.connected, 10_000);
    await talker.talk((await alawTone(1)).frames);
    await until("the camera's microphone at the peer", () => talker!.received.length > 10, 5_000);
    expect(camera!.speakerPackets.length).toBe(0);
    expect(camera!.requests.some((r) => r.headers.get("require")?.includes("backchannel"))).toBe(false);
  }, 30_000);
});
