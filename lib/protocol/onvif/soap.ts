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

/** Decodes the five XML entities and numeric character references (an invalid code point stays as written). */
export function xmlUnescape(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,8}|#\d{1,10}|amp|lt|gt|quot|apos);/gi, (all, e: string) => {
    const lower = e.toLowerCase();
    if (lower.startsWith("#")) {
      const code = lower.startsWith("#x") ? parseInt(lower.slice(2), 16) : Number(lower.slice(1));
      return code <= 0x10ffff ? String.fromCodePoint(code) : all;
    }
    return ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[lower];
  });
}

/** One element found by {@link findElements}: its attributes and its inner XML. */
export interface XmlElement {
  attributes: Record<string, string>;
  inner: string;
}

/** A start tag found by {@link startTags}. */
export interface StartTag {
  /** The namespace prefix, `""` when none. */
  prefix: string;
  local: string;
  /** The text between the name and `>` (or `/>`): the attributes. */
  attributes: string;
  selfClosing: boolean;
  /** Index of its `<`. */
  start: number;
  /** Index just after its `>`. */
  end: number;
}

const NAME = /([\w.-]+)(?::([\w.-]+))?/y;
const SPACE = /\s/;

/**
 * The start tags of `xml` from `from` on, in order (closing tags, comments, declarations and
 * processing instructions are skipped). Linear in the length of `xml` whatever it holds: a request
 * or datagram from the network cannot make the scan quadratic (`<a <a <a ...` with no `>`), which
 * regular expressions with a lazy attribute part did.
 *
 * @example
 * ```ts
 * [...startTags("<s:Body><Op a='1'/></s:Body>")].map((t) => t.local); // ["Body", "Op"]
 * ```
 */
export function* startTags(xml: string, from = 0): Generator<StartTag> {
  let i = from;
  let gt = -1;
  for (;;) {
    i = xml.indexOf("<", i);
    if (i < 0) return;
    if (gt < i) {
      gt = xml.indexOf(">", i);
      if (gt < 0) return;
    }
    NAME.lastIndex = i + 1;
    const m = NAME.exec(xml);
    const after = m ? xml[NAME.lastIndex] : undefined;
    if (!m || !(after === ">" || after === "/" || SPACE.test(after ?? ""))) {
      i++;
      continue;
    }
    // A `<` before the `>`: this one is not a tag; the next may be.
    const lt = xml.indexOf("<", NAME.lastIndex);
    if (lt >= 0 && lt < gt) {
      i = lt;
      continue;
    }
    const selfClosing = xml[gt - 1] === "/" && gt - 1 >= NAME.lastIndex;
    yield {
      prefix: m[2] === undefined ? "" : m[1],
      local: m[2] ?? m[1],
      attributes: xml.slice(NAME.lastIndex, selfClosing ? gt - 1 : gt),
      selfClosing,
      start: i,
      end: gt + 1,
    };
    i = gt + 1;
  }
}

const ATTRIBUTE = /\s*([\w.:-]+)\s*=\s*(["'])/y;

/**
 * The attributes of a start tag's attribute text, by local name (`xmlns:x` is `x`, `xmlns` stays
 * `xmlns`), values unescaped. Stops at the first thing that is not `name="value"`.
 *
 * @example
 * ```ts
 * parseAttributes(` token="main" s:mustUnderstand='1'`); // { token: "main", mustUnderstand: "1" }
 * ```
 */
export function parseAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  for (;;) {
    ATTRIBUTE.lastIndex = i;
    const m = ATTRIBUTE.exec(text);
    if (!m) return out;
    const close = text.indexOf(m[2], ATTRIBUTE.lastIndex);
    if (close < 0) return out;
    out[m[1].replace(/^[\w.-]+:/, "")] = xmlUnescape(text.slice(ATTRIBUTE.lastIndex, close));
    i = close + 1;
  }
}

/**
 * The elements named `local` (any namespace prefix) in `xml`, outermost first, not nested in each
 * other. Enough for ONVIF responses, whose elements of one name do not nest. Linear in the length of
 * `xml` (see {@link startTags}).
 *
 * @example
 * ```ts
 * findElements("<tt:Uri>rtsp://cam/1</tt:Uri>", "Uri")[0].inner; // "rtsp://cam/1"
 * ```
 */
export function findElements(xml: string, local: string): XmlElement[] {
  const out: XmlElement[] = [];
  let from = 0;
  scan: for (;;) {
    for (const tag of startTags(xml, from)) {
      if (tag.local !== local) continue;
      const attributes = parseAttributes(tag.attributes);
      if (tag.selfClosing) {
        out.push({ attributes, inner: "" });
        continue;
      }
      const close = closingTag(xml, local, tag.end);
      if (!close) break scan;
      out.push({ attributes, inner: xml.slice(tag.end, close.start) });
      from = close.end;
      continue scan;
    }
    break;
  }
  return out;
}

// The first `</[prefix:]local >` at or after `from`.
function closingTag(xml: string, local: string, from: number): { start: number; end: number } | undefined {
  let i = from;
  for (;;) {
    i = xml.indexOf("</", i);
    if (i < 0) return undefined;
    NAME.lastIndex = i + 2;
    const m = NAME.exec(xml);
    if (m && (m[2] ?? m[1]) === local) {
      let j = NAME.lastIndex;
      while (j < xml.length && SPACE.test(xml[j])) j++;
      if (xml[j] === ">") return { start: i, end: j + 1 };
    }
    i += 2;
  }
}

/** The trimmed, unescaped text of the first element named `local` in `xml`, if any. */
export function elementText(xml: string, local: string): string | undefined {
  const e = findElements(xml, local)[0];
  return e ? xmlUnescape(stripTags(e.inner)).trim() : undefined;
}

// `text` without its tags (`<...>`); a `<` with no `>` after it stays, as text. Linear.
function stripTags(text: string): string {
  let out = "";
  let i = 0;
  for (;;) {
    const lt = text.indexOf("<", i);
    if (lt < 0) return out + text.slice(i);
    const gt = text.indexOf(">", lt);
    if (gt < 0) return out + text.slice(i);
    out += text.slice(i, lt);
    i = gt + 1;
  }
}
