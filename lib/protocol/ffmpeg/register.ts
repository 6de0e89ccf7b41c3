/**
 * Wires the `ffmpeg:` scheme into the source registry: the URL becomes an ffmpeg command line (as in
 * go2rtc) that runs through the `exec` source's process supervisor.
 *
 * @module
 */
import type { Logger } from "../../core/log.ts";
import { SourceError } from "../../core/errors.ts";
import { registerSource } from "../../core/registry.ts";
import { dialExec } from "../exec/producer.ts";
import { buildFfmpegArgs, type FfmpegArgsOptions } from "./args.ts";

/**
 * Registers the `ffmpeg` scheme: `ffmpeg:<input>#<params>` is turned into an ffmpeg command and run
 * like an `exec:` source. The binary is `ffmpeg.bin` (or `templates.bin`), chosen by the config
 * file, so `exec.allow_paths` does not apply to it; who may add which `ffmpeg:` options is the
 * server's source policy. Options may be a function, read on each dial, so `hasStream` and config
 * reloads take effect. Nothing is registered at import time.
 *
 * @example
 * ```ts
 * registerFfmpegSource(() => ({ templates: ffmpegTemplates(config.ffmpeg), hasStream: (n) => !!hub.get(n) }));
 * ```
 */
export function registerFfmpegSource(
  options: FfmpegArgsOptions | (() => FfmpegArgsOptions) = {},
  settings: { log?: Logger } = {},
): void {
  registerSource("ffmpeg", (url, context) => {
    const cmd = buildFfmpegArgs(url, typeof options === "function" ? options() : options);
    if (cmd.autoAudio) {
      throw new SourceError(
        url,
        "#audio=auto (pick the codec from the backchannel) is not supported yet; name a codec, e.g. #audio=pcma",
      );
    }
    return dialExec("exec:" + cmd.commandLine, { log: settings.log, signal: context.signal });
  });
}
