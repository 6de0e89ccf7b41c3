import { describe, expect, it } from "bun:test";
import type { Codec } from "../../core/codec.ts";
import type { Media } from "../../core/media.ts";
import { Receiver } from "../../core/fanout.ts";
import { parseRtp, type RtpPacket } from "../../rtp/packet.ts";
import { MAX_HELD_PACKETS, RtspBackchannel, TALK_HOLD_MS } from "./backchannel.ts";

const PCMA: Codec = { name: "PCMA", clockRate: 8000, payloadType: 8 };
const speaker: Media = { kind: "audio", direction: "sendonly", codecs: [PCMA], id: "speaker" };
const tick = () => new Promise((r) => setTimeout(r, 0));

function setup(playing = true) {
  const sent: { channel: number; pkt: RtpPacket }[] = [];
  const state = { playing };
  const bc = new RtspBackchannel(1, speaker, PCMA, (channel, framed) => {
    if (!state.playing) return false;
    sent.push({ channel, pkt: parseRtp(framed.subarray(4)) });
    return true;
  });
  bc.channel = 2;
  return { bc, sent, state };
}

function talker(codec: Codec = PCMA): Receiver {
  return new Receiver({ kind: "audio", direction: "recvonly", codecs: [codec] }, codec);
}

describe("RtspBackchannel", () => {
  it("cuts raw G.711 into 20 ms packets with its own SSRC, payload type and sequence", async () => {
    const { bc, sent } = setup();
    const mic = talker();
    bc.attach(mic);
    mic.push({ timestamp: 5000, keyframe: true, data: new Uint8Array(480).fill(1) });
    await tick();
    expect(sent.map((s) => s.pkt.payload.length)).toEqual([160, 160, 160]);
    expect(sent.every((s) => s.channel === 2 && s.pkt.payloadType === 8)).toBe(true);
    expect(sent[1].pkt.sequenceNumber).toBe((sent[0].pkt.sequenceNumber + 1) & 0xffff);
    expect((sent[2].pkt.timestamp - sent[0].pkt.timestamp) >>> 0).toBe(320);
    expect(bc.packets).toBe(3);
  });

  it("forwards a talker's RTP packets of the same codec with rewritten headers", async () => {
    const { bc, sent } = setup();
    const mic = talker();
    bc.attach(mic);
    const pkt: RtpPacket = {
      payloadType: 97,
      sequenceNumber: 9,
      timestamp: 100,
      ssrc: 42,
      marker: true,
      payload: new Uint8Array(80),
    };
    mic.push({ timestamp: 100, keyframe: true, data: pkt.payload, packets: [pkt] });
    await tick();
    expect(sent.length).toBe(1);
    expect(sent[0].pkt.payload.length).toBe(80); // not re-cut
    expect(sent[0].pkt.payloadType).toBe(8);
    expect(sent[0].pkt.ssrc).not.toBe(42);
    expect(sent[0].pkt.marker).toBe(true);
  });

  it("holds packets until PLAY, bounded, and sends them in order on flush", async () => {
    const { bc, sent, state } = setup(false);
    const mic = talker();
    bc.attach(mic);
    for (let i = 0; i < MAX_HELD_PACKETS + 5; i++) {
      mic.push({ timestamp: i * 160, keyframe: true, data: new Uint8Array(160).fill(i & 0xff) });
    }
    await tick();
    expect(sent.length).toBe(0);
    expect(bc.held).toBe(MAX_HELD_PACKETS);
    expect(bc.drops).toBe(5);
    state.playing = true;
    expect(bc.flush()).toBe(true);
    expect(sent.length).toBe(MAX_HELD_PACKETS);
    expect(sent[0].pkt.payload[0]).toBe(5); // the oldest five were dropped
    expect(bc.held).toBe(0);
  });

  it("lets one talker talk at a time and keeps timestamps continuous when the talker changes", async () => {
    const { bc, sent } = setup();
    const a = talker();
    const b = talker();
    bc.attach(a);
    bc.attach(b);
    a.push({ timestamp: 90_000, keyframe: true, data: new Uint8Array(160) });
    await tick();
    b.push({ timestamp: 0, keyframe: true, data: new Uint8Array(160) }); // a still talks: dropped
    await tick();
    expect(sent.length).toBe(1);
    expect(bc.drops).toBe(1);
    await new Promise((r) => setTimeout(r, TALK_HOLD_MS + 50));
    b.push({ timestamp: 0, keyframe: true, data: new Uint8Array(160) }); // a fell silent: b talks
    await tick();
    expect(sent.length).toBe(2);
    const dt = (sent[1].pkt.timestamp - sent[0].pkt.timestamp) >>> 0;
    // The wall-clock silence in between, at 8 kHz (~4.4k samples), not b's own timeline.
    expect(dt).toBeGreaterThan(TALK_HOLD_MS * 8 - 100);
    expect(dt).toBeLessThan(TALK_HOLD_MS * 8 + 8000);
  });

  it("detaches every talker on close", () => {
    const { bc } = setup();
    const mic = talker();
    bc.attach(mic);
    bc.close();
    expect(mic.senders.length).toBe(0);
  });
});
