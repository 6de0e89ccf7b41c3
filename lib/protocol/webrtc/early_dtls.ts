/**
 * Keeps the DTLS datagrams a peer sends before werift's DTLS transport has started, and hands them
 * to it when it starts. werift 0.24 starts a transport's DTLS only once its own ICE agent says
 * "connected" and only then listens for DTLS (its `IceTransport` subscribes at `start()`); what
 * arrived before is dropped. A browser, as DTLS client (strom answers `a=setup:passive`), sends its
 * ClientHello as soon as *its* ICE pair works, which is often a few milliseconds before werift's
 * (werift still waits for its own triggered check), and then waits its retransmission timeout
 * (Chromium: 50 ms and more) before sending it again. Seen in werift's debug log: DTLS server
 * started, the first ClientHello handled 45 ms later, with Chromium's ICE connected before both.
 * (A copy that arrives late is harmless: dtls_server_patch.ts drops a ClientHello without a cookie
 * once werift has answered one.)
 *
 * Relies on werift 0.24's `RTCDtlsTransport` shape (`state`, `onStateChange`, `dtls.udpOnMessage`,
 * `iceTransport.connection.onData`); when a piece is missing nothing is held.
 *
 * @module
 */
import type { RTCPeerConnection } from "werift";
import { dtlsTransportsOf } from "./werift.ts";
import { asNodeBuffer } from "../../runtime/node_buffer.ts";

/** At most this many early datagrams are kept per transport (a ClientHello flight is one or two). */
const MAX_HELD = 8;

/** The fields of werift's `RTCDtlsTransport` used here. */
interface WeriftDtlsTransport {
  state: string;
  dtls?: {
    udpOnMessage?: (data: Uint8Array) => void;
    transport?: { socket?: { onData?: (data: Uint8Array) => void } };
  };
  onStateChange: { subscribe(fn: (state: string) => void): { unSubscribe: () => void } };
  iceTransport?: {
    connection?: { onData?: { subscribe(fn: (data: Uint8Array) => void): { unSubscribe: () => void } } };
  };
}

/** What {@link holdEarlyDtls} did, for tests and logs. */
export interface EarlyDtlsHold {
  /** Datagrams kept before DTLS started and handed to it once it did. */
  readonly replayed: number;
  /** Stops holding (idempotent); what is held is dropped. */
  stop(): void;
}

/** RFC 7983: a first byte of 20-63 is DTLS. */
function isDtls(data: Uint8Array): boolean {
  return data.length > 13 && data[0] >= 20 && data[0] <= 63;
}

/**
 * Holds early DTLS datagrams for each transport of `pc` that has not started DTLS yet, and replays
 * them into werift's DTLS socket right after it starts. Call after the remote description is set
 * (the transports exist) and before ICE can connect.
 *
 * @example
 * ```ts
 * await pc.setRemoteDescription(offer);
 * const hold = holdEarlyDtls(pc);
 * // ... pc.close() -> hold.stop()
 * ```
 */
export function holdEarlyDtls(pc: RTCPeerConnection): EarlyDtlsHold {
  const stops: (() => void)[] = [];
  let replayed = 0;
  for (const d of dtlsTransportsOf(pc)) {
    const transport = d as unknown as WeriftDtlsTransport;
    const onData = transport.iceTransport?.connection?.onData;
    if (transport.state !== "new" || typeof onData?.subscribe !== "function") continue;
    let held: Uint8Array[] | undefined = [];
    const data = onData.subscribe((d) => {
      // werift's own listener takes over once DTLS exists; until then keep (a few) copies.
      if (held && !transport.dtls && isDtls(d) && held.length < MAX_HELD) {
        held.push(asNodeBuffer(new Uint8Array(d))); // a copy, as werift's parser wants it
      }
    });
    const state = transport.onStateChange.subscribe((s) => {
      if (s !== "connecting" || !held) return;
      // werift creates its DTLS socket right after announcing "connecting", in the same call.
      queueMicrotask(() => {
        const socket = transport.dtls;
        const early = held ?? [];
        stop();
        // In at the socket's front door, where werift's IceTransport hands datagrams (and
        // dtls_server_patch.ts filters them).
        const receive = socket?.transport?.socket?.onData ?? socket?.udpOnMessage;
        if (typeof receive !== "function") return;
        for (const d of early) {
          replayed++;
          try {
            receive(d);
          } catch {
            // a datagram werift cannot parse is what it would have dropped anyway
          }
        }
      });
    });
    const stop = () => {
      if (!held) return;
      held = undefined;
      data.unSubscribe();
      state.unSubscribe();
    };
    stops.push(stop);
  }
  return {
    get replayed() {
      return replayed;
    },
    stop() {
      for (const s of stops.splice(0)) s();
    },
  };
}
