/**
 * RTMP: client (play as a source, publish as a sink) and server (players and publishers), over
 * the handshake, chunk streams and AMF0 commands, with FLV bodies (H.264, AAC, G.711, and
 * enhanced-RTMP `hvc1` for H.265).
 *
 * Nothing is registered at import time: call {@link registerRtmpSources} to enable `rtmp://`,
 * `rtmps://` and `rtmpx://` sources.
 *
 * @example
 * ```ts
 * import { registerRtmpSources, RtmpServer } from "./lib/protocol/rtmp/mod.ts";
 * registerRtmpSources();
 * const server = await RtmpServer.listen({ hub, listen: { port: 1935 } });
 * ```
 *
 * @module
 */
export { RtmpServer, type RtmpServerOptions } from "./server.ts";
export { accessQuery, type RtmpAccess, type RtmpAccessRequest, type RtmpAccessResult } from "./access.ts";
export { RtmpServerSession, type RtmpSessionContext } from "./server_session.ts";
export { registerRtmpSources, RtmpClientProducer, type RtmpProducerOptions } from "./producer.ts";
export { RtmpClient, type RtmpClientOptions } from "./client.ts";
export { RTMP_CODECS, RtmpConsumer, type RtmpConsumerOptions } from "./consumer.ts";
export { RtmpPublish, type RtmpPublishOptions } from "./publish.ts";
export { RtmpPublisher, type RtmpPublisherOptions } from "./publisher.ts";
export { FlvIngest } from "./flv_ingest.ts";
export { Csid, OUT_CHUNK_SIZE, RtmpConnection, type RtmpConnectionOptions, WINDOW_ACK_SIZE } from "./connection.ts";
export { HANDSHAKE_SIZE, RtmpHandshake } from "./handshake.ts";
export { ChunkReader, type ChunkReaderOptions } from "./chunk_reader.ts";
export { ChunkWriter } from "./chunk_writer.ts";
export {
  controlMessage,
  decodeCommand,
  encodeCommand,
  type RtmpCommand,
  RtmpError,
  type RtmpErrorCode,
  type RtmpMessage,
  RtmpMessageType,
  setPeerBandwidth,
  statusOf,
  userControl,
  UserControlEvent,
} from "./messages.ts";
export { candidateStreamNames, parseRtmpUrl, type RtmpUrl } from "./url.ts";
