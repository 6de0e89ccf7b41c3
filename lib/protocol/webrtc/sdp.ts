/**
 * SDP text helpers for WebRTC signalling: narrowing an offer to the payload types strom chose, and
 * ICE candidate lines (parse, write, filter, add the configured ones).
 *
 * They work on the SDP text line by line and keep everything they do not touch as it was, so the
 * peer's own attributes (fingerprint, ICE credentials, extmap...) reach the WebRTC stack unchanged.
 *
 * @module
 */

/**
 * Keeps, in each listed m-section (by mid), only the given payload types, in the order given: the
 * `m=` format list and the `rtpmap`/`fmtp`/`rtcp-fb` lines of the others are removed. Sections not
 * listed are kept as they are. RTX and other helpers of removed payload types go with them.
 *
 * @example
 * ```ts
 * restrictOffer(offer, new Map([["0", [102]], ["1", [111]]]));
 * ```
 */
export function restrictOffer(sdp: string, keep: ReadonlyMap<string, readonly number[]>): string {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const lines = sdp.split(/\r?\n/);
  const out: string[] = [];
  let section: string[] | undefined;
  const flush = () => {
    if (!section) return;
    out.push(...restrictSection(section, keep));
    section = undefined;
  };
  for (const line of lines) {
    if (line.startsWith("m=")) {
      flush();
      section = [line];
    } else if (section) {
      section.push(line);
    } else {
      out.push(line);
    }
  }
  flush();
  while (out.length && out[out.length - 1] === "") out.pop();
  return out.join(eol) + eol;
}

function restrictSection(lines: string[], keep: ReadonlyMap<string, readonly number[]>): string[] {
  const midLine = lines.find((l) => l.startsWith("a=mid:"));
  const mid = midLine?.slice(6).trim();
  const pts = mid === undefined ? undefined : keep.get(mid);
  if (!pts) return lines;
  const allowed = new Set(pts.map(String));
  const parts = lines[0].split(" ");
  // In the order given: the peer sends with the first payload type of the answer (RFC 8829
  // section 5.3.1), so the microphone's codec goes first when a section carries both directions.
  const offered = parts.slice(3);
  const formats = [...allowed].filter((f) => offered.includes(f));
  const result = [[...parts.slice(0, 3), ...formats].join(" ")];
  for (const line of lines.slice(1)) {
    const m = /^a=(rtpmap|fmtp|rtcp-fb):(\d+|\*)\s/.exec(line);
    if (m && m[2] !== "*" && !allowed.has(m[2])) continue;
    result.push(line);
  }
  return result;
}

/**
 * One ICE candidate (RFC 8839 section 5.1), as much as strom needs of it.
 *
 * @example
 * ```ts
 * const c = parseCandidate("candidate:1 1 udp 2130706431 192.168.1.10 8555 typ host");
 * c.address; // "192.168.1.10"
 * ```
 */
export interface IceCandidateLine {
  foundation: string;
  component: number;
  /** `udp` or `tcp`, lower case. */
  protocol: string;
  priority: number;
  address: string;
  port: number;
  /** `host`, `srflx`, `prflx` or `relay`. */
  type: string;
  /** The attributes after `typ <type>` as written (`raddr`, `tcptype`, `generation`...). */
  rest: string;
}

/**
 * Parses a candidate attribute value, with or without the `a=` / `candidate:` prefix. Returns
 * undefined for a line that is not a candidate (the caller reports it).
 *
 * @example
 * ```ts
 * parseCandidate("a=candidate:1 1 UDP 2130706431 10.0.0.2 50000 typ host")?.port; // 50000
 * ```
 */
export function parseCandidate(line: string): IceCandidateLine | undefined {
  const text = line.trim().replace(/^a=/, "").replace(/^candidate:/, "");
  const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+typ\s+(\S+)\s*(.*)$/.exec(text);
  if (!m) return undefined;
  return {
    foundation: m[1],
    component: Number(m[2]),
    protocol: m[3].toLowerCase(),
    priority: Number(m[4]),
    address: m[5],
    port: Number(m[6]),
    type: m[7],
    rest: m[8],
  };
}

