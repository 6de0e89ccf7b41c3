/**
 * strom as an ONVIF device (Profile S, the subset NVRs use to add a camera): the device service
 * (GetSystemDateAndTime, GetCapabilities, GetServices, GetServiceCapabilities,
 * GetDeviceInformation, GetScopes) and the media service (GetProfiles, GetProfile,
 * GetVideoSources, GetStreamUri, GetSnapshotUri), one media profile per stream, as go2rtc's ONVIF
 * server. Transport-free: {@link answerOnvif} takes the SOAP request's text and returns the
 * response's; WS-Security is read by {@link readUsernameToken} and checked by
 * {@link verifyUsernameToken}, and the caller decides which streams the sender may see.
 *
 * @module
 */
import { base64ToBytes, bytesToBase64, concatBytes } from "../../core/bytes.ts";
import { safeEqual } from "../../core/safe_equal.ts";
import { elementText, findElements, NS, parseAttributes, startTags, xmlEscape } from "./soap.ts";

/** What the device answers with: the streams the sender may see and where they are served. */
export interface OnvifDevice {
  /** Stream names the sender may see, in order: one media profile each (token and name = the stream name). */
  streams: readonly string[];
  /** The device and media service address, e.g. `http://192.168.1.5:1984/onvif/device_service`. */
  serviceUrl: string;
  /** The RTSP address of a stream, or undefined when the RTSP server is off. */
  streamUri(name: string): string | undefined;
  /** The JPEG snapshot address of a stream. */
  snapshotUri(name: string): string;
  /** GetDeviceInformation's answer. */
  info: {
    manufacturer: string;
    model: string;
    firmwareVersion: string;
    serialNumber: string;
    hardwareId: string;
  };
  /** The device's clock (tests pass a fixed one). */
  now?: Date;
}

/**
 * The device's fixed scopes, as GetScopes lists them and WS-Discovery announces them: Profile S
 * streaming, a video encoder, its name and hardware.
 *
 * @example
 * ```ts
 * deviceScopes({ model: "strom", hardwareId: "strom" }); // ["onvif://www.onvif.org/Profile/Streaming", ...]
 * ```
 */
export function deviceScopes(info: Pick<OnvifDevice["info"], "model" | "hardwareId">): string[] {
  return [
    "onvif://www.onvif.org/Profile/Streaming",
    "onvif://www.onvif.org/type/video_encoder",
    "onvif://www.onvif.org/type/Network_Video_Transmitter",
    `onvif://www.onvif.org/name/${encodeURIComponent(info.model)}`,
    `onvif://www.onvif.org/hardware/${encodeURIComponent(info.hardwareId)}`,
  ];
}

/** An ONVIF answer: the HTTP status (200, or 400 for a SOAP fault) and the SOAP envelope. */
export interface OnvifAnswer {
  status: 200 | 400;
  xml: string;
}

/** A WS-Security UsernameToken read from a request header. */
export interface UsernameToken {
  username: string;
  password: string;
  /** `digest`: base64(SHA-1(nonce + created + password)); `text`: the password itself. */
  type: "digest" | "text";
  nonce: string;
  created: string;
}

const TT = NS.schema;
const SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope";
const TER = "http://www.onvif.org/ver10/error";
/** How far a digest's `Created` may be from this device's clock (WS-Security replay window). */
export const USERNAME_TOKEN_WINDOW_MS = 5 * 60_000;

/** Operations answered without credentials (ONVIF Core 5.9.4: a client syncs its clock first). */
export const PRE_AUTH_OPERATIONS: ReadonlySet<string> = new Set(["GetSystemDateAndTime"]);

/**
 * The operation a SOAP request asks for: the local name of the first element in its Body.
 *
 * @example
 * ```ts
 * onvifOperation(`<s:Envelope ...><s:Body><trt:GetProfiles/></s:Body></s:Envelope>`); // "GetProfiles"
 * ```
 */
export function onvifOperation(xml: string): string | undefined {
  return operationElement(xml)?.name;
}

