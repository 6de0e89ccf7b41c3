/**
 * The `limits:` config section enforced for every protocol: connections overall
 * (`max_connections`), per client IP (`max_connections_per_ip`) and viewers per stream
 * (`max_connections_per_stream`). HTTP (including WebSockets), RTSP and RTMP ask the same
 * {@link ConnectionLimits} before serving a client; refusals are logged and counted for `/metrics`.
 *
 * @module
 */
import type { ConnectionGate, GateRefusal, GateTicket } from "../../lib/core/connection_gate.ts";
import type { Logger } from "../../lib/core/log.ts";
import type { ExpositionWriter } from "../metrics/exposition.ts";

/** The `limits:` keys this class reads (0 or absent = unlimited). */
export interface LimitsConfig {
  max_connections?: number;
  max_connections_per_ip?: number;
  max_connections_per_stream?: number;
}

/**
 * Counts open connections per protocol and IP, and decides admissions.
 *
 * @example
 * ```ts
 * const limits = new ConnectionLimits({ max_connections: 50, max_connections_per_ip: 10 }, log);
 * const ticket = limits.admit("rtsp", "10.0.0.7");
 * if ("limit" in ticket) refuse(ticket.message); else conn.closed.then(() => ticket.release());
 * ```
 */
export class ConnectionLimits implements ConnectionGate {
  readonly #config: LimitsConfig;
  readonly #log: Logger | undefined;
  #total = 0;
  readonly #perIp = new Map<string, number>();
  readonly #perProtocol = new Map<string, number>();
  /** Refusals by `protocol` and `limit`, for `strom_limit_refusals_total`. */
  readonly #refusals = new Map<string, number>();

  constructor(config: LimitsConfig, log?: Logger) {
    this.#config = config;
    this.#log = log?.child({ module: "limits" });
  }

  /** Whether any limit is set (otherwise admitting is only counting). */
  get enabled(): boolean {
    const c = this.#config;
    return !!(c.max_connections || c.max_connections_per_ip || c.max_connections_per_stream);
  }

  /** Connections open now, over every protocol. */
  get open(): number {
    return this.#total;
  }

  /** Connections open now from `ip`. */
  openFrom(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  admit(protocol: string, ip: string): GateTicket | GateRefusal {
    const max = this.#config.max_connections ?? 0;
    if (max > 0 && this.#total >= max) {
      return this.#refuse(protocol, ip, "max_connections",
        `The server has ${this.#total} connections open, the most allowed (limits.max_connections: ${max}); try again later.`);
    }
    const perIp = this.#config.max_connections_per_ip ?? 0;
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (perIp > 0 && fromIp >= perIp) {
      return this.#refuse(protocol, ip, "max_connections_per_ip",
        `${ip} has ${fromIp} connections open, the most allowed per address (limits.max_connections_per_ip: ${perIp}); close some first.`);
    }
    this.#total++;
    this.#perIp.set(ip, fromIp + 1);
    this.#perProtocol.set(protocol, (this.#perProtocol.get(protocol) ?? 0) + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#total--;
        const n = (this.#perIp.get(ip) ?? 1) - 1;
        if (n > 0) this.#perIp.set(ip, n);
        else this.#perIp.delete(ip);
        this.#perProtocol.set(protocol, (this.#perProtocol.get(protocol) ?? 1) - 1);
      },
    };
  }

  admitViewer(protocol: string, stream: string, consumers: number): GateRefusal | undefined {
    const max = this.#config.max_connections_per_stream ?? 0;
    if (max > 0 && consumers >= max) {
      return this.#refuse(protocol, undefined, "max_connections_per_stream",
        `Stream "${stream}" has ${consumers} viewers, the most allowed (limits.max_connections_per_stream: ${max}); try again later.`);
    }
    return undefined;
  }

  /**
   * Counts a refusal made elsewhere (a timeout or size limit) for metrics and the log.
   *
   * @example
   * ```ts
   * limits.count("http", "max_body_size");
   * ```
   */
  count(protocol: string, limit: string): void {
    const key = `${protocol}\u0000${limit}`;
    this.#refusals.set(key, (this.#refusals.get(key) ?? 0) + 1);
  }

  /** Refusals so far by protocol and limit (`{ "rtsp max_connections": 3 }`). */
  refusals(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, n] of this.#refusals) out[key.replace("\u0000", " ")] = n;
    return out;
  }

  /**
   * Writes `strom_connections_open` and `strom_limit_refusals_total` for `/metrics`.
   *
   * @example
   * ```ts
   * limits.writeMetrics(writer);
   * ```
   */
  writeMetrics(writer: ExpositionWriter): void {
    const open = writer.gauge("strom_connections_open", "Client connections open now (HTTP, RTSP, RTMP), by protocol.");
    for (const [protocol, n] of this.#perProtocol) open.set({ protocol }, n);
    const refused = writer.counter(
      "strom_limit_refusals_total",
      "Clients refused or dropped by a limits: setting, by protocol and limit (config key).",
    );
    for (const [key, n] of this.#refusals) {
      const [protocol, limit] = key.split("\u0000");
      refused.set({ protocol, limit }, n);
    }
  }

  #refuse(protocol: string, ip: string | undefined, limit: string, message: string): GateRefusal {
    this.count(protocol, limit);
    this.#log?.warn(`${protocol} client refused: ${limit}`, { ...(ip ? { remote: ip } : {}), reason: message });
    return { limit, message };
  }
}
