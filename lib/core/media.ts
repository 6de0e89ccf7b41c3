/**
 * Media lines (one kind, one direction, several codecs), their matching, the go2rtc query syntax for
 * asking for medias, and the SDP form of both.
 *
 * Direction is always stated from our own side: a camera's video is `recvonly` (we receive it), a
 * viewer's video is `sendonly` (we send it), a camera's backchannel audio is `sendonly`.
 *
 * @module
 */
import {
  type Codec,
  codecMatch,
  CodecName,
  codecToString,
  type MediaKind,
  parseCodecString,
} from "./codec.ts";

/** Direction of a media, from our side. */
export type Direction = "sendonly" | "recvonly" | "sendrecv" | "inactive";

/**
 * One media line: a kind, a direction and the codecs it can carry, in order of preference.
 *
 * @example
 * ```ts
 * const video: Media = { kind: "video", direction: "recvonly", codecs: [{ name: "H264", clockRate: 90000 }], id: "trackID=0" };
 * ```
 */
export interface Media {
  kind: MediaKind;
  direction: Direction;
  codecs: Codec[];
  /** RTSP control URL or WebRTC mid. */
  id?: string;
}

/**
 * The direction seen from the other side.
 *
 * @example
 * ```ts
 * invertDirection("sendonly"); // "recvonly"
 * ```
 */
export function invertDirection(direction: Direction): Direction {
  if (direction === "sendonly") return "recvonly";
  if (direction === "recvonly") return "sendonly";
  return direction;
}

function directionsPair(a: Direction, b: Direction): boolean {
  if (a === "inactive" || b === "inactive") return false;
  if (a === "sendrecv" || b === "sendrecv") return true;
  return a !== b;
}

/**
 * Matches a local media against a remote one: same kind, opposite directions, then the first pair of
 * codecs that match, local codec order first. Returns `undefined` when nothing matches.
 *
 * @example
 * ```ts
 * const pair = matchMedia(cameraVideo, viewerVideo);
 * if (pair) console.log(pair.local.name, pair.remote.name);
 * ```
 */
export function matchMedia(local: Media, remote: Media): { local: Codec; remote: Codec } | undefined {
  if (local.kind !== remote.kind || !directionsPair(local.direction, remote.direction)) return undefined;
  for (const lc of local.codecs) {
    for (const rc of remote.codecs) {
      if (codecMatch(lc, rc)) return { local: lc, remote: rc };
    }
  }
  return undefined;
}

/**
 * Turns go2rtc's media query into the medias a consumer asks for:
 * `video=h264,h265&audio=aac&audio=opus`, `video` (any codec), `video=all`, `microphone`.
 * With neither `video` nor `audio` given, asks for any video and any audio.
 *
 * @example
 * ```ts
 * parseMediaQuery(new URLSearchParams("video=h264&audio=all"));
 * // [{ kind: "video", direction: "sendonly", codecs: [H264] }, { kind: "audio", ..., codecs: [ALL] }]
 * ```
 */
export function parseMediaQuery(query: URLSearchParams): Media[] {
  const medias: Media[] = [];
  for (const kind of ["video", "audio"] as const) {
    for (const value of query.getAll(kind)) {
      const codecs = value.split(",").map((s) => parseCodecString(s));
      medias.push({ kind, direction: "sendonly", codecs });
    }
  }
  if (!query.has("video") && !query.has("audio")) {
    medias.push({ kind: "video", direction: "sendonly", codecs: [{ name: CodecName.ANY, clockRate: 0 }] });
    medias.push({ kind: "audio", direction: "sendonly", codecs: [{ name: CodecName.ANY, clockRate: 0 }] });
  }
  if (query.has("microphone")) {
    medias.push({ kind: "audio", direction: "recvonly", codecs: [{ name: CodecName.ANY, clockRate: 0 }] });
  }
  return medias;
}

/**
 * Short human form: `video, recvonly, H264/90000, H265/90000`.
 *
 * @example
 * ```ts
 * mediaToString(media); // "audio, sendonly, OPUS/48000/2"
 * ```
 */
export function mediaToString(media: Media): string {
  return [media.kind, media.direction, ...media.codecs.map(codecToString)].join(", ");
}

