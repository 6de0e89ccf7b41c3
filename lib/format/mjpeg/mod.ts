/**
 * MJPEG over HTTP: `multipart/x-mixed-replace` writing and parsing.
 *
 * @example
 * ```ts
 * import { MultipartParser, MultipartWriter } from "./lib/format/mjpeg/mod.ts";
 * const mw = new MultipartWriter();
 * const chunk = mw.push(jpeg);
 * ```
 *
 * @module
 */
export { MultipartBoundaryError, MultipartWriter, type MultipartWriterOptions } from "./multipart_writer.ts";
export {
  multipartBoundary,
  MultipartParser,
  type MultipartParserOptions,
  type MultipartPart,
} from "./multipart_parser.ts";
