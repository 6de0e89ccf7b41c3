/**
 * strom's configuration: loading go2rtc-compatible YAML (`loadConfig`), the schema behind it
 * (`configSchema`, `listConfigKeys` for docs), `${VAR}` substitution, and comment-preserving
 * write-back (`setStream`, `deleteStream`, `setIn`, `deleteIn`).
 *
 * @example
 * ```ts
 * import { loadConfig, setStream } from "./config/mod.ts";
 * const { config, warnings, writablePath } = await loadConfig(["strom.yaml"], io);
 * ```
 *
 * @module
 */
export { DEFAULT_CONFIG_FILE, DEFAULT_CONFIG_YAML } from "./default.ts";
export { ConfigError, configWarning, formatLocation } from "./errors.ts";
export type { ConfigWarning, ConfigWarningCode } from "./errors.ts";
export { classifySource, loadConfig, loadConfigText } from "./load.ts";
export type { ConfigIo, ConfigSourceKind, LoadedConfig } from "./load.ts";
export { applyDefaults, mergeConfigValues } from "./merge.ts";
export {
  configSchema,
  GO2RTC_ONLY_SECTIONS,
  listConfigKeys,
  LOG_LEVELS,
  LOG_MODULES,
  typeName,
} from "./schema.ts";
export type { ConfigKeyDoc, SchemaNode } from "./schema.ts";
export { createVariableResolver, substituteVariables, VARIABLE_PATTERN } from "./substitute.ts";
export type { ResolvedVariable, SubstitutionResult, VariableOrigin, VariableResolver } from "./substitute.ts";
export type {
  ApiConfig,
  FfmpegConfig,
  HlsConfig,
  IceServerConfig,
  LimitsConfig,
  LogConfig,
  LogLevel,
  MetricsConfig,
  OnvifConfig,
  RecordConfig,
  RtmpConfig,
  RtspConfig,
  StromConfig,
  UserConfig,
  UserRole,
  WebrtcConfig,
  WebrtcFilters,
} from "./types.ts";
export { closest, parseBytes, parseDuration } from "./validate.ts";
export { deleteIn, deleteStream, setIn, setStream } from "./write_back.ts";
export type { YamlPath } from "./write_back.ts";
