/**
 * HTTP outputs: consumers that mux a stream into fMP4, MPEG-TS, FLV, ADTS or MJPEG for a streaming
 * response body, the session that ties one to a request, and keyframe snapshots.
 *
 * @example
 * ```ts
 * import { HttpBody, OutputSession, TsConsumer, outputMedias, TS_CODECS } from "./lib/protocol/http/mod.ts";
 * const body = new HttpBody();
 * const session = new OutputSession(stream, new TsConsumer(outputMedias(query, TS_CODECS), body), { onClose: () => body.close() });
 * body.onCancel = () => session.close("client went away");
 * await session.open();
 * return new Response(body.readable, { headers: { "Content-Type": "video/mp2t" } });
 * ```
 *
 * @module
 */
export { AAC_MEDIAS, AacConsumer } from "./aac_consumer.ts";
export type { ChunkSink } from "./chunk_sink.ts";
export { FlvConsumer } from "./flv_consumer.ts";
export { keyframeToMp4 } from "./frame_mp4.ts";
export { HttpBody, type HttpBodyOptions } from "./http_body.ts";
export { type GrabbedKeyframe, grabKeyframe, type GrabKeyframeOptions, KeyframeTimeoutError } from "./keyframe.ts";
export { MJPEG_MEDIAS, MjpegConsumer, type MjpegConsumerOptions } from "./mjpeg_consumer.ts";
export { Mp4Consumer, type Mp4ConsumerOptions } from "./mp4_consumer.ts";
export { FLV_CODECS, MP4_CODECS, mp4Medias, type OutputCodecs, outputMedias, TS_CODECS } from "./output_medias.ts";
export { OutputConsumer, type OutputPeer, type OutputTrack } from "./output_consumer.ts";
export { OutputSession, type OutputSessionOptions } from "./output_session.ts";
export { TsConsumer } from "./ts_consumer.ts";