// The first element in the Body: its local name and namespace (its own xmlns, or the envelope's
// declaration of its prefix).
function operationElement(xml: string): { name: string; namespace: string | undefined } | undefined {
  const body = findElements(xml, "Body")[0];
  const tag = body && startTags(body.inner).next().value;
  if (!tag) return undefined;
  const namespace = tag.prefix
    ? new RegExp(`xmlns:${tag.prefix}\\s*=\\s*["']([^"']*)["']`).exec(xml)?.[1]
    : parseAttributes(tag.attributes).xmlns;
  return { name: tag.local, namespace };
}

/**
 * The UsernameToken of a request's WS-Security header, if it has one.
 *
 * @example
 * ```ts
 * const token = readUsernameToken(requestXml); // { username: "admin", type: "digest", ... }
 * ```
 */
export function readUsernameToken(xml: string): UsernameToken | undefined {
  const token = findElements(xml, "UsernameToken")[0];
  if (!token) return undefined;
  const password = findElements(token.inner, "Password")[0];
  return {
    username: elementText(token.inner, "Username") ?? "",
    password: password ? (elementText(token.inner, "Password") ?? "") : "",
    type: /#PasswordText$/.test(password?.attributes.Type ?? "") ? "text" : "digest",
    nonce: elementText(token.inner, "Nonce") ?? "",
    created: elementText(token.inner, "Created") ?? "",
  };
}

/**
 * Whether a UsernameToken carries `password`: a text token equal to it, or a digest of it made
 * within {@link USERNAME_TOKEN_WINDOW_MS} of `now`. Returns the reason when it does not.
 *
 * @example
 * ```ts
 * const check = await verifyUsernameToken(token, "secret");
 * if (check !== true) console.log(check); // e.g. "the password digest does not match"
 * ```
 */
export async function verifyUsernameToken(
  token: UsernameToken,
  password: string,
  now = new Date(),
): Promise<true | string> {
  if (token.type === "text") {
    return safeEqual(token.password, password) ? true : "the password does not match";
  }
  const created = Date.parse(token.created);
  if (Number.isNaN(created)) return `the token's Created "${token.created.slice(0, 40)}" is not a time`;
  const skew = created - now.getTime();
  if (Math.abs(skew) > USERNAME_TOKEN_WINDOW_MS) {
    return `the token was made ${Math.round(Math.abs(skew) / 1000)} s ${
      skew < 0 ? "ago" : "ahead"
    } by this device's clock ` +
      `(at most ${
        USERNAME_TOKEN_WINDOW_MS / 1000
      } s): set the client's clock, or let it read GetSystemDateAndTime`;
  }
  let nonce: Uint8Array;
  try {
    nonce = base64ToBytes(token.nonce);
  } catch {
    return "the token's Nonce is not base64";
  }
  const input = concatBytes([nonce, new TextEncoder().encode(token.created + password)]);
  const digest = bytesToBase64(new Uint8Array(await crypto.subtle.digest("SHA-1", input)));
  return safeEqual(digest, token.password) ? true : "the password digest does not match";
}

/**
 * A SOAP 1.2 fault: `subcode` is an ONVIF error code (`ter:NotAuthorized`, `ter:ActionNotSupported`,
 * `ter:InvalidArgVal`, ...), `reason` the text a user reads.
 *
 * @example
 * ```ts
 * onvifFault("Sender", "ter:NotAuthorized", "The user name or password is wrong.");
 * ```
 */
export function onvifFault(code: "Sender" | "Receiver", subcode: string, reason: string): OnvifAnswer {
  return {
    status: 400,
    xml:
      `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${SOAP_ENV}" xmlns:ter="${TER}"><s:Body><s:Fault>` +
      `<s:Code><s:Value>s:${code}</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${
        xmlEscape(reason)
      }</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`,
  };
}

function ok(body: string): OnvifAnswer {
  return {
    status: 200,
    xml: `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${SOAP_ENV}" xmlns:tt="${TT}" ` +
      `xmlns:tds="${NS.device}" xmlns:trt="${NS.media}"><s:Body>${body}</s:Body></s:Envelope>`,
  };
}

