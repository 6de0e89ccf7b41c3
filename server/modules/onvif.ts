/**
 * The ONVIF module: with `onvif.discovery: true`, answers WS-Discovery probes so NVRs searching
 * the LAN find strom's ONVIF device (`/onvif/device_service`, served by routes/onvif_device.ts
 * whatever this says). It starts once the HTTP API listens, to announce its real port. Discovery
 * is an extra: when it cannot start (the system refuses the group on every interface), the server
 * runs on and the log says why; with no interface up yet it starts and waits for one (`onvif.rescan`).
 *
 * @module
 */
import { deviceScopes, OnvifDiscoveryResponder } from "../../lib/protocol/onvif/mod.ts";
import { formatAddress } from "../../lib/runtime/address.ts";
import { hostName } from "../../lib/runtime/interfaces.ts";
import { normalizeBasePath } from "../app.ts";
import type { Module } from "./types.ts";

/** The model and hardware scopes strom's ONVIF device gives (routes/onvif_device.ts answers with the same). */
export const ONVIF_DEVICE_MODEL = "strom";

/**
 * The endpoints this process answers WS-Discovery for, so its own search (`GET /api/onvif`) does
 * not list it as a camera: multicast loops back to the sender's host.
 */
export const localOnvifEndpoints: Set<string> = new Set();

/**
 * Starts WS-Discovery when `onvif.discovery` is on.
 *
 * @example
 * ```ts
 * const handle = await onvifModule.init(ctx, app); // with onvif: {discovery: true}
 * await handle?.apiListening?.({ http: { hostname: "::", port: 1984 } });
 * ```
 */
export const onvifModule: Module = {
  name: "onvif",
  // deno-lint-ignore require-await
  async init(ctx) {
    const config = ctx.config.onvif;
    if (!config?.discovery) return;
    const log = ctx.log.child({ module: "onvif" });
    const basePath = normalizeBasePath(ctx.config.api?.base_path);
    let responder: OnvifDiscoveryResponder | undefined;
    return {
      async apiListening(api) {
        const side = api.http
          ? { scheme: "http", ...api.http }
          : api.https
          ? { scheme: "https", ...api.https }
          : undefined;
        if (!side) {
          log.warn(
            "WS-Discovery is off: the HTTP API does not listen (api.listen is empty), so NVRs could not reach the ONVIF device",
          );
          return;
        }
        if (/^(127\.|::1$|localhost$)/.test(side.hostname)) {
          log.warn(
            'WS-Discovery is off: the HTTP API listens on loopback only, which NVRs cannot reach; set api.listen to ":1984"',
            {
              listen: side.hostname,
            },
          );
          return;
        }
        const wildcard = side.hostname === "::" || side.hostname === "0.0.0.0" || side.hostname === "";
        const endpoint = await endpointAddress(`${hostName()}:${side.port}`);
        try {
          responder = await OnvifDiscoveryResponder.start({
            endpoint,
            scopes: deviceScopes({ model: ONVIF_DEVICE_MODEL, hardwareId: ONVIF_DEVICE_MODEL }),
            xaddrs: (local) => [
              `${side.scheme}://${
                formatAddress(wildcard ? local : side.hostname, side.port)
              }${basePath}/onvif/device_service`,
            ],
            interfaces: config.interfaces?.length ? config.interfaces : undefined,
            // Unset (a config built without the schema's defaults): the responder's own default.
            rescanMs: config.rescan === undefined ? undefined : config.rescan * 1000,
            log,
          });
          localOnvifEndpoints.add(endpoint);
          log.info("answering WS-Discovery probes", {
            interfaces: responder.interfaces.map((a) => `${a.name} (${a.address})`),
            endpoint,
          });
        } catch (error) {
          log.warn("WS-Discovery could not start; NVRs can still add strom by address", { error });
        }
      },
      async close() {
        if (!responder) return;
        localOnvifEndpoints.delete(responder.endpoint);
        await responder.close();
      },
    };
  },
};

// A stable `urn:uuid:` for this host and port (NVRs key devices by it): SHA-1 based, RFC 4122
// version 5 layout.
async function endpointAddress(seed: string): Promise<string> {
  const hash = new Uint8Array(
    await crypto.subtle.digest("SHA-1", new TextEncoder().encode(`strom-onvif:${seed}`)),
  );
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = Array.from(hash.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}
