/**
 * Codec negotiation for WebRTC: which of the codecs a peer offered strom can send without
 * transcoding, and which of the peer's payload types fits a source codec best.
 *
 * H.264 is passed through, so the payload type chosen is the one whose `profile-level-id` profile
 * matches the source's SPS and whose `packetization-mode` is 1 (strom sends FU-A and STAP-A); the
 * answer then carries the peer's own fmtp line for it, as pion and go2rtc do. H.265 is sent when the
 * peer offers it (Chrome 136+, Safari). Audio: Opus, PCMA and PCMU at the rates the peer offered.
 *
 * @module
 */
import { type Codec, codecMatch, codecToString, fmtpParam } from "../../core/codec.ts";
import type { Media, SdpMedia, SessionDescription } from "../../core/media.ts";
import { invertDirection } from "../../core/media.ts";
import { h264ParameterSetsFromFmtp } from "../../codec/h264/fmtp.ts";

/** Codec names strom sends over WebRTC, as written in SDP. */
export const WEBRTC_SEND_CODECS: readonly string[] = ["H264", "H265", "OPUS", "PCMA", "PCMU"];

/** Codec names strom takes from a peer's microphone (two-way audio), as written in SDP. */
export const WEBRTC_RECEIVE_CODECS: readonly string[] = ["OPUS", "PCMA", "PCMU"];

/** One media section of a peer's offer, with our side's media for it. */
export interface OfferedMedia {
  /** The section's `a=mid` (sections without one are numbered by position). */
  mid: string;
  /** Index of the m-line in the offer. */
  index: number;
  /** Our media: kind, direction from our side, and the offered codecs strom can send, peer order. */
  media: Media;
  /** Every codec the peer offered in this section, for error messages. */
  offered: Codec[];
}

/**
 * The sections of an offer that ask to receive media (`recvonly`/`sendrecv` on the peer's side) as
 * medias a strom consumer wants (`sendonly` from our side), keeping only codecs strom can send.
 * Sections where the peer only sends (a microphone) or that are rejected are left out.
 *
 * @example
 * ```ts
 * const sections = offeredMedias(parseSdp(offer));
 * sections[0].media; // { kind: "video", direction: "sendonly", codecs: [H264 pt 102, H264 pt 104, ...] }
 * ```
 */
export function offeredMedias(offer: SessionDescription): OfferedMedia[] {
  const out: OfferedMedia[] = [];
  offer.medias.forEach((section: SdpMedia, index) => {
    const mid = midOf(section) ?? String(index);
    if (section.port === 0 && !section.attributes.some((a) => a.startsWith("bundle-only"))) return;
    const ours = invertDirection(section.direction);
    if (ours !== "sendonly" && ours !== "sendrecv") return;
    out.push({
      mid,
      index,
      media: {
        kind: section.kind,
        direction: "sendonly",
        codecs: section.codecs.filter((c) => WEBRTC_SEND_CODECS.includes(c.name)),
        id: mid,
      },
      offered: section.codecs,
    });
  });
  return out;
}

/**
 * The audio sections of an offer where the peer sends (`sendonly`/`sendrecv` on its side: a
 * microphone) as `recvonly` medias from our side, keeping the codecs strom can take (Opus, PCMA,
 * PCMU) in the peer's order. The stream attaches them to a source's backchannel (two-way audio).
 *
 * @example
 * ```ts
 * const mics = offeredMicrophones(parseSdp(offer));
 * mics[0].media; // { kind: "audio", direction: "recvonly", codecs: [OPUS pt 111, PCMU pt 0, PCMA pt 8], id: "1" }
 * ```
 */
