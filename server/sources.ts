/**
 * Registers the source schemes built into the server (`demo:` so far; `rtsp`, `ffmpeg`, `exec`...
 * as their protocol folders land). Idempotent. Shared by `strom serve` and `strom config check`, so
 * both agree on which schemes exist.
 *
 * @module
 */
import { UnknownSchemeError } from "../lib/core/errors.ts";
import { hasScheme, registeredSchemes, schemeOf } from "../lib/core/registry.ts";
import { registerDemoSource } from "../lib/protocol/demo/mod.ts";

let registered = false;

/**
 * Registers every built-in source scheme once.
 *
 * @example
 * ```ts
 * registerBuiltinSources();
 * hasScheme("demo"); // true
 * ```
 */
export function registerBuiltinSources(): void {
  if (registered) return;
  registered = true;
  registerDemoSource();
}

/**
 * Every configured stream's sources must have a registered scheme.
 *
 * @throws {UnknownSchemeError} naming the stream (`streams.<name>: ...`) and the source.
 * @example
 * ```ts
 * checkStreamSchemes({ cam: ["rtsp://10.0.0.5/1"] });
 * ```
 */
export function checkStreamSchemes(streams: Record<string, readonly string[]>): void {
  for (const [name, sources] of Object.entries(streams)) {
    for (const src of sources) {
      const scheme = schemeOf(src);
      if (scheme && hasScheme(scheme)) continue;
      const error = new UnknownSchemeError(scheme || "(none)", src, registeredSchemes());
      error.message = `streams.${name}: ${error.message}`;
      throw error;
    }
  }
}
