/**
 * Registers the source schemes built into the server: `demo`, `rtsp`/`rtsps`/`rtspx`, `exec` and
 * `ffmpeg` (a redirect to `exec`, built from the `ffmpeg:` config section). Idempotent. Shared by
 * `strom serve` and `strom config check`, so both agree on which schemes exist.
 *
 * @module
 */
import { UnknownSchemeError } from "../lib/core/errors.ts";
import { hasScheme, registeredSchemes, schemeOf } from "../lib/core/registry.ts";
import type { Logger } from "../lib/core/log.ts";
import { registerDemoSource } from "../lib/protocol/demo/mod.ts";
import { registerExecSource } from "../lib/protocol/exec/mod.ts";
import { ffmpegTemplates, registerFfmpegSource } from "../lib/protocol/ffmpeg/mod.ts";
import { registerRtspSources } from "../lib/protocol/rtsp/mod.ts";

let registered = false;

// What ffmpeg sources are built from; set by the server from its config (read on each dial).
const ffmpegSettings: {
  config: Record<string, unknown>;
  rtspPort: number;
  hasStream: (name: string) => boolean;
} = { config: {}, rtspPort: 8554, hasStream: () => false };

/**
 * Gives `ffmpeg:` sources the `ffmpeg:` config section and a way to tell stream names from files.
 *
 * @example
 * ```ts
 * configureFfmpegSources(config.ffmpeg, (name) => hub.get(name) !== undefined);
 * ```
 */
export function configureFfmpegSources(config: Record<string, unknown>, hasStream: (name: string) => boolean): void {
  ffmpegSettings.config = config;
  ffmpegSettings.hasStream = hasStream;
}

/**
 * The port `ffmpeg:<stream name>` sources read from (our RTSP server's real port).
 *
 * @example
 * ```ts
 * setRtspPort(server.addr.port);
 * ```
 */
export function setRtspPort(port: number): void {
  ffmpegSettings.rtspPort = port;
}

/**
 * Registers every built-in source scheme once.
 *
 * @example
 * ```ts
 * registerBuiltinSources();
 * hasScheme("demo"); // true
 * ```
 */
export function registerBuiltinSources(options: { log?: Logger } = {}): void {
  if (registered) return;
  registered = true;
  registerDemoSource();
  registerRtspSources();
  registerExecSource({ log: options.log?.child({ module: "exec" }) });
  registerFfmpegSource(() => {
    const templates = ffmpegTemplates(ffmpegSettings.config);
    return {
      templates,
      rtspPort: ffmpegSettings.rtspPort,
      hasStream: ffmpegSettings.hasStream,
      // ffmpeg writes MPEG-TS to its stdout, which the exec source demuxes: no port or process
      // hand-over needed, and the process dies with its pipe.
      defaultOutput: "mpegts",
    };
  });
}

/**
 * Every configured stream's sources must have a registered scheme.
 *
 * @throws {UnknownSchemeError} naming the stream (`streams.<name>: ...`) and the source.
 * @example
 * ```ts
 * checkStreamSchemes({ cam: ["rtsp://10.0.0.5/1"] });
 * ```
 */
export function checkStreamSchemes(streams: Record<string, readonly string[]>): void {
  for (const [name, sources] of Object.entries(streams)) {
    for (const src of sources) {
      const scheme = schemeOf(src);
      if (scheme && hasScheme(scheme)) continue;
      const error = new UnknownSchemeError(scheme || "(none)", src, registeredSchemes());
      error.message = `streams.${name}: ${error.message}`;
      throw error;
    }
  }
}
