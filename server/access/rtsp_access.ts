/**
 * strom's RTSP access check: the server's {@link AccountStore} on RTSP. Plain-text accounts log in
 * with Digest or Basic; bcrypt accounts and bearer tokens (in the password field) with Basic. A
 * login names an account; the account must also be allowed the stream and the action (read or
 * publish), else 403. Too many wrong passwords from one IP get 429 for a while.
 *
 * @module
 */
import { RtspAuthServer } from "../../lib/protocol/rtsp/auth.ts";
import type { RtspAccess, RtspAccessRequest, RtspAccessResult } from "../../lib/protocol/rtsp/access.ts";
import { type Account, may } from "./account.ts";
import type { AccountStore } from "./accounts.ts";
import type { FailedLogins } from "./failed_logins.ts";

/**
 * The RTSP access check over an account store.
 *
 * @example
 * ```ts
 * new RtspServer({ hub, access: new StoreRtspAccess(ctx.accounts, ctx.failedLogins) });
 * ```
 */
export class StoreRtspAccess implements RtspAccess {
  readonly #store: AccountStore;
  readonly #failed: FailedLogins;
  // Digest needs the plain password; this object only issues nonces and checks responses.
  readonly #digest: RtspAuthServer;

  constructor(store: AccountStore, failed: FailedLogins) {
    this.#store = store;
    this.#failed = failed;
    this.#digest = new RtspAuthServer({
      username: "",
      password: "",
      passwordOf: (name) => store.plaintextPassword(name, "rtsp"),
    });
  }

  async check(request: RtspAccessRequest): Promise<RtspAccessResult> {
    const ip = request.remoteAddr;
    const retryAfter = this.#failed.retryAfter(ip);
    if (retryAfter > 0) {
      return { ok: false, status: 429, reason: `Too many failed logins from ${ip}; try again in ${retryAfter} s` };
    }
    const account = await this.#identify(request);
    if (!account) {
      if (request.authorization && account === undefined) this.#failed.fail(ip);
      return {
        ok: false,
        status: 401,
        reason: "Unauthorized: check the user name and password (rtsp.username/password or an api.auth.users account)",
        challenges: this.#digest.challenges(account === null),
      };
    }
    this.#failed.succeed(ip);
    if (request.stream && !may(account, request.action, request.stream)) {
      return {
        ok: false,
        status: 403,
        reason: `User "${account.name}" may not ${request.action === "publish" ? "publish to" : "watch"} stream "${request.stream}"`,
      };
    }
    return { ok: true, user: account.name };
  }

  // undefined: no good login; null: right password with an expired Digest nonce (answer stale=true).
  async #identify(request: RtspAccessRequest): Promise<Account | null | undefined> {
    if (!request.authorization) return undefined;
    const result = this.#digest.identify(request.method, request.authorization);
    if (result.state === "stale") return null;
    if (result.basic) {
      // Basic: plain, bcrypt and token accounts alike go through the store (cached after the first check).
      return await this.#store.verifyPassword(result.basic.username, result.basic.password, "rtsp");
    }
    return result.state === "ok" && result.username !== undefined
      ? this.#store.accountNamed(result.username, "rtsp")
      : undefined;
  }
}
