/**
 * Wires the `exec:` scheme into the source registry.
 *
 * @module
 */
import type { Logger } from "../../core/log.ts";
import { registerSource } from "../../core/registry.ts";
import { dialExec } from "./producer.ts";
import type { RtspOutputTarget } from "./rtsp_output.ts";

/**
 * Registers the `exec` scheme. Running arbitrary commands from config is powerful: only register it
 * where the config is trusted (go2rtc marks exec as insecure). `allowPaths` (read on each dial) is
 * `exec.allow_paths`: when it returns a non-empty list, only those executables run. `rtspOutput`
 * (read on each dial) is strom's RTSP server, where commands with `{output}` publish. Nothing is
 * registered at import time.
 *
 * @example
 * ```ts
 * registerExecSource({ log });
 * // streams: { cam: "exec:ffmpeg -re -i /media/a.mp4 -c:v mjpeg -f mjpeg -" }
 * ```
 */
export function registerExecSource(
  options: {
    log?: Logger;
    allowPaths?: () => readonly string[];
    rtspOutput?: () => RtspOutputTarget | undefined;
  } = {},
): void {
  registerSource(
    "exec",
    (url, context) =>
      dialExec(url, {
        log: options.log,
        signal: context.signal,
        allowPaths: options.allowPaths?.(),
        rtspOutput: options.rtspOutput?.(),
      }),
  );
}
