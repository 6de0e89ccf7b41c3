import { beforeAll, describe, expect, it } from "bun:test";
import { MultipartBoundaryError, MultipartWriter } from "./multipart_writer.ts";
import { multipartBoundary, MultipartParser, type MultipartPart } from "./multipart_parser.ts";
import { ffmpegDecode, ffprobeBytes } from "../../../tests/_support/ffmpeg.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { concatBytes, hasTool } from "../../../tests/_support/process.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function isJpeg(b: Uint8Array): boolean {
  return b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff &&
    b[b.length - 1] === 0xd9;
}

function parseInChunks(
  data: Uint8Array,
  size: number,
  boundary?: string,
): { parts: MultipartPart[]; parser: MultipartParser } {
  const parser = new MultipartParser({ boundary });
  const parts: MultipartPart[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(...parser.push(data.subarray(i, i + size)));
  parts.push(...parser.flush());
  return { parts, parser };
}

// The checks that need ffprobe are skipped (and counted as skipped) when it is not on PATH.
const hasFfmpeg = await hasTool("ffprobe");

describe("multipart (MJPEG)", () => {
  let stream: Uint8Array;

  beforeAll(async () => {
    stream = await loadFixture(new URL("testdata/ffmpeg_mjpeg.multipart", import.meta.url));
  });

  it("writes a part with delimiter, headers, body and CRLF", () => {
    const mw = new MultipartWriter();
    expect(mw.contentType).toBe("multipart/x-mixed-replace; boundary=frame");
    const part = mw.push(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
    const text = dec.decode(part.subarray(0, part.length - 6));
    expect(text).toBe("--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\n");
    expect([...part.subarray(part.length - 6)]).toEqual([0xff, 0xd8, 0xff, 0xd9, 0x0d, 0x0a]);
    expect(dec.decode(mw.end())).toBe("--frame--\r\n");
  });

  it("rejects boundaries RFC 2046 does not allow", () => {
    expect(() => new MultipartWriter({ boundary: "" })).toThrow(MultipartBoundaryError);
    expect(() => new MultipartWriter({ boundary: "a".repeat(71) })).toThrow(MultipartBoundaryError);
    expect(() => new MultipartWriter({ boundary: "ends with space " })).toThrow(MultipartBoundaryError);
  });

  it("reads the boundary parameter of a content type", () => {
    expect(multipartBoundary('multipart/x-mixed-replace; boundary="my boundary"')).toBe("my boundary");
    expect(multipartBoundary("multipart/x-mixed-replace;boundary=--myboundary")).toBe("--myboundary");
    expect(multipartBoundary("image/jpeg")).toBeUndefined();
  });

  it("parses ffmpeg's mpjpeg output into its 10 JPEGs, whatever the chunking", () => {
    const whole = parseInChunks(stream, stream.length);
    expect(whole.parts.length).toBe(10);
    for (const p of whole.parts) {
      expect(isJpeg(p.body)).toBe(true);
      expect(p.headers["content-type"]).toBe("image/jpeg");
      expect(Number(p.headers["content-length"])).toBe(p.body.length);
    }
    expect(whole.parser.errors).toBe(0);
    expect(whole.parser.boundary).toBe("ffmpeg");
    for (const size of [1, 7, 188, 4096]) {
      const { parts, parser } = parseInChunks(stream, size, "ffmpeg");
      expect(parts.map((p) => p.body.length)).toEqual(whole.parts.map((p) => p.body.length));
      expect(parts[9].body).toEqual(whole.parts[9].body);
      expect(parser.errors).toBe(0);
    }
  });

  it("emits a part as soon as Content-Length bytes arrived (no frame of latency)", () => {
    const mw = new MultipartWriter();
    const parser = new MultipartParser();
    const jpeg = new Uint8Array([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
    const part = mw.push(jpeg);
    // Everything but the trailing CRLF: the body is complete.
    expect(parser.push(part.subarray(0, part.length - 2)).map((p) => p.body)).toEqual([jpeg]);
  });

  it("cuts parts without Content-Length at the next delimiter, also right after EOI", () => {
    const a = new Uint8Array([0xff, 0xd8, 0x2d, 0x2d, 0x0a, 0xff, 0xd9]); // holds "--\n" inside
    const b = new Uint8Array([0xff, 0xd8, 7, 0xff, 0xd9]);
    const body = concatBytes([
      enc.encode("preamble garbage\r\n--cam\r\nContent-Type: image/jpeg\r\n\r\n"),
      a,
      enc.encode("\r\n--cam\nContent-Type: image/jpeg\n\n"),
      b,
      enc.encode("--cam--\r\n"),
    ]);
    const { parts, parser } = parseInChunks(body, 3, "announced-differently");
    expect(parts.map((p) => [...p.body])).toEqual([[...a], [...b]]);
    expect(parser.boundary).toBe("cam");
    expect(parser.done).toBe(true);
  });

  it("skips an oversize part and resynchronises on the next delimiter", () => {
    const mw = new MultipartWriter();
    const parser = new MultipartParser({ maxPartBytes: 100 });
    const big = new Uint8Array(500).fill(0x11);
    const small = new Uint8Array([0xff, 0xd8, 0xff, 0xd9]);
    const data = concatBytes([
      enc.encode("--frame\r\nContent-Type: image/jpeg\r\n\r\n"),
      big,
      enc.encode("\r\n"),
      mw.push(small),
    ]);
    const parts: MultipartPart[] = [];
    for (let i = 0; i < data.length; i += 50) parts.push(...parser.push(data.subarray(i, i + 50)));
    expect(parser.errors).toBeGreaterThan(0);
    expect(parts.map((p) => [...p.body])).toEqual([[...small]]);
  });

  it.skipIf(!hasFfmpeg)("round-trips real JPEGs: our writer's stream is read back by ffmpeg's mpjpeg demuxer", async () => {
    const jpegs = parseInChunks(stream, 4096).parts.map((p) => p.body);
    const mw = new MultipartWriter({ boundary: "strom" });
    const out = concatBytes(jpegs.map((j) => mw.push(j)));
    // Our parser gets the same JPEGs back, with or without the close delimiter.
    expect(parseInChunks(out, 1000).parts.map((p) => p.body)).toEqual(jpegs);
    const closed = parseInChunks(concatBytes([out, mw.end()]), 1000);
    expect(closed.parts.map((p) => p.body)).toEqual(jpegs);
    expect(closed.parser.done).toBe(true);
    // ffmpeg 5.1's mpjpeg demuxer reports the RFC 2046 close delimiter as invalid data, so the
    // stream handed to it is a live one, without the close delimiter.
    const probe = await ffprobeBytes(out, "multipart", ["-f", "mpjpeg"]);
    expect(probe.stderr).toBe("");
    expect(probe.streams.length).toBe(1);
    expect(probe.streams[0].codec_name).toBe("mjpeg");
    expect(probe.streams[0].width).toBe(160);
    expect(probe.streams[0].height).toBe(120);
    expect(Number(probe.streams[0].nb_read_frames)).toBe(10);
    const decoded = await ffmpegDecode(out, "multipart", ["-f", "null", "-"], ["-f", "mpjpeg"]);
    expect(decoded.stderr).toBe("");
    expect(decoded.code).toBe(0);
  }, 20_000);
});
