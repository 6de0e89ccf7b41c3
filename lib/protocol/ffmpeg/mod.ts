/**
 * `ffmpeg:` sources: the go2rtc-compatible URL -> ffmpeg command line builder, its templates, and
 * the inputs and hardware rewriting it uses. The command runs through the `exec` source.
 *
 * @example
 * ```ts
 * import { buildFfmpegArgs, ffmpegTemplates } from "./lib/protocol/ffmpeg/mod.ts";
 * const cmd = buildFfmpegArgs("ffmpeg:/media/a.mp4#video=mjpeg", { templates: ffmpegTemplates(config.ffmpeg) });
 * // cmd.output === "mjpeg": run cmd.bin with cmd.args and read JPEGs from stdout
 * ```
 *
 * @module
 */
export {
  buildFfmpegArgs,
  FfmpegArgsError,
  type FfmpegArgsOptions,
  type FfmpegCommand,
  type FfmpegOutput,
  tourGraph,
  tourSeconds,
} from "./args.ts";
export { FFMPEG_DEFAULTS, ffmpegTemplates } from "./templates.ts";
export { deviceInput, type DeviceList, type DevicePlatform, ttsInput, virtualInput } from "./inputs.ts";
export {
  type HardwareArgs,
  type HardwareCodec,
  type HardwareEngine,
  type HardwareProbe,
  makeHardware,
} from "./hardware.ts";
export {
  autoProbeOrder,
  HardwareProber,
  type HardwareProbeResult,
  type HardwareProberOptions,
  hardwareProbes,
  type HardwareProbeSpec,
  parseEncoderList,
} from "./hardware_probe.ts";
export {
  type DeviceCatalog,
  type DeviceSource,
  listDevices,
  type ListDevicesOptions,
  parseV4l2Formats,
} from "./devices.ts";
export { lastMessage, type ProbeRun, type ProbeRunner, runProbe, type RunProbeOptions } from "./run_probe.ts";
export { type FfmpegVersion, parseFfmpegVersion } from "./version.ts";
export { registerFfmpegSource } from "./register.ts";
export { AUTO_AUDIO_CODECS, autoAudioPreset, autoAudioUrl, FfmpegAutoAudioProducer } from "./auto_audio.ts";
export {
  FfmpegAudioTranscoder,
  type FfmpegAudioTranscoderOptions,
  ffmpegCanTranscode,
  ffmpegTranscodeArgs,
  registerBackchannelTranscoders,
} from "./audio_transcoder.ts";
export {
  OpusTranscoder,
  type OpusTranscoderOptions,
  opusTranscodeArgs,
  opusTranscoderTakes,
  WEBRTC_OPUS,
} from "./opus_transcoder.ts";
export { OpusFeed, type OpusFeedInfo, OpusFeeds, type OpusFeedsOptions, type OpusLease } from "./opus_feed.ts";
