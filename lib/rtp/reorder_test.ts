import { describe, expect, it } from "bun:test";
import { ReorderBuffer } from "./reorder.ts";
import type { RtpPacket } from "./packet.ts";
import { loadCapture, seededRandom } from "../../tests/_support/fixtures.ts";

const pkt = (seq: number): RtpPacket => ({
  payloadType: 96,
  sequenceNumber: seq & 0xffff,
  timestamp: seq * 160,
  ssrc: 1,
  marker: false,
  payload: new Uint8Array([seq & 0xff]),
});

function run(seqs: number[], opts: { capacity?: number; maxDelay?: number; flush?: boolean } = {}) {
  const out: number[] = [];
  const rb = new ReorderBuffer({ ...opts, onPacket: (p) => out.push(p.sequenceNumber) });
  let maxSize = 0;
  for (const s of seqs) {
    rb.push(pkt(s));
    maxSize = Math.max(maxSize, rb.size);
  }
  if (opts.flush !== false) rb.flush();
  return { out, rb, maxSize };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => (from + i) & 0xffff);

describe("ReorderBuffer", () => {
  it("passes a real capture through unchanged, across the 16-bit wrap", async () => {
    const packets = await loadCapture(new URL("./testdata/ffmpeg_pcma_rtcp.rtp", import.meta.url));
    expect(packets[0].sequenceNumber).toBe(65500); // the capture starts near the wrap
    const out: RtpPacket[] = [];
    const rb = new ReorderBuffer({ onPacket: (p) => out.push(p) });
    for (const p of packets) {
      rb.push(p);
      expect(rb.size).toBe(0); // in order: nothing is held
    }
    expect(out).toEqual(packets);
    expect([rb.lost, rb.late, rb.duplicate]).toEqual([0, 0, 0]);
  });

  it("restores order of a shuffled real capture", async () => {
    const packets = await loadCapture(new URL("./testdata/ffmpeg_pcma_rtcp.rtp", import.meta.url));
    const rand = seededRandom(7);
    // Displace each packet by up to 8 positions, as UDP over a busy link might.
    const keyed = packets.map((p, i) => ({ p, k: i + rand() * 8 }));
    keyed.sort((x, y) => x.k - y.k);
    const out: RtpPacket[] = [];
    const rb = new ReorderBuffer({ onPacket: (p) => out.push(p) });
    for (const { p } of keyed) rb.push(p);
    rb.flush();
    expect(out.map((p) => p.sequenceNumber)).toEqual(packets.map((p) => p.sequenceNumber));
    expect([rb.lost, rb.late, rb.duplicate, rb.emitted]).toEqual([0, 0, 0, packets.length]);
  });

  it("gives up on lost packets after maxDelay packets and counts them", () => {
    const seqs = range(65530, 40).filter((s) => s !== 65533 && s !== 2 && s !== 3);
    const { out, rb, maxSize } = run(seqs, { maxDelay: 4, flush: false });
    expect(out).toEqual(seqs);
    expect(rb.lost).toBe(3);
    expect(maxSize).toBeLessThanOrEqual(4);
  });

  it("drops duplicates, whether held or already emitted", () => {
    const { out, rb } = run([10, 12, 12, 11, 11, 10, 13]);
    expect(out).toEqual([10, 11, 12, 13]);
    expect(rb.duplicate).toBe(3);
    expect(rb.late).toBe(0);
  });

  it("counts a packet that arrives after its hole was skipped as late", () => {
    const { out, rb } = run([1, 3, 4, 5, 2, 6], { maxDelay: 3 });
    expect(out).toEqual([1, 3, 4, 5, 6]);
    expect(rb.lost).toBe(1);
    expect(rb.late).toBe(1);
  });

  it("moves the window on a burst loss larger than its capacity", () => {
    const seqs = [...range(100, 5), ...range(300, 5)];
    const { out, rb } = run(seqs, { capacity: 16 });
    expect(out).toEqual(seqs);
    expect(rb.lost).toBe(195);
    expect(rb.resyncs).toBe(0);
  });

  it("treats a confirmed far jump as a sender restart, and ignores a lone stray packet", () => {
    const seqs = [...range(1000, 5), 40000, ...range(1005, 3), ...range(20000, 5)];
    const { out, rb } = run(seqs);
    expect(out).toEqual([...range(1000, 8), ...range(20000, 5)]);
    expect(rb.resyncs).toBe(1);
    expect(rb.late).toBe(1); // the stray 40000
    expect(rb.lost).toBe(0);
  });

  it("treats a confirmed jump backwards (sender restarted lower) as a restart", () => {
    const { out, rb } = run([...range(5000, 5), ...range(10, 5)]);
    expect(out).toEqual([...range(5000, 5), ...range(10, 5)]);
    expect(rb.resyncs).toBe(1);
  });

  it("survives random loss, duplication and reordering with wraparound", () => {
    const rand = seededRandom(12345);
    const sent = range(65000, 3000);
    const wire: number[] = [];
    for (const s of sent) {
      if (rand() < 0.05) continue; // lost
      wire.push(s);
      if (rand() < 0.03) wire.push(s); // duplicated
    }
    for (let i = 0; i < wire.length - 1; i++) {
      if (rand() < 0.1) [wire[i], wire[i + 1]] = [wire[i + 1], wire[i]]; // swapped neighbours
    }
    const { out, rb, maxSize } = run(wire);
    const unique = [...new Set(wire)];
    // Output is strictly increasing (mod 2^16) and holds every packet that arrived.
    for (let i = 1; i < out.length; i++) expect(((out[i] - out[i - 1]) & 0xffff) > 0).toBe(true);
    expect(new Set(out)).toEqual(new Set(unique));
    expect(rb.emitted + rb.duplicate + rb.late).toBe(wire.length);
    expect(rb.lost).toBe(sent.length - unique.length);
    expect(maxSize).toBeLessThanOrEqual(rb.maxDelay);
  });

  it("reset() forgets held packets", () => {
    const out: number[] = [];
    const rb = new ReorderBuffer({ onPacket: (p) => out.push(p.sequenceNumber) });
    rb.push(pkt(1));
    rb.push(pkt(3));
    rb.reset();
    rb.push(pkt(900));
    expect(out).toEqual([1, 900]);
    expect(rb.size).toBe(0);
  });
});