/** A parsed session description: session-level attributes and the media sections. */
export interface SessionDescription {
  /** Session-level `a=` attributes as `key` or `key:value` strings. */
  attributes: string[];
  /** `s=` line. */
  sessionName: string;
  /** `c=` connection address at session level, when present. */
  connection?: string;
  medias: SdpMedia[];
}

/** One media section of an SDP with the parts strom uses and the raw attributes kept for the rest. */
export interface SdpMedia extends Media {
  /** Port of the `m=` line (0 = rejected). */
  port: number;
  /** Transport protocol of the `m=` line: `RTP/AVP`, `UDP/TLS/RTP/SAVPF`... */
  protocol: string;
  /** All `a=` attributes of the section other than rtpmap/fmtp/direction/control. */
  attributes: string[];
  /** `b=AS:` bandwidth in kbit/s, when present (used to guess PCM rates). */
  bandwidth?: number;
}

/** An SDP that cannot be parsed, with the 1-based line where parsing failed. */
export class SdpError extends SyntaxError {
  override name = "SdpError";
  readonly line: number;
  constructor(line: number, message: string) {
    super(`Cannot parse SDP line ${line}: ${message}`);
    this.line = line;
  }
}

const STATIC_PAYLOADS: Record<number, Codec> = {
  0: { name: "PCMU", clockRate: 8000, channels: 1 },
  8: { name: "PCMA", clockRate: 8000, channels: 1 },
  9: { name: "G722", clockRate: 8000, channels: 1 },
  10: { name: "L16", clockRate: 44100, channels: 2 },
  11: { name: "L16", clockRate: 44100, channels: 1 },
  14: { name: "MPA", clockRate: 90000 },
  26: { name: "JPEG", clockRate: 90000 },
  32: { name: "MPV", clockRate: 90000 },
  33: { name: "MP2T", clockRate: 90000 },
};

/**
 * Parses an SDP. Tolerant of what cameras send: CRLF or LF, blank lines, lines with stray spaces,
 * missing `v=`/`o=`, rtpmap without a matching payload in the `m=` line. Directions are returned as
 * written (absent = `sendrecv`); callers invert them to their own side.
 *
 * @example
 * ```ts
 * const sdp = parseSdp("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n");
 * sdp.medias[0].codecs[0].name; // "H264"
 * ```
 */
export function parseSdp(text: string): SessionDescription {
  const session: SessionDescription = { attributes: [], sessionName: "", medias: [] };
  let current: SdpMedia | undefined;
  let pending: Map<number, Codec> | undefined;
  const finish = () => {
    if (current && pending) current.codecs = [...pending.values()];
  };
  const lines = text.split(/\r?\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    if (line[1] !== "=") throw new SdpError(i + 1, `missing '=' in "${line.slice(0, 40)}"`);
    const type = line[0];
    const value = line.slice(2).trim();
    if (type === "m") {
      finish();
      const parts = value.split(/\s+/);
      if (parts.length < 3) {
        throw new SdpError(i + 1, `"m=" needs "<media> <port> <proto> <fmt>...", got "${value}"`);
      }
      const kind = parts[0].toLowerCase();
      const port = Number(parts[1].split("/")[0]);
      if (!Number.isFinite(port)) throw new SdpError(i + 1, `bad port "${parts[1]}" in "m=" line`);
      current = {
        kind: kind === "audio" ? "audio" : "video",
        direction: "sendrecv",
        codecs: [],
        port,
        protocol: parts[2],
        attributes: [],
      };
      // Keep non-audio/video sections (application, text) out of the media list but do not fail.
      if (kind !== "video" && kind !== "audio") {
        current = undefined;
        pending = undefined;
        continue;
      }
      session.medias.push(current);
      pending = new Map();
      for (const fmt of parts.slice(3)) {
        const pt = Number(fmt);
        if (!Number.isInteger(pt)) continue;
        const known = STATIC_PAYLOADS[pt];
        pending.set(pt, known ? { ...known, payloadType: pt } : { name: "", clockRate: 0, payloadType: pt });
      }
      continue;
    }
    if (type === "s" && !current) session.sessionName = value;
    if (type === "c" && !current) session.connection = value;
    if (type === "b" && current && value.toUpperCase().startsWith("AS:")) {
      current.bandwidth = Number(value.slice(3));
    }
    if (type !== "a") continue;
    const colon = value.indexOf(":");
    const key = colon < 0 ? value : value.slice(0, colon);
    const arg = colon < 0 ? "" : value.slice(colon + 1).trim();
    if (!current || !pending) {
      session.attributes.push(value);
      continue;
    }
    switch (key.toLowerCase()) {
      case "rtpmap": {
        const m = /^(\d+)\s+([^/\s]+)(?:\/(\d+))?(?:\/(\d+))?/.exec(arg);
        if (!m) throw new SdpError(i + 1, `bad rtpmap "${arg}", expected "<pt> <name>/<rate>[/<channels>]"`);
        const pt = Number(m[1]);
        const prev = pending.get(pt);
        const codec: Codec = {
          name: m[2].toUpperCase(),
          clockRate: m[3] ? Number(m[3]) : 0,
          payloadType: pt,
        };
        if (m[4]) codec.channels = Number(m[4]);
        if (prev?.fmtp) codec.fmtp = prev.fmtp;
        pending.set(pt, codec);
        break;
      }
      case "fmtp": {
        const m = /^(\d+)\s*(.*)$/.exec(arg);
        if (!m) throw new SdpError(i + 1, `bad fmtp "${arg}", expected "<pt> <params>"`);
        const pt = Number(m[1]);
        const codec = pending.get(pt) ?? { name: "", clockRate: 0, payloadType: pt };
        codec.fmtp = m[2].trim();
        pending.set(pt, codec);
        break;
      }
      case "sendonly":
      case "recvonly":
      case "sendrecv":
      case "inactive":
        current.direction = key.toLowerCase() as Direction;
        break;
      case "control":
        current.id = arg;
        break;
      case "mid":
        current.id ??= arg;
        current.attributes.push(value);
        break;
      default:
        current.attributes.push(value);
    }
  }
  finish();
  for (const media of session.medias) {
    // Drop payload types that never got a name (no rtpmap and not static).
    media.codecs = media.codecs.filter((c) => c.name !== "");
  }
  return session;
}

