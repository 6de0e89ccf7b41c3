/**
 * Who may use the RTSP server: one check per request, with the stream the request names and
 * whether it reads or publishes, so a server can apply per-stream accounts. The default is
 * {@link singleAccountAccess} (go2rtc's `rtsp.username`/`password`); a server embedding strom passes
 * its own (strom's server checks `api.auth.users`, bcrypt hashes and bearer tokens this way).
 *
 * @module
 */
import type { RtspAuthServer } from "./auth.ts";

/** One request as the access check sees it. */
export interface RtspAccessRequest {
  method: string;
  uri: string;
  /** The stream the URI names (`""` for `OPTIONS *` and the like). */
  stream: string;
  /** `publish` for ANNOUNCE/RECORD and a publisher's SETUP; `read` otherwise. */
  action: "read" | "publish";
  authorization: string | undefined;
  /** The client's IP. */
  remoteAddr: string;
}

/** The answer: go on, or the status to send (401 with challenges, 403, 429). */
export type RtspAccessResult =
  | { ok: true; user?: string }
  | { ok: false; status: 401 | 403 | 429; reason: string; challenges?: string[] };

/**
 * Decides each request.
 *
 * @example
 * ```ts
 * const access: RtspAccess = { check: (r) => r.remoteAddr === "127.0.0.1" ? { ok: true } : { ok: false, status: 403, reason: "local only" } };
 * new RtspServer({ hub, access });
 * ```
 */
export interface RtspAccess {
  check(request: RtspAccessRequest): RtspAccessResult | Promise<RtspAccessResult>;
}

/**
 * Access with the accounts an {@link RtspAuthServer} holds: any of them may read and publish.
 *
 * @example
 * ```ts
 * const access = singleAccountAccess(new RtspAuthServer({ username: "admin", password: "pw" }));
 * ```
 */
export function singleAccountAccess(auth: RtspAuthServer): RtspAccess {
  return {
    check(request) {
      const { state, username } = auth.identify(request.method, request.authorization);
      if (state === "ok") return { ok: true, user: username };
      return {
        ok: false,
        status: 401,
        reason: "Unauthorized: check the user name and password",
        challenges: auth.challenges(state === "stale"),
      };
    },
  };
}
