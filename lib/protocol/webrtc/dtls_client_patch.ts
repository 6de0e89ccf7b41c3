/**
 * A fix for werift 0.24's DTLS client: a retransmitted server flight 4 that is still being handled
 * when the server's Finished arrives makes werift compute a second ClientKeyExchange, with a new
 * key pair, after the handshake is done. The session's master secret then differs from the
 * server's, so every SRTP packet either side sends fails authentication at the other (the browser
 * shows a connected peer and no video; a `webrtc:` source gets no media), and so do data channels.
 *
 * How it happens: werift handles each received handshake record in its own promise. The server
 * retransmits flight 4 (ServerHello ... ServerHelloDone) when werift's flight 5 is slow to come, as
 * on a loaded machine or a cold start; when the copy and the server's ChangeCipherSpec + Finished are
 * read in one turn of the event loop (one datagram, or Deno's receive loop), the Finished marks the
 * client connected (flight 7) before the copy's ServerHelloDone runs `Flight5.exec()`, which only
 * recognises a repeat while the flight is 5. Its ServerKeyExchange handler has replaced the client's
 * key pair by then. Seen on Deno with headless Chromium as the DTLS server (about 1 in 10 sessions).
 *
 * The fix, as RFC 6347 4.2.4 has it: once the client has sent flight 5, a repeated flight 4 changes
 * nothing. Its records before ServerHelloDone are dropped, and `Flight5.exec` does nothing once the
 * server's Finished is in (while it is not, werift answers the repeat by sending flight 5 again).
 * strom is the DTLS client when it offers (the `webrtc:` source) or answers an offer that says
 * `a=setup:passive`; as the server (every browser offer, see peer.ts) this path is not used.
 *
 * @module
 */
import type * as Werift from "werift";

/** DTLS handshake types of the server's flight 4 (RFC 5246 7.4). */
const SERVER_HELLO = 2;
const CERTIFICATE = 11;
const SERVER_KEY_EXCHANGE = 12;
const CERTIFICATE_REQUEST = 13;

/** The parts of werift's `DtlsClient` this patch reads and wraps. */
interface WeriftDtlsClient {
  dtls: { flight: number };
  flight5?: object;
  onHandleHandshakes: (assembled: { msg_type: number }[]) => Promise<void>;
  connect(): Promise<void>;
}

/** The part of werift's (unexported) client `Flight5` this patch wraps. */
interface WeriftFlight5 {
  dtls: { flight: number };
  exec(): Promise<void>;
}

const PATCHED = Symbol.for("strom.dtlsClientRetransmitFix");

/**
 * Patches werift's `DtlsClient` (once per loaded module) so a repeated server flight 4 after
 * flight 5 changes nothing: its records before ServerHelloDone are dropped, and its ServerHelloDone
 * sends flight 5 again only while the client still waits for the server's Finished. Returns whether
 * the patch is in place (false when werift's shape differs from 0.24's: then nothing is changed).
 *
 * @example
 * ```ts
 * const werift = await import("werift");
 * patchDtlsClient(werift);
 * ```
 */
export function patchDtlsClient(werift: typeof Werift): boolean {
  const proto = (werift as unknown as { DtlsClient?: { prototype: Record<PropertyKey, unknown> } })
    .DtlsClient?.prototype;
  if (!proto || typeof proto.connect !== "function") return false;
  if (proto[PATCHED]) return true;
  const connect = proto.connect as (this: WeriftDtlsClient) => Promise<void>;
  proto.connect = function connectWithRetransmitFix(this: WeriftDtlsClient): Promise<void> {
    const handle = this.onHandleHandshakes;
    if (typeof handle === "function") {
      this.onHandleHandshakes = (assembled) => {
        const done = handle(withoutRepeatedFlight4(this, assembled));
        // werift creates its Flight5 synchronously on the ServerHello: guard its class's exec.
        if (this.flight5) patchFlight5(Object.getPrototypeOf(this.flight5));
        return done;
      };
    }
    return connect.call(this);
  };
  proto[PATCHED] = true;
  return true;
}

/**
 * Makes `Flight5.exec` a no-op once the server's Finished has arrived (flight 7): werift's own
 * check only recognises a repeat while the flight is 5, and otherwise builds a new ClientKeyExchange.
 */
function patchFlight5(proto: Record<PropertyKey, unknown>): void {
  if (proto[PATCHED] || typeof proto.exec !== "function") return;
  const exec = proto.exec as (this: WeriftFlight5) => Promise<void>;
  proto.exec = function execOnce(this: WeriftFlight5): Promise<void> {
    if (this.dtls.flight > 5) return Promise.resolve(); // handshake done: nothing to send
    return exec.call(this);
  };
  proto[PATCHED] = true;
}

/**
 * `assembled` minus the records of a repeated flight 4 that would change the client's state (its
 * ServerKeyExchange handler replaces the client's key pair). ServerHelloDone stays: werift answers
 * it by sending flight 5 again, as RFC 6347 4.2.4 asks.
 */
function withoutRepeatedFlight4(
  client: WeriftDtlsClient,
  assembled: { msg_type: number }[],
): { msg_type: number }[] {
  if (client.dtls.flight < 5) return assembled; // flight 5 not sent yet: flight 4 is news
  return assembled.filter((h) =>
    h.msg_type !== SERVER_HELLO && h.msg_type !== CERTIFICATE &&
    h.msg_type !== SERVER_KEY_EXCHANGE && h.msg_type !== CERTIFICATE_REQUEST
  );
}