/**
 * Writes a candidate as the attribute value (`candidate:...`, no `a=`).
 *
 * @example
 * ```ts
 * formatCandidate({ ...c, address: "203.0.113.7" });
 * ```
 */
export function formatCandidate(c: IceCandidateLine): string {
  return `candidate:${c.foundation} ${c.component} ${c.protocol} ${c.priority} ${c.address} ${c.port} typ ${c.type}` +
    (c.rest ? ` ${c.rest}` : "");
}

/**
 * Replaces the `a=candidate` lines of every m-section with `candidates` (values as written by
 * {@link formatCandidate}); `a=end-of-candidates` is kept where it was.
 *
 * @example
 * ```ts
 * const answer = replaceCandidates(sdp, ["candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"]);
 * ```
 */
export function replaceCandidates(sdp: string, candidates: readonly string[]): string {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const out: string[] = [];
  let inSection = false;
  let added = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith("m=")) {
      inSection = true;
      added = false;
      out.push(line);
      continue;
    }
    if (line.startsWith("a=candidate:")) {
      if (!added) {
        for (const c of candidates) out.push(`a=${c}`);
        added = true;
      }
      continue;
    }
    if (inSection && !added && (line.startsWith("a=end-of-candidates") || line.startsWith("a=ice-ufrag"))) {
      for (const c of candidates) out.push(`a=${c}`);
      added = true;
    }
    out.push(line);
  }
  while (out.length && out[out.length - 1] === "") out.pop();
  return out.join(eol) + eol;
}

/**
 * The candidate lines of an SDP, in order, without the `a=` prefix.
 *
 * @example
 * ```ts
 * sdpCandidates(answer); // ["candidate:... 127.0.0.1 50000 typ host ...", ...]
 * ```
 */
export function sdpCandidates(sdp: string): string[] {
  const out: string[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith("a=candidate:")) {
      const value = line.slice(2).trim();
      if (!out.includes(value)) out.push(value);
    }
  }
  return out;
}

/**
 * Keeps `inactive` m-sections that werift wrote with port 0 (rejected) in use, with port 9: an
 * answer may not reject the BUNDLE group's tagged section, and when that is the one strom has
 * nothing for (an audio-only camera answering a browser's video + audio offer), Chromium refuses the
 * answer ("Failed to setup RTCP mux": with max-bundle it has no transport of its own for the others).
 * Sections outside every BUNDLE group are left as they are.
 *
 * @example
 * ```ts
 * keepInactiveBundled("a=group:BUNDLE 0 1\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\na=inactive\r\na=mid:0\r\n...");
 * // "...m=video 9 UDP/TLS/RTP/SAVPF 96..."
 * ```
 */
export function keepInactiveBundled(sdp: string): string {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const lines = sdp.split(/\r?\n/);
  const bundled = new Set<string>();
  for (const line of lines) {
    if (line.startsWith("a=group:BUNDLE")) {
      for (const mid of line.slice("a=group:BUNDLE".length).trim().split(/\s+/)) if (mid) bundled.add(mid);
    }
  }
  if (bundled.size === 0) return sdp;
  let section = -1;
  let inactive = false;
  let mid: string | undefined;
  const fix = () => {
    if (section >= 0 && inactive && mid !== undefined && bundled.has(mid)) {
      lines[section] = lines[section].replace(/^(m=\S+) 0 /, "$1 9 ");
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("m=")) {
      fix();
      section = /^m=\S+ 0 /.test(line) ? i : -1;
      inactive = false;
      mid = undefined;
    } else if (line === "a=inactive") inactive = true;
    else if (line.startsWith("a=mid:")) mid = line.slice(6).trim();
  }
  fix();
  return lines.join(eol);
}
