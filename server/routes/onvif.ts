/**
 * go2rtc's `GET /api/onvif?src=onvif://user:pass@host[:port]`: the camera's media profiles as
 * sources to add (`{sources: [{name, url, info}]}`, one `onvif://...?subtype=<token>` per profile),
 * what go2rtc's *Add* page shows. Without `src` go2rtc searches the LAN with WS-Discovery; strom
 * does not, and says so. Admins only (server/auth.ts): the server makes requests to the address
 * given, with the credentials given.
 *
 * @module
 */
import type { Hono } from "hono";
import { OnvifError, resolveOnvifProfiles } from "../../lib/protocol/onvif/mod.ts";
import { ApiError } from "../errors.ts";

/**
 * Registers `GET /api/onvif`.
 *
 * @example
 * ```ts
 * onvifRoutes(app); // GET /api/onvif?src=onvif://admin:pw@192.168.1.10
 * ```
 */
export function onvifRoutes(app: Hono): void {
  app.get("/api/onvif", async (c) => {
    const src = c.req.query("src");
    if (!src) {
      throw new ApiError(
        400,
        "strom does not search the network for ONVIF cameras (WS-Discovery); give the camera: ?src=onvif://user:password@host[:port].",
        "BadRequest",
      );
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
          url: `${base}?subtype=${encodeURIComponent(p.token)}`,
          info: [p.encoding, p.width && p.height ? `${p.width}x${p.height}` : ""].filter(Boolean).join(" "),
        })),
      });
    } catch (error) {
      if (error instanceof OnvifError) throw new ApiError(502, error.message, "OnvifError");
      throw error;
    }
  });
}
