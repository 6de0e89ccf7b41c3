/**
 * The errors a WebRTC session can end with, by meaning, so signalling code (the `/api/ws` handler,
 * `POST /api/webrtc`) can answer each with the right status and message.
 *
 * @module
 */

/**
 * An offer that cannot be used: not SDP, no media, no ICE credentials or no DTLS fingerprint.
 *
 * @example
 * ```ts
 * try { await server.play(stream, "hello"); } catch (e) {
 *   if (e instanceof WebRtcOfferError) return c.text(e.message, 400);
 * }
 * ```
 */
export class WebRtcOfferError extends SyntaxError {
  override name = "WebRtcOfferError";
  /** What was wrong with the offer, without the prefix. */
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Cannot use the WebRTC offer: ${reason}`, options);
    this.reason = reason;
  }
}

/**
 * The peer and the stream's sources share no codec WebRTC can carry.
 *
 * @example
 * ```ts
 * if (e instanceof WebRtcCodecError) console.log(e.sourceCodecs, e.peerCodecs);
 * ```
 */
export class WebRtcCodecError extends Error {
  override name = "WebRtcCodecError";
  /** What the stream's sources have, e.g. `["video:H265/90000", "audio:MPEG4-GENERIC/48000"]`. */
  readonly sourceCodecs: string[];
  /** What the peer offered to receive, e.g. `["video:VP8/90000", "video:H264/90000", "audio:OPUS/48000/2"]`. */
  readonly peerCodecs: string[];
  constructor(stream: string, sourceCodecs: string[], peerCodecs: string[], options?: { cause?: unknown }) {
    super(
      `Stream "${stream}": no codec in common with the WebRTC peer. The source has ` +
        `${sourceCodecs.join(", ") || "(no medias)"}; the peer offered ${peerCodecs.join(", ") || "(no medias)"}. ` +
        `WebRTC carries H264, H265, OPUS, PCMA and PCMU: add an ffmpeg source to the stream that transcodes ` +
        `(it runs only while a viewer needs it), e.g. "ffmpeg:${stream}${transcodeRecipe(sourceCodecs, peerCodecs)}".`,
      options,
    );
    this.sourceCodecs = sourceCodecs;
    this.peerCodecs = peerCodecs;
  }
}

/**
 * The `ffmpeg:` options that make a source's media playable by the peer: `#audio=opus` for an AAC
 * (or other) audio source the peer cannot take, `#video=h264` for a video codec it cannot take;
 * both when nothing says which.
 */
function transcodeRecipe(sourceCodecs: readonly string[], peerCodecs: readonly string[]): string {
  const nameOf = (c: string) => c.split("/")[0]; // "audio:OPUS/48000/2" -> "audio:OPUS"
  const offered = new Set(peerCodecs.map(nameOf));
  const needs = (kind: string) => {
    const ours = sourceCodecs.filter((c) => c.startsWith(`${kind}:`));
    return ours.length > 0 && !ours.some((c) => offered.has(nameOf(c)));
  };
  const recipe = (needs("video") ? "#video=h264" : "") + (needs("audio") ? "#audio=opus" : "");
  return recipe || "#video=h264#audio=opus";
}

/**
 * The configured limit of concurrent WebRTC peers is reached.
 *
 * @example
 * ```ts
 * if (e instanceof WebRtcPeerLimitError) return c.text(e.message, 503);
 * ```
 */
export class WebRtcPeerLimitError extends Error {
  override name = "WebRtcPeerLimitError";
  readonly limit: number;
  constructor(limit: number) {
    super(
      `Too many WebRTC peers: the limit of ${limit} concurrent sessions is reached; ` +
        `try again when a viewer leaves, or raise the limit (webrtc.max_peers).`,
    );
    this.limit = limit;
  }
}
