/**
 * The RTSP `Transport` header (RFC 2326 section 12.39):
 *
 * ```text
 * Transport: RTP/AVP/TCP;unicast;interleaved=0-1
 * Transport: RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=1234ABCD
 * ```
 *
 * A client may offer several specs separated by commas; the server answers with the one it took.
 *
 * @module
 */

/** One transport spec. */
export interface TransportSpec {
  /** `RTP/AVP`, `RTP/AVP/TCP`, `RTP/AVP/UDP`, `RTP/SAVP`... as written. */
  protocol: string;
  /** Lower transport: `tcp` for `.../TCP`, else `udp`. */
  lower: "tcp" | "udp";
  /** `false` for `multicast`; `true` when `unicast` was given or nothing was. */
  unicast: boolean;
  interleaved?: [number, number];
  clientPort?: [number, number];
  serverPort?: [number, number];
  /** `port=` (multicast). */
  port?: [number, number];
  ssrc?: number;
  /** `play` or `record`, lower-cased and unquoted. */
  mode?: string;
  destination?: string;
  source?: string;
  ttl?: number;
  /** Parameters not listed above, as written. */
  params: Record<string, string>;
}

/** A Transport header that cannot be parsed. */
export class TransportError extends SyntaxError {
  override name = "TransportError";
  readonly header: string;
  constructor(header: string, reason: string) {
    super(`Cannot parse Transport header "${header}": ${reason}`);
    this.header = header;
  }
}

function range(header: string, key: string, value: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(value.trim());
  if (!m) throw new TransportError(header, `${key}="${value}", expected "<n>" or "<n>-<m>"`);
  const a = Number(m[1]);
  const b = m[2] !== undefined ? Number(m[2]) : a + 1;
  if (a > 65535 || b > 65535) throw new TransportError(header, `${key}=${value} out of range`);
  return [a, b];
}

/**
 * Parses a Transport header into its specs, in the order given.
 *
 * @example
 * ```ts
 * parseTransport("RTP/AVP/TCP;unicast;interleaved=2-3")[0].interleaved; // [2, 3]
 * ```
 */
export function parseTransport(header: string): TransportSpec[] {
  const out: TransportSpec[] = [];
  for (const raw of header.split(",")) {
    const parts = raw.trim().split(";").map((s) => s.trim()).filter(Boolean);
    if (!parts.length) continue;
    const protocol = parts[0];
    if (!/^[A-Za-z]+\/[A-Za-z]+(\/[A-Za-z]+)?$/.test(protocol)) {
      throw new TransportError(
        header,
        `bad protocol "${protocol}", expected e.g. "RTP/AVP" or "RTP/AVP/TCP"`,
      );
    }
    const spec: TransportSpec = {
      protocol,
      lower: /\/TCP$/i.test(protocol) ? "tcp" : "udp",
      unicast: true,
      params: {},
    };
    for (const p of parts.slice(1)) {
      const eq = p.indexOf("=");
      const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
      const value = eq < 0 ? "" : p.slice(eq + 1).trim();
      switch (key) {
        case "unicast":
          spec.unicast = true;
          break;
        case "multicast":
          spec.unicast = false;
          break;
        case "interleaved":
          spec.interleaved = range(header, key, value);
          break;
        case "client_port":
          spec.clientPort = range(header, key, value);
          break;
        case "server_port":
          spec.serverPort = range(header, key, value);
          break;
        case "port":
          spec.port = range(header, key, value);
          break;
        case "ssrc": {
          const n = parseInt(value, 16);
          if (Number.isFinite(n)) spec.ssrc = n >>> 0;
          break;
        }
        case "mode":
          spec.mode = value.replace(/"/g, "").toLowerCase();
          break;
        case "destination":
          spec.destination = value;
          break;
        case "source":
          spec.source = value;
          break;
        case "ttl":
          spec.ttl = Number(value);
          break;
        default:
          spec.params[key] = value;
      }
    }
    out.push(spec);
  }
  if (!out.length) throw new TransportError(header, "no transport spec");
  return out;
}

/**
 * Writes a spec back as header text.
 *
 * @example
 * ```ts
 * formatTransport({ protocol: "RTP/AVP/TCP", lower: "tcp", unicast: true, interleaved: [0, 1], params: {} });
 * // "RTP/AVP/TCP;unicast;interleaved=0-1"
 * ```
 */
export function formatTransport(spec: TransportSpec): string {
  const parts = [spec.protocol, spec.unicast ? "unicast" : "multicast"];
  if (spec.destination) parts.push(`destination=${spec.destination}`);
  if (spec.source) parts.push(`source=${spec.source}`);
  if (spec.interleaved) parts.push(`interleaved=${spec.interleaved[0]}-${spec.interleaved[1]}`);
  if (spec.clientPort) parts.push(`client_port=${spec.clientPort[0]}-${spec.clientPort[1]}`);
  if (spec.serverPort) parts.push(`server_port=${spec.serverPort[0]}-${spec.serverPort[1]}`);
  if (spec.port) parts.push(`port=${spec.port[0]}-${spec.port[1]}`);
  if (spec.ttl !== undefined) parts.push(`ttl=${spec.ttl}`);
  if (spec.ssrc !== undefined) {
    parts.push(`ssrc=${(spec.ssrc >>> 0).toString(16).toUpperCase().padStart(8, "0")}`);
  }
  if (spec.mode) parts.push(`mode=${spec.mode}`);
  for (const [k, v] of Object.entries(spec.params)) parts.push(v ? `${k}=${v}` : k);
  return parts.join(";");
}
