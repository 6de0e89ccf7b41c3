/**
 * ffmpeg and ffprobe as real peers in tests: run them bounded in time and read their verdicts.
 * Works on every runtime (the runner is tests/_support/process.ts, over lib/runtime/process.ts).
 *
 * @module
 */
import { getEnv } from "../../lib/runtime/env.ts";
import { removeFile, writeFile } from "../../lib/runtime/fs.ts";
import { run, type RunResult } from "./process.ts";

export { run, type RunResult };

/** ffprobe's JSON for an input (file path or URL). Throws with ffprobe's stderr when it fails. */
export async function ffprobe(input: string, extra: string[] = [], timeoutMs = 20_000): Promise<FfprobeResult> {
  const res = await run("ffprobe", [
    "-v", "error", "-print_format", "json", "-show_streams", "-show_format", ...extra, input,
  ], timeoutMs);
  if (res.code !== 0) throw new Error(`ffprobe ${input} failed (${res.code}${res.timedOut ? ", timed out" : ""}): ${res.stderr}`);
  const json = JSON.parse(new TextDecoder().decode(res.stdout)) as FfprobeResult;
  json.stderr = res.stderr;
  return json;
}

/** A stream as ffprobe reports it (the fields the tests look at). */
export interface ProbeStream {
  codec_name: string;
  codec_type: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  nb_read_frames?: string;
  nb_frames?: string;
  duration?: string;
}

/** The parts of ffprobe's JSON the tests read. */
export interface FfprobeResult {
  streams: (ProbeStream & { codec_type: "video" | "audio" | "data" })[];
  format?: { format_name: string; duration?: string };
  stderr: string;
}

/** Runs ffmpeg with `-hide_banner -nostdin -v error` prepended. */
export function ffmpeg(args: string[], timeoutMs = 30_000, input?: Uint8Array): Promise<RunResult> {
  return run("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", ...args], timeoutMs, input);
}

let encoders: string | undefined;

/** Whether this ffmpeg build has an encoder (libx264, libx265, libopus...). */
export async function hasEncoder(name: string): Promise<boolean> {
  encoders ??= new TextDecoder().decode((await run("ffmpeg", ["-hide_banner", "-encoders"], 10_000)).stdout);
  return new RegExp(`\\s${name}\\s`).test(encoders);
}

/**
 * Runs ffprobe on bytes piped to stdin (`-v error -of json <args> -i pipe:0`, 8 s bound) and returns
 * its parsed JSON. Throws with ffprobe's stderr when it fails.
 */
export async function ffprobeJson(input: Uint8Array, args: string[]): Promise<{ json: any; stderr: string }> {
  const res = await run("ffprobe", ["-v", "error", "-of", "json", ...args, "-i", "pipe:0"], 8_000, input);
  if (res.code !== 0) throw new Error(`ffprobe exited ${res.code}: ${res.stderr}`);
  return { json: JSON.parse(new TextDecoder().decode(res.stdout)), stderr: res.stderr };
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

/** Runs a tool that must finish within 15 s: rejects (naming `label`) when it does not. */
async function runBounded(cmd: string, args: string[], label: string): Promise<RunResult> {
  const res = await run(cmd, args, 15_000);
  if (res.timedOut) throw new Error(`timed out after 15000 ms: ${label}`);
  return res;
}

/**
 * Runs `ffprobe -v error -show_streams -count_frames` on bytes (written to a temp file with the given
 * extension); returns the streams and whatever ffprobe printed on stderr (errors). Does not throw on
 * a failed probe: the exit code is appended to `stderr`.
 */
export async function ffprobeBytes(
  data: Uint8Array,
  ext: string,
  inputArgs: string[] = [],
): Promise<{ streams: ProbeStream[]; stderr: string }> {
  return withTempFile(data, ext, async (path) => {
    const args = ["-v", "error", "-show_streams", "-count_frames", "-of", "json", ...inputArgs, path];
    const r = await runBounded("ffprobe", args, `ffprobe ${args.join(" ")}`);
    const streams = r.code === 0 ? (JSON.parse(new TextDecoder().decode(r.stdout)).streams ?? []) as ProbeStream[] : [];
    return { streams, stderr: r.stderr.trim() + (r.code === 0 ? "" : ` (exit ${r.code})`) };
  });
}

/** Decodes bytes fully with `ffmpeg -v error -i file -f <format> -`; returns exit code, stderr, output. */
export async function ffmpegDecode(
  data: Uint8Array,
  ext: string,
  output: string[] = ["-f", "null", "-"],
  inputArgs: string[] = [],
): Promise<{ code: number | null; stderr: string; stdout: Uint8Array }> {
  return withTempFile(data, ext, async (path) => {
    const r = await runBounded("ffmpeg", ["-v", "error", "-nostdin", ...inputArgs, "-i", path, ...output], "ffmpeg decode");
    return { code: r.code, stderr: r.stderr.trim(), stdout: r.stdout };
  });
}

/** `seconds` of a 440 Hz tone as raw A-law (G.711 PCMA) at 8 kHz, made by ffmpeg. */
export async function toneAlaw(seconds: number): Promise<Uint8Array> {
  const res = await ffmpeg([
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=440:sample_rate=8000:duration=${seconds}`,
    "-ac",
    "1",
    "-c:a",
    "pcm_alaw",
    "-f",
    "alaw",
    "pipe:1",
  ]);
  if (res.code !== 0) throw new Error(`ffmpeg failed: ${res.stderr}`);
  return res.stdout;
}
