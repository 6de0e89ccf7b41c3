/**
 * `echo:` sources: a command prints the real source URL (go2rtc's `echo:`).
 *
 * @example
 * ```ts
 * import { registerEchoSource } from "./lib/protocol/echo/mod.ts";
 * registerEchoSource({ allowPaths: () => ["/usr/local/bin/cam-url"] });
 * ```
 *
 * @module
 */
export { ECHO_MAX_OUTPUT, ECHO_TIMEOUT_MS, type EchoOptions, registerEchoSource, resolveEcho } from "./echo.ts";
