/**
 * Test helpers for the API routes: an app over a real StreamHub, a config from YAML text, and an
 * optional temporary config file for write-back tests.
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import { StreamHub } from "../lib/core/hub.ts";
import { createLogger } from "../lib/core/log.ts";
import { createApp } from "./app.ts";
import { loadConfigText } from "./config/mod.ts";
import { ConfigFile } from "./config_file.ts";
import type { AppContext } from "./context.ts";
import { runtimeIo } from "./load.ts";
import { LogBuffer } from "./log_buffer.ts";
import type { UpgradeWebSocketFn } from "./serve/types.ts";
import { registerBuiltinSources } from "./sources.ts";

/** A test app and what it is made of. */
export interface TestApp {
  app: Hono;
  ctx: AppContext;
  hub: StreamHub;
  buffer: LogBuffer;
  /** The temporary config file, when `file` was given. */
  path?: string;
  close(): Promise<void>;
}

/**
 * Builds an app from YAML. With `file`, the YAML is also written to a temp file that API changes go to.
 *
 * @example
 * ```ts
 * const t = await makeTestApp({ yaml: "streams:\n  cam: demo:\n" });
 * const res = await t.app.request("/api/streams");
 * await t.close();
 * ```
 */
export async function makeTestApp(o: {
  yaml?: string;
  file?: boolean;
  remoteAddress?: string;
  upgradeWebSocket?: UpgradeWebSocketFn;
} = {}): Promise<TestApp> {
  registerBuiltinSources();
  const yaml = o.yaml ?? "";
  const { config, secrets } = await loadConfigText(yaml, runtimeIo, "test.yaml");
  const buffer = new LogBuffer();
  const log = createLogger({ level: "debug", write: (_line, record) => buffer.write(record) });
  const hub = new StreamHub({ log, graceMs: 50 });
  for (const [name, sources] of Object.entries(config.streams)) hub.set(name, sources);
  let dir: string | undefined;
  let path: string | undefined;
  if (o.file) {
    dir = mkdtempSync(join(tmpdir(), "strom-api-"));
    path = join(dir, "strom.yaml");
    writeFileSync(path, yaml);
  }
  const ctx: AppContext = {
    hub,
    config,
    configFile: path ? new ConfigFile(path, runtimeIo) : undefined,
    configIo: runtimeIo,
    log,
    version: "9.9.9-test",
    logBuffer: buffer,
    upgradeWebSocket: o.upgradeWebSocket,
    remoteAddress: o.remoteAddress ? () => o.remoteAddress : undefined,
    secrets,
  };
  const app = createApp(ctx);
  return {
    app,
    ctx,
    hub,
    buffer,
    path,
    async close() {
      await hub.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
