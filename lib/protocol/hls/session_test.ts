/**
 * Regression for Chromium's native HLS failing on strom's live playlists (issue 9): the first media
 * playlist listed one segment, Chromium's live start needs three (see LIVE_PLAYLIST_MIN_SEGMENTS).
 * Frames are pushed by hand with their timestamps, so no test waits for a real clock.
 */
import { describe, expect, it } from "bun:test";
import type { Codec } from "../../core/codec.ts";
import { Receiver } from "../../core/fanout.ts";
import type { Media } from "../../core/media.ts";
import { HlsFeed } from "./feed.ts";
import { LIVE_PLAYLIST_MIN_SEGMENTS } from "./segmenter.ts";
import { HlsSession } from "./session.ts";

const H264: Codec = { name: "H264", clockRate: 90000, payloadType: 96 };
const VIDEO: Media = { id: "0", kind: "video", direction: "sendonly", codecs: [H264] };
// One length-prefixed IDR slice NAL: enough for the TS muxer, which does not decode.
const IDR = new Uint8Array([0, 0, 0, 3, 0x65, 0x88, 0x84]);

function liveSession() {
  const feed = new HlsFeed({ format: "mpegts", medias: [VIDEO], segmenter: { targetDuration: 1 } });
  const receiver = new Receiver(VIDEO, H264, { gop: false });
  feed.addTrack(VIDEO, H264, receiver);
  feed.start();
  const session = new HlsSession({ id: "t", feed });
  /** A keyframe every second: each one after the first ends a segment. */
  const second = (n: number) => receiver.push({ timestamp: n * 90000, keyframe: true, data: IDR });
  return { session, feed, second };
}

describe("HlsSession live playlist", () => {
  it("is first served once it lists three segments, never one or two", async () => {
    expect(LIVE_PLAYLIST_MIN_SEGMENTS).toBe(3);
    const { session, feed, second } = liveSession();
    try {
      let text: string | undefined;
      const pending = session.playlist(10_000).then((t) => (text = t));
      second(0);
      second(1); // segment 0 done
      second(2); // segment 1 done
      await new Promise((r) => setTimeout(r, 20));
      expect(session.segmenter.segments.length).toBe(2);
      expect(text).toBeUndefined(); // still waiting: two segments are not enough
      second(3); // segment 2 done
      await pending;
      expect(text).toContain("#EXT-X-MEDIA-SEQUENCE:0\n");
      expect([...text!.matchAll(/^segment\.ts\?id=t&n=(\d+)$/gm)].map((m) => Number(m[1]))).toEqual([0, 1, 2]);
      // Later requests answer at once with what there is.
      second(4);
      const later = await session.playlist(0);
      expect(later!.match(/#EXTINF:/g)!.length).toBe(4);
      // A second viewer of the same feed sees the same segments at once, under its own id.
      const other = await new HlsSession({ id: "u", feed }).playlist(0);
      expect(other).toBe(later!.replaceAll("id=t&", "id=u&"));
      expect(session.bytesOut).toBe(0);
      const seg = await session.segment(1, 0);
      expect(seg).toBe(feed.segmenter.get(1)!.data); // the very bytes, not a copy
      expect(session.bytesOut).toBe(seg!.byteLength);
    } finally {
      feed.stop();
    }
  });

  it("keeps listing at least three segments however few it is told to keep", () => {
    const feed = new HlsFeed({ format: "mpegts", medias: [VIDEO], segmenter: { maxSegments: 1 } });
    expect(feed.segmenter.maxSegments).toBe(LIVE_PLAYLIST_MIN_SEGMENTS);
  });

  it("past the wait it serves what it has; nothing at all stays an error", async () => {
    const { session, feed, second } = liveSession();
    try {
      expect(await session.playlist(10)).toBeUndefined();
      second(0);
      second(1);
      const text = await session.playlist(10);
      expect(text).toContain("segment.ts?id=t&n=0\n");
      expect(text!.match(/#EXTINF:/g)!.length).toBe(1);
    } finally {
      feed.stop();
    }
    expect(await session.playlist(10)).toBeUndefined();
  });
});
