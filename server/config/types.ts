/**
 * The typed shape of a loaded strom config: what `loadConfig` returns after validation, merging and
 * defaults. The keys and their defaults are declared once in `schema.ts`; these types mirror it.
 *
 * Conventions after loading:
 * - durations are numbers of **seconds** (YAML may say `30`, `"30s"`, `"5m"`, `"7d"`);
 * - sizes are numbers of **bytes** (YAML may say `1048576`, `"512KB"`, `"1.5GiB"`);
 * - every stream's sources are a list (`[]` for a push-only stream);
 * - keys marked optional (`?`) have no default: absent means "not set".
 *
 * @module
 */

/** A log level, most verbose first; `disabled` turns a logger off. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "disabled";

/** Role of an API user: `viewer` may watch, `admin` may also change streams and config. */
export type UserRole = "viewer" | "admin";

/**
 * One named account (`api.auth.users.<name>`).
 *
 * @example
 * ```ts
 * const kiosk: UserConfig = { password: "s3cret", role: "viewer", streams: ["front_door"] };
 * ```
 */
export interface UserConfig {
  /** Plaintext password (use `${VAR}` to keep it out of the file). */
  password?: string;
  /** bcrypt hash (`$2a$`/`$2b$`/`$2y$`), checked instead of `password`. */
  password_hash?: string;
  role: UserRole;
  /** Stream names (`*` wildcards allowed) this user may access; empty means all streams. */
  streams: string[];
  /** Stream names (`*` wildcards allowed) this user may publish into; empty means none. */
  publish: string[];
}

/**
 * `api:` section (HTTP API, web UI, WebSocket, WHEP/WHIP).
 *
 * @example
 * ```ts
 * const api: Partial<ApiConfig> = { listen: "127.0.0.1:1984", base_path: "/rtc" };
 * ```
 */
export interface ApiConfig {
  listen: string;
  username: string;
  password: string;
  base_path: string;
  static_dir: string;
  origin: string;
  tls_listen: string;
  tls_cert: string;
  tls_key: string;
  unix_listen: string;
  allow_paths: string[];
  local_auth: boolean;
  /** Let the API add sources that run programs or pass raw ffmpeg arguments (config file only). */
  allow_exec_sources: boolean;
  auth: {
    /** The seed article's single API account (an admin on HTTP, as `api.username`); empty for none. */
    username?: string;
    password?: string;
    password_hash?: string;
    token_secret: string;
    max_failed_logins: number;
    users: Record<string, UserConfig>;
  };
}

/**
 * `rtsp:` section (RTSP server).
 *
 * @example
 * ```ts
 * const rtsp: Partial<RtspConfig> = { listen: ":8554", default_query: "video&audio" };
 * ```
 */
export interface RtspConfig {
  listen: string;
  username: string;
  password: string;
  /** The seed article's RTSP accounts (admins on RTSP and RTMP, as `username`); optional for configs built by hand. */
  auth?: { enabled: boolean; users: { username: string; password?: string; password_hash?: string }[] };
  default_query: string;
  pkt_size: number;
  udp: boolean;
  tls_listen: string;
}

/**
 * `rtmp:` section (RTMP server, off unless `listen` is set).
 *
 * @example
 * ```ts
 * const rtmp: RtmpConfig = { listen: ":1935" };
 * ```
 */
export interface RtmpConfig {
  listen: string;
}

/**
 * One ICE server handed to browsers and to our own WebRTC stack.
 *
 * @example
 * ```ts
 * const turn: IceServerConfig = { urls: ["turn:turn.example.com:3478"], username: "u", credential: "p" };
 * ```
 */
export interface IceServerConfig {
  urls: string[];
  username?: string;
  credential?: string;
}

/**
 * `webrtc.filters`: which ICE candidates strom gathers and offers. Absent keys do not filter.
 *
 * @example
 * ```ts
 * const filters: WebrtcFilters = { networks: ["udp4", "tcp4"], udp_ports: [50000, 50100] };
 * ```
 */
export interface WebrtcFilters {
  candidates?: string[];
  loopback?: boolean;
  interfaces?: string[];
  ips?: string[];
  networks?: Array<"udp4" | "udp6" | "tcp4" | "tcp6">;
  udp_ports?: number[];
}

