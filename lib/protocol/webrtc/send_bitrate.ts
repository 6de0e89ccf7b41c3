/**
 * Telling a WebRTC publisher how fast to send (`webrtc.bandwidth`, the go2rtc seed article's
 * `min`/`max`/`start`): an answer's video sections get `b=AS` and `b=TIAS` (the most the peer may
 * send, RFC 3890, honoured by browsers) and, on each video payload type, Chrome's
 * `x-google-min-bitrate`, `x-google-start-bitrate` and `x-google-max-bitrate`.
 *
 * Only publishers are told: strom passes a camera's video to its viewers as the camera encoded it.
 *
 * @module
 */

/** Bit rates in bits per second; 0 or missing: not set. */
export interface SendBitrate {
  minBps?: number;
  maxBps?: number;
  startBps?: number;
}

const HELPERS = new Set(["rtx", "red", "ulpfec", "flexfec-03"]);

/**
 * `sdp` with the bit rates written into each video m-section; the same text when none is set.
 *
 * @example
 * ```ts
 * withSendBitrate(answer, { maxBps: 4_000_000, startBps: 1_000_000 });
 * // m=video ... / c=IN IP4 0.0.0.0 / b=AS:4000 / b=TIAS:4000000 / ... a=fmtp:96 ...;x-google-start-bitrate=1000;x-google-max-bitrate=4000
 * ```
 */
export function withSendBitrate(sdp: string, rate: SendBitrate): string {
  const kbps = (bps: number | undefined) => bps && bps > 0 ? Math.max(1, Math.round(bps / 1000)) : undefined;
  const min = kbps(rate.minBps);
  const max = kbps(rate.maxBps);
  const start = kbps(rate.startBps);
  if (min === undefined && max === undefined && start === undefined) return sdp;
  const google = [
    ...(min !== undefined ? [`x-google-min-bitrate=${min}`] : []),
    ...(start !== undefined ? [`x-google-start-bitrate=${start}`] : []),
    ...(max !== undefined ? [`x-google-max-bitrate=${max}`] : []),
  ].join(";");
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const lines = sdp.split(/\r?\n/);
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    if (!lines[i].startsWith("m=video ")) {
      out.push(lines[i++]);
      continue;
    }
    // One video section: from its m= line to the next m= line.
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith("m=")) end++;
    // A max replaces the section's own b=AS/TIAS lines; without one they stay.
    const section = lines.slice(i, end).filter((l) => max === undefined || !/^b=(AS|TIAS):/.test(l));
    i = end;
    const codecOf = new Map<string, string>();
    for (const l of section) {
      const m = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(l);
      if (m) codecOf.set(m[1], m[2].toLowerCase());
    }
    const media = (section[0].split(" ").slice(3)).filter((pt) => !HELPERS.has(codecOf.get(pt) ?? ""));
    const withFmtp = new Set(section.map((l) => /^a=fmtp:(\d+)/.exec(l)?.[1]).filter((pt) => pt !== undefined));
    const body: string[] = [];
    for (const l of section) {
      const fmtp = /^a=fmtp:(\d+) ?(.*)$/.exec(l);
      if (fmtp && media.includes(fmtp[1])) {
        body.push(`a=fmtp:${fmtp[1]} ${fmtp[2] ? `${fmtp[2]};` : ""}${google}`);
        continue;
      }
      body.push(l);
      // A payload type without fmtp (VP8) gets one right after its rtpmap.
      const rtpmap = /^a=rtpmap:(\d+) /.exec(l);
      if (rtpmap && media.includes(rtpmap[1]) && !withFmtp.has(rtpmap[1])) body.push(`a=fmtp:${rtpmap[1]} ${google}`);
    }
    if (max !== undefined) {
      // b= lines go after i= and c= (RFC 8866 order: m, i, c, b, k, a).
      let at = 1;
      while (at < body.length && /^[ic]=/.test(body[at])) at++;
      body.splice(at, 0, `b=AS:${max}`, `b=TIAS:${max * 1000}`);
    }
    out.push(...body);
  }
  return out.join(eol);
}
