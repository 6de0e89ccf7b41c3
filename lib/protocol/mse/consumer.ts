/**
 * The MSE viewer: fragmented MP4 for a browser's `SourceBuffer`, negotiated from the codec list
 * the player sent. The `/api/ws` handler sends `{"type":"mse","value":<mime>}` from `onMimeType`,
 * then the init segment and the fragments as binary messages.
 *
 * @module
 */
import type { ChunkSink } from "../http/chunk_sink.ts";
import { Mp4Consumer } from "../http/mp4_consumer.ts";
import type { OutputPeer } from "../http/output_consumer.ts";
import { parseMseCodecs } from "./codecs.ts";

/** Options of {@link createMseConsumer}. */
export interface MseConsumerOptions {
  /** The `value` of the player's `mse` message: its supported codecs, comma separated. */
  codecs: string;
  sink: ChunkSink;
  /** Called with the MIME type right before the init segment is written. */
  onMimeType: (mime: string) => void;
  peer?: OutputPeer;
}

/**
 * An fMP4 consumer for an MSE player.
 *
 * @example
 * ```ts
 * const mse = createMseConsumer({
 *   codecs: msg.value,
 *   sink: { write: (chunk) => ws.send(chunk) },
 *   onMimeType: (mime) => ws.send(JSON.stringify({ type: "mse", value: mime })),
 * });
 * await stream.addConsumer(mse);
 * mse.start();
 * ```
 */
export function createMseConsumer(options: MseConsumerOptions): Mp4Consumer {
  return new Mp4Consumer({
    medias: parseMseCodecs(options.codecs),
    sink: options.sink,
    format: "mse/fmp4",
    peer: options.peer,
    onMimeType: options.onMimeType,
  });
}
