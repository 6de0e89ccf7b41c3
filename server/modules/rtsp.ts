/**
 * The RTSP module: serves every stream at `rtsp://host:<rtsp.listen>/<name>` (readers over TCP and
 * UDP, ANNOUNCE/RECORD publishers), with `rtsp.username/password`, `api.auth.users` and bearer
 * tokens (per stream, read and publish), and `rtsp.default_query`.
 *
 * @module
 */
import { randomHex } from "../../lib/core/bytes.ts";
import { parsePacketSize, RtspServer } from "../../lib/protocol/rtsp/mod.ts";
import { AccountStore } from "../access/accounts.ts";
import { FailedLogins } from "../access/failed_logins.ts";
import { StoreRtspAccess } from "../access/rtsp_access.ts";
import { parseListen } from "../listen.ts";
import { loadTlsFiles } from "../tls.ts";
import { setRtspHub, setRtspInternalAccount, setRtspPort } from "../sources.ts";
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
    // Auth is on for RTSP when there is any account for it: rtsp.username/password (go2rtc),
    // api.auth.users (every protocol) or a token secret. Each request is checked for the stream it
    // names and whether it reads or publishes.
    const accounts = ctx.accounts ?? new AccountStore(ctx.config);
    const authOn = accounts.hasAccounts("rtsp");
    // With auth on, the server's own readers (ffmpeg:<stream> sources) log in with an account of
    // their own: a random password made at start, never written anywhere.
    const internal = authOn ? { username: "strom-internal", password: randomHex(16) } : undefined;
    if (internal) {
      accounts.addInternal(internal.username, internal.password);
      // Masked like the configured passwords wherever a command line reaches a log or an API answer.
      ctx.secrets?.push(internal.password);
    }
    const access = authOn ? new StoreRtspAccess(accounts, ctx.failedLogins ?? new FailedLogins()) : undefined;
    // limits: (connections, per-IP, per-stream viewers, timeouts), shared with HTTP and RTMP.
    const limitOptions = {
      gate: ctx.limits,
      // cluster.load_balancer (the cluster module, which starts later, fills ctx.viewerRedirect).
      redirect: (stream: string, client: string) => ctx.viewerRedirect?.rtsp?.(stream, client),
      headerTimeoutMs: (ctx.config.limits?.connection_timeout ?? 30) * 1000,
      writeTimeoutMs: (ctx.config.limits?.write_timeout ?? 0) * 1000,
    };
    const server = new RtspServer({
      hub: ctx.hub,
      listen,
      access,
      defaultQuery: ctx.config.rtsp.default_query || undefined,
      packetSize: parsePacketSize(ctx.config.rtsp.pkt_size, "rtsp.pkt_size in the config"),
      log,
      ...limitOptions,
    });
    await server.listen();
    // RTSPS (strom extension): the same streams and accounts over TLS, certificate from api.tls_*.
    const tlsListen = parseListen(ctx.config.rtsp.tls_listen ?? "");
    let secure: RtspServer | undefined;
    if (tlsListen) {
      try {
        secure = new RtspServer({
          hub: ctx.hub,
          listen: tlsListen,
          access,
          tls: await loadTlsFiles(ctx.config.api),
          defaultQuery: ctx.config.rtsp.default_query || undefined,
          packetSize: parsePacketSize(ctx.config.rtsp.pkt_size, "rtsp.pkt_size in the config"),
          log,
          ...limitOptions,
        });
        await secure.listen();
      } catch (error) {
        await server.close();
        throw error;
      }
    }
    // ffmpeg sources that read a stream by name go through this server: tell them the real port.
    setRtspPort(server.addr.port);
    setRtspInternalAccount(internal ? `${internal.username}:${internal.password}` : undefined);
    // exec:/ffmpeg: commands with {output} publish into this server (private paths of the hub).
    setRtspHub(ctx.hub);
    return {
      close: async () => {
        setRtspInternalAccount(undefined);
        setRtspHub(undefined);
        await secure?.close();
        await server.close();
      },
      reloadTls: async () => {
        if (secure) secure.setTls(await loadTlsFiles(ctx.config.api));
      },
    };
  },
};
