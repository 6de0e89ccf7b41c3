/**
 * ONVIF cameras: the `onvif://` source, which finds a camera's RTSP stream through its ONVIF media
 * service, and the client it uses.
 *
 * @module
 */
export { ONVIF_TIMEOUT_MS, OnvifClient, OnvifError, type OnvifProfile } from "./client.ts";
export { DEFAULT_DEVICE_PATH, registerOnvifSource, resolveOnvifProfiles, resolveOnvifUrl } from "./source.ts";