// Nominal values: strom does not know a stream's resolution before it is watched, and NVRs only
// need the fields present (they read the real size from the stream).
const WIDTH = 1920;
const HEIGHT = 1080;
const FPS = 25;

function profileXml(name: string, tag: string): string {
  const token = xmlEscape(name);
  return `<${tag} token="${token}" fixed="true"><tt:Name>${token}</tt:Name>` +
    `<tt:VideoSourceConfiguration token="vsc"><tt:Name>vsc</tt:Name><tt:UseCount>1</tt:UseCount>` +
    `<tt:SourceToken>vs</tt:SourceToken><tt:Bounds x="0" y="0" width="${WIDTH}" height="${HEIGHT}"/></tt:VideoSourceConfiguration>` +
    `<tt:VideoEncoderConfiguration token="vec-${token}"><tt:Name>${token}</tt:Name><tt:UseCount>1</tt:UseCount>` +
    `<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>${WIDTH}</tt:Width><tt:Height>${HEIGHT}</tt:Height></tt:Resolution>` +
    `<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>${FPS}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>` +
    `<tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl><tt:H264><tt:GovLength>${
      FPS * 2
    }</tt:GovLength>` +
    `<tt:H264Profile>High</tt:H264Profile></tt:H264><tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>` +
    `</${tag}>`;
}

function dateTimeXml(now: Date): string {
  return `<tt:UTCDateTime><tt:Time><tt:Hour>${now.getUTCHours()}</tt:Hour><tt:Minute>${now.getUTCMinutes()}</tt:Minute>` +
    `<tt:Second>${now.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${now.getUTCFullYear()}</tt:Year>` +
    `<tt:Month>${
      now.getUTCMonth() + 1
    }</tt:Month><tt:Day>${now.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime>`;
}

// The profile a GetProfile/GetStreamUri/GetSnapshotUri names, or the fault for a missing one.
function namedProfile(xml: string, device: OnvifDevice): string | OnvifAnswer {
  const token = elementText(xml, "ProfileToken");
  if (!token) return onvifFault("Sender", "ter:InvalidArgVal", "The request names no ProfileToken.");
  if (!device.streams.includes(token)) {
    return onvifFault(
      "Sender",
      "ter:InvalidArgVal",
      `No profile "${token}": GetProfiles lists the streams this user may watch.`,
    );
  }
  return token;
}

/**
 * The answer to one ONVIF request (after the caller checked who sent it): the SOAP response, or a
 * fault that names what was wrong (unknown operation, missing or unknown profile, no RTSP server,
 * a body that is not a SOAP request).
 *
 * @example
 * ```ts
 * const answer = answerOnvif(requestXml, {
 *   streams: ["cam"], serviceUrl: "http://192.168.1.5:1984/onvif/device_service",
 *   streamUri: (name) => `rtsp://192.168.1.5:8554/${name}`,
 *   snapshotUri: (name) => `http://192.168.1.5:1984/api/frame.jpeg?src=${name}`,
 *   info: { manufacturer: "strom", model: "strom", firmwareVersion: "0.1.0", serialNumber: "1", hardwareId: "strom" },
 * });
 * ```
 */
