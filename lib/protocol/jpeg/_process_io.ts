/**
 * Small helpers for talking to an ffmpeg child: collect a bounded stdout, keep the tail of stderr.
 *
 * @module
 */

/** Reads a stream to the end, keeping at most `max` bytes (the rest is drained and dropped). */
export async function readAll(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (total + value.length <= max) {
        chunks.push(value);
        total += value.length;
      }
    }
  } catch { /* the process went away */ } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/** Keeps the last `max` characters of a text stream (ffmpeg's stderr) for error messages. */
export class StderrTail {
  text = "";
  readonly done: Promise<void>;
  constructor(stream: ReadableStream<Uint8Array> | undefined, max = 2048) {
    this.done = (async () => {
      if (!stream) return;
      const decoder = new TextDecoder();
      const reader = stream.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          this.text = (this.text + decoder.decode(value, { stream: true })).slice(-max);
        }
      } catch { /* the process went away */ }
    })();
  }

  /** The tail, trimmed, on one line per ffmpeg line. */
  toString(): string {
    return this.text.trim();
  }
}
