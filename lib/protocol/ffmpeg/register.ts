/**
 * Wires the `ffmpeg:` scheme into the source registry, as a redirect to `exec:` (as in go2rtc).
 *
 * @module
 */
import { SourceError } from "../../core/errors.ts";
import { registerRedirect } from "../../core/registry.ts";
import { buildFfmpegArgs, type FfmpegArgsOptions } from "./args.ts";

/**
 * Registers the `ffmpeg` scheme: `ffmpeg:<input>#<params>` is rewritten to `exec:<ffmpeg command>`
 * and dialed through the `exec` scheme (register that too). Options may be a function, read on each
 * dial, so `hasStream` and config reloads take effect. Nothing is registered at import time.
 *
 * @example
 * ```ts
 * registerExecSource();
 * registerFfmpegSource(() => ({ templates: ffmpegTemplates(config.ffmpeg), hasStream: (n) => !!hub.get(n) }));
 * ```
 */
export function registerFfmpegSource(options: FfmpegArgsOptions | (() => FfmpegArgsOptions) = {}): void {
  registerRedirect("ffmpeg", (url) => {
    const cmd = buildFfmpegArgs(url, typeof options === "function" ? options() : options);
    if (cmd.autoAudio) {
      throw new SourceError(
        url,
        "#audio=auto (pick the codec from the backchannel) is not supported yet; name a codec, e.g. #audio=pcma",
      );
    }
    return "exec:" + cmd.commandLine;
  });
}