export function answerOnvif(xml: string, device: OnvifDevice): OnvifAnswer {
  const operation = operationElement(xml);
  if (!operation) {
    return onvifFault(
      "Sender",
      "ter:InvalidArgs",
      "The request is not a SOAP envelope with an operation in its Body.",
    );
  }
  const op = operation.name;
  const url = xmlEscape(device.serviceUrl);
  switch (op) {
    case "GetSystemDateAndTime":
      return ok(
        `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>` +
          `<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>` +
          `${
            dateTimeXml(device.now ?? new Date())
          }</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
      );
    case "GetCapabilities":
      return ok(
        `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>${url}</tt:XAddr></tt:Device>` +
          `<tt:Media><tt:XAddr>${url}</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>` +
          `<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
          `</tds:Capabilities></tds:GetCapabilitiesResponse>`,
      );
    case "GetServices":
      return ok(
        `<tds:GetServicesResponse>` +
          [NS.device, NS.media].map((ns) =>
            `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${url}</tds:XAddr>` +
            `<tds:Version><tt:Major>2</tt:Major><tt:Minor>5</tt:Minor></tds:Version></tds:Service>`
          ).join("") +
          `</tds:GetServicesResponse>`,
      );
    case "GetServiceCapabilities":
      return ok(
        operation.namespace === NS.media
          ? `<trt:GetServiceCapabilitiesResponse><trt:Capabilities SnapshotUri="true" Rotation="false">` +
            `<trt:ProfileCapabilities MaximumNumberOfProfiles="${device.streams.length}"/>` +
            `<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true"/>` +
            `</trt:Capabilities></trt:GetServiceCapabilitiesResponse>`
          : `<tds:GetServiceCapabilitiesResponse><tds:Capabilities><tds:Network/><tds:Security UsernameToken="true"/>` +
            `<tds:System/></tds:Capabilities></tds:GetServiceCapabilitiesResponse>`,
      );
    case "GetDeviceInformation": {
      const i = device.info;
      return ok(
        `<tds:GetDeviceInformationResponse><tds:Manufacturer>${
          xmlEscape(i.manufacturer)
        }</tds:Manufacturer>` +
          `<tds:Model>${xmlEscape(i.model)}</tds:Model><tds:FirmwareVersion>${
            xmlEscape(i.firmwareVersion)
          }</tds:FirmwareVersion>` +
          `<tds:SerialNumber>${xmlEscape(i.serialNumber)}</tds:SerialNumber><tds:HardwareId>${
            xmlEscape(i.hardwareId)
          }</tds:HardwareId>` +
          `</tds:GetDeviceInformationResponse>`,
      );
    }
    case "GetScopes":
      return ok(
        `<tds:GetScopesResponse>` +
          deviceScopes(device.info)
            .map((s) =>
              `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${
                xmlEscape(s)
              }</tt:ScopeItem></tds:Scopes>`
            )
            .join("") +
          `</tds:GetScopesResponse>`,
      );
    case "GetProfiles":
      return ok(
        `<trt:GetProfilesResponse>${
          device.streams.map((s) => profileXml(s, "trt:Profiles")).join("")
        }</trt:GetProfilesResponse>`,
      );
    case "GetProfile": {
      const name = namedProfile(xml, device);
      if (typeof name !== "string") return name;
      return ok(`<trt:GetProfileResponse>${profileXml(name, "trt:Profile")}</trt:GetProfileResponse>`);
    }
    case "GetVideoSources":
      return ok(
        `<trt:GetVideoSourcesResponse><trt:VideoSources token="vs"><tt:Framerate>${FPS}</tt:Framerate>` +
          `<tt:Resolution><tt:Width>${WIDTH}</tt:Width><tt:Height>${HEIGHT}</tt:Height></tt:Resolution>` +
          `</trt:VideoSources></trt:GetVideoSourcesResponse>`,
      );
    case "GetStreamUri": {
      const name = namedProfile(xml, device);
      if (typeof name !== "string") return name;
      const uri = device.streamUri(name);
      if (!uri) {
        return onvifFault(
          "Receiver",
          "ter:ActionNotSupported",
          "The RTSP server is off (rtsp.listen is empty): there is no stream address to give.",
        );
      }
      return ok(
        `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>${xmlEscape(uri)}</tt:Uri>` +
          `<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>` +
          `<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`,
      );
    }
    case "GetSnapshotUri": {
      const name = namedProfile(xml, device);
      if (typeof name !== "string") return name;
      return ok(
        `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${xmlEscape(device.snapshotUri(name))}</tt:Uri>` +
          `<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>` +
          `<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>`,
      );
    }
    default:
      return onvifFault(
        "Sender",
        "ter:ActionNotSupported",
        `strom's ONVIF device does not implement ${op.slice(0, 80)}; it answers the device service's ` +
          `GetSystemDateAndTime, GetCapabilities, GetServices, GetDeviceInformation, GetScopes and the media service's ` +
          `GetProfiles, GetProfile, GetVideoSources, GetStreamUri, GetSnapshotUri.`,
      );
  }
}
