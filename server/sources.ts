/**
 * Registers the source schemes built into the server: `demo`, `rtsp`/`rtsps`/`rtspx`,
 * `rtmp`/`rtmps`/`rtmpx`, `webrtc` (WHEP or `/api/ws` of another server), `http`/`https`
 * (MJPEG, JPEG snapshots, HTTP-FLV, MPEG-TS, HLS), `tcp`, `exec` and `echo` (limited
 * to `exec.allow_paths`), `expr` and `ffmpeg` (an ffmpeg command built from the `ffmpeg:` config section, run
 * like an exec source). Idempotent. Shared by
 * `strom serve` and `strom config check`, so both agree on which schemes exist.
 *
 * @module
 */
import { redactUrl, UnknownSchemeError } from "../lib/core/errors.ts";
import { hasScheme, registeredSchemes, schemeOf } from "../lib/core/registry.ts";
import type { Logger } from "../lib/core/log.ts";
import type { StreamHub } from "../lib/core/hub.ts";
import { registerDemoSource } from "../lib/protocol/demo/mod.ts";
import { parseHashParams, registerExecSource } from "../lib/protocol/exec/mod.ts";
import { registerEchoSource } from "../lib/protocol/echo/mod.ts";
import { registerOnvifSource } from "../lib/protocol/onvif/mod.ts";
import { registerExprSource } from "../lib/protocol/expr/mod.ts";
import { ffmpegTemplates, registerBackchannelTranscoders, registerFfmpegSource } from "../lib/protocol/ffmpeg/mod.ts";
import { prepareFfmpegSource } from "./ffmpeg_probes.ts";
import { registerRtspSources } from "../lib/protocol/rtsp/mod.ts";
import { registerRtmpSources } from "../lib/protocol/rtmp/mod.ts";
import { registerHttpSources } from "../lib/protocol/http/producer.ts";
import { registerTcpSource } from "../lib/protocol/tcp/mod.ts";
import { registerWebRtcSources } from "../lib/protocol/webrtc/client.ts";
import type { IcePolicy } from "../lib/protocol/webrtc/ice_policy.ts";

let registered = false;

// What ffmpeg sources are built from; set by the server from its config (read on each dial).
const ffmpegSettings: {
  config: Record<string, unknown>;
  rtspPort: number;
  rtspUserinfo: string | undefined;
  hasStream: (name: string) => boolean;
  allowPaths: readonly string[];
  rtspHub: StreamHub | undefined;
} = { config: {}, rtspPort: 8554, rtspUserinfo: undefined, hasStream: () => false, allowPaths: [], rtspHub: undefined };

/**
 * The hub of the running RTSP server, so `exec:` commands with `{output}` (and `ffmpeg:` sources
 * when `ffmpeg.output` is set) can publish into it; `undefined` when the RTSP server is off.
 *
 * @example
 * ```ts
 * setRtspHub(ctx.hub);
 * ```
 */
export function setRtspHub(hub: StreamHub | undefined): void {
  ffmpegSettings.rtspHub = hub;
}

/**
 * Whether strom's RTSP server runs, so `ffmpeg:<stream name>` sources can read streams from it.
 *
 * @example
 * ```ts
 * if (!rtspServerRunning()) log.warn("hls.variants needs rtsp.listen");
 * ```
 */
export function rtspServerRunning(): boolean {
  return ffmpegSettings.rtspHub !== undefined;
}