/** Options for {@link toSdp}. */
export interface ToSdpOptions {
  sessionName?: string;
  /** Origin/connection address written to `o=` and `c=`. */
  address?: string;
  /** Extra session-level `a=` attributes. */
  attributes?: string[];
  /** Write `a=control:` from each media's id (RTSP). Default true. */
  control?: boolean;
}

/**
 * Writes medias as an SDP (CRLF line ends). Payload types not set on a codec are assigned from 96
 * upwards. Directions are written as given.
 *
 * @example
 * ```ts
 * toSdp([{ kind: "video", direction: "sendonly", codecs: [{ name: "H264", clockRate: 90000 }], id: "trackID=0" }]);
 * ```
 */
export function toSdp(medias: Media[], options: ToSdpOptions = {}): string {
  const address = options.address ?? "127.0.0.1";
  const ipVersion = address.includes(":") ? "IP6" : "IP4";
  const out = [
    "v=0",
    `o=- 0 0 IN ${ipVersion} ${address}`,
    `s=${options.sessionName ?? "strom"}`,
    `c=IN ${ipVersion} ${address}`,
    "t=0 0",
  ];
  for (const attr of options.attributes ?? []) out.push(`a=${attr}`);
  let nextPt = 96;
  for (const media of medias) {
    const pts = media.codecs.map((c) => c.payloadType ?? nextPt++);
    const sdpMedia = media as Partial<SdpMedia>;
    out.push(`m=${media.kind} ${sdpMedia.port ?? 0} ${sdpMedia.protocol ?? "RTP/AVP"} ${pts.join(" ")}`);
    if (sdpMedia.bandwidth) out.push(`b=AS:${sdpMedia.bandwidth}`);
    media.codecs.forEach((codec, i) => {
      let map = `a=rtpmap:${pts[i]} ${codec.name}/${codec.clockRate}`;
      if (codec.channels && codec.channels > 0 && media.kind === "audio") map += `/${codec.channels}`;
      out.push(map);
      if (codec.fmtp) out.push(`a=fmtp:${pts[i]} ${codec.fmtp}`);
    });
    if (media.direction !== "sendrecv") out.push(`a=${media.direction}`);
    for (const attr of sdpMedia.attributes ?? []) out.push(`a=${attr}`);
    if (options.control !== false && media.id) out.push(`a=control:${media.id}`);
  }
  return out.join("\r\n") + "\r\n";
}
