/**
 * RTSP: client and producer (cameras), server with viewer and publisher sessions, and the message,
 * auth, URL and Transport helpers they share.
 *
 * Nothing is registered at import time: call {@link registerRtspSources} to enable `rtsp://`,
 * `rtsps://` and `rtspx://` sources.
 *
 * @example
 * ```ts
 * import { registerRtspSources, RtspServer } from "./lib/protocol/rtsp/mod.ts";
 * registerRtspSources();
 * const server = await RtspServer.listen({ hub, listen: { port: 8554 } });
 * ```
 *
 * @module
 */
export { RtspServer, type RtspServerOptions } from "./server.ts";
export { type RtspAccess, type RtspAccessRequest, type RtspAccessResult, singleAccountAccess } from "./access.ts";
export { RtspServerSession } from "./server_session.ts";
export { MAX_PACKET_SIZE, MIN_PACKET_SIZE, PacketSizeError, parsePacketSize } from "./packet_size.ts";
export {
  clientOptionsFromUrl,
  registerRtspSources,
  RtspClientProducer,
  type RtspProducerOptions,
} from "./producer.ts";
export { RtspClient, type RtspClientOptions, type RtspDescription, RtspError } from "./client.ts";
export { RtspViewerConsumer, type RtspViewerOptions } from "./consumer.ts";
export { type Backchannel, type TrackTransport, ViewerTrack } from "./viewer_track.ts";
export { viewerMedias } from "./viewer_query.ts";
export { RtspPublisher, type RtspPublisherOptions } from "./publisher.ts";
export {
  createDepacketizer,
  type FrameDepacketizer,
  GenericDepacketizer,
  registerDepacketizer,
} from "./depay.ts";
export { createPacketizer, type FramePacketizer, registerPacketizer, SinglePacketizer } from "./pay.ts";
export {
  bodyText,
  interleavedFrame,
  type RtspEvent,
  RtspMessageParser,
  RtspParseError,
  type RtspParserOptions,
  type RtspRequest,
  type RtspResponse,
  serializeRequest,
  serializeResponse,
} from "./message.ts";
export { RtspHeaders } from "./headers.ts";
export {
  type AuthChallenge,
  digestResponse,
  parseAuthHeader,
  RtspAuthClient,
  RtspAuthServer,
  type RtspAuthServerOptions,
  UnsupportedAuthError,
} from "./auth.ts";
export { md5, md5Hex } from "./md5.ts";
export { parseRtspUrl, requestPath, resolveControl, type RtspUrl, RtspUrlError } from "./url.ts";
export { formatTransport, parseTransport, TransportError, type TransportSpec } from "./transport.ts";
export { addMissingRtpmaps, parseCameraSdp } from "./sdp_fix.ts";
