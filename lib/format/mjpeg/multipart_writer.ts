/**
 * MJPEG over HTTP: a `multipart/x-mixed-replace` body with one JPEG per part.
 *
 * Each part is written as (RFC 2046 section 5.1.1 delimiter, then MIME headers, then the body):
 *
 * ```
 * --frame\r\n
 * Content-Type: image/jpeg\r\n
 * Content-Length: 3421\r\n
 * \r\n
 * <JPEG bytes>\r\n
 * ```
 *
 * `Content-Length` is not required by RFC 2046 but every browser and ffmpeg's `mpjpeg` demuxer use it
 * to cut parts without scanning the JPEG for the delimiter.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Options of a {@link MultipartWriter}. */
export interface MultipartWriterOptions {
  /** Boundary token without the leading `--`. Default `frame`. 1..70 characters (RFC 2046 section 5.1.1). */
  boundary?: string;
  /** Content type of each part. Default `image/jpeg`. */
  partType?: string;
}

/**
 * Thrown for a boundary that RFC 2046 does not allow.
 *
 * @example
 * ```ts
 * try { new MultipartWriter({ boundary: "" }); } catch (e) { if (e instanceof MultipartBoundaryError) console.log(e.boundary); }
 * ```
 */
export class MultipartBoundaryError extends RangeError {
  override name = "MultipartBoundaryError";
  readonly boundary: string;
  constructor(boundary: string) {
    super(
      `Cannot use multipart boundary ${JSON.stringify(boundary)}: it must be 1 to 70 characters of ` +
        `letters, digits and '()+_,-./:=?' without a trailing space (RFC 2046 section 5.1.1)`,
    );
    this.boundary = boundary;
  }
}

const BOUNDARY_RE = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/**
 * Writes JPEG frames as parts of a `multipart/x-mixed-replace` stream. Pure: returns the bytes of
 * each part, built with one allocation.
 *
 * @example
 * ```ts
 * const mw = new MultipartWriter();
 * response.headers.set("Content-Type", mw.contentType); // multipart/x-mixed-replace; boundary=frame
 * const chunk = mw.push(jpeg); // write chunk to the socket
 * ```
 */
export class MultipartWriter {
  /** The boundary token (without `--`). */
  readonly boundary: string;
  /** Value for the HTTP `Content-Type` header of the whole response. */
  readonly contentType: string;
  readonly #head: string;

  constructor(options: MultipartWriterOptions = {}) {
    const boundary = options.boundary ?? "frame";
    if (!BOUNDARY_RE.test(boundary)) throw new MultipartBoundaryError(boundary);
    this.boundary = boundary;
    this.contentType = `multipart/x-mixed-replace; boundary=${boundary}`;
    this.#head = `--${boundary}\r\nContent-Type: ${options.partType ?? "image/jpeg"}\r\nContent-Length: `;
  }

  /**
   * One part holding `body`: delimiter, headers, body and the trailing CRLF.
   *
   * @example
   * ```ts
   * socket.write(new MultipartWriter().push(jpeg));
   * ```
   */
  push(body: Uint8Array): Uint8Array {
    const head = encoder.encode(`${this.#head}${body.length}\r\n\r\n`);
    const out = new Uint8Array(head.length + body.length + 2);
    out.set(head, 0);
    out.set(body, head.length);
    out[out.length - 2] = 0x0d;
    out[out.length - 1] = 0x0a;
    return out;
  }

  /**
   * The close delimiter `--boundary--\r\n` that ends the multipart body (RFC 2046 section 5.1.1).
   *
   * @example
   * ```ts
   * socket.write(mw.end());
   * ```
   */
  end(): Uint8Array {
    return encoder.encode(`--${this.boundary}--\r\n`);
  }
}
