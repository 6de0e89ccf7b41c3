/**
 * A stand-in RTSP camera for tests of cameras that come up late: a second RTSP server (strom's
 * own, in process) serving the demo stream as `rtsp://127.0.0.1:<port>/cam`.
 *
 * @module
 */
import { StreamHub } from "../../lib/core/hub.ts";
import { registerDemoSource } from "../../lib/protocol/demo/mod.ts";
import { RtspServer } from "../../lib/protocol/rtsp/mod.ts";

/**
 * Starts the camera on `port` (127.0.0.1); the returned function stops it.
 *
 * @example
 * ```ts
 * const stop = await startDemoCamera(port); // rtsp://127.0.0.1:<port>/cam now answers
 * await stop();
 * ```
 */
export async function startDemoCamera(port: number): Promise<() => Promise<void>> {
  registerDemoSource();
  const hub = new StreamHub();
  hub.set("cam", ["demo:"]);
  const camera = new RtspServer({ hub, listen: { hostname: "127.0.0.1", port } });
  await camera.listen();
  return async () => {
    await camera.close();
    await hub.close();
  };
}
