/**
 * strom's RTMP access check: the server's {@link AccountStore} on RTMP, which has no login of its
 * own. Credentials come in the URL (`rtmp://host/live/cam?user=NAME&pass=PASSWORD`, or
 * `?token=JWT`), in the app part or the stream name (OBS: the stream key `cam?user=...&pass=...`).
 * Accounts are those of RTSP (`rtsp.username/password`, go2rtc's stream account) and
 * `api.auth.users`; each must be allowed the stream and the action (play or publish).
 *
 * @module
 */
import type { RtmpAccess, RtmpAccessRequest, RtmpAccessResult } from "../../lib/protocol/rtmp/access.ts";
import { type Account, may } from "./account.ts";
import type { AccountStore } from "./accounts.ts";
import type { FailedLogins } from "./failed_logins.ts";

/**
 * The RTMP access check over an account store.
 *
 * @example
 * ```ts
 * new RtmpServer({ hub, access: new StoreRtmpAccess(ctx.accounts, ctx.failedLogins) });
 * ```
 */
export class StoreRtmpAccess implements RtmpAccess {
  readonly #store: AccountStore;
  readonly #failed: FailedLogins;

  constructor(store: AccountStore, failed: FailedLogins) {
    this.#store = store;
    this.#failed = failed;
  }

  async check(request: RtmpAccessRequest): Promise<RtmpAccessResult> {
    const ip = request.remoteAddr;
    const retryAfter = this.#failed.retryAfter(ip);
    if (retryAfter > 0) return { ok: false, reason: `too many failed logins from ${ip}; try again in ${retryAfter} s` };
    const q = request.query;
    const token = q.get("token");
    const user = q.get("user") ?? q.get("username");
    const pass = q.get("pass") ?? q.get("password") ?? "";
    let account: Account | undefined;
    if (token) account = await this.#store.verifyToken(token);
    else if (user) account = await this.#store.verifyPassword(user, pass, "rtsp");
    if (!account) {
      if (token || user) this.#failed.fail(ip);
      return {
        ok: false,
        reason: token
          ? "the token is invalid or expired"
          : user
          ? "wrong user name or password"
          : "authentication required: add ?user=NAME&pass=PASSWORD or ?token=JWT to the URL or stream key",
      };
    }
    this.#failed.succeed(ip);
    if (!may(account, request.action, request.stream)) {
      return {
        ok: false,
        reason: `user "${account.name}" may not ${request.action === "publish" ? "publish to" : "play"} stream "${request.stream}"`,
      };
    }
    return { ok: true, user: account.name };
  }
}
