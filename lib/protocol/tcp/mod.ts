/**
 * `tcp://host:port` sources: a raw MPEG-TS, FLV or MJPEG stream read from a TCP socket.
 *
 * @example
 * ```ts
 * import { registerTcpSource } from "./lib/protocol/tcp/mod.ts";
 * registerTcpSource();
 * ```
 *
 * @module
 */
export { dialTcp, parseTcpUrl, registerTcpSource, type TcpDialOptions } from "./producer.ts";
