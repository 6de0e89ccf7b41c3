/**
 * Motion JPEG: JPEG header walking (size, tables, scan), RFC 2435 tables and header rebuilding, and
 * the RFC 2435 RTP depacketizer and packetizer.
 *
 * @module
 */
export {
  type JpegComponent,
  type JpegInfo,
  JpegMarker,
  JpegParseError,
  type JpegQuantTable,
  parseJpeg,
  parseJpegSize,
} from "./jpeg.ts";
export {
  buildJpegHeader,
  makeQuantTables,
  type Rfc2435HeaderOptions,
  STANDARD_HUFFMAN_TABLES,
  ZIGZAG,
} from "./rfc2435.ts";
export {
  MjpegDepacketizer,
  MjpegPacketizeError,
  MjpegPacketizer,
  type MjpegPacketizerOptions,
} from "./rtp.ts";
