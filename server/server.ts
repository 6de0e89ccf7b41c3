/**
 * Starts the whole server: config, stream hub, built-in sources, modules, HTTP API. Stops it all
 * exactly once on `close()`, SIGINT or SIGTERM.
 *
 * @module
 */
import type { Hono } from "hono";
import { StreamHub } from "../lib/core/hub.ts";
import { formatAddress } from "../lib/runtime/address.ts";
import { onReload, onTermination } from "../lib/runtime/host.ts";
import { isNoIpv6 } from "../lib/runtime/tcp.ts";
import { toNetError } from "../lib/runtime/net_error.ts";
import { applyDisabled } from "./routes/disabled.ts";
import { AccountStore } from "./access/accounts.ts";
import { FailedLogins } from "./access/failed_logins.ts";
import type { Logger } from "../lib/core/log.ts";
import { createApp } from "./app.ts";
import { type ConfigWarning, type StromConfig } from "./config/mod.ts";
import { ConfigFile } from "./config_file.ts";
import { edgeSettings } from "./edge/settings.ts";
import type { AppContext, StopRequest } from "./context.ts";
import { loadServerConfig } from "./load.ts";
import { httpUrl, parseListen } from "./listen.ts";
import { createServerLog } from "./log_setup.ts";
import { builtinModules, type Module, type ModuleContext, type ModuleHandle } from "./modules/mod.ts";
import { loadServeAdapter } from "./serve/mod.ts";
import type { BoundAddr, HttpServer, ListenOptions } from "./serve/types.ts";
import { loadTlsFiles } from "./tls.ts";
import { ConnectionLimits } from "./limits/connection_limits.ts";
import { checkStreamSchemes, configureExecSources, configureFfmpegSources, registerBuiltinSources } from "./sources.ts";
import { VERSION } from "./version.ts";
import { AlertBoard } from "./monitoring/alerts.ts";

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** Config sources as given with `-c`: file paths, inline YAML/JSON, `key.path=value`. Empty: the embedded default. */
  configSources?: string[];
  /** Overrides `api.listen` (e.g. `"127.0.0.1:0"` in tests). */
  listen?: string;
  /** Logger to use instead of the one the `log:` section describes. */
  log?: Logger;
  /** Stop on SIGINT/SIGTERM. Default true. */
  handleSignals?: boolean;
  /** Modules to start. Default {@link builtinModules}. */
  modules?: readonly Module[];
}

/** A started server. */
export interface RunningServer {
  hub: StreamHub;
  app: Hono;
  config: StromConfig;
  /** Config warnings (also logged). */
  warnings: ConfigWarning[];
  /** Where the HTTP API answers, e.g. `["http://127.0.0.1:1984"]`; empty when `api.listen` is `""`. */
  urls: string[];
  /** The bound HTTP address (the real port when 0 was asked for). */
  httpAddr?: BoundAddr;
  /** Where HTTPS answers (`api.tls_listen`), e.g. `["https://127.0.0.1:8443"]`; empty without it. */
  httpsUrls: string[];
  /**
   * Reads `api.tls_cert`/`tls_key` again and serves the new certificate to new connections (what
   * SIGHUP does). Resolves once done; rejects with the reason when the files are unusable (the old
   * certificate stays).
   */
  reloadTls(): Promise<void>;
  /** Stops everything. Idempotent; resolves when done. */
  close(): Promise<void>;
  /** Resolves once the server stopped (by `close()` or a signal). */
  readonly closed: Promise<void>;
  /** Set when `POST /api/restart` or `POST /api/exit` stopped (or is stopping) the server. */
  readonly stopRequest: StopRequest | undefined;
}

