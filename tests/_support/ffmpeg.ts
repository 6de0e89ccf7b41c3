/**
 * ffmpeg and ffprobe as real peers in tests: run them bounded in time and read their verdicts.
 *
 * @module
 */
import { spawn } from "node:child_process";

/** Result of a finished process. */
export interface RunResult {
  code: number | null;
  stdout: Uint8Array;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command, killing it after `timeoutMs`. Never rejects on a non-zero exit. */
export function run(cmd: string, args: string[], timeoutMs = 20_000, input?: Uint8Array): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
    const out: Uint8Array[] = [];
    let err = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout!.on("data", (d: Uint8Array) => out.push(d));
    child.stderr!.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const total = out.reduce((n, c) => n + c.length, 0);
      const stdout = new Uint8Array(total);
      let o = 0;
      for (const c of out) {
        stdout.set(c, o);
        o += c.length;
      }
      resolve({ code, stdout, stderr: err, timedOut });
    });
    if (input) {
      child.stdin!.on("error", () => {});
      child.stdin!.end(input);
    }
  });
}

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

/** The parts of ffprobe's JSON the tests read. */
export interface FfprobeResult {
  streams: {
    codec_name: string;
    codec_type: "video" | "audio" | "data";
    width?: number;
    height?: number;
    sample_rate?: string;
    channels?: number;
    nb_read_frames?: string;
    nb_frames?: string;
    duration?: string;
  }[];
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
