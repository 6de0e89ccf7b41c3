/**
 * The `onvif:` source (go2rtc's): `onvif://user:password@host[:port][/device_service path][?subtype=N]`
 * asks the camera's ONVIF services for the RTSP URI of one media profile and plays that. `subtype`
 * picks the profile by position (0, the default, is the first: usually the main stream; 1 the sub
 * stream) or by token or name. The camera's credentials go into the RTSP URI when it has none, and
 * `#options` after the URL (e.g. `#backchannel=0`) are kept. It is a redirect: every dial asks again,
 * so a camera that changed its URI (a firmware update, DHCP) is followed. No program runs, and the
 * camera's answer is used only when it is an `rtsp://` or `rtsps://` URI.
 *
 * @module
 */
import type { Logger } from "../../core/log.ts";
import { registerRedirect } from "../../core/registry.ts";
import { OnvifClient, OnvifError, type OnvifProfile } from "./client.ts";

/** Where ONVIF devices serve their device service when the URL names no path (ONVIF Core 5.1.1). */
export const DEFAULT_DEVICE_PATH = "/onvif/device_service";

function describe(p: OnvifProfile, i: number): string {
  const video = p.encoding ? ` ${profileVideo(p)}` : "";
  return `${i}: ${p.token}${p.name && p.name !== p.token ? ` "${p.name}"` : ""}${video}`;
}

/**
 * A profile's video as the API, the CLI and errors show it: encoding and size, what the camera
 * says of them.
 *
 * @example
 * ```ts
 * profileVideo({ token: "main", name: "mainStream", encoding: "H264", width: 1280, height: 720 }); // "H264 1280x720"
 * ```
 */
export function profileVideo(p: OnvifProfile): string {
  return [p.encoding, p.width && p.height ? `${p.width}x${p.height}` : ""].filter(Boolean).join(" ");
}

/**
 * The `onvif://` source of one profile of the camera at `base` (an `onvif://` URL without query,
 * as {@link resolveOnvifProfiles} returns it).
 *
 * @example
 * ```ts
 * profileSourceUrl("onvif://admin:pw@10.0.0.5", { token: "sub 1", name: "" }); // "onvif://admin:pw@10.0.0.5?subtype=sub%201"
 * ```
 */
export function profileSourceUrl(base: string, p: OnvifProfile): string {
  return `${base}?subtype=${encodeURIComponent(p.token)}`;
}

// Parses an onvif:// URL and reads the camera's profiles (at least one, or OnvifError).
async function open(url: string, timeoutMs?: number) {
  const hash = url.indexOf("#");
  const base = hash >= 0 ? url.slice(0, hash) : url;
  const fragment = hash >= 0 ? url.slice(hash) : "";
  let parsed: URL;
  try {
    parsed = new URL(base.replace(/^onvif:/i, "http:"));
  } catch {
    const shown = base.replace(/\/\/[^@/]*@/, "//***@"); // no password in messages
    throw new OnvifError(
      `Invalid onvif: URL "${shown}": write onvif://user:password@host[:port][?subtype=N].`,
      "parse",
      shown,
    );
  }
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const path = parsed.pathname && parsed.pathname !== "/" ? parsed.pathname : DEFAULT_DEVICE_PATH;
  const deviceUrl = `http://${parsed.host}${path}`;
  const client = new OnvifClient(deviceUrl, username, password, timeoutMs);
  const profiles = await client.profiles();
  if (profiles.length === 0) {
    throw new OnvifError(
      `The ONVIF camera at ${deviceUrl} lists no media profiles.`,
      "GetProfiles",
      deviceUrl,
    );
  }
  return { client, parsed, base, deviceUrl, username, password, profiles, fragment };
}

/**
 * The media profiles of the camera an `onvif://` URL names, and that URL without its query and
 * `#options` (`base`), to which `?subtype=<token>` picks a profile.
 *
 * @throws {OnvifError} when the camera does not answer or refuses the credentials.
 * @example
 * ```ts
 * const { profiles, base } = await resolveOnvifProfiles("onvif://admin:pw@192.168.1.10");
 * const sub = `${base}?subtype=${profiles[1].token}`;
 * ```
 */
export async function resolveOnvifProfiles(
  url: string,
  options: { timeoutMs?: number } = {},
): Promise<{ profiles: OnvifProfile[]; base: string }> {
  const { profiles, base } = await open(url, options.timeoutMs);
  return { profiles, base: base.replace(/\?.*$/, "") };
}

/**
 * The RTSP URL an `onvif://` URL stands for now (see the module docs).
 *
 * @throws {OnvifError} when the camera does not answer, refuses the credentials, or has no such profile.
 * @example
 * ```ts
 * await resolveOnvifUrl("onvif://admin:pw@192.168.1.10:8000?subtype=1");
 * // "rtsp://admin:pw@192.168.1.10:554/Streaming/Channels/102"
 * ```
 */
export async function resolveOnvifUrl(url: string, options: { timeoutMs?: number } = {}): Promise<string> {
  const { client, parsed, deviceUrl, username, password, profiles, fragment } = await open(
    url,
    options.timeoutMs,
  );
  const subtype = parsed.searchParams.get("subtype") ?? "0";
  const profile = /^\d+$/.test(subtype)
    ? profiles[Number(subtype)]
    : profiles.find((p) => p.token === subtype || p.name === subtype);
  if (!profile) {
    throw new OnvifError(
      `The ONVIF camera at ${deviceUrl} has no profile "${subtype}"; subtype= takes one of: ${
        profiles.map(describe).join("; ")
      }.`,
      "GetProfiles",
      deviceUrl,
    );
  }

  const uri = await client.streamUri(profile.token);
  let rtsp: URL | undefined;
  try {
    rtsp = new URL(uri);
  } catch { /* reported below */ }
  // The camera's answer becomes a source URL: only RTSP, so a device on the network can never make
  // strom dial exec:, ffmpeg: or any other scheme that runs a program.
  if (!rtsp || (rtsp.protocol !== "rtsp:" && rtsp.protocol !== "rtsps:")) {
    throw new OnvifError(
      `The ONVIF camera at ${deviceUrl} gave no RTSP stream URI for profile ${profile.token}: "${uri}".`,
      "GetStreamUri",
      deviceUrl,
    );
  }
  if (!rtsp.username && username) {
    rtsp.username = encodeURIComponent(username);
    rtsp.password = encodeURIComponent(password);
  }
  return rtsp.href + fragment;
}

/**
 * Registers `onvif:` (a redirect to the camera's RTSP URI, asked on each dial).
 *
 * @example
 * ```ts
 * registerOnvifSource({ log });
 * hub.set("door", ["onvif://admin:pw@192.168.1.10"]);
 * ```
 */
export function registerOnvifSource(options: { log?: Logger; timeoutMs?: number } = {}): void {
  registerRedirect("onvif", async (url) => {
    const rtsp = await resolveOnvifUrl(url, { timeoutMs: options.timeoutMs });
    options.log?.debug("onvif: stream URI", { rtsp: rtsp.replace(/\/\/[^@/]*@/, "//***@") });
    return rtsp;
  });
}
