/**
 * strom's ONVIF access check: the server's {@link AccountStore} for requests to its ONVIF device,
 * whose clients log in with a WS-Security UsernameToken inside the SOAP request (not HTTP auth).
 * A digest needs the account's plain `password`; a text token is checked as a Basic password
 * (bcrypt accounts too). A digest whose Nonce was already used within the clock window, under any
 * account, is a replay and refused (one {@link NonceCache} per server). Too many wrong passwords from one IP
 * are refused for a while, as on every other protocol.
 *
 * @module
 */
import { NonceCache, readUsernameToken, verifyUsernameToken } from "../../lib/protocol/onvif/mod.ts";
import type { Account } from "./account.ts";
import type { AccountStore } from "./accounts.ts";
import type { FailedLogins } from "./failed_logins.ts";

/**
 * The ONVIF login over an account store.
 *
 * @example
 * ```ts
 * const access = new OnvifAccess(ctx.accounts, ctx.failedLogins);
 * const login = await access.logIn(requestXml, remoteIp); // an Account, or why not
 * ```
 */
export class OnvifAccess {
  readonly #store: AccountStore;
  readonly #failed: FailedLogins;
  readonly #nonces: NonceCache;

  constructor(store: AccountStore, failed: FailedLogins, nonces: NonceCache = new NonceCache()) {
    this.#store = store;
    this.#failed = failed;
    this.#nonces = nonces;
  }

  /** The account a request's UsernameToken logs in as, or why it does not. */
  async logIn(xml: string, ip: string | undefined): Promise<Account | string> {
    const wait = this.#failed.retryAfter(ip);
    if (wait > 0) return `Too many failed logins from ${ip ?? "this address"}; try again in ${wait} s.`;
    const token = readUsernameToken(xml);
    if (!token) {
      return "This device needs a WS-Security UsernameToken: the user name and password of an api account (api.username or api.auth.users).";
    }
    let account: Account | undefined;
    let reason = "the user name or password is wrong";
    if (token.type === "text") {
      account = await this.#store.verifyPassword(token.username, token.password, "http");
    } else {
      const password = this.#store.plaintextPassword(token.username, "http");
      if (password === undefined) {
        reason =
          `there is no account "${token.username}" with a plain password (a password digest cannot be checked against a password_hash)`;
      } else {
        // The nonce is recorded only once the digest verified: a wrong password cannot use it up.
        let check = await verifyUsernameToken(token, password);
        if (check === true) check = await this.#nonces.record(token);
        if (check === true) account = this.#store.accountNamed(token.username, "http");
        else reason = check;
      }
    }
    if (!account) {
      this.#failed.fail(ip);
      return `Login as "${token.username.slice(0, 64)}" failed: ${reason}.`;
    }
    this.#failed.succeed(ip);
    return account;
  }
}
