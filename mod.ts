/**
 * strom: a camera streaming server, library and CLI for Node, Deno and Bun.
 *
 * The library side: streams with ordered sources and per-media codec negotiation (`StreamHub`,
 * `Stream`), the fan-out primitives (`Receiver`, `Sender`, `GopCache`), the plugin API
 * (`registerSource`), protocol modules (RTSP/RTMP client and server, demo, ffmpeg, exec, HTTP, TCP),
 * muxers (MP4, MPEG-TS, FLV, ADTS, multipart) and HTTP consumers. The whole server for embedding
 * (`startServer`, `loadServerConfig`, config types, `Module`) is the separate entry `strom/server`.
 *
 * @example
 * ```ts
 * import { StreamHub, registerRtspSources } from "strom";
 * registerRtspSources();
 * const hub = new StreamHub();
 * hub.set("door", ["rtsp://admin:pw@10.0.0.5/stream1"]);
 * ```
 *
 * @module
 */

// Core media model
export { type Codec, CodecName, codecMatch, codecToString, fmtpParam, type MediaKind, parseCodecString } from "./lib/core/codec.ts";
export {
  type Direction,
  invertDirection,
  matchMedia,
  type Media,
  parseMediaQuery,
  parseSdp,
  type SdpMedia,
  SdpError,
  type SessionDescription,
  toSdp,
} from "./lib/core/media.ts";
export type { Frame } from "./lib/core/frame.ts";
export { type FrameHandler, Receiver, type ReceiverOptions, Sender, type SenderOptions } from "./lib/core/fanout.ts";
export { GopCache, type GopCacheOptions } from "./lib/core/gop_cache.ts";
export {
  type ConnectionInfo,
  type Consumer,
  nextConnectionId,
  type Producer,
  type SourceContext,
  type SourceFactory,
} from "./lib/core/connection.ts";
export {
  dialSource,
  hasScheme,
  registeredSchemes,
  registerRedirect,
  registerSource,
  schemeOf,
  unregisterSource,
} from "./lib/core/registry.ts";
export { type AddConsumerOptions, Stream, type StreamInfo, type StreamOptions } from "./lib/core/stream.ts";
export {
  attachBackchannel,
  AudioTalker,
  type AudioTranscoder,
  type AudioTranscoderFactory,
  backchannelMismatch,
  type BackchannelLink,
  canTalk,
  findAudioTranscoder,
  registerAudioTranscoder,
  type TalkingConsumer,
  unregisterAudioTranscoder,
} from "./lib/core/backchannel.ts";
export { PreloadConsumer } from "./lib/protocol/preload/mod.ts";
export { StreamHub, type StreamHubOptions } from "./lib/core/hub.ts";
export {
  type DisabledEvent,
  type NotReadyEvent,
  type PublishEvent,
  type ReaderEvent,
  type ReadyEvent,
  type SegmentCompleteEvent,
  type SourceErrorEvent,
  STREAM_EVENT_TYPES,
  type StreamEvent,
  StreamEvents,
} from "./lib/core/events.ts";
export {
  CodecMismatchError,
  redactUrl,
  SourceError,
  StreamDisabledError,
  StreamNotFoundError,
  UnknownSchemeError,
} from "./lib/core/errors.ts";
export { createLogger, type Logger, type LoggerOptions, type LogLevel, silentLogger } from "./lib/core/log.ts";

// RTP
export { parseRtp, type RtpPacket, RtpParseError, serializeRtp } from "./lib/rtp/packet.ts";

