/**
 * Runtime ports: the only place strom touches sockets, processes, files and the environment.
 * One implementation on `node:*` builtins serves Node 20+, Deno 2 and Bun 1.
 *
 * @example
 * ```ts
 * import { tcpConnect, NetError } from "./lib/runtime/mod.ts";
 * const conn = await tcpConnect({ hostname: "127.0.0.1", port: 8554 });
 * ```
 *
 * @module
 */
export { type NetAddr, NetError, type NetErrorCode, toNetError } from "./net_error.ts";
export {
  type TcpConn,
  tcpConnect,
  type TcpConnectOptions,
  isNoIpv6,
  tcpListen,
  type TcpListener,
  type TcpListenOptions,
  type TlsOptions,
} from "./tcp.ts";
export { udpBind, type UdpBindOptions, type UdpSocket } from "./udp.ts";
export {
  type ChildProcess,
  type ExitStatus,
  type KillSignal,
  spawn,
  SpawnError,
  type SpawnErrorCode,
  type SpawnOptions,
  resolveExecutable,
  which,
} from "./process.ts";
export {
  type DirEntry,
  fileExists,
  type FileInfo,
  makeDir,
  type OpenFile,
  openFile,
  type OpenMode,
  readDir,
  readFile,
  readTextFile,
  removeFile,
  statPath,
  writeFile,
  writeTextFile,
} from "./fs.ts";
export { envObject, getEnv, runtimeName } from "./env.ts";
export { bracketHost, formatAddress } from "./address.ts";
export { type InterfaceAddress, networkInterfaces } from "./interfaces.ts";
