/**
 * ADTS: AAC frames as a self-framing `.aac` stream for `/api/stream.aac`. Splitting an ADTS stream
 * back into frames is `AdtsSplitter` in lib/codec/aac/adts.ts.
 *
 * @example
 * ```ts
 * import { AdtsMuxer } from "./lib/format/adts/mod.ts";
 * const bytes = new AdtsMuxer(codec).push(frame);
 * ```
 *
 * @module
 */
export { AdtsCodecError, AdtsMuxer } from "./adts_muxer.ts";
