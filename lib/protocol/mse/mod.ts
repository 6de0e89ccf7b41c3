/**
 * MSE output: fragmented MP4 over a WebSocket for browsers' Media Source Extensions.
 *
 * @example
 * ```ts
 * import { createMseConsumer, parseMseCodecs } from "./lib/protocol/mse/mod.ts";
 * ```
 *
 * @module
 */
export { parseMseCodecs } from "./codecs.ts";
export { createMseConsumer, type MseConsumerOptions } from "./consumer.ts";
