/**
 * The RTSP module: serves every stream at `rtsp://host:<rtsp.listen>/<name>` (readers over TCP and
 * UDP, ANNOUNCE/RECORD publishers), with `rtsp.username/password` and `rtsp.default_query`.
 *
 * @module
 */
import { parsePacketSize, RtspServer } from "../../lib/protocol/rtsp/mod.ts";
import { parseListen } from "../listen.ts";
import { setRtspPort } from "../sources.ts";
import type { Module } from "./types.ts";

/**
 * Starts the RTSP server when `rtsp.listen` is set (default ":8554"; "" turns it off).
 *
 * @example
 * ```ts
 * const handle = await rtspModule.init(ctx, app); // listening on :8554
 * await handle?.close();
 * ```
 */
export const rtspModule: Module = {
  name: "rtsp",
  async init(ctx) {
    const listen = parseListen(ctx.config.rtsp.listen ?? "");
    if (!listen) return;
    const log = ctx.log.child({ module: "rtsp" });
    const server = new RtspServer({
      hub: ctx.hub,
      listen,
      username: ctx.config.rtsp.username || undefined,
      password: ctx.config.rtsp.password || undefined,
      defaultQuery: ctx.config.rtsp.default_query || undefined,
      packetSize: parsePacketSize(ctx.config.rtsp.pkt_size, "rtsp.pkt_size in the config"),
      log,
    });
    await server.listen();
    // ffmpeg sources that read a stream by name go through this server: tell them the real port.
    setRtspPort(server.addr.port);
    return { close: () => server.close() };
  },
};
