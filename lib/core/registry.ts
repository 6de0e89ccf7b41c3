/**
 * The scheme registry: maps URL schemes (`rtsp`, `ffmpeg`, `exec`, ...) to source factories. This is
 * strom's public plugin API: third-party code registers its own scheme the same way.
 *
 * @module
 */
import type { Producer, SourceContext, SourceFactory } from "./connection.ts";
import { UnknownSchemeError } from "./errors.ts";

const sources = new Map<string, SourceFactory>();
const redirects = new Map<string, (url: string) => string | Promise<string>>();

/**
 * Registers a source factory for a URL scheme (without `:`). Replaces an earlier one.
 *
 * @example
 * ```ts
 * registerSource("mycam", async (url, ctx) => new MyCamProducer(url, ctx.signal));
 * // streams: { garage: "mycam://10.0.0.5" }
 * ```
 */
export function registerSource(scheme: string, factory: SourceFactory): void {
  sources.set(scheme.toLowerCase(), factory);
}

/**
 * Registers a URL rewriter for a scheme, e.g. `ffmpeg:` -> `exec:ffmpeg ...`. The rewritten URL is
 * dialed again through the registry.
 *
 * @example
 * ```ts
 * registerRedirect("alias", (url) => url.replace(/^alias:/, "rtsp://"));
 * ```
 */
export function registerRedirect(scheme: string, rewrite: (url: string) => string | Promise<string>): void {
  redirects.set(scheme.toLowerCase(), rewrite);
}

/**
 * Removes a scheme's factory and redirect (tests, plugin unload).
 *
 * @example
 * ```ts
 * unregisterSource("mycam");
 * ```
 */
export function unregisterSource(scheme: string): void {
  sources.delete(scheme.toLowerCase());
  redirects.delete(scheme.toLowerCase());
}

/**
 * Schemes that have a factory or a redirect.
 *
 * @example
 * ```ts
 * registeredSchemes(); // ["demo", "exec", "ffmpeg", "rtsp", "rtsps"]
 * ```
 */
export function registeredSchemes(): string[] {
  return [...new Set([...sources.keys(), ...redirects.keys()])].sort();
}

/**
 * The scheme of a source URL: `rtsp://x` -> `rtsp`, `ffmpeg:cam#video=h264` -> `ffmpeg`.
 *
 * @example
 * ```ts
 * schemeOf("ffmpeg:cam#video=h264"); // "ffmpeg"
 * ```
 */
export function schemeOf(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim());
  return m ? m[1].toLowerCase() : "";
}

/**
 * Whether a scheme can be dialed.
 *
 * @example
 * ```ts
 * hasScheme("rtsp"); // true once the RTSP module is loaded
 * ```
 */
export function hasScheme(scheme: string): boolean {
  return sources.has(scheme) || redirects.has(scheme);
}

/**
 * Dials a source URL through the registry, following redirects (at most 8 hops).
 *
 * @example
 * ```ts
 * const producer = await dialSource("rtsp://127.0.0.1:8554/cam", { streamName: "cam", signal });
 * ```
 */
export async function dialSource(url: string, context: SourceContext): Promise<Producer> {
  let current = url;
  for (let hop = 0; hop < 8; hop++) {
    const scheme = schemeOf(current);
    const redirect = redirects.get(scheme);
    if (redirect) {
      current = await redirect(current);
      continue;
    }
    const factory = sources.get(scheme);
    if (!factory) throw new UnknownSchemeError(scheme || "(none)", current, registeredSchemes());
    return await factory(current, context);
  }
  throw new UnknownSchemeError(schemeOf(current), current, registeredSchemes());
}
