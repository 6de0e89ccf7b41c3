/**
 * A fix for werift 0.24's DTLS server: a ClientHello without a cookie that arrives after the server
 * sent its flight 4 (a late copy of the client's first ClientHello, resent by the client's 50 ms
 * timer while werift's HelloVerifyRequest was on its way) runs werift's `flight2` again, which sets
 * the flight back to 2 and makes a new server random and a new ECDHE key pair. The client goes on
 * with the first ServerHello and ServerKeyExchange, so the keys the server derives from its
 * ClientKeyExchange are not the client's: werift connects, and no SRTP packet either side sends
 * decrypts at the other. A ClientHello after the handshake makes werift renegotiate, which
 * WebRTC never does (a restarted browser peer is a new session), and breaks a working session.
 *
 * The fix drops, before werift parses them, datagrams with a ClientHello that has no cookie once
 * flight 4 is out, and every ClientHello once connected. A ClientHello with the cookie is kept:
 * werift answers it by sending flight 4 again, as RFC 6347 4.2.4 asks. strom is the DTLS server for
 * every browser offer (`a=setup:passive`, see peer.ts).
 *
 * The same filter, for client and server alike, drops records werift must not act on from anyone
 * (RFC 6347 4.1.2.7: invalid records are silently discarded): a record of a content type other than
 * the four of DTLS 1.2 (20-23), which werift treats as an alert and closes the transport on, and once
 * connected an alert in the clear (epoch 0), which after the handshake can only be forged. Either
 * one, from the peer or from anyone who can send from its address, used to leave the session open
 * with its SRTP stopped: the viewer's picture froze while strom went on counting it.
 *
 * Relies on werift 0.24's `DtlsSocket` (its constructor calls the prototype's `setupExtensions`
 * before it sets `transport.socket.onData`) and `DtlsServer`; when they differ nothing is changed.
 *
 * @module
 */
import type * as Werift from "werift";

/** DTLS record header bytes; a handshake header adds 12 (RFC 6347 4.1, 4.2.2). */
const RECORD_HEADER = 13;
const HANDSHAKE_HEADER = 12;
const CONTENT_CHANGE_CIPHER_SPEC = 20;
const CONTENT_ALERT = 21;
const CONTENT_HANDSHAKE = 22;
const CONTENT_APPLICATION_DATA = 23;
const CLIENT_HELLO = 1;
/** In a ClientHello body: client_version (2) and random (32) come before session_id. */
const SESSION_ID_AT = 34;

/** The parts of werift's `DtlsServer` this patch reads. */
interface WeriftDtlsServer {
  connected: boolean;
  dtls: { flight: number };
  transport?: { socket?: Record<string, unknown> };
}

const PATCHED = Symbol.for("strom.dtlsServerClientHelloGuard");

/**
 * Patches werift's `DtlsServer` (once per loaded module) so a repeated ClientHello cannot reset a
 * handshake in progress or renegotiate a finished one, and every DTLS end (server and client) so
 * invalid records cannot close it (see the module docs). Returns whether the patch is in place.
 *
 * @example
 * ```ts
 * const werift = await import("werift");
 * patchDtlsServer(werift);
 * ```
 */
export function patchDtlsServer(werift: typeof Werift): boolean {
  const Server = (werift as unknown as { DtlsServer?: { prototype: object } }).DtlsServer;
  const base = Server && Object.getPrototypeOf(Server.prototype) as Record<PropertyKey, unknown> | null;
  if (!Server || !base || typeof base.setupExtensions !== "function") return false;
  if (base[PATCHED]) return true;
  const setupExtensions = base.setupExtensions as (this: unknown) => void;
  base.setupExtensions = function setupExtensionsWithGuard(this: WeriftDtlsServer): void {
    setupExtensions.call(this);
    const socket = this.transport?.socket;
    if (!socket) return;
    const server = this instanceof (Server as unknown as new () => object);
    // The constructor sets socket.onData to werift's datagram handler next: take it, and hand
    // werift's transport a filter in front of it.
    let handler: ((data: Uint8Array) => void) | undefined;
    const guarded = (data: Uint8Array) => {
      if (!isUnwantedDatagram(this, server, data)) handler?.(data);
    };
    Object.defineProperty(socket, "onData", {
      configurable: true,
      enumerable: true,
      get: () => guarded,
      set: (fn: (data: Uint8Array) => void) => void (handler = fn),
    });
  };
  base[PATCHED] = true;
  return true;
}

/**
 * Whether `end` must not act on `data`, one datagram of DTLS records: when a record is truncated, is
 * of a content type no DTLS 1.2 peer sends (outside 20-23), is an alert in the clear (epoch 0) once
 * connected, or, for a server (`server`), is a ClientHello it must not answer in its current state:
 * any once connected, one without a cookie once flight 4 is out. Exported for tests.
 *
 * @example
 * ```ts
 * const closeNotify = new Uint8Array([21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 1, 0]);
 * isUnwantedDatagram({ connected: true, dtls: { flight: 6 } }, false, closeNotify); // true
 * ```
 */
export function isUnwantedDatagram(
  end: Pick<WeriftDtlsServer, "connected" | "dtls">,
  server: boolean,
  data: Uint8Array,
): boolean {
  const guardHello = server && (end.connected || end.dtls.flight >= 4);
  for (let o = 0; o < data.length;) {
    // A truncated record (werift would read past the end and throw) is invalid too.
    if (o + RECORD_HEADER > data.length) return true;
    const type = data[o];
    if (type < CONTENT_CHANGE_CIPHER_SPEC || type > CONTENT_APPLICATION_DATA) return true;
    const length = (data[o + 11] << 8) | data[o + 12];
    const epoch = (data[o + 3] << 8) | data[o + 4];
    const body = o + RECORD_HEADER;
    if (body + length > data.length) return true;
    if (epoch === 0 && type === CONTENT_ALERT && end.connected) return true;
    if (epoch === 0 && guardHello && type === CONTENT_HANDSHAKE && data[body] === CLIENT_HELLO) {
      if (end.connected) return true;
      const fragmentOffset = (data[body + 6] << 16) | (data[body + 7] << 8) | data[body + 8];
      const hello = body + HANDSHAKE_HEADER;
      const sessionIdLength = data[hello + SESSION_ID_AT];
      const cookieLength = data[hello + SESSION_ID_AT + 1 + sessionIdLength];
      if (fragmentOffset === 0 && cookieLength === 0) return true;
    }
    o = body + length;
  }
  return false;
}
