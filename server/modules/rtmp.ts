/**
 * The RTMP module: when `rtmp.listen` is set (off by default, as go2rtc; `":1935"` is the usual
 * value), serves every stream at `rtmp://host:<port>/<name>` to players and takes publishers
 * (`ffmpeg -f flv`, OBS with the stream name as key) into existing streams. With accounts configured,
 * play and publish need `?user=&pass=` or `?token=` in the URL or stream key (see
 * `access/rtmp_access.ts`).
 *
 * @module
 */
import { RtmpServer } from "../../lib/protocol/rtmp/mod.ts";
import { AccountStore } from "../access/accounts.ts";
import { FailedLogins } from "../access/failed_logins.ts";
import { StoreRtmpAccess } from "../access/rtmp_access.ts";
import { parseListen } from "../listen.ts";
import type { Module } from "./types.ts";

/**
 * Starts the RTMP server when `rtmp.listen` is set.
 *
 * @example
 * ```ts
 * const handle = await rtmpModule.init(ctx, app); // listening on :1935 with rtmp.listen ":1935"
 * await handle?.close();
 * ```
 */
export const rtmpModule: Module = {
  name: "rtmp",
  async init(ctx) {
    const listen = parseListen(ctx.config.rtmp?.listen ?? "");
    if (!listen) return;
    // Auth is on when any stream account exists (rtsp.username/password, api.auth.users, tokens).
    const accounts = ctx.accounts ?? new AccountStore(ctx.config);
    const access = accounts.hasAccounts("rtsp")
      ? new StoreRtmpAccess(accounts, ctx.failedLogins ?? new FailedLogins())
      : undefined;
    const server = new RtmpServer({
      hub: ctx.hub,
      listen,
      log: ctx.log,
      access,
      gate: ctx.limits,
      writeTimeoutMs: (ctx.config.limits?.write_timeout ?? 0) * 1000,
    });
    await server.listen();
    return { close: () => server.close() };
  },
};
