/**
 * Runs ffmpeg once with fixed arguments and collects what it prints: how strom asks the installed
 * ffmpeg which encoders it has, whether a hardware encoder works, and which formats a capture device
 * offers. Bounded in time and in output, so a hung driver or a chatty build cannot stall or flood
 * the server.
 *
 * @module
 */
import { spawn, SpawnError } from "../../runtime/process.ts";
import { readAll } from "../jpeg/_process_io.ts";

/** What one run of ffmpeg gave. */
export interface ProbeRun {
  /** Exit code 0 (and not killed for taking too long). */
  ok: boolean;
  /** stdout and stderr as text, in arrival order per stream (stdout first), at most `maxBytes` each. */
  output: string;
  /** Why it is not ok, in words: `exit code 1`, `did not finish within 15000 ms`, `not found`. */
  reason?: string;
}

/** Runs `bin` with `args`; resolves, never rejects. */
export type ProbeRunner = (bin: string, args: readonly string[]) => Promise<ProbeRun>;

/** Options of {@link runProbe}. */
export interface RunProbeOptions {
  /** Killed after this long. Default 15 s (a hardware encoder's first use can take a few seconds). */
  timeoutMs?: number;
  /** Output kept per stream. Default 256 KiB. */
  maxBytes?: number;
}

// A stream's text, at most `maxBytes` of it (the rest is read and dropped, so the child never
// blocks on a full pipe).
async function collect(stream: ReadableStream<Uint8Array> | undefined, maxBytes: number): Promise<string> {
  return stream ? new TextDecoder().decode(await readAll(stream, maxBytes)) : "";
}

/**
 * Runs `bin args...` to its end (or kills it after `timeoutMs`) and returns its output.
 *
 * @example
 * ```ts
 * const run = await runProbe("ffmpeg", ["-hide_banner", "-encoders"]);
 * if (run.ok && run.output.includes(" h264_vaapi ")) console.log("VAAPI H.264 encoder built in");
 * ```
 */
export async function runProbe(
  bin: string,
  args: readonly string[],
  options: RunProbeOptions = {},
): Promise<ProbeRun> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxBytes = options.maxBytes ?? 256 * 1024;
  let child;
  try {
    child = spawn(bin, [...args], { stdout: "pipe", stderr: "pipe", timeoutMs });
  } catch (error) {
    const reason = error instanceof SpawnError ? error.message : String(error);
    return { ok: false, output: "", reason };
  }
  const [out, err, status] = await Promise.all([
    collect(child.stdout, maxBytes),
    collect(child.stderr, maxBytes),
    child.exited,
  ]);
  const output = out + err;
  if (status.timedOut) return { ok: false, output, reason: `did not finish within ${timeoutMs} ms` };
  if (status.code === 0) return { ok: true, output };
  return {
    ok: false,
    output,
    reason: status.code !== null ? `exit code ${status.code}` : `killed by ${status.signal}`,
  };
}

/**
 * The last line of ffmpeg's output that says something (not its progress or banner), to quote in a
 * log line or an API answer: `Failed to initialise VAAPI connection: -1 (unknown libva error).`
 *
 * @example
 * ```ts
 * lastMessage("...\n[AVHWDeviceContext @ 0x5] No VA display found for device /dev/dri/renderD128.\nDevice creation failed: -22.\n");
 * // "Device creation failed: -22."
 * ```
 */
export function lastMessage(output: string): string {
  const lines = output.split(/\r?\n|\r/).map((l) => l.trim()).filter((l) => l && !/^(frame|size)=/.test(l));
  const last = lines[lines.length - 1] ?? "";
  return last.length > 200 ? last.slice(0, 197) + "..." : last;
}
