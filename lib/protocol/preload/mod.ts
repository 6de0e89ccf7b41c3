/**
 * Keeping sources warm without a viewer (`preload:`).
 *
 * @module
 */
export { PreloadConsumer } from "./consumer.ts";
