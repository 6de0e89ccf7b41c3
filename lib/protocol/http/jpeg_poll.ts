/**
 * A camera's snapshot URL (`image/jpeg`, one image per request) polled into an MJPEG video track,
 * as go2rtc does (`dahua_snap: http://admin:pw@cam/cgi-bin/snapshot.cgi`).
 *
 * Requests run back to back, at most one in flight, spaced at least `minIntervalMs` apart so a fast
 * local server is not hammered. Each image is timestamped on arrival (90 kHz).
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import { redactUrl, SourceError } from "../../core/errors.ts";
import { Receiver } from "../../core/fanout.ts";
import { abortableSleep } from "../../core/abortable_sleep.ts";
import { type Media, mediaToString } from "../../core/media.ts";
import { errorText, type HttpSourceClient, requestScope } from "./client.ts";
import { describeBody } from "./stream_format.ts";

const VIDEO_CLOCK = 90000;
/** Largest snapshot accepted. */
const MAX_JPEG_BYTES = 16 * 1024 * 1024;

/**
 * Reads a whole body, refusing more than `max` bytes.
 *
 * @throws {RangeError} past `max`.
 * @example
 * ```ts
 * const jpeg = await readBody(res.body!, 16 << 20);
 * ```
 */
export async function readBody(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) throw new RangeError(`body larger than ${max} bytes`);
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function isJpeg(b: Uint8Array): boolean {
  return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** Options of {@link JpegPollProducer}. */
export interface JpegPollOptions {
  /** Shortest time between two requests' starts. Default 40 ms (25 images/s at most). */
  minIntervalMs?: number;
  /** A request taking longer than this fails the run. Default 10 000 ms. */
  requestTimeoutMs?: number;
}

/**
 * An `image/jpeg` URL polled into an MJPEG track.
 *
 * @example
 * ```ts
 * const client = new HttpSourceClient(parseHttpSourceUrl("http://cam/snapshot.jpg"));
 * const first = await readBody((await client.get(undefined, signal)).body!, 1 << 24);
 * const producer = new JpegPollProducer(client, first);
 * ```
 */
export class JpegPollProducer implements Producer {
  readonly #id = nextConnectionId();
  readonly #client: HttpSourceClient;
  readonly #media: Media = {
    kind: "video",
    direction: "recvonly",
    id: "video",
    codecs: [{ name: "JPEG", clockRate: VIDEO_CLOCK, payloadType: 26 }],
  };
  readonly #receiver: Receiver;
  readonly #abort = new AbortController();
  readonly #minInterval: number;
  readonly #requestTimeout: number;
  readonly #startedAt = new Date().toISOString();
  #first: Uint8Array | undefined;
  #running: Promise<void> | undefined;
  #bytes = 0;
  #t0 = performance.now();

  constructor(client: HttpSourceClient, first: Uint8Array, options: JpegPollOptions = {}) {
    this.#client = client;
    this.#first = first;
    this.#bytes = first.length;
    this.#minInterval = options.minIntervalMs ?? 40;
    this.#requestTimeout = options.requestTimeoutMs ?? 10_000;
    this.#receiver = new Receiver(this.#media, this.#media.codecs[0]);
  }

  medias(): Media[] {
    return [this.#media];
  }

  track(media: Media, _codec: Codec): Receiver {
    if (media.kind !== "video") throw new RangeError("A JPEG snapshot source has only video (JPEG)");
    return this.#receiver;
  }

  #push(jpeg: Uint8Array): void {
    this.#receiver.push({
      timestamp: Math.round((performance.now() - this.#t0) * (VIDEO_CLOCK / 1000)),
      keyframe: true,
      data: jpeg,
    });
  }

  /** Polls until stopped (resolves) or a request fails (rejects with a {@link SourceError}). */
  start(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    this.#t0 = performance.now();
    if (this.#first) this.#push(this.#first);
    this.#first = undefined;
    const source = this.#client.source;
    while (!signal.aborted) {
      const began = performance.now();
      let jpeg: Uint8Array;
      let contentType = "";
      const scope = requestScope(signal, this.#requestTimeout);
      try {
        const res = await this.#client.get(undefined, scope.signal);
        contentType = res.headers.get("content-type") ?? "";
        jpeg = await readBody(res.body!, MAX_JPEG_BYTES);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof SourceError) throw error;
        throw new SourceError(source.display, `snapshot request failed: ${errorText(error)}`, {
          cause: error,
        });
      } finally {
        scope.done();
      }
      if (!isJpeg(jpeg)) {
        throw new SourceError(source.display, `snapshot is not a JPEG (${describeBody(contentType, jpeg)})`);
      }
      this.#bytes += jpeg.length;
      this.#push(jpeg);
      const wait = this.#minInterval - (performance.now() - began);
      if (wait > 0) await abortableSleep(wait, signal);
    }
  }

  /** Stops polling (aborts a request in flight). Idempotent. */
  stop(): Promise<void> {
    this.#abort.abort();
    return Promise.resolve();
  }

  info(): ConnectionInfo {
    return {
      id: this.#id,
      format: "http/jpeg",
      protocol: "http",
      url: redactUrl(this.#client.source.display),
      medias: [mediaToString(this.#media)],
      bytesIn: this.#bytes,
      startedAt: this.#startedAt,
    };
  }
}