/**
 * Loads the config and starts the server.
 *
 * @example
 * ```ts
 * const server = await startServer({ configSources: ["strom.yaml"], listen: "127.0.0.1:0", handleSignals: false });
 * console.log(server.urls[0]); // http://127.0.0.1:40123
 * await server.close();
 * ```
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const startedAt = Date.now();
  const loaded = await loadServerConfig(options.configSources ?? []);
  const config = loaded.config;
  if (options.listen !== undefined) config.api.listen = options.listen;
  const listen = parseListen(config.api.listen ?? "");

  const serverLog = options.log ? undefined : createServerLog(config.log, loaded.secrets, config.debug);
  const log = options.log ?? serverLog!.log;
  for (const w of loaded.warnings) log.warn(w.message);

  registerBuiltinSources({ log });
  // An edge holds a dropped central's last picture for new viewers for edge.hold, and with
  // edge.cache keeps streams pulled for its ttl after their last viewer.
  const edge = edgeSettings(config);
  const hub = new StreamHub({ log: log.child({ module: "streams" }), holdMs: edge?.holdMs ?? 0, graceMs: edge?.graceMs });
  configureFfmpegSources(config.ffmpeg as Record<string, unknown>, (name) => hub.get(name) !== undefined);
  configureExecSources(config.exec?.allow_paths ?? []);
  const adapter = await loadServeAdapter();

  const ctx: AppContext = {
    hub,
    config,
    configFile: loaded.writablePath ? new ConfigFile(loaded.writablePath, loaded.io) : undefined,
    configIo: loaded.io,
    log,
    version: VERSION,
    logBuffer: serverLog?.buffer,
    upgradeWebSocket: adapter.upgradeWebSocket,
    remoteAddress: adapter.remoteAddress,
    secrets: loaded.secrets,
    startedAt,
    // Built here, before the modules get their copy of the context: every protocol checks the same
    // accounts (a bad password_hash fails the start with its key named).
    accounts: new AccountStore(config),
    failedLogins: new FailedLogins({ maxFailures: config.api.auth?.max_failed_logins }),
    // /api/health/ready answers 503 until everything listens and once shutdown begins.
    lifecycle: { ready: false, stopping: false },
    limits: new ConnectionLimits(config.limits ?? {}, log),
    requestStop: (request) => requestStop(request),
    alerts: new AlertBoard(),
    viewerRedirect: {},
    checkRestart: async () => {
      const next = await loadServerConfig(options.configSources ?? []);
      // What the start checks before listening: the accounts (a bad password_hash names its key).
      new AccountStore(next.config);
    },
  };
  const lifecycle = ctx.lifecycle!;
  const limits = config.limits;
  const timeouts = {
    headerMs: (limits?.connection_timeout ?? 0) * 1000,
    idleMs: (limits?.idle_timeout ?? 0) * 1000,
    writeMs: (limits?.write_timeout ?? 0) * 1000,
  };
  const moduleCtx: ModuleContext = { ...ctx, wsHandlers: new Map() };
  const app = createApp(ctx, { wsHandlers: moduleCtx.wsHandlers });

  const handles: { name: string; handle: ModuleHandle }[] = [];
  let http: HttpServer | undefined;
  let https: HttpServer | undefined;
  const tlsListen = parseListen(config.api.tls_listen ?? "");
  // Dual-stack like api.listen; IPv4 only on a host without IPv6.
  const serveOn = (addr: ListenOptions, key: string): Promise<HttpServer> =>
    adapter.serve(app, { ...addr, timeouts }).catch((error) => {
      if (addr.hostname === "::" && isNoIpv6(error)) return adapter.serve(app, { ...addr, timeouts, hostname: "0.0.0.0" });
      throw error;
    }).catch((error) => {
      throw toNetError(error, "listen on", `${formatAddress(addr.hostname, addr.port)} (${key})`);
    });
  let tlsReload: Promise<void> = Promise.resolve();
  const reloadTls = (): Promise<void> => {
    tlsReload = tlsReload.then(async () => {
      for (const { handle } of handles) await handle.reloadTls?.();
      if (!https || !tlsListen) return;
      const tls = await loadTlsFiles(config.api);
      if (https.setTls) {
        https.setTls(tls);
      } else {
        // Runtimes that cannot swap the certificate in place: listen again on the same port.
        const port = https.addr.port;
        await https.close();
        https = await serveOn({ hostname: tlsListen.hostname, port, tls }, "api.tls_listen");
      }
      log.info("TLS certificate reloaded", { cert: config.api.tls_cert?.includes("-----BEGIN") ? "(inline)" : config.api.tls_cert });
    });
    return tlsReload;
  };
  const onReloadSignal = () => {
    reloadTls().catch((error) => log.error("TLS certificate reload failed; the old one stays", { error: String(error) }));
  };
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closing: Promise<void> | undefined;
  const onSignal = (signal: string) => {
    log.info(`received ${signal}, shutting down`);
    void close();
  };
  let stopHandlingSignals: (() => void) | undefined;
  let stopRequest: StopRequest | undefined;
  // POST /api/restart and /api/exit: the answer goes out first, then the same shutdown as SIGTERM.
  function requestStop(request: StopRequest): void {
    if (stopRequest || closing) return;
    stopRequest = request;
    log.info(
      request.restart
        ? "restart asked through the API: stopping, then starting again"
        : `exit asked through the API: stopping, exit code ${request.code}`,
    );
    setTimeout(() => void close(), STOP_ANSWER_MS);
  }

  // Shutdown: stop accepting and close clients (HTTP, WebSockets with a close frame), then each
  // module in reverse start order (RTSP/RTMP sessions, recordings finish their segment, publishes),
  // then the streams (sources and their child processes). Bounded by limits.shutdown_timeout.
  function close(): Promise<void> {
    if (closing) return closing;
    lifecycle.stopping = true;
    const boundMs = (limits?.shutdown_timeout ?? 10) * 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log.warn(`shutdown took longer than ${boundMs / 1000} s (limits.shutdown_timeout); stopping anyway`);
        resolve();
      }, boundMs);
    });
    const orderly = closeAll().finally(() => clearTimeout(timer));
    closing = Promise.race([orderly, bound]).then(async () => {
      await serverLog?.close().catch(() => {});
      resolveClosed();
    });
    return closing;
  }

  function closeAll(): Promise<void> {
    return (async () => {
      stopHandlingSignals?.();
      try {
        await http?.close();
        await https?.close();
      } catch (error) {
        log.warn("closing the HTTP server failed", { error });
      }
      for (const { name, handle } of handles.splice(0).reverse()) {
        try {
          await handle.close();
        } catch (error) {
          log.warn("closing a module failed", { module: name, error });
        }
      }
      await hub.close();
      log.info("stopped");
    })();
  }

  try {
    // Streams exist before modules start (preload attaches to them); nothing dials until a consumer
    // comes. Schemes are checked once modules have registered theirs.
    for (const [name, sources] of Object.entries(config.streams ?? {})) hub.set(name, sources);
    // Disabled streams are disabled before any module (preload, record, publish) could dial them.
    await applyDisabled(hub, config.disabled ?? {}, log);
    const enabled = config.app?.modules ?? [];
    for (const module of options.modules ?? builtinModules) {
      if (enabled.length > 0 && !enabled.includes(module.name)) continue;
      const handle = await module.init(moduleCtx, app);
      if (handle) handles.push({ name: module.name, handle });
      log.debug("module started", { module: module.name });
    }
    for (const warning of checkStreamSchemes(config.streams ?? {})) log.warn(warning);

    if (listen) {
      const where = `${formatAddress(listen.hostname, listen.port)} (api.listen)`;
      // ":port" listens dual-stack ("::"), or on all IPv4 interfaces on a host without IPv6.
      http = await adapter.serve(app, { ...listen, timeouts }).catch((error) => {
        if (listen.hostname === "::" && isNoIpv6(error)) return adapter.serve(app, { ...listen, timeouts, hostname: "0.0.0.0" });
        throw error;
      }).catch((error) => {
        throw toNetError(error, "listen on", where);
      });
      log.info(`listening on ${httpUrl(http.addr)}`, { runtime: adapter.runtime, version: VERSION });
    } else {
      log.info("HTTP API disabled (api.listen is empty)");
    }
    if (tlsListen) {
      const tls = await loadTlsFiles(config.api);
      https = await serveOn({ ...tlsListen, tls }, "api.tls_listen");
      log.info(`listening on ${httpUrl(https.addr).replace("http:", "https:")}`);
    }
    for (const { handle } of handles) await handle.apiListening?.({ http: http?.addr, https: https?.addr });
    lifecycle.ready = true;
  } catch (error) {
    await close();
    throw error;
  }

  if (options.handleSignals !== false) {
    const stopTermination = onTermination(onSignal);
    const stopReload = onReload(onReloadSignal);
    stopHandlingSignals = () => {
      stopTermination();
      stopReload();
    };
  }

  return {
    hub,
    app,
    config,
    warnings: loaded.warnings,
    urls: http ? [httpUrl(http.addr)] : [],
    httpAddr: http?.addr,
    get httpsUrls() {
      return https ? [httpUrl(https.addr).replace("http:", "https:")] : [];
    },
    reloadTls,
    close,
    closed,
    get stopRequest() {
      return stopRequest;
    },
  };
}

/** How long a restart or exit asked through the API waits so its HTTP answer reaches the client. */
const STOP_ANSWER_MS = 100;

/**
 * Runs the server the way `strom serve` does: starts it, and when `POST /api/restart` stopped it,
 * starts it again from the same config sources (files are read again, so a config saved with
 * `POST /api/config` takes full effect), until it stops for good. Resolves with the exit code:
 * `POST /api/exit?code=N` gives N, a signal or `close()` 0. `onStart` sees each started server.
 *
 * @example
 * ```ts
 * const code = await runServer({ configSources: ["strom.yaml"] });
 * ```
 */
export async function runServer(
  options: StartServerOptions = {},
  onStart?: (server: RunningServer) => void,
): Promise<number> {
  for (;;) {
    const server = await startServer(options);
    onStart?.(server);
    await server.closed;
    const request = server.stopRequest;
    if (!request?.restart) return request?.code ?? 0;
  }
}
