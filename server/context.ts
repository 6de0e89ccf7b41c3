/**
 * What the HTTP app and the server modules share: the stream hub, the loaded config, the config
 * file (for write-back), the logger, and the runtime hooks (WebSocket upgrade, peer address).
 *
 * @module
 */
import type { Context } from "hono";
import type { StreamHub } from "../lib/core/hub.ts";
import type { Logger } from "../lib/core/log.ts";
import type { AccountStore } from "./access/accounts.ts";
import type { FailedLogins } from "./access/failed_logins.ts";
import type { ConfigIo, StromConfig } from "./config/mod.ts";
import type { ConfigFile } from "./config_file.ts";
import type { LogBuffer } from "./log_buffer.ts";
import type { AlertBoard } from "./monitoring/alerts.ts";
import type { Lifecycle } from "./routes/health.ts";
import type { ConnectionLimits } from "./limits/connection_limits.ts";
import type { UpgradeWebSocketFn } from "./serve/types.ts";

/**
 * What `POST /api/restart` and `POST /api/exit` ask of the process that runs the server: stop
 * (gracefully, as on SIGTERM), then start again from the config files (`restart`) or exit with
 * `code`.
 */
export interface StopRequest {
  restart: boolean;
  /** Exit code when not restarting. */
  code: number;
}

/**
 * Everything `createApp` and the modules need.
 *
 * @example
 * ```ts
 * const app = createApp({ hub: new StreamHub(), config, log: silentLogger, version: "0.1.0" });
 * const res = await app.request("/api/health");
 * ```
 */
export interface AppContext {
  hub: StreamHub;
  /** The merged config the server started with (its `streams` follow API changes). */
  config: StromConfig;
  /** The config file that API changes are written back to; without it, changes stay in memory. */
  configFile?: ConfigFile;
  /** File and environment access for checking a new config (`POST /api/config`). Default: the runtime's. */
  configIo?: ConfigIo;
  log: Logger;
  version: string;
  /** Recent log lines for `GET /api/log`. */
  logBuffer?: LogBuffer;
  /** The runtime's WebSocket upgrade helper; without it `/api/ws` answers 426. */
  upgradeWebSocket?: UpgradeWebSocketFn;
  /** The peer IP of a request; without it every client counts as remote (auth always applies). */
  remoteAddress?: (c: Context) => string | undefined;
  /** Secret values from the config (`${VAR}` substitutions, passwords) masked in JSON responses. */
  secrets?: string[];
  /** When the server started (ms since epoch), for `/api/health`. Default: when the app was created. */
  startedAt?: number;
  /** The accounts every protocol checks. Default: built from `config` by `createApp`. */
  accounts?: AccountStore;
  /** Failed-login counts per IP, shared by every protocol. Default: made by `createApp`. */
  failedLogins?: FailedLogins;
  /** Start-up/shutdown state for `/api/health/ready`; without it the app counts as ready. */
  lifecycle?: Lifecycle;
  /** Connection limits (`limits:`) every protocol admits clients through. Default: made by `createApp`. */
  limits?: ConnectionLimits;
  /**
   * Stops the server for a restart or an exit (`startServer` sets it; see {@link StopRequest}).
   * Without it `/api/restart` and `/api/exit` answer 501.
   */
  requestStop?: (request: StopRequest) => void;
  /**
   * Loads the config sources again as a restart would, and throws (a `ConfigError` naming the file,
   * line and key) when they would not start. `/api/restart` asks before stopping anything.
   */
  checkRestart?: () => Promise<void>;
  /** The running `monitoring.alerts`, for `/api/health` and the metrics; the monitoring module fills it. */
  alerts?: AlertBoard;
  /**
   * `cluster.load_balancer`: where a new viewer of `stream` from `client` (an IP) should go, as the
   * base URL of another node's HTTP API (`http`) or RTSP server (`rtsp`); undefined serves it here.
   * `webrtc` is the node for a WebRTC viewer signalled over `/api/ws` (a WebSocket cannot be
   * redirected, so this node asks that one for the session), with the `Authorization` header to use
   * there (`cluster.username`/`password`). server.ts makes the object and the cluster module fills it
   * (modules get a copy of the context).
   */
  viewerRedirect?: {
    http?: (stream: string, client: string | undefined) => string | undefined;
    rtsp?: (stream: string, client: string | undefined) => string | undefined;
    webrtc?: (stream: string, client: string | undefined) => { api: string; authorization?: string } | undefined;
  };
}
