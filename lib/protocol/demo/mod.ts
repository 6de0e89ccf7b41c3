/**
 * The built-in `demo:` source: a looped H.264 + AAC test clip, embedded, paced in real time.
 *
 * @example
 * ```ts
 * import { registerDemoSource } from "./lib/protocol/demo/mod.ts";
 * registerDemoSource(); // streams: { demo: "demo:" }
 * ```
 *
 * @module
 */
export { type DemoClip, DemoClipError, loadDemoClip } from "./clip.ts";
export { DemoProducer, type DemoProducerOptions } from "./producer.ts";
export { registerDemoSource } from "./register.ts";