/**
 * `webrtc:` section.
 *
 * @example
 * ```ts
 * const webrtc: Partial<WebrtcConfig> = { listen: ":8555", candidates: ["192.168.1.10:8555", "stun:8555"] };
 * ```
 */
export interface WebrtcConfig {
  listen: string;
  candidates: string[];
  ice_servers: IceServerConfig[];
  filters: WebrtcFilters;
  /** Bit rates (bits per second) publishers are told to send within. */
  bandwidth?: { min?: number; max?: number; start?: number };
  /** Seconds viewers' browsers hold video before showing it (playout-delay extension; 0: at once). */
  jitter_buffer?: number;
  /** Concurrent WebRTC sessions at most (strom's own key). */
  max_peers?: number;
  /** AAC-only streams reach WebRTC viewers as Opus through one shared ffmpeg per stream (default true). */
  audio_transcode?: boolean;
}

/**
 * `onvif:` section: WS-Discovery of strom's ONVIF device.
 *
 * @example
 * ```ts
 * const onvif: OnvifConfig = { discovery: true, interfaces: ["eth0"] };
 * ```
 */
export interface OnvifConfig {
  /** Answer WS-Discovery probes (default false). */
  discovery: boolean;
  /** Interfaces to answer on; empty: every IPv4 interface but loopback. */
  interfaces: string[];
  /** Seconds between looks at the interfaces for new and gone ones (default 30; 0: only at start). */
  rescan: number;
}

/**
 * `ffmpeg:` section: the binary, global args, timeout, and named templates/presets (any other key,
 * e.g. `h264`, `rtsp/udp`, `output`), which override the built-in ones.
 *
 * @example
 * ```ts
 * const ff: FfmpegConfig = { bin: "ffmpeg", global: "-hide_banner", timeout: 5, mycodec: "-c:v libx264" };
 * ```
 */
export interface FfmpegConfig {
  bin: string;
  global: string;
  /** Seconds. */
  timeout: number;
  [template: string]: string | number;
}

/**
 * `log:` section. Per-module levels default to `level`.
 *
 * @example
 * ```ts
 * const log: Partial<LogConfig> = { level: "debug", format: "json", rtsp: "trace" };
 * ```
 */
export interface LogConfig {
  level: LogLevel;
  format: "auto" | "color" | "json" | "text";
  output: string;
  time: string;
  /** Rotation of the log file; optional so configs built by hand need not list it. */
  rotation?: { max_size: number; max_files: number; compress: boolean };
  api?: LogLevel;
  streams?: LogLevel;
  rtsp?: LogLevel;
  rtmp?: LogLevel;
  webrtc?: LogLevel;
  mp4?: LogLevel;
  hls?: LogLevel;
  mjpeg?: LogLevel;
  exec?: LogLevel;
  ffmpeg: LogLevel;
  onvif?: LogLevel;
  record?: LogLevel;
  metrics?: LogLevel;
}

/**
 * `hls:` section: limits on HLS sessions (each one buffers segments in memory).
 *
 * @example
 * ```ts
 * const hls: HlsConfig = { max_sessions: 20, session_timeout: 30, max_session_bytes: 8_000_000 };
 * ```
 */
export interface HlsConfig {
  max_sessions: number;
  /** Seconds. */
  session_timeout: number;
  /** Bytes. */
  max_session_bytes: number;
  /** Lower-resolution versions offered for adaptive bitrate: `480p`, `240p`... */
  variants?: string[];
  /** Bits per second a made version's video may use at most. */
  max_bitrate?: number;
}

/**
 * `metrics:` section (Prometheus text format on the API port).
 *
 * @example
 * ```ts
 * const metrics: MetricsConfig = { enabled: true, path: "/metrics" };
 * ```
 */
export interface MetricsConfig {
  enabled: boolean;
  path: string;
}

/**
 * `limits:` section. `0` means unlimited.
 *
 * @example
 * ```ts
 * const limits: LimitsConfig = { max_connections: 50, max_connections_per_stream: 10, connection_timeout: 30 };
 * ```
 */
export interface LimitsConfig {
  max_connections: number;
  max_connections_per_ip: number;
  max_connections_per_stream: number;
  /** Seconds. */
  connection_timeout: number;
  /** Seconds. */
  idle_timeout: number;
  /** Seconds; 0 = never. */
  write_timeout: number;
  /** Bytes. */
  max_body_size: number;
  /** Bytes. */
  max_ws_message: number;
  /** Seconds. */
  shutdown_timeout: number;
}

