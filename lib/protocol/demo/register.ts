/**
 * Wires the `demo:` scheme into the source registry.
 *
 * @module
 */
import { registerSource } from "../../core/registry.ts";
import { DemoProducer } from "./producer.ts";

/**
 * Registers the `demo` scheme: `demo:` (any text after the colon is ignored) plays the built-in
 * clip. Nothing is registered at import time; call this from the server setup.
 *
 * @example
 * ```ts
 * registerDemoSource();
 * hub.set("demo", ["demo:"]);
 * ```
 */
export function registerDemoSource(): void {
  registerSource("demo", (url) => Promise.resolve(new DemoProducer({ url })));
}
