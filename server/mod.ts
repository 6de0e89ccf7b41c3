/**
 * `strom/server`: the whole strom server for embedding, and what a library user needs to configure
 * and extend it: loading go2rtc-compatible YAML (`loadServerConfig`, `loadConfig`), the config types,
 * the Hono app (`createApp`), and the module interface (`Module`) that features plug in through.
 *
 * Kept apart from the core entry (`strom`, mod.ts) so that importing the media model, protocols,
 * muxers and consumers does not load Hono, the HTTP adapters or the server modules.
 *
 * @example
 * ```ts
 * import { loadServerConfig, startServer } from "strom/server";
 * const { config } = await loadServerConfig(["strom.yaml"]);
 * console.log(Object.keys(config.streams ?? {}));
 * const server = await startServer({ configSources: ["strom.yaml"], listen: "127.0.0.1:0" });
 * console.log(server.urls[0]);
 * await server.close();
 * ```
 *
 * @module
 */

// Starting and embedding the server
export { type RunningServer, runServer, startServer, type StartServerOptions } from "./server.ts";
export type { StopRequest } from "./context.ts";
export {
  capYoungGeneration,
  type HeapTuning,
  SERVE_HEAP_GROWING_PERCENT,
  SERVE_MAX_SEMI_SPACE_MB,
  tuneHeapGrowing,
  YOUNG_GENERATION_CAP_MAX_V8,
  type YoungGenerationCap,
} from "../lib/runtime/v8_heap.ts";
export {
  JSC_HEAP_CHECK_MS,
  type JscHeapLimit,
  limitJscHeapGrowth,
  SERVE_JSC_HEAP_GROWTH_MB,
} from "../lib/runtime/jsc_heap.ts";
export { type MallocTrim, SERVE_MALLOC_TRIM_MS, trimMallocPeriodically } from "../lib/runtime/malloc_trim.ts";
export { type AppContext, createApp } from "./app.ts";

// Modules: how features (RTSP, RTMP, WebRTC, recording...) plug into the server
export { builtinModules, type Module, type ModuleContext, type ModuleHandle } from "./modules/mod.ts";

// Configuration
export { loadServerConfig, runtimeIo, type ServerConfig, type ServerIo } from "./load.ts";
export {
  type ApiConfig,
  ConfigError,
  type ConfigIo,
  type ConfigWarning,
  type ConfigWarningCode,
  DEFAULT_CONFIG_YAML,
  type FfmpegConfig,
  type HlsConfig,
  type IceServerConfig,
  type LimitsConfig,
  listConfigKeys,
  loadConfig,
  loadConfigText,
  type LoadedConfig,
  type LogConfig,
  type MetricsConfig,
  type OnvifConfig,
  parseBytes,
  parseDuration,
  type RecordConfig,
  type RtmpConfig,
  type RtspConfig,
  type StromConfig,
  type UserConfig,
  type UserRole,
  type WebrtcConfig,
} from "./config/mod.ts";
