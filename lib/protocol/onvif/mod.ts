/**
 * ONVIF: the `onvif://` source, which finds a camera's RTSP stream through its ONVIF media service,
 * the client it uses, strom's own ONVIF device (one media profile per stream, for NVRs), and
 * WS-Discovery both ways (finding cameras on the LAN; answering NVRs that search for strom).
 *
 * @module
 */
export { ONVIF_TIMEOUT_MS, OnvifClient, OnvifError, type OnvifProfile } from "./client.ts";
export {
  DEFAULT_DEVICE_PATH,
  profileSourceUrl,
  profileVideo,
  registerOnvifSource,
  resolveOnvifProfiles,
  resolveOnvifUrl,
} from "./source.ts";
export { NonceCache, type NonceCacheOptions } from "./nonce_cache.ts";
export {
  answerOnvif,
  deviceScopes,
  type OnvifAnswer,
  type OnvifDevice,
  onvifFault,
  onvifOperation,
  PRE_AUTH_OPERATIONS,
  readUsernameToken,
  USERNAME_TOKEN_WINDOW_MS,
  type UsernameToken,
  verifyUsernameToken,
} from "./server.ts";
export {
  deviceLabels,
  type DiscoveredDevice,
  discoverOnvif,
  type DiscoverOptions,
  DISCOVERY_TIMEOUT_MS,
  onvifSourceUrl,
} from "./discover.ts";
export { type DiscoveryResponderOptions, OnvifDiscoveryResponder } from "./discovery_responder.ts";
export {
  type AnnouncementOptions,
  buildAnnouncement,
  buildProbe,
  buildProbeMatches,
  ONVIF_DEVICE_TYPES,
  OnvifDiscoveryError,
  type Probe,
  type ProbeMatch,
  probeMatches,
  type QualifiedType,
  readAnnouncement,
  readProbe,
  readProbeMatches,
  WS_DISCOVERY_GROUP,
  WS_DISCOVERY_PORT,
} from "./ws_discovery.ts";