// Where `{output}` points: strom's RTSP server (with its internal account when auth is on).
function rtspOutputTarget() {
  const hub = ffmpegSettings.rtspHub;
  if (!hub) return undefined;
  return { hub, port: ffmpegSettings.rtspPort, userinfo: ffmpegSettings.rtspUserinfo };
}

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
 * The `user:password` that `ffmpeg:<stream name>` sources use on our RTSP server when it requires
 * auth (the server's internal account); `undefined` when it does not.
 *
 * @example
 * ```ts
 * setRtspInternalAccount("strom-internal:9f2c...");
 * ```
 */
export function setRtspInternalAccount(userinfo: string | undefined): void {
  ffmpegSettings.rtspUserinfo = userinfo;
}

/**
 * `exec.allow_paths` of the running config (read on each `exec:` dial).
 *
 * @example
 * ```ts
 * configureExecSources(config.exec.allow_paths);
 * ```
 */
export function configureExecSources(allowPaths: readonly string[]): void {
  ffmpegSettings.allowPaths = allowPaths;
}

// ICE for `webrtc:` sources: the `webrtc:` config's policy once the module starts.
let webrtcIce: IcePolicy | undefined;

/**
 * The ICE policy `webrtc:` sources dial with (read on each dial); set by the WebRTC module.
 *
 * @example
 * ```ts
 * configureWebRtcSources({ bindAddress: "127.0.0.1", loopback: true });
 * ```
 */
export function configureWebRtcSources(ice: IcePolicy | undefined): void {
  webrtcIce = ice;
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
  // Two-way audio: talkers whose codec the camera does not take (Opus, AAC) go through ffmpeg.
  registerBackchannelTranscoders({
    bin: ffmpegBin,
    log: options.log?.child({ module: "backchannel" }),
  });
  registerRtmpSources({ log: options.log?.child({ module: "rtmp" }) });
  registerHttpSources({ log: options.log?.child({ module: "http" }) });
  registerTcpSource({ log: options.log?.child({ module: "tcp" }) });
  registerOnvifSource({ log: options.log?.child({ module: "onvif" }) });
  // WHEP or another strom/go2rtc's /api/ws: strom is the WebRTC client; starts no program.
  registerWebRtcSources({ log: options.log?.child({ module: "webrtc" }), ice: () => webrtcIce });
  const execLog = options.log?.child({ module: "exec" });
  registerExecSource({ log: execLog, allowPaths: () => ffmpegSettings.allowPaths, rtspOutput: rtspOutputTarget });
  // A command or a script computes the real source URL (config file only; the API refuses both).
  registerEchoSource({ log: options.log?.child({ module: "echo" }), allowPaths: () => ffmpegSettings.allowPaths });
  registerExprSource({ log: options.log?.child({ module: "expr" }) });
  registerFfmpegSource(() => {
    const templates = ffmpegTemplates(ffmpegSettings.config);
    return {
      templates,
      rtspPort: ffmpegSettings.rtspPort,
      rtspUserinfo: ffmpegSettings.rtspUserinfo,
      hasStream: ffmpegSettings.hasStream,
      // ffmpeg writes MPEG-TS to its stdout, which the exec source demuxes: no port or process
      // hand-over needed, and the process dies with its pipe. A configured `ffmpeg.output` (go2rtc's
      // RTSP output template) publishes to strom's RTSP server through `{output}` instead.
      defaultOutput: typeof ffmpegSettings.config.output === "string" && ffmpegSettings.config.output
        ? "rtsp"
        : "mpegts",
    };
  }, {
    log: execLog,
    rtspOutput: rtspOutputTarget,
    // A bare #hardware gets the engine that works here, device?video=<index> the device it counts
    // (both found by running the configured ffmpeg with fixed arguments, once).
    prepare: (url) => prepareFfmpegSource(url, ffmpegBin(), options.log?.child({ module: "ffmpeg" })),
  });
}

/**
 * The ffmpeg binary `ffmpeg:` sources run (`ffmpeg.bin`, else `ffmpeg` on PATH).
 *
 * @example
 * ```ts
 * await hardwareProber(ffmpegBin()).probeAll();
 * ```
 */
export function ffmpegBin(): string {
  return String(ffmpegTemplates(ffmpegSettings.config).bin ?? "ffmpeg");
}

/**
 * Warnings for configured sources whose scheme strom does not have (go2rtc configs often hold
 * `homekit://`, `tapo://`, `onvif://`...): the config still loads, and playing such a stream fails
 * with {@link UnknownSchemeError} naming the scheme.
 *
 * @example
 * ```ts
 * checkStreamSchemes({ cam: ["rtsp://10.0.0.5/1"], lock: ["homekit://x"] });
 * // ['streams.lock: source scheme "homekit:" is not supported by strom (known: ...); the stream loads but cannot play from this source.']
 * ```
 */
export function checkStreamSchemes(streams: Record<string, readonly string[]>): string[] {
  const warnings: string[] = [];
  for (const [name, sources] of Object.entries(streams)) {
    for (const src of sources) {
      const scheme = schemeOf(src);
      if (scheme && hasScheme(scheme)) {
        warnings.push(...unknownOptions(name, scheme, src));
        continue;
      }
      const error = new UnknownSchemeError(scheme || "(none)", src, registeredSchemes());
      warnings.push(`streams.${name}: ${error.message} The stream loads, but cannot play from this source.`);
    }
  }
  return warnings;
}

const RTSP_OPTIONS = ["transport", "timeout", "backchannel", "media"];
/** The `#` options each scheme reads; it ignores others, so naming one gets a warning. */
const SOURCE_OPTIONS: Record<string, readonly string[]> = {
  rtsp: RTSP_OPTIONS,
  rtsps: RTSP_OPTIONS,
  rtspx: RTSP_OPTIONS,
  ffmpeg: [
    "video",
    "audio",
    "width",
    "height",
    "rotate",
    "drawtext",
    "bitrate",
    "hardware",
    "raw",
    "input",
    "async",
    "timeout",
    "query",
    "filter_complex",
    "tour",
  ],
};

function unknownOptions(stream: string, scheme: string, src: string): string[] {
  const known = SOURCE_OPTIONS[scheme];
  const hash = src.indexOf("#");
  if (!known || hash < 0) return [];
  const out: string[] = [];
  for (const key of parseHashParams(src.slice(hash + 1)).keys()) {
    if (known.includes(key)) continue;
    let why = `${scheme}: sources read only ${known.map((k) => `#${k}`).join(", ")}`;
    if (scheme === "ffmpeg" && key === "backchannel") {
      why = "ffmpeg: sources have no backchannel; put #backchannel=0 on the camera's rtsp:// source";
    } else if (scheme === "ffmpeg") {
      why += '; encoder settings (-preset, -tune, -x264-params) go in a template, e.g. ffmpeg: {h264/fast: ' +
        '"-c:v libx264 -preset ultrafast -tune zerolatency"} with #video=h264/fast';
    }
    out.push(`streams.${stream}: option #${key} of "${redactUrl(src)}" has no effect: ${why}.`);
  }
  return out;
}