export function offeredMicrophones(offer: SessionDescription): OfferedMedia[] {
  const out: OfferedMedia[] = [];
  offer.medias.forEach((section: SdpMedia, index) => {
    if (section.kind !== "audio") return;
    if (section.port === 0 && !section.attributes.some((a) => a.startsWith("bundle-only"))) return;
    const ours = invertDirection(section.direction);
    if (ours !== "recvonly" && ours !== "sendrecv") return;
    const codecs = section.codecs.filter((c) => WEBRTC_RECEIVE_CODECS.includes(c.name));
    if (codecs.length === 0) return;
    const mid = midOf(section) ?? String(index);
    out.push({ mid, index, media: { kind: "audio", direction: "recvonly", codecs, id: mid }, offered: section.codecs });
  });
  return out;
}

/** The `a=mid` of a section, if any. */
export function midOf(section: SdpMedia): string | undefined {
  for (const a of section.attributes) if (a.startsWith("mid:")) return a.slice(4).trim();
  return undefined;
}

/**
 * The peer's payload type to send a source codec with, or undefined when none fits.
 *
 * - H.264: packetization-mode 1 required when the peer offers it at all; then the same profile
 *   (profile_idc, with Baseline and Constrained Baseline as one family) first, else the first left.
 * - Others: the first offered codec that matches by name, clock rate and channels.
 *
 * @example
 * ```ts
 * pickPeerCodec({ name: "H264", clockRate: 90000, fmtp: "profile-level-id=640028" }, offered);
 * // the offered H264 with profile-level-id=640c1f;packetization-mode=1
 * ```
 */
export function pickPeerCodec(source: Codec, offered: readonly Codec[]): Codec | undefined {
  const same = offered.filter((c) => c.name === source.name && codecMatch(source, c));
  if (same.length === 0) return undefined;
  if (source.name !== "H264") return same[0];
  const mode1 = same.filter((c) => fmtpParam(c.fmtp, "packetization-mode") === "1");
  const pool = mode1.length ? mode1 : same;
  const profile = h264ProfileOf(source);
  if (profile === undefined) return pool[0];
  let best = pool[0];
  let bestScore = -1;
  for (const c of pool) {
    const p = profileIdc(fmtpParam(c.fmtp, "profile-level-id"));
    const score = p === profile ? 2 : family(p) === family(profile) ? 1 : 0;
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** profile_idc of a source H.264 codec: from fmtp profile-level-id, else from its SPS. */
export function h264ProfileOf(codec: Codec): number | undefined {
  const fromFmtp = profileIdc(fmtpParam(codec.fmtp, "profile-level-id"));
  if (fromFmtp !== undefined) return fromFmtp;
  try {
    const { sps } = h264ParameterSetsFromFmtp(codec.fmtp);
    if (sps && sps.length > 1) return sps[1];
  } catch { /* bad base64: unknown profile */ }
  return undefined;
}

function profileIdc(value: string | undefined): number | undefined {
  if (!value || !/^[0-9a-f]{6}$/i.test(value)) return undefined;
  return parseInt(value.slice(0, 2), 16);
}

// Baseline (66) and Constrained Baseline (66 + constraint_set1) are one family for a decoder;
// Main (77) and High (100) and up are another.
function family(profile: number | undefined): number {
  if (profile === undefined) return -1;
  return profile === 66 ? 0 : 1;
}

/**
 * Short forms of what a peer offered, for error messages: `video:H264/90000`, `audio:OPUS/48000/2`,
 * each codec name and rate once per kind.
 *
 * @example
 * ```ts
 * describeOffered(offeredMedias(parseSdp(offer))); // ["video:VP8/90000", "video:H264/90000", ...]
 * ```
 */
export function describeOffered(sections: readonly OfferedMedia[]): string[] {
  const out: string[] = [];
  for (const s of sections) {
    for (const c of s.offered) {
      if (/^(RTX|RED|ULPFEC|FLEXFEC-03|CN|TELEPHONE-EVENT)$/.test(c.name)) continue;
      const text = `${s.media.kind}:${codecToString(c)}`;
      if (!out.includes(text)) out.push(text);
    }
  }
  return out;
}
