/**
 * strom as an ONVIF device, as go2rtc's ONVIF server: `POST /onvif/device_service` (and any path
 * under `/onvif/`, one address for the device and media services) answers the SOAP requests an NVR
 * sends to add a camera, one media profile per stream, its stream address on strom's RTSP server.
 *
 * Access: with accounts configured (and not a loopback client with `api.local_auth` off), every
 * request but GetSystemDateAndTime needs a WS-Security UsernameToken of an `http` account
 * (access/onvif_access.ts), instead of the API's HTTP Basic login, because that is how ONVIF
 * clients log in. A viewer account sees only the streams it may watch.
 *
 * @module
 */
import type { Hono } from "hono";
import {
  answerOnvif,
  type OnvifAnswer,
  onvifFault,
  onvifOperation,
  PRE_AUTH_OPERATIONS,
} from "../../lib/protocol/onvif/mod.ts";
import type { Account } from "../access/account.ts";
import { AccountStore } from "../access/accounts.ts";
import { FailedLogins } from "../access/failed_logins.ts";
import { OnvifAccess } from "../access/onvif_access.ts";
import { loginRequired, mayRead } from "../auth.ts";
import type { AppContext } from "../context.ts";
import { parseListen } from "../listen.ts";
import { VERSION } from "../version.ts";

/** Largest SOAP request read (ONVIF requests are a few KB). */
const MAX_REQUEST_BYTES = 64 * 1024;

/**
 * Registers `POST /onvif/*`.
 *
 * @example
 * ```ts
 * onvifDeviceRoutes(app, ctx); // an NVR adds http://<strom>:1984/onvif/device_service
 * ```
 */
export function onvifDeviceRoutes(app: Hono, ctx: AppContext, basePath = ""): void {
  const accounts = ctx.accounts ?? new AccountStore(ctx.config);
  const access = new OnvifAccess(accounts, ctx.failedLogins ?? new FailedLogins());
  const rtspPort = (() => {
    try {
      return parseListen(ctx.config.rtsp?.listen ?? "")?.port;
    } catch {
      return undefined;
    }
  })();
  const log = ctx.log.child({ module: "onvif" });

  app.post("/onvif/*", async (c) => {
    const send = (answer: OnvifAnswer) =>
      c.body(answer.xml, answer.status, { "Content-Type": "application/soap+xml; charset=utf-8" });
    const length = Number(c.req.header("content-length") ?? 0);
    if (length > MAX_REQUEST_BYTES) {
      return send(
        onvifFault(
          "Sender",
          "ter:InvalidArgs",
          `The request has ${length} bytes; an ONVIF request has at most ${MAX_REQUEST_BYTES}.`,
        ),
      );
    }
    const xml = await c.req.text();
    if (xml.length > MAX_REQUEST_BYTES) {
      return send(
        onvifFault("Sender", "ter:InvalidArgs", `The request has more than ${MAX_REQUEST_BYTES} bytes.`),
      );
    }
    const op = onvifOperation(xml);
    let user: Account | undefined;
    const ip = ctx.remoteAddress?.(c);
    const authOn = accounts.hasAccounts("http") && loginRequired(ctx.config.api, ip);
    if (authOn && op && !PRE_AUTH_OPERATIONS.has(op)) {
      const login = await access.logIn(xml, ip);
      if (typeof login === "string") {
        log.debug("onvif request refused", { operation: op, remote: ip, reason: login });
        return send(onvifFault("Sender", "ter:NotAuthorized", login));
      }
      user = login;
    }
    const url = new URL(c.req.url);
    const origin = `${url.protocol}//${url.host}${basePath}`;
    const answer = answerOnvif(xml, {
      streams: ctx.hub.names().filter((name) => mayRead(user, name)),
      serviceUrl: `${origin}/onvif/device_service`,
      streamUri: (name) =>
        rtspPort === undefined ? undefined : `rtsp://${url.hostname}:${rtspPort}/${encodeURIComponent(name)}`,
      snapshotUri: (name) => `${origin}/api/frame.jpeg?src=${encodeURIComponent(name)}`,
      info: {
        manufacturer: "strom",
        model: "strom",
        firmwareVersion: VERSION,
        serialNumber: "strom",
        hardwareId: "strom",
      },
    });
    if (answer.status !== 200) log.debug("onvif request failed", { operation: op ?? "?", remote: ip });
    return send(answer);
  });
}
