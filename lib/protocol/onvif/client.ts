/**
 * A minimal ONVIF client: what a camera's `onvif://` source needs to find its RTSP stream. Device
 * service `GetCapabilities` (where the media service is), media service `GetProfiles` and
 * `GetStreamUri` (RTP over RTSP, unicast), every request signed with a WS-Security UsernameToken
 * digest. HTTP through `fetch`, so it runs on every runtime.
 *
 * @module
 */
import { elementText, envelope, findElements, NS, securityHeader, xmlEscape } from "./soap.ts";

/** Default time for one ONVIF request. */
export const ONVIF_TIMEOUT_MS = 5000;

/**
 * An ONVIF request failed: `step` is the operation (`GetCapabilities`, `GetProfiles`,
 * `GetStreamUri`), `url` the service it went to, `status` the HTTP status when there was one.
 */
export class OnvifError extends Error {
  override name = "OnvifError";
  constructor(
    message: string,
    readonly step: string,
    readonly url: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A media profile of the camera (one encoder setup: main stream, sub stream, ...). */
export interface OnvifProfile {
  token: string;
  name: string;
  /** Video encoding (`H264`, `H265`, `JPEG`), when the profile has a video encoder. */
  encoding?: string;
  width?: number;
  height?: number;
}

/**
 * Talks to one camera's ONVIF services.
 *
 * @example
 * ```ts
 * const cam = new OnvifClient("http://192.168.1.10/onvif/device_service", "admin", "secret");
 * const [main] = await cam.profiles();
 * const rtsp = await cam.streamUri(main.token); // "rtsp://192.168.1.10:554/Streaming/Channels/101"
 * ```
 */
export class OnvifClient {
  #mediaUrl: string | undefined;

  constructor(
    readonly deviceUrl: string,
    readonly username = "",
    readonly password = "",
    readonly timeoutMs = ONVIF_TIMEOUT_MS,
  ) {}

  /**
   * The media service's address (from `GetCapabilities`; the device address if it names none). A
   * camera reports the address it knows itself by, which is not the one strom reached it at behind
   * NAT, a port forward or a second interface: when the host differs from the device address's,
   * the service's path is used on the device address's host and port (as go2rtc does), so strom
   * never sends its login to a host the camera names.
   */
  async mediaUrl(): Promise<string> {
    if (this.#mediaUrl) return this.#mediaUrl;
    const xml = await this.#call(
      "GetCapabilities",
      this.deviceUrl,
      `<GetCapabilities xmlns="${NS.device}"><Category>Media</Category></GetCapabilities>`,
    );
    const media = findElements(xml, "Media")[0];
    this.#mediaUrl = serviceOnDeviceHost((media && elementText(media.inner, "XAddr")) || "", this.deviceUrl);
    return this.#mediaUrl;
  }

  /** The camera's media profiles, in the camera's order (usually main stream first). */
  async profiles(): Promise<OnvifProfile[]> {
    const url = await this.mediaUrl();
    const xml = await this.#call("GetProfiles", url, `<GetProfiles xmlns="${NS.media}"/>`);
    return findElements(xml, "Profiles").map((p) => {
      const profile: OnvifProfile = {
        token: p.attributes.token ?? "",
        name: elementText(p.inner, "Name") ?? "",
      };
      const encoder = findElements(p.inner, "VideoEncoderConfiguration")[0];
      if (encoder) {
        profile.encoding = elementText(encoder.inner, "Encoding");
        const resolution = findElements(encoder.inner, "Resolution")[0];
        if (resolution) {
          profile.width = Number(elementText(resolution.inner, "Width")) || undefined;
          profile.height = Number(elementText(resolution.inner, "Height")) || undefined;
        }
      }
      return profile;
    }).filter((p) => p.token !== "");
  }

  /** The RTSP URI of profile `token` (RTP-Unicast over RTSP). */
  async streamUri(token: string): Promise<string> {
    const url = await this.mediaUrl();
    const xml = await this.#call(
      "GetStreamUri",
      url,
      `<GetStreamUri xmlns="${NS.media}"><StreamSetup><Stream xmlns="${NS.schema}">RTP-Unicast</Stream>` +
        `<Transport xmlns="${NS.schema}"><Protocol>RTSP</Protocol></Transport></StreamSetup>` +
        `<ProfileToken>${xmlEscape(token)}</ProfileToken></GetStreamUri>`,
    );
    const uri = elementText(xml, "Uri");
    if (!uri) {
      throw new OnvifError(`ONVIF GetStreamUri at ${url} answered without a <Uri>.`, "GetStreamUri", url);
    }
    return uri;
  }

  async #call(step: string, url: string, body: string): Promise<string> {
    const header = await securityHeader(this.username, this.password);
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/soap+xml; charset=utf-8" },
        body: envelope(header, body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const why = (error as Error).name === "TimeoutError"
        ? `no answer within ${this.timeoutMs} ms`
        : (error as Error).message;
      throw new OnvifError(
        `ONVIF ${step} at ${url} failed: ${why}. Check the camera's address and ONVIF port in onvif://host:port.`,
        step,
        url,
      );
    }
    const xml = await res.text();
    const fault = findElements(xml, "Fault")[0];
    if (!res.ok || fault) {
      const reason = fault
        ? (elementText(fault.inner, "Text") || elementText(fault.inner, "Value"))
        : undefined;
      const auth = res.status === 401 ||
        /not ?authori[sz]ed|authenticat|password|username/i.test(reason ?? "");
      throw new OnvifError(
        `ONVIF ${step} at ${url} failed: ${reason ? `"${reason}"` : `HTTP ${res.status}`}` +
          (auth ? ". Check the user name and password in onvif://user:password@host." : "."),
        step,
        url,
        res.status,
      );
    }
    return xml;
  }
}

/**
 * `xaddr` as reachable: as it is when its host is the device address's, else its path (and query)
 * on the device address's origin; the device address when `xaddr` is empty or not a URL.
 *
 * @example
 * ```ts
 * serviceOnDeviceHost("http://192.168.1.64/onvif/Media", "http://cam.example.com:8080/onvif/device_service");
 * // "http://cam.example.com:8080/onvif/Media"
 * ```
 */
export function serviceOnDeviceHost(xaddr: string, deviceUrl: string): string {
  let service: URL;
  let device: URL;
  try {
    service = new URL(xaddr);
    device = new URL(deviceUrl);
  } catch {
    return deviceUrl;
  }
  if (service.protocol !== "http:" && service.protocol !== "https:") return deviceUrl;
  if (service.hostname.toLowerCase() === device.hostname.toLowerCase()) return service.href;
  return `${device.origin}${service.pathname}${service.search}`;
}