// Protocols and sources
export {
  registerRtspSources,
  RtspClient,
  RtspClientProducer,
  RtspError,
  RtspServer,
  type RtspServerOptions,
} from "./lib/protocol/rtsp/mod.ts";
export {
  registerRtmpSources,
  RtmpClient,
  RtmpClientProducer,
  RtmpError,
  RtmpPublish,
  type RtmpPublishOptions,
  RtmpServer,
  type RtmpServerOptions,
} from "./lib/protocol/rtmp/mod.ts";
export { DemoProducer, registerDemoSource } from "./lib/protocol/demo/mod.ts";
export {
  buildFfmpegArgs,
  FfmpegAutoAudioProducer,
  HardwareProber,
  listDevices,
  registerBackchannelTranscoders,
  registerFfmpegSource,
  runProbe,
} from "./lib/protocol/ffmpeg/mod.ts";
export {
  dialExec,
  ExecBackchannelProducer,
  ExecError,
  ExecRtspProducer,
  registerExecSource,
  RtspOutput,
  type RtspOutputTarget,
} from "./lib/protocol/exec/mod.ts";
export { registerEchoSource, resolveEcho } from "./lib/protocol/echo/mod.ts";
export { ExprError, parseExpr, registerExprSource, resolveExpr, runExpr } from "./lib/protocol/expr/mod.ts";
export {
  checkPublishUrl,
  type PublishInfo,
  PublishManager,
  publishManagerFor,
  PublishUrlError,
  RtspPusher,
  StreamPublisher,
} from "./lib/protocol/publish/mod.ts";
export { dialHttp, type HttpDialOptions, registerHttpSources } from "./lib/protocol/http/producer.ts";
export {
  type ByteStreamFormat,
  type ByteStreamOptions,
  ByteStreamProducer,
  openByteStream,
} from "./lib/protocol/http/byte_stream_producer.ts";
export { dialTcp, registerTcpSource } from "./lib/protocol/tcp/mod.ts";
export {
  answerOnvif,
  type DiscoveredDevice,
  discoverOnvif,
  type DiscoverOptions,
  type DiscoveryResponderOptions,
  NonceCache,
  type OnvifAnswer,
  OnvifClient,
  type OnvifDevice,
  OnvifDiscoveryError,
  OnvifDiscoveryResponder,
  OnvifError,
  type OnvifProfile,
  onvifSourceUrl,
  readUsernameToken,
  registerOnvifSource,
  resolveOnvifProfiles,
  resolveOnvifUrl,
  type UsernameToken,
  verifyUsernameToken,
} from "./lib/protocol/onvif/mod.ts";

// Recording (fragmented MP4 segments, retention, cuts by time)
export {
  applyRetention,
  CutRangeError,
  planCut,
  readSegmentIndex,
  type RecordedSegment,
  type RecordingCut,
  SegmentCatalog,
  type SegmentSummary,
  StreamRecorder,
  type StreamRecorderOptions,
} from "./lib/record/mod.ts";

// Containers: muxers a library user can feed frames to (files, sockets, HTTP bodies)
export { Mp4Muxer, type Mp4MuxerOptions, Mp4NotReadyError } from "./lib/format/mp4/mod.ts";
export { TsMuxer, type TsMuxerOptions } from "./lib/format/mpegts/mod.ts";
export { FlvMuxer, type FlvMuxerOptions } from "./lib/format/flv/mod.ts";
export { AdtsMuxer } from "./lib/format/adts/mod.ts";
export { MultipartWriter, type MultipartWriterOptions } from "./lib/format/mjpeg/mod.ts";

// HTTP consumers: a stream's frames as MP4, MPEG-TS, FLV, MJPEG, AAC or MSE bytes for any HTTP server
export {
  AacConsumer,
  type ChunkSink,
  FlvConsumer,
  MjpegConsumer,
  type MjpegConsumerOptions,
  Mp4Consumer,
  type Mp4ConsumerOptions,
  OutputConsumer,
  type OutputPeer,
  OutputSession,
  type OutputSessionOptions,
  TsConsumer,
} from "./lib/protocol/http/mod.ts";
export { createMseConsumer, type MseConsumerOptions } from "./lib/protocol/mse/mod.ts";

// The server itself (startServer, createApp, loadConfig, config types, Module) is the separate entry
// `strom/server` (server/mod.ts), so importing the core does not load Hono or the server modules.
