/**
 * Test helpers for the container tests (private): fixtures, and ffprobe/ffmpeg as real peers that
 * judge what the muxers wrote. Used by lib/format/{mp4,mpegts,flv,mjpeg,adts} tests.
 *
 * @module
 */
import { getEnv } from "../../runtime/env.ts";
import { readFile, removeFile, writeFile } from "../../runtime/fs.ts";
import { spawn, which } from "../../runtime/process.ts";

/** A stream as ffprobe reports it (the fields the tests look at). */
export interface ProbeStream {
  codec_name: string;
  codec_type: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  nb_read_frames?: string;
}

/** Rejects with `label` when `promise` does not settle within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function readAll(stream: ReadableStream<Uint8Array> | undefined): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  return concatBytes(chunks, total);
}

/** Joins byte arrays. */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  const n = total ?? parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

let tools: { ffprobe?: string; ffmpeg?: string } | undefined;

/** Paths of ffprobe and ffmpeg, when installed. */
export async function ffTools(): Promise<{ ffprobe?: string; ffmpeg?: string }> {
  tools ??= { ffprobe: await which("ffprobe"), ffmpeg: await which("ffmpeg") };
  return tools;
}

/** Reads a fixture next to a test file: `fixture(import.meta.url, "testdata/x.flv")`. */
export function fixture(base: string, path: string): Promise<Uint8Array> {
  return readFile(decodeURIComponent(new URL(path, base).pathname));
}

let counter = 0;

async function withTempFile<T>(data: Uint8Array, ext: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = getEnv("TMPDIR") ?? "/tmp";
  const path = `${dir}/strom-format-${Date.now()}-${Math.random().toString(36).slice(2)}-${counter++}.${ext}`;
  await writeFile(path, data);
  try {
    return await fn(path);
  } finally {
    await removeFile(path).catch(() => {});
  }
}

async function run(
  cmd: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { stdout: "pipe", stderr: "pipe" });
  try {
    const [out, err, status] = await within(
      Promise.all([readAll(child.stdout), readAll(child.stderr), child.exited]),
      15_000,
      `${cmd} ${args.join(" ")}`,
    );
    const dec = new TextDecoder();
    return { code: status.code, stdout: dec.decode(out), stderr: dec.decode(err) };
  } finally {
    child.kill("SIGKILL");
  }
}

/**
 * Runs `ffprobe -v error -show_streams -count_frames` on the bytes (written to a temp file with the
 * given extension); returns the streams and whatever ffprobe printed on stderr (errors).
 */
export async function ffprobe(
  data: Uint8Array,
  ext: string,
  inputArgs: string[] = [],
): Promise<{ streams: ProbeStream[]; stderr: string }> {
  const { ffprobe } = await ffTools();
  if (!ffprobe) throw new Error("ffprobe is not installed");
  return withTempFile(data, ext, async (path) => {
    const r = await run(ffprobe, [
      "-v",
      "error",
      "-show_streams",
      "-count_frames",
      "-of",
      "json",
      ...inputArgs,
      path,
    ]);
    const streams = r.code === 0 ? (JSON.parse(r.stdout).streams ?? []) as ProbeStream[] : [];
    return { streams, stderr: r.stderr.trim() + (r.code === 0 ? "" : ` (exit ${r.code})`) };
  });
}

/** Decodes the bytes fully with `ffmpeg -v error -i file -f <format> -`; returns exit code, stderr, output. */
export async function ffmpegDecode(
  data: Uint8Array,
  ext: string,
  output: string[] = ["-f", "null", "-"],
  inputArgs: string[] = [],
): Promise<{ code: number | null; stderr: string; stdout: Uint8Array }> {
  const { ffmpeg } = await ffTools();
  if (!ffmpeg) throw new Error("ffmpeg is not installed");
  return withTempFile(data, ext, async (path) => {
    const child = spawn(ffmpeg, ["-v", "error", "-nostdin", ...inputArgs, "-i", path, ...output], {
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const [out, err, status] = await within(
        Promise.all([readAll(child.stdout), readAll(child.stderr), child.exited]),
        15_000,
        "ffmpeg decode",
      );
      return { code: status.code, stderr: new TextDecoder().decode(err).trim(), stdout: out };
    } finally {
      child.kill("SIGKILL");
    }
  });
}
