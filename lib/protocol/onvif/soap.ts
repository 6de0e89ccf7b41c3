/**
 * ONVIF's SOAP 1.2 over HTTP: the request envelope with a WS-Security UsernameToken (password
 * digest: base64(SHA-1(nonce + created + password)), ONVIF Core section 5.12), and reading values
 * out of a response without an XML library (ONVIF responses are flat enough: the elements strom
 * reads carry text or attributes only, under any namespace prefix).
 *
 * @module
 */
import { bytesToBase64, concatBytes } from "../../core/bytes.ts";

/** Namespaces of the requests strom sends. */
export const NS = {
  device: "http://www.onvif.org/ver10/device/wsdl",
  media: "http://www.onvif.org/ver10/media/wsdl",
  schema: "http://www.onvif.org/ver10/schema",
} as const;

/** Escapes text for an XML element or a double-quoted attribute. */
export function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * The WS-Security header for `username`/`password` (none when both are empty), with a fresh
 * 16-byte nonce and the current time.
 *
 * @example
 * ```ts
 * const header = await securityHeader("admin", "secret");
 * ```
 */
export async function securityHeader(username: string, password: string, now = new Date()): Promise<string> {
  if (!username && !password) return "";
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  const created = now.toISOString().replace(/\.\d+Z$/, "Z");
  const input = concatBytes([nonce, new TextEncoder().encode(created + password)]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", input));
  return `<s:Header><wsse:Security s:mustUnderstand="1" ` +
    `xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" ` +
    `xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">` +
    `<wsse:UsernameToken><wsse:Username>${xmlEscape(username)}</wsse:Username>` +
    `<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${
      bytesToBase64(digest)
    }</wsse:Password>` +
    `<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-soap-message-security-1.0#Base64Binary">${
      bytesToBase64(nonce)
    }</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>`;
}

/**
 * A SOAP 1.2 envelope around `body` (already XML), with `header` (see {@link securityHeader}).
 *
 * @example
 * ```ts
 * envelope(await securityHeader("admin", "pw"), `<GetProfiles xmlns="${NS.media}"/>`);
 * ```
 */
export function envelope(header: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>` +
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">${header}<s:Body>${body}</s:Body></s:Envelope>`;
}

/** Decodes the five XML entities and numeric character references. */
export function xmlUnescape(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    const lower = e.toLowerCase();
    if (lower.startsWith("#x")) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith("#")) return String.fromCodePoint(Number(lower.slice(1)));
    return ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[lower];
  });
}

/** One element found by {@link findElements}: its attributes and its inner XML. */
export interface XmlElement {
  attributes: Record<string, string>;
  inner: string;
}

/**
 * The elements named `local` (any namespace prefix) in `xml`, outermost first, not nested in each
 * other. Enough for ONVIF responses, whose elements of one name do not nest.
 *
 * @example
 * ```ts
 * findElements("<tt:Uri>rtsp://cam/1</tt:Uri>", "Uri")[0].inner; // "rtsp://cam/1"
 * ```
 */
export function findElements(xml: string, local: string): XmlElement[] {
  const out: XmlElement[] = [];
  const open = new RegExp(`<(?:[\\w.-]+:)?${local}(\\s[^>]*?)?(/?)>`, "g");
  let m: RegExpExecArray | null;
  while ((m = open.exec(xml)) !== null) {
    const attributes: Record<string, string> = {};
    for (const a of (m[1] ?? "").matchAll(/([\w.:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
      attributes[a[1].replace(/^[\w.-]+:/, "")] = xmlUnescape(a[3] ?? a[4] ?? "");
    }
    if (m[2] === "/") {
      out.push({ attributes, inner: "" });
      continue;
    }
    const close = new RegExp(`</(?:[\\w.-]+:)?${local}\\s*>`, "g");
    close.lastIndex = open.lastIndex;
    const c = close.exec(xml);
    if (!c) break;
    out.push({ attributes, inner: xml.slice(open.lastIndex, c.index) });
    open.lastIndex = close.lastIndex;
  }
  return out;
}

/** The trimmed, unescaped text of the first element named `local` in `xml`, if any. */
export function elementText(xml: string, local: string): string | undefined {
  const e = findElements(xml, local)[0];
  return e ? xmlUnescape(e.inner.replace(/<[^>]*>/g, "")).trim() : undefined;
}
