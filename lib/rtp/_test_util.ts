/**
 * Helpers shared by the RTP and codec unit tests (private; not part of the library API): fixture
 * loading and running ffmpeg/ffprobe as real peers with bounded waits.
 *
 * @module
 */
import { readFile } from "../runtime/fs.ts";
import { spawn, which } from "../runtime/process.ts";
import { readRtpCapture } from "./capture.ts";
import { parseRtp, type RtpPacket } from "./packet.ts";

/** Reads a capture file (see capture.ts) given relative to a test module's URL. */
export async function loadCapture(url: URL): Promise<RtpPacket[]> {
  const bytes = await readFile(decodeURIComponent(url.pathname));
  return readRtpCapture(bytes).map((d) => parseRtp(d));
}

/** Reads any fixture file given relative to a test module's URL. */
export function loadFixture(url: URL): Promise<Uint8Array> {
  return readFile(decodeURIComponent(url.pathname));
}

/** Whether a tool is on PATH (tests that need it are skipped otherwise). */
export async function hasTool(name: string): Promise<boolean> {
  return (await which(name)) !== undefined;
}

/** Result of {@link runTool}. */
export interface ToolResult {
  code: number | null;
  stdout: Uint8Array;
  stderr: string;
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
  const out = new Uint8Array(total);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/** Runs a tool with `input` on stdin, collects stdout/stderr; kills it after `timeoutMs`. */
export async function runTool(
  cmd: string,
  args: string[],
  input?: Uint8Array,
  timeoutMs = 8000,
): Promise<ToolResult> {
  const child = spawn(cmd, args, { stdin: input ? "pipe" : "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const out = readAll(child.stdout);
    const err = readAll(child.stderr);
    if (input && child.stdin) {
      const w = child.stdin.getWriter();
      try {
        await w.write(input);
        await w.close();
      } catch { /* the tool may exit before reading everything */ }
    }
    const [stdout, stderr, status] = await Promise.all([out, err, child.exited]);
    return { code: status.code, stdout, stderr: new TextDecoder().decode(stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs ffprobe on bytes piped to stdin and returns its parsed JSON output. */
export async function ffprobeJson(input: Uint8Array, args: string[]): Promise<{ json: any; stderr: string }> {
  const res = await runTool("ffprobe", ["-v", "error", "-of", "json", ...args, "-i", "pipe:0"], input);
  if (res.code !== 0) throw new Error(`ffprobe exited ${res.code}: ${res.stderr}`);
  return { json: JSON.parse(new TextDecoder().decode(res.stdout)), stderr: res.stderr };
}

/** A deterministic pseudo-random generator (mulberry32) so shuffles are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
