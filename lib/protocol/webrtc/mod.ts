/**
 * WebRTC playback on werift: answer a peer's offer for a stream (`WebRtcServer.play`), the viewer
 * consumer, the peer-connection wrapper, ICE policy and SDP helpers (shared with WHIP ingest).
 *
 * @module
 */
export {
  describeOffered,
  type OfferedMedia,
  offeredMedias,
  offeredMicrophones,
  pickPeerCodec,
  WEBRTC_RECEIVE_CODECS,
  WEBRTC_SEND_CODECS,
} from "./codecs.ts";
export {
  type WebRtcAudioLease,
  WebRtcConsumer,
  type WebRtcConsumerOptions,
  WebRtcMicrophone,
  WebRtcTrack,
} from "./consumer.ts";
export { WebRtcCodecError, WebRtcOfferError, WebRtcPeerLimitError } from "./errors.ts";
export { announceCandidates, candidateHost, type IcePolicy, type IceServer, weriftIceConfig } from "./ice_policy.ts";
export { type PlayoutDelay, playoutDelayOf } from "./playout_delay.ts";
export { type PeerCloseReason, PeerSession, type PeerSessionOptions, type PeerState } from "./peer.ts";
export {
  formatCandidate,
  type IceCandidateLine,
  keepInactiveBundled,
  parseCandidate,
  replaceCandidates,
  restrictOffer,
  sdpCandidates,
} from "./sdp.ts";
export {
  type PlayOptions,
  type WebRtcAudioFallback,
  WebRtcServer,
  type WebRtcServerOptions,
  WebRtcSession,
} from "./server.ts";
export {
  chooseIngestTracks,
  type IngestTrack,
  pickIngestCodec,
  WEBRTC_RECV_CODECS,
  WebRtcIngestCodecError,
  WebRtcProducer,
  type WebRtcProducerOptions,
} from "./producer.ts";
export {
  parsePeerOffer,
  type PublishOptions,
  WebRtcIngest,
  type WebRtcIngestOptions,
  WebRtcIngestSession,
} from "./whip.ts";
export { dialWebRtc, registerWebRtcSources, type WebRtcClientOptions } from "./client.ts";
