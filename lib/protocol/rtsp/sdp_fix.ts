/**
 * Repairs for SDPs that real cameras send, applied by the RTSP client on top of the tolerant
 * `parseSdp` of lib/core/media.ts:
 *
 * - a dynamic payload type with no `a=rtpmap` (seen on cheap H.264 cameras and some NVR channels):
 *   the encoding is guessed from its `a=fmtp` (sprop-vps -> H265, sprop-parameter-sets or
 *   packetization-mode -> H264, mode=AAC-hbr/config -> MPEG4-GENERIC) or, for video with no hint,
 *   assumed H264;
 * - wrong clock rates: video codecs are always 90000 (RFC 6184 section 8.2.1, RFC 7798 section 7.1);
 *   G.711 without a rate is 8000;
 * - several medias with the same `a=control` (an NVR bug): later duplicates get `trackID=<index>`;
 * - an H.264 `a=fmtp` written under another media section is copied to the H.264 one.
 *
 * @module
 */
import { isVideoCodec } from "../../core/codec.ts";
import { parseSdp, type SessionDescription } from "../../core/media.ts";

function guessEncoding(kind: string, fmtp: string | undefined): string | undefined {
  const f = (fmtp ?? "").toLowerCase();
  if (kind === "video") {
    if (f.includes("sprop-vps") || f.includes("sprop-sps")) return "H265/90000";
    return "H264/90000";
  }
  if (kind === "audio" && (f.includes("mode=aac") || f.includes("config="))) {
    const m = /config=([0-9a-f]+)/.exec(f);
    const rate = m ? aacRateFromConfig(m[1]) : undefined;
    return `MPEG4-GENERIC/${rate ?? 16000}`;
  }
  return undefined;
}

const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

// AudioSpecificConfig (ISO 14496-3 1.6.2.1): 5 bits object type, 4 bits sampling frequency index.
function aacRateFromConfig(hex: string): number | undefined {
  if (hex.length < 4) return undefined;
  const v = parseInt(hex.slice(0, 4), 16);
  return AAC_RATES[(v >> 7) & 0x0f];
}

/**
 * Text-level repairs before parsing: adds the `a=rtpmap` lines a camera left out, and copies an
 * H.264 `a=fmtp` that a camera wrote under another media section (go2rtc's WebRTC issue #419).
 *
 * @example
 * ```ts
 * addMissingRtpmaps("m=video 0 RTP/AVP 96\r\na=fmtp:96 packetization-mode=1\r\n");
 * // "...m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n"
 * ```
 */
export function addMissingRtpmaps(text: string): string {
  const lines = text.split(/\r?\n|\r/);
  interface Section {
    start: number;
    kind: string;
    pts: number[];
    names: Map<number, string>;
    fmtp: Map<number, string>;
  }
  const sections: Section[] = [];
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith("m=")) {
      const parts = line.slice(2).split(/\s+/);
      sections.push({
        start: index,
        kind: (parts[0] ?? "").toLowerCase(),
        pts: parts.slice(3).map(Number).filter(Number.isInteger),
        names: new Map(),
        fmtp: new Map(),
      });
      return;
    }
    const section = sections[sections.length - 1];
    if (!section) return;
    let m = /^a=rtpmap:\s*(\d+)\s+([^/\s]+)/i.exec(line);
    if (m) section.names.set(Number(m[1]), m[2].toUpperCase());
    m = /^a=fmtp:\s*(\d+)\s*(.*)$/i.exec(line);
    if (m) section.fmtp.set(Number(m[1]), m[2]);
  });
  const inserts = new Map<number, string[]>();
  for (const section of sections) {
    const add: string[] = [];
    for (const pt of section.pts) {
      let name = section.names.get(pt);
      if (name === undefined && pt >= 96) {
        const enc = guessEncoding(section.kind, section.fmtp.get(pt));
        if (enc) {
          add.push(`a=rtpmap:${pt} ${enc}`);
          name = enc.split("/")[0];
        }
      }
      if (name === "H264" && !section.fmtp.has(pt)) {
        const other = sections.find((o) => o !== section && o.fmtp.get(pt)?.includes("sprop-parameter-sets"));
        if (other) add.push(`a=fmtp:${pt} ${other.fmtp.get(pt)}`);
      }
    }
    if (add.length) inserts.set(section.start, add);
  }
  if (!inserts.size) return text;
  const out: string[] = [];
  lines.forEach((line, index) => {
    out.push(line);
    const add = inserts.get(index);
    if (add) out.push(...add);
  });
  return out.join("\r\n");
}

/**
 * Parses a camera's SDP with the repairs described in the module docs.
 *
 * @example
 * ```ts
 * const sdp = parseCameraSdp(describeBody);
 * sdp.medias[0].codecs[0]; // { name: "H264", clockRate: 90000, payloadType: 96, ... }
 * ```
 */
export function parseCameraSdp(text: string): SessionDescription {
  const sdp = parseSdp(addMissingRtpmaps(text));
  const seen = new Set<string>();
  sdp.medias.forEach((media, index) => {
    for (const codec of media.codecs) {
      if (isVideoCodec(codec.name)) codec.clockRate = 90000;
      else if ((codec.name === "PCMA" || codec.name === "PCMU") && !codec.clockRate) codec.clockRate = 8000;
      else if (codec.name === "OPUS") {
        // RFC 7587 section 7: always "opus/48000/2", whatever the real channel count.
        codec.clockRate = 48000;
        codec.channels ??= 2;
      }
    }
    if (media.id) {
      if (seen.has(media.id)) media.id = `trackID=${index}`;
      seen.add(media.id);
    }
  });
  return sdp;
}
