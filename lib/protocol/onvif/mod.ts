/**
 * ONVIF: the `onvif://` source, which finds a camera's RTSP stream through its ONVIF media service,
 * the client it uses, and strom's own ONVIF device (one media profile per stream, for NVRs).
 *
 * @module
 */
export { ONVIF_TIMEOUT_MS, OnvifClient, OnvifError, type OnvifProfile } from "./client.ts";
export { DEFAULT_DEVICE_PATH, registerOnvifSource, resolveOnvifProfiles, resolveOnvifUrl } from "./source.ts";
export {
  answerOnvif,
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
export { NonceCache, type NonceCacheOptions } from "./nonce_cache.ts";
