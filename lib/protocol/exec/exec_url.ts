/**
 * `exec:` source URLs: a command line, then go2rtc's `#` options.
 *
 * ```text
 * exec:ffmpeg -re -i /media/a.mp4 -c copy -f mpegts -#killsignal=15#killtimeout=5#starttimeout=10
 * exec:ffmpeg -i rtsp://cam/1 -c copy -rtsp_transport tcp -f rtsp {output}     (RTSP flow)
 * ```
 *
 * @module
 */
import type { KillSignal } from "../../runtime/process.ts";
import { type HashParams, splitHashParams } from "./params.ts";
import { quoteSplit } from "./quote_split.ts";

/** What an `exec:` URL asks for. */
export interface ExecUrl {
  /** Program to run. */
  command: string;
  args: string[];
  /** The command line as written (without `exec:` and the `#` options). */
  commandLine: string;
  /** Signal sent on stop. Default SIGKILL (as go2rtc: nothing the stream needs is lost). */
  killSignal: KillSignal;
  /** After `killSignal`, SIGKILL when still running after this long. Undefined: no escalation timer. */
  killTimeoutMs?: number;
  /** How long the command may take to produce its first output. Default 30 s. */
  startTimeoutMs: number;
  /** `{output}` in the command: ffmpeg publishes to our RTSP server instead of writing to stdout. */
  rtspOutput: boolean;
  /** `#backchannel=1`: the command reads a viewer's audio from stdin. */
  backchannel: boolean;
  /** Every `#` option, including the ones above. */
  params: HashParams;
}

/** Default `#starttimeout`, in milliseconds. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

const SIGNALS: Record<string, KillSignal> = {
  "2": "SIGINT",
  "9": "SIGKILL",
  "15": "SIGTERM",
  int: "SIGINT",
  kill: "SIGKILL",
  term: "SIGTERM",
  sigint: "SIGINT",
  sigkill: "SIGKILL",
  sigterm: "SIGTERM",
};

/**
 * Parses `#killsignal`: a number as in go2rtc (2, 9, 15) or a name (`SIGTERM`, `term`).
 *
 * @throws {RangeError} for other signals.
 * @example
 * ```ts
 * parseKillSignal("15"); // "SIGTERM"
 * ```
 */
export function parseKillSignal(value: string): KillSignal {
  const signal = SIGNALS[value.trim().toLowerCase()];
  if (!signal) {
    throw new RangeError(
      `Cannot use #killsignal=${value}: supported are 2 (SIGINT), 9 (SIGKILL) and 15 (SIGTERM)`,
    );
  }
  return signal;
}

/**
 * Parses a duration option given in seconds (`#killtimeout=5`, `#starttimeout=2.5`) into ms.
 *
 * @throws {RangeError} when not a non-negative number.
 * @example
 * ```ts
 * parseSeconds("starttimeout", "2.5"); // 2500
 * ```
 */
export function parseSeconds(name: string, value: string): number {
  const seconds = Number(value);
  if (value.trim() === "" || !Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(`Cannot use #${name}=${value}: give a number of seconds, e.g. #${name}=5`);
  }
  return Math.round(seconds * 1000);
}

/**
 * Parses an `exec:` URL (the `exec:` prefix is optional).
 *
 * @throws {SyntaxError} for an empty command or an unclosed quote; {RangeError} for a bad option.
 * @example
 * ```ts
 * const u = parseExecUrl("exec:ffmpeg -i x -f mjpeg -#killsignal=15#killtimeout=3");
 * // { command: "ffmpeg", args: ["-i", "x", "-f", "mjpeg", "-"], killSignal: "SIGTERM", killTimeoutMs: 3000, ... }
 * ```
 */
export function parseExecUrl(url: string): ExecUrl {
  const text = url.startsWith("exec:") ? url.slice(5) : url;
  const { base, params } = splitHashParams(text);
  const words = quoteSplit(base);
  if (!words.length) {
    throw new SyntaxError(`Cannot parse exec source "${url}": no command. Write exec:<command> <args>`);
  }
  const first = (key: string) => params.get(key)?.[0];
  const signal = first("killsignal");
  const killTimeout = first("killtimeout");
  const startTimeout = first("starttimeout");
  return {
    command: words[0],
    args: words.slice(1),
    commandLine: base.trim(),
    killSignal: signal ? parseKillSignal(signal) : "SIGKILL",
    killTimeoutMs: killTimeout ? parseSeconds("killtimeout", killTimeout) : undefined,
    startTimeoutMs: startTimeout ? parseSeconds("starttimeout", startTimeout) : DEFAULT_START_TIMEOUT_MS,
    rtspOutput: base.includes("{output}"),
    backchannel: first("backchannel") === "1",
    params,
  };
}