/**
 * `record:` section: continuous recording of the matching streams into fragmented MP4 segments.
 *
 * @example
 * ```ts
 * const record: RecordConfig = { dir: "recordings", streams: ["front_*"], segment: 60,
 *   max_age: 604800, max_size: 0, overrides: { front_door: { segment: 10 } } };
 * ```
 */
export interface RecordConfig {
  dir: string;
  /** Stream names or `*` patterns. */
  streams: string[];
  /** Seconds. */
  segment: number;
  /** Seconds; 0 keeps recordings forever. */
  max_age: number;
  /** Bytes per stream folder; 0 means no size cap. */
  max_size: number;
  /** Stream name or `*` pattern -> settings that replace the section's. */
  overrides: Record<string, { segment?: number; max_age?: number; max_size?: number }>;
}

/**
 * One hook of `hooks.on_<event>`: a command, a webhook, or both.
 *
 * @example
 * ```ts
 * const hook: HookConfig = { command: "notify-send ready", streams: ["front_*"], headers: {} };
 * ```
 */
export interface HookConfig {
  command?: string;
  url?: string;
  headers: Record<string, string>;
  /** Stream names or `*` patterns; empty means every stream. */
  streams: string[];
  /** Seconds. */
  timeout?: number;
}

/**
 * `hooks:` section: commands and webhooks run on stream events.
 *
 * @example
 * ```ts
 * const hooks: HooksConfig = { timeout: 10, max_running: 4, max_queued: 256,
 *   on_ready: [{ url: "http://127.0.0.1:8080/hook", headers: {}, streams: [] }] };
 * ```
 */
export interface HooksConfig {
  /** Seconds. */
  timeout: number;
  max_running: number;
  max_queued: number;
  on_ready?: HookConfig[];
  on_not_ready?: HookConfig[];
  on_read?: HookConfig[];
  on_unread?: HookConfig[];
  on_publish?: HookConfig[];
  on_unpublish?: HookConfig[];
  on_segment_complete?: HookConfig[];
  on_source_error?: HookConfig[];
  on_disabled?: HookConfig[];
  on_enabled?: HookConfig[];
  on_alert?: HookConfig[];
}

/** One `monitoring.alerts` entry. */
export interface AlertConfig {
  name: string;
  /** `<measure> <op> <number>[unit] [per <window>]`, see server/monitoring/condition.ts. */
  condition: string;
  /** Seconds the condition must hold. */
  duration: number;
  action: "notify" | "restart" | "exit";
}

/**
 * `monitoring:` section (the seed article's): metrics and health on their own port, alerts.
 *
 * @example
 * ```ts
 * const monitoring: MonitoringConfig = { enabled: true, metrics_port: "9090", health_check: "/health", interval: 5,
 *   alerts: [{ name: "high_cpu", condition: "cpu_percent > 80", duration: 300, action: "restart" }] };
 * ```
 */
export interface MonitoringConfig {
  enabled: boolean;
  /** A port (`"9090"`) or an address (`":9090"`); empty for none. */
  metrics_port: string;
  health_check: string;
  /** Seconds between alert checks. */
  interval: number;
  alerts: AlertConfig[];
}

/**
 * One entry of `cluster.nodes`.
 *
 * @example
 * ```ts
 * const entry: ClusterNodeEntry = { name: "node-3", address: "192.168.1.103:1984", weight: 2 };
 * ```
 */
export interface ClusterNodeEntry {
  name: string;
  /** `host:port` or `http(s)://host:port` of its HTTP API. */
  address: string;
  weight: number;
}

/**
 * `cluster:` section: membership and stream ownership through NATS JetStream KV, or among listed
 * `nodes` that check each other over HTTP.
 *
 * @example
 * ```ts
 * const cluster: Partial<ClusterConfig> = { node: "node-1", nats: ["nats://10.0.0.1:4222"], weight: 2 };
 * ```
 */
