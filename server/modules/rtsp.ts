/**
 * The RTSP module: serves every stream at `rtsp://host:<rtsp.listen>/<name>` (readers over TCP and
 * UDP, ANNOUNCE/RECORD publishers), with `rtsp.username/password` and `rtsp.default_query`.
 *
 * @module
 */
import { parsePacketSize, RtspServer } from "../../lib/protocol/rtsp/mod.ts";
import { parseListen } from "../listen.ts";
import { setRtspHub, setRtspInternalAccount, setRtspPort } from "../sources.ts";
import type { Module } from "./types.ts";

/** 32 hex digits from the Web Crypto random source. */
function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

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
    const username = ctx.config.rtsp.username || undefined;
    const password = ctx.config.rtsp.password || undefined;
    // With auth on, the server's own readers (ffmpeg:<stream> sources) log in with an account of
    // their own: a random password made at start, never written anywhere.
    const internal = username || password ? { username: "strom-internal", password: randomToken() } : undefined;
    // Masked like the configured passwords wherever a command line reaches a log or an API answer.
    if (internal) ctx.secrets?.push(internal.password);
    const server = new RtspServer({
      hub: ctx.hub,
      listen,
      username,
      password,
      accounts: internal ? [internal] : undefined,
      defaultQuery: ctx.config.rtsp.default_query || undefined,
      packetSize: parsePacketSize(ctx.config.rtsp.pkt_size, "rtsp.pkt_size in the config"),
      log,
    });
    await server.listen();
    // ffmpeg sources that read a stream by name go through this server: tell them the real port.
    setRtspPort(server.addr.port);
    setRtspInternalAccount(internal ? `${internal.username}:${internal.password}` : undefined);
    // exec:/ffmpeg: commands with {output} publish into this server (private paths of the hub).
    setRtspHub(ctx.hub);
    return {
      close: () => {
        setRtspInternalAccount(undefined);
        setRtspHub(undefined);
        return server.close();
      },
    };
  },
};
