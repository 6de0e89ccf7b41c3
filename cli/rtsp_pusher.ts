/**
 * The RTSP publisher of `strom relay`; it lives in lib/protocol/publish/ since the server's
 * `publish:` uses it too.
 *
 * @module
 */
export { RtspPusher, type RtspPusherOptions } from "../lib/protocol/publish/rtsp_pusher.ts";
