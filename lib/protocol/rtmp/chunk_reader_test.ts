import { describe, expect, test } from "bun:test";
import { ChunkReader } from "./chunk_reader.ts";
import { ChunkWriter } from "./chunk_writer.ts";
import { controlMessage, RtmpError, type RtmpMessage, RtmpMessageType } from "./messages.ts";

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function collect(reader: (push: (m: RtmpMessage) => void) => ChunkReader) {
  const got: RtmpMessage[] = [];
  const r = reader((m) => got.push({ ...m, payload: m.payload.slice() }));
  return { r, got };
}

describe("ChunkReader + ChunkWriter", () => {
  test("round-trips messages of many sizes through every split of the byte stream", () => {
    const w = new ChunkWriter();
    w.chunkSize = 100;
    const msgs: RtmpMessage[] = [
      { csid: 6, type: 9, streamId: 1, timestamp: 0, payload: bytes(1000, 1) },
      { csid: 4, type: 8, streamId: 1, timestamp: 23, payload: bytes(7, 2) },
      { csid: 3, type: 20, streamId: 0, timestamp: 0, payload: bytes(0, 3) },
      { csid: 300, type: 9, streamId: 1, timestamp: 0x1000000 + 5, payload: bytes(250, 4) },
      { csid: 70, type: 18, streamId: 1, timestamp: 40, payload: bytes(100, 5) },
    ];
    const wire: Uint8Array[] = [w.encode(controlMessage(RtmpMessageType.SET_CHUNK_SIZE, 100))];
    for (const m of msgs) wire.push(w.encode(m));
    const all = new Uint8Array(wire.reduce((n, b) => n + b.length, 0));
    let o = 0;
    for (const b of wire) {
      all.set(b, o);
      o += b.length;
    }
    for (const step of [1, 2, 3, 7, 17, 101, 4096]) {
      const { r, got } = collect((push) => new ChunkReader(push));
      for (let p = 0; p < all.length; p += step) r.push(all.subarray(p, Math.min(all.length, p + step)));
      expect(r.chunkSize).toBe(100);
      expect(got.length).toBe(msgs.length);
      for (let i = 0; i < msgs.length; i++) {
        expect(got[i].csid).toBe(msgs[i].csid);
        expect(got[i].type).toBe(msgs[i].type);
        expect(got[i].streamId).toBe(msgs[i].streamId);
        expect(got[i].timestamp).toBe(msgs[i].timestamp);
        expect(got[i].payload).toEqual(msgs[i].payload);
      }
      expect(r.pendingBytes).toBe(0);
    }
  });

  test("encodeAll writes the same bytes as one encode per message", () => {
    const w = new ChunkWriter();
    w.chunkSize = 64;
    const msgs: RtmpMessage[] = [
      { csid: 4, type: 8, streamId: 1, timestamp: 21, payload: bytes(10, 1) },
      { csid: 6, type: 9, streamId: 1, timestamp: 0xffffff + 1, payload: bytes(200, 2) },
      { csid: 400, type: 8, streamId: 1, timestamp: 43, payload: bytes(64, 3) },
    ];
    const each = msgs.map((m) => w.encode(m));
    const joined = new Uint8Array(each.reduce((n, b) => n + b.length, 0));
    let o = 0;
    for (const b of each) {
      joined.set(b, o);
      o += b.length;
    }
    expect(w.encodeAll(msgs)).toEqual(joined);
  });

  test("applies type 1, 2 and 3 headers as deltas on their chunk stream", () => {
    // fmt0 ts=1000 len=2 type=8 sid=1 | fmt1 delta=20 len=1 type=9 | fmt2 delta=5 | fmt3 (delta 5 again)
    const wire = new Uint8Array([
      0x04, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x02, 0x08, 0x01, 0x00, 0x00, 0x00, 0xaa, 0xbb,
      0x44, 0x00, 0x00, 0x14, 0x00, 0x00, 0x01, 0x09, 0xcc,
      0x84, 0x00, 0x00, 0x05, 0xdd,
      0xc4, 0xee,
    ]);
    const { r, got } = collect((push) => new ChunkReader(push));
    r.push(wire);
    expect(got.map((m) => [m.type, m.timestamp, m.streamId, m.payload.length])).toEqual([
      [8, 1000, 1, 2],
      [9, 1020, 1, 1],
      [9, 1025, 1, 1],
      [9, 1030, 1, 1],
    ]);
  });

  test("rejects a chunk stream whose first header is not type 0, naming it and the offset", () => {
    const r = new ChunkReader(() => {});
    expect(() => r.push(new Uint8Array([0x45, 0, 0, 0, 0, 0, 1, 9]))).toThrow(
      /byte 0: chunk stream 5 starts with a type-1 header/,
    );
  });

  test("rejects a message longer than the limit before allocating it", () => {
    const r = new ChunkReader(() => {}, { maxMessageBytes: 1024 });
    let error: unknown;
    try {
      r.push(new Uint8Array([0x06, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RtmpError);
    expect((error as RtmpError).code).toBe("Chunk");
    expect((error as Error).message).toMatch(/16777215-byte message \(type 9\), over the 1024-byte limit/);
  });

  test("rejects a huge or zero Set Chunk Size", () => {
    const w = new ChunkWriter();
    const r = new ChunkReader(() => {});
    expect(() => r.push(w.encode(controlMessage(RtmpMessageType.SET_CHUNK_SIZE, 0x7fffffff)))).toThrow(
      /Set Chunk Size .*2147483647 is outside 1\.\.16777216/,
    );
    const r2 = new ChunkReader(() => {});
    expect(() => r2.push(w.encode(controlMessage(RtmpMessageType.SET_CHUNK_SIZE, 0)))).toThrow(/0 is outside/);
  });

  test("bounds the chunk streams and the bytes of unfinished messages", () => {
    const w = new ChunkWriter();
    const r = new ChunkReader(() => {}, { maxChunkStreams: 4 });
    expect(() => {
      for (let csid = 3; csid < 10; csid++) r.push(w.encode({ csid, type: 8, streamId: 1, timestamp: 0, payload: bytes(4, 0) }));
    }).toThrow(/more than 4 chunk streams/);
    const r2 = new ChunkReader(() => {}, { maxPendingBytes: 1000 });
    expect(() => {
      // Many messages started (first chunk only) on different chunk streams.
      for (let csid = 3; csid < 60; csid++) r2.push(w.encode({ csid, type: 9, streamId: 1, timestamp: 0, payload: bytes(600, 0) }).subarray(0, 12 + 128));
    }).toThrow(/unfinished messages would hold/);
  });

  test("rejects a new header in the middle of a message", () => {
    const w = new ChunkWriter();
    const first = w.encode({ csid: 6, type: 9, streamId: 1, timestamp: 0, payload: bytes(300, 0) }).subarray(0, 12 + 128);
    const r = new ChunkReader(() => {});
    r.push(first);
    expect(() => r.push(w.encode({ csid: 6, type: 9, streamId: 1, timestamp: 0, payload: bytes(3, 0) }))).toThrow(
      /type-0 header on chunk stream 6 while its 300-byte message is 172 bytes short/,
    );
  });

  test("Abort Message drops the unfinished message of a chunk stream", () => {
    const w = new ChunkWriter();
    const { r, got } = collect((push) => new ChunkReader(push));
    r.push(w.encode({ csid: 6, type: 9, streamId: 1, timestamp: 0, payload: bytes(300, 0) }).subarray(0, 12 + 128));
    expect(r.pendingBytes).toBe(300);
    r.push(w.encode(controlMessage(RtmpMessageType.ABORT, 6)));
    expect(r.pendingBytes).toBe(0);
    r.push(w.encode({ csid: 6, type: 9, streamId: 1, timestamp: 0, payload: bytes(3, 0) }));
    expect(got.length).toBe(1);
  });

  test("hands out a message that fits one chunk as a view, without copying", () => {
    const w = new ChunkWriter();
    const wire = w.encode({ csid: 4, type: 8, streamId: 1, timestamp: 0, payload: bytes(50, 0) });
    let payload: Uint8Array | undefined;
    new ChunkReader((m) => (payload = m.payload)).push(wire);
    expect(payload!.buffer).toBe(wire.buffer);
  });
});
