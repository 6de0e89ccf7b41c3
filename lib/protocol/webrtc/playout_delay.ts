/**
 * How long a viewer's browser holds video before showing it (`webrtc.jitter_buffer`, the go2rtc
 * seed article's key): the playout-delay RTP header extension
 * (`http://www.webrtc.org/experiments/rtp-hdrext/playout-delay`), which Chrome offers in every
 * video section and honours. Its value is a minimum and a maximum delay in 10 ms steps; both 0 tell
 * the browser to show each frame as soon as it is decoded (no smoothing buffer), both D to hold
 * every frame D (a steadier picture over a jittery network).
 *
 * strom answers the extension only in video sections whose offer has it, under the offer's id, and
 * writes it into every video RTP packet (RFC 8285 one-byte form: 8 bytes per packet).
 *
 * @module
 */
import type { SessionDescription } from "../../core/media.ts";

/** The extension's URI, as browsers offer it. */
export const PLAYOUT_DELAY_URI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";

/** The largest delay the extension can carry: 4095 steps of 10 ms. */
export const PLAYOUT_DELAY_MAX_MS = 40_950;

/** A playout delay in milliseconds (10 ms steps on the wire). */
export interface PlayoutDelay {
  minMs: number;
  maxMs: number;
}

/**
 * The playout delay for `webrtc.jitter_buffer` (seconds): min = max = the value, rounded to 10 ms.
 *
 * @throws {RangeError} negative, not a number, or above {@link PLAYOUT_DELAY_MAX_MS}.
 * @example
 * ```ts
 * playoutDelayOf(0); // { minMs: 0, maxMs: 0 }: show frames at once
 * playoutDelayOf(0.2); // { minMs: 200, maxMs: 200 }
 * ```
 */
export function playoutDelayOf(seconds: number): PlayoutDelay {
  const ms = Math.round(seconds * 100) * 10;
  if (!Number.isFinite(ms) || ms < 0 || ms > PLAYOUT_DELAY_MAX_MS) {
    throw new RangeError(
      `a playout delay of ${seconds} s cannot be sent: the playout-delay extension carries 0 to ` +
        `${PLAYOUT_DELAY_MAX_MS / 1000} s (a bare number is seconds; write milliseconds as "200ms")`,
    );
  }
  return { minMs: ms, maxMs: ms };
}

/**
 * The extension id each offered section gives playout-delay, by `a=mid`. Only one-byte ids (1-14):
 * a section offering it under a two-byte id is left out (no browser does).
 *
 * @example
 * ```ts
 * playoutDelayIds(parseSdp(offer)); // Map { "0" => 5 }
 * ```
 */
export function playoutDelayIds(sdp: SessionDescription): Map<string, number> {
  const ids = new Map<string, number>();
  for (const media of sdp.medias) {
    if (media.kind !== "video") continue;
    const mid = media.attributes.find((a) => a.startsWith("mid:"))?.slice(4).trim();
    if (mid === undefined) continue;
    for (const attribute of media.attributes) {
      const m = /^extmap:(\d+)(?:\/\w+)?\s+(\S+)/.exec(attribute);
      if (!m || m[2] !== PLAYOUT_DELAY_URI) continue;
      const id = Number(m[1]);
      if (id >= 1 && id <= 14) ids.set(mid, id);
    }
  }
  return ids;
}

/**
 * `answer` with `a=extmap:<id> <playout-delay URI>` added to the sections named in `ids` that send
 * (sendonly or sendrecv), right after their `a=mid` line; other sections, and a section that has
 * the line already, are left as they are.
 *
 * @example
 * ```ts
 * withPlayoutDelay(answer, new Map([["0", 5]]));
 * // ... a=mid:0 / a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay ...
 * ```
 */
export function withPlayoutDelay(answer: string, ids: ReadonlyMap<string, number>): string {
  if (ids.size === 0) return answer;
  const eol = answer.includes("\r\n") ? "\r\n" : "\n";
  const lines = answer.split(/\r?\n/);
  // Section boundaries: each m= line starts one, the last runs to the end.
  const starts: number[] = [];
  lines.forEach((line, i) => line.startsWith("m=") && starts.push(i));
  const inserts: { at: number; line: string }[] = [];
  for (let s = 0; s < starts.length; s++) {
    const section = lines.slice(starts[s], s + 1 < starts.length ? starts[s + 1] : lines.length);
    const midAt = section.findIndex((l) => l.startsWith("a=mid:"));
    if (midAt < 0) continue;
    const id = ids.get(section[midAt].slice(6).trim());
    if (id === undefined) continue;
    if (!section.some((l) => l === "a=sendonly" || l === "a=sendrecv")) continue;
    if (section.some((l) => l.startsWith("a=extmap:") && l.includes(PLAYOUT_DELAY_URI))) continue;
    inserts.push({ at: starts[s] + midAt + 1, line: `a=extmap:${id} ${PLAYOUT_DELAY_URI}` });
  }
  for (let i = inserts.length - 1; i >= 0; i--) lines.splice(inserts[i].at, 0, inserts[i].line);
  return lines.join(eol);
}

/**
 * The 8 bytes that follow a 12-byte RTP header to carry the delay (RFC 8285 one-byte form: the
 * 0xBEDE profile, a length of one word, then the element: id, length 3, 12-bit minimum and 12-bit
 * maximum in 10 ms units). The header's X bit must be set.
 *
 * @example
 * ```ts
 * playoutDelayExtension(5, { minMs: 0, maxMs: 0 }); // be de 00 01 52 00 00 00
 * ```
 */
export function playoutDelayExtension(id: number, delay: PlayoutDelay): Uint8Array {
  const min = Math.min(4095, Math.max(0, Math.round(delay.minMs / 10)));
  const max = Math.min(4095, Math.max(min, Math.round(delay.maxMs / 10)));
  return Uint8Array.of(
    0xbe,
    0xde,
    0x00,
    0x01,
    ((id & 0x0f) << 4) | 2,
    min >>> 4,
    ((min & 0x0f) << 4) | (max >>> 8),
    max & 0xff,
  );
}
