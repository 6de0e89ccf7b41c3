/**
 * go2rtc's `GET /api/onvif?src=onvif://user:pass@host[:port]`: the camera's media profiles as
 * sources to add (`{sources: [{name, url, info}]}`, one `onvif://...?subtype=<token>` per profile),
 * what go2rtc's *Add* page shows. Without `src`, the cameras on the LAN, found with WS-Discovery
 * (lib/protocol/onvif/discover.ts, about 3 s), as go2rtc lists them: `{sources: [{name: host,
 * url: "onvif://user:pass@host[:port]"}]}` with placeholder credentials to replace. Admins only
 * (server/auth.ts): the server makes requests to the address given, with the credentials given.
 *
 * @module
 */
import type { Hono } from "hono";
import {
  deviceLabels,
  type DiscoveredDevice,
  discoverOnvif,
  OnvifDiscoveryError,
  OnvifError,
  onvifSourceUrl,
  profileSourceUrl,
  profileVideo,
  resolveOnvifProfiles,
} from "../../lib/protocol/onvif/mod.ts";
import { ApiError } from "../errors.ts";
import { localOnvifEndpoints } from "../modules/onvif.ts";

/**
 * Registers `GET /api/onvif`.
 *
 * @example
 * ```ts
 * onvifRoutes(app); // GET /api/onvif?src=onvif://admin:pw@192.168.1.10, or GET /api/onvif to search the LAN
 * ```
 */
export function onvifRoutes(app: Hono): void {
  app.get("/api/onvif", async (c) => {
    const src = c.req.query("src");
    if (!src) {
      let devices: DiscoveredDevice[];
      try {
        devices = await discoverOnvif();
      } catch (error) {
        if (error instanceof OnvifDiscoveryError) {
          throw new ApiError(500, error.message, "OnvifDiscoveryError");
        }
        throw error;
      }
      const sources = [];
      for (const d of devices) {
        if (localOnvifEndpoints.has(d.endpoint)) continue; // this strom itself (onvif.discovery)
        const url = onvifSourceUrl(d);
        if (!url) continue;
        const info = deviceLabels(d).join(" ");
        sources.push({ name: new URL(url.replace(/^onvif:/, "http:")).host, url, ...(info ? { info } : {}) });
      }
      return c.json({ sources });
    }
    if (!/^onvif:\/\//i.test(src)) {
      throw new ApiError(
        400,
        `src= must be an onvif:// URL, not "${src.replace(/\/\/[^@/]*@/, "//***@")}".`,
        "BadRequest",
      );
    }
    try {
      const { profiles, base } = await resolveOnvifProfiles(src);
      return c.json({
        sources: profiles.map((p, i) => ({
          name: `${p.name || p.token} (profile ${i})`,
          url: profileSourceUrl(base, p),
          info: profileVideo(p),
        })),
      });
    } catch (error) {
      if (error instanceof OnvifError) throw new ApiError(502, error.message, "OnvifError");
      throw error;
    }
  });
}