export interface ClusterConfig {
  /** Unset: on when `nats` or `nodes` is set. */
  enabled?: boolean;
  node: string;
  /** A cluster without NATS: every node, the same list on each. */
  nodes: ClusterNodeEntry[];
  load_balancer: {
    algorithm: "least-connections" | "round-robin" | "none";
    health_check: string;
    /** Seconds. */
    check_interval: number;
    failover_threshold: number;
  };
  session_sticky: boolean;
  /** Seconds. */
  session_timeout: number;
  nats: string[];
  username: string;
  password: string;
  token: string;
  advertise: { api: string; rtsp: string };
  weight: number;
  /** Seconds. */
  heartbeat: number;
  /** Seconds. */
  node_ttl: number;
  bucket: string;
}

/**
 * `edge:` section: pull every stream from an origin.
 *
 * @example
 * ```ts
 * const edge: EdgeConfig = { origin: "rtsp://central:8554" };
 * ```
 */
export interface EdgeConfig {
  /** `false` turns edge mode off; unset: on when `origin` or `central_server` is set. */
  enabled?: boolean;
  origin: string;
  /** The central servers' HTTP API URLs (strom or go2rtc); empty when unset. */
  central_server?: string[];
  /** Which of several central servers is used. */
  routing?: EdgeRoutingConfig;
  /** Seconds between reads of the central's stream list and RTSP port (default 30). */
  refresh?: number;
  /** Keeping streams pulled after their last viewer. */
  cache?: EdgeCacheConfig;
  /** `false`: no held picture while the central is down (as `hold: 0`). Default true. */
  offline_mode?: boolean;
  /** Seconds a dropped origin's last GOP keeps being served to new viewers (default 30; 0: none). */
  hold?: number;
  /** The go2rtc seed article's adaptive bitrate for the edge's HLS viewers (see `hls.variants`). */
  bandwidth?: { adaptive?: boolean; max_bitrate?: number; quality_levels?: string[] };
}

/** `edge.routing`: the choice among several central servers. */
export interface EdgeRoutingConfig {
  /** At start: the fastest to answer, or the first listed that answers. */
  strategy: "nearest" | "first";
  /** When the one in use stops answering: the next listed (wrapping), or the fastest of the others. */
  fallback: "round-robin" | "nearest";
}

/** `edge.cache`: how long, and within how many bytes, streams stay pulled without viewers. */
export interface EdgeCacheConfig {
  enabled: boolean;
  /** Bytes of cached GOPs that streams without viewers may hold together; 0: no bound. */
  size: number;
  /** Seconds a stream stays pulled after its last viewer. */
  ttl: number;
}

/**
 * The whole config after loading: every section present, defaults applied.
 *
 * @example
 * ```ts
 * const { config } = await loadConfig(["strom.yaml"], io);
 * console.log(config.api.listen, Object.keys(config.streams));
 * ```
 */
export interface StromConfig {
  app: { modules: string[] };
  api: ApiConfig;
  rtsp: RtspConfig;
  rtmp: RtmpConfig;
  webrtc: WebrtcConfig;
  /** `onvif:` section; optional so configs built by hand need not list it. */
  onvif?: OnvifConfig;
  ffmpeg: FfmpegConfig;
  exec: { allow_paths: string[] };
  /** Stream name -> source URLs in order; `[]` is a push-only stream. */
  streams: Record<string, string[]>;
  /** Stream name -> destination URLs it is pushed to (rtmp/rtmps). */
  publish: Record<string, string[]>;
  /** Stream name -> media query it is kept running with, e.g. `"video&audio"`. */
  preload: Record<string, string>;
  /** Stream name -> why it is disabled (privacy mode); optional so configs built by hand need not list it. */
  disabled?: Record<string, string>;
  log: LogConfig;
  /** `debug:` section; optional so configs built by hand need not list it. */
  debug?: { dump_sdp: boolean };
  hls: HlsConfig;
  metrics: MetricsConfig;
  limits: LimitsConfig;
  record: RecordConfig;
  /** Optional so configs built by hand (tests, embedding apps) need not list it. */
  hooks?: HooksConfig;
  /** `cluster:` section; optional so configs built by hand need not list it. */
  cluster?: ClusterConfig;
  /** `edge:` section; optional so configs built by hand need not list it. */
  edge?: EdgeConfig;
  /** `monitoring:` section; optional so configs built by hand need not list it. */
  monitoring?: MonitoringConfig;
  /** Variables from `env:`, usable as `${NAME}` anywhere in the config files. */
  env: Record<string, string>;
}
