/**
 * The list of built-in server modules, started in this order after the streams are set up and
 * stopped in reverse order. Add a feature by writing `server/modules/<feature>.ts` exporting a
 * {@link Module} and listing it here.
 *
 * @module
 */
import { hooksModule } from "./hooks.ts";
import { clusterModule } from "./cluster.ts";
import { preloadModule } from "./preload.ts";
import { rtspModule } from "./rtsp.ts";
import { rtmpModule } from "./rtmp.ts";
import { metricsModule } from "./metrics.ts";
import { monitoringModule } from "./monitoring.ts";
import { publishModule } from "./publish.ts";
import { webrtcModule } from "./webrtc.ts";
import { recordModule } from "./record.ts";
import { onvifModule } from "./onvif.ts";
import type { Module } from "./types.ts";

export type { ApiAddresses, Module, ModuleContext, ModuleHandle } from "./types.ts";

/**
 * Built-in modules in start order. `app.modules` in the config restricts which of them start.
 *
 * @example
 * ```ts
 * for (const m of builtinModules) await m.init(ctx, app);
 * ```
 */
export const builtinModules: readonly Module[] = [
  hooksModule,
  rtspModule,
  rtmpModule,
  // Before preload/record: a cluster node must know whether it owns a stream before anything dials it.
  clusterModule,
  preloadModule,
  metricsModule,
  monitoringModule,
  publishModule,
  recordModule,
  webrtcModule,
  onvifModule,
];
