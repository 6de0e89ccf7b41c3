/**
 * `exec:` sources: run a command and read media from its stdout, with a supervisor that keeps the
 * last stderr lines for error messages and guarantees the process ends on stop.
 *
 * @example
 * ```ts
 * import { dialExec } from "./lib/protocol/exec/mod.ts";
 * const producer = await dialExec("exec:ffmpeg -re -f lavfi -i testsrc -c:v mjpeg -f mjpeg -");
 * ```
 *
 * @module
 */
export { checkAllowedExecutable, ExecNotAllowedError } from "./allow_paths.ts";
export {
  DEFAULT_START_TIMEOUT_MS,
  type ExecUrl,
  parseExecUrl,
  parseKillSignal,
  parseSeconds,
} from "./exec_url.ts";
export { JpegSplitter } from "./jpeg_splitter.ts";
export { type HashParams, parseHashParams, splitHashParams } from "./params.ts";
export { ExecError, ExecProcess, type ExecProcessOptions } from "./process.ts";
export {
  detectPipeFormat,
  dialExec,
  type ExecDialOptions,
  type ExecPipeFormat,
  ExecProducer,
} from "./producer.ts";
export { quoteSplit } from "./quote_split.ts";
export { ExecRtspProducer, RtspOutput, type RtspOutputTarget } from "./rtsp_output.ts";
export { backchannelCodecs, ExecBackchannelProducer } from "./backchannel.ts";
export { registerExecSource } from "./register.ts";
