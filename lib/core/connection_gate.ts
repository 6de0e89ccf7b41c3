/**
 * The hook protocol servers call to admit connections and viewers, so connection limits (overall,
 * per IP, per stream) live in one place for every protocol. The server side implements it
 * (`server/limits/`); a library user may pass their own or none (no limits).
 *
 * @module
 */

/** A refusal: why, and which status the protocol should answer. */
export interface GateRefusal {
  /** `max_connections`, `max_connections_per_ip`, `max_connections_per_stream`, ... */
  readonly limit: string;
  /** A sentence for the client and the log, naming the limit and its config key. */
  readonly message: string;
}

/** An admitted connection; release it once when the connection ends. */
export interface GateTicket {
  release(): void;
}

/**
 * Admits connections and viewers.
 *
 * @example
 * ```ts
 * const ticket = gate.admit("rtsp", "10.0.0.7");
 * if ("limit" in ticket) conn.close(); else conn.closed.then(() => ticket.release());
 * ```
 */
export interface ConnectionGate {
  /** A new connection from `ip` over `protocol` (`http`, `rtsp`, `rtmp`). */
  admit(protocol: string, ip: string): GateTicket | GateRefusal;
  /** A new viewer of `stream`, which has `consumers` consumers now; undefined admits it. */
  admitViewer(protocol: string, stream: string, consumers: number): GateRefusal | undefined;
}
