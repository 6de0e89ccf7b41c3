/**
 * Wires the `ffmpeg:` scheme into the source registry: the URL becomes an ffmpeg command line (as in
 * go2rtc) that runs through the `exec` source's process supervisor, reading ffmpeg's stdout or, for
 * an RTSP output (`{output}`), what ffmpeg publishes to strom's RTSP server.
 *
 * @module
 */
import type { Logger } from "../../core/log.ts";
import { registerSource } from "../../core/registry.ts";
import { dialExec } from "../exec/producer.ts";
import type { RtspOutputTarget } from "../exec/rtsp_output.ts";
import { buildFfmpegArgs, type FfmpegArgsOptions } from "./args.ts";
import { FfmpegAutoAudioProducer } from "./auto_audio.ts";

/**
 * Registers the `ffmpeg` scheme: `ffmpeg:<input>#<params>` is turned into an ffmpeg command and run
 * like an `exec:` source. The binary is `ffmpeg.bin` (or `templates.bin`), chosen by the config
 * file, so `exec.allow_paths` does not apply to it; who may add which `ffmpeg:` options is the
 * server's source policy. Options may be a function, read on each dial, so `hasStream` and config
 * reloads take effect. `#audio=auto` offers the audio codecs go2rtc offers and runs ffmpeg once the
 * consumer (a camera's backchannel, a viewer) picked one. `settings.prepare`, when given, is awaited
 * before the command is built and may add options that need a probe first (the engine of a bare
 * `#hardware`, the capture device an index names). Nothing is registered at import time.
 *
 * @example
 * ```ts
 * registerFfmpegSource(() => ({ templates: ffmpegTemplates(config.ffmpeg), hasStream: (n) => !!hub.get(n) }));
 * ```
 */
export function registerFfmpegSource(
  options: FfmpegArgsOptions | (() => FfmpegArgsOptions) = {},
  settings: {
    log?: Logger;
    rtspOutput?: () => RtspOutputTarget | undefined;
    prepare?: (url: string) => Promise<Partial<FfmpegArgsOptions>>;
  } = {},
): void {
  registerSource("ffmpeg", async (url, context) => {
    const base = typeof options === "function" ? options() : options;
    const current = settings.prepare ? { ...base, ...await settings.prepare(url) } : base;
    const rtspOutput = settings.rtspOutput?.();
    const dial = (u: string) => {
      const cmd = buildFfmpegArgs(u, current);
      return dialExec("exec:" + cmd.commandLine, { log: settings.log, signal: context.signal, rtspOutput });
    };
    const cmd = buildFfmpegArgs(url, current);
    if (cmd.autoAudio) return FfmpegAutoAudioProducer.create(url, dial, settings.log);
    return await dial(url);
  });
}
