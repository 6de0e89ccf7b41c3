/**
 * HLS pull: an `http(s)://....m3u8` source read as a live stream. MPEG-TS and fMP4 (`#EXT-X-MAP`)
 * segments, master playlists (the variant with the highest bandwidth is played).
 *
 * Live playlists start three segments from the end (RFC 8216 section 6.3.3) and are reloaded every
 * half target duration while no new segment is listed; a playlist that stops changing for three
 * target durations (at least 10 s) fails the run, and the stream reconnects. A playlist with
 * `#EXT-X-ENDLIST` plays once and ends.
 *
 * A segment arrives whole, seconds of media at once, so its frames are paced out on their
 * timestamps against the wall clock: viewers get a steady stream instead of bursts. The next segment
 * is fetched while the current one plays.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import { abortableSleep } from "../../core/abortable_sleep.ts";
import { redactUrl, SourceError } from "../../core/errors.ts";
import { Receiver } from "../../core/fanout.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type Media, mediaToString } from "../../core/media.ts";
import { Fmp4Demuxer } from "../../format/mp4/fmp4_demuxer.ts";
import { TsDemuxer } from "../../format/mpegts/ts_demuxer.ts";
import { errorText, type HttpSourceClient, requestScope } from "./client.ts";
import { readBody } from "./jpeg_poll.ts";
import { type HlsMediaPlaylist, type HlsSegment, parseM3u8 } from "./m3u8_parser.ts";
import { describeBody } from "./stream_format.ts";

/** Options of {@link dialHls}. */
export interface HlsDialOptions {
  log?: Logger;
  /** Aborts the dial. */
  signal?: AbortSignal;
  /** The connection's lifetime: aborted by `stop()`, cancels requests in flight. */
  connection?: AbortController;
  /** The playlist's URL when `res.url` is empty. */
  url?: string;
}

const MAX_PLAYLIST_BYTES = 4 * 1024 * 1024;
const MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Segments fetched at most to find every track's codec. */
const PROBE_SEGMENTS = 3;
/** Live playlists start this many segments from the end. */
const LIVE_START_SEGMENTS = 3;
/** A frame due further away than this (a timestamp jump) restarts the pacing clock. */
const MAX_DRIFT_MS = 10_000;

interface KeyedFrame {
  key: number;
  frame: Frame;
  /** Decode time in seconds. */
  sec: number;
  /** Restart the pacing clock at this frame (discontinuity, skip ahead). */
  rebase?: boolean;
}

/** One HLS rendition's segments demuxed into frames keyed by PID (TS) or track id (fMP4). */
interface SegmentDemux {
  readonly container: "mpegts" | "fmp4";
  push(segment: Uint8Array): KeyedFrame[];
  ready(): boolean;
  medias(): { media: Media; key: number }[];
  describe(): string;
}

function sortFrames(frames: KeyedFrame[]): KeyedFrame[] {
  return frames.sort((a, b) => a.sec - b.sec);
}

class TsSegments implements SegmentDemux {
  readonly container = "mpegts" as const;
  readonly #ts = new TsDemuxer();
  push(segment: Uint8Array): KeyedFrame[] {
    const out: KeyedFrame[] = [];
    // A segment ends on a frame boundary: flush the PES still open (video PES have no length).
    for (const { track, frame } of [...this.#ts.push(segment), ...this.#ts.flush()]) {
      out.push({ key: track.pid, frame, sec: frame.timestamp / track.codec.clockRate });
    }
    return sortFrames(out);
  }
  ready(): boolean {
    return this.#ts.ready;
  }
  medias(): { media: Media; key: number }[] {
    return this.#ts.tracks.filter((t) => t.ready).map((t) => ({
      key: t.pid,
      media: { kind: t.kind, direction: "recvonly", id: `pid=${t.pid}`, codecs: [{ ...t.codec }] },
    }));
  }
  describe(): string {
    const t = this.#ts.tracks;
    return t.length
      ? t.map((x) => `${x.kind} ${x.codec.name}${x.ready ? "" : " (incomplete)"}`).join(", ")
      : `no PMT (${this.#ts.packets} TS packets, ${this.#ts.errors} errors)`;
  }
}

class Fmp4Segments implements SegmentDemux {
  readonly container = "fmp4" as const;
  readonly #mp4: Fmp4Demuxer;
  constructor(init: Uint8Array) {
    this.#mp4 = new Fmp4Demuxer(init);
  }
  push(segment: Uint8Array): KeyedFrame[] {
    const out: KeyedFrame[] = [];
    for (const { track, frame } of this.#mp4.push(segment)) {
      out.push({ key: track.id, frame, sec: frame.timestamp / track.codec.clockRate });
    }
    return sortFrames(out);
  }
  ready(): boolean {
    return this.#mp4.tracks.length > 0;
  }
  medias(): { media: Media; key: number }[] {
    return this.#mp4.tracks.map((t) => ({
      key: t.id,
      media: { kind: t.kind, direction: "recvonly", id: `track=${t.id}`, codecs: [{ ...t.codec }] },
    }));
  }
  describe(): string {
    const names = this.#mp4.tracks.map((t) => `${t.kind} ${t.codec.name}`);
    if (this.#mp4.unsupported.length) names.push(`unsupported: ${this.#mp4.unsupported.join(", ")}`);
    return names.join(", ") || "no tracks";
  }
}

/** Fetches playlists and segments of one source, with its client and lifetime. Internal to {@link dialHls}. */
export class HlsFetcher {
  readonly client: HttpSourceClient;
  readonly signal: AbortSignal;
  readonly display: string;

  constructor(client: HttpSourceClient, signal: AbortSignal) {
    this.client = client;
    this.signal = signal;
    this.display = client.source.display;
  }

  async bytes(
    url: string,
    max: number,
    timeoutMs: number,
    what: string,
  ): Promise<{ bytes: Uint8Array; type: string }> {
    const scope = requestScope(this.signal, timeoutMs);
    try {
      const res = await this.client.get(url, scope.signal);
      try {
        return { bytes: await readBody(res.body!, max), type: res.headers.get("content-type") ?? "" };
      } catch (error) {
        throw new SourceError(
          this.display,
          `reading ${what} ${new URL(url).pathname} failed: ${errorText(error)}`,
          {
            cause: error,
          },
        );
      }
    } finally {
      scope.done();
    }
  }

  async playlist(url: string, timeoutMs: number): Promise<HlsMediaPlaylist | ReturnType<typeof parseM3u8>> {
    const { bytes, type } = await this.bytes(url, MAX_PLAYLIST_BYTES, timeoutMs, "playlist");
    return this.parse(bytes, type, url);
  }

  parse(bytes: Uint8Array, type: string, url: string): ReturnType<typeof parseM3u8> {
    try {
      return parseM3u8(new TextDecoder().decode(bytes), url);
    } catch (error) {
      throw new SourceError(
        this.display,
        `${(error as Error).message} (${describeBody(type, bytes)})`,
        { cause: error },
      );
    }
  }
}

/**
 * Reads an HLS playlist response (already fetched by the HTTP source) and returns a producer once
 * the first segments show every track's codec.
 *
 * @throws {SourceError} for an unusable playlist (encrypted, byte ranges, not a playlist), segments
 *   that cannot be fetched or carry no supported track.
 * @example
 * ```ts
 * const client = new HttpSourceClient(parseHttpSourceUrl("http://cam/live/index.m3u8"));
 * const res = await client.get(undefined, signal);
 * const producer = await dialHls(client, res);
 * ```
 */
export async function dialHls(
  client: HttpSourceClient,
  res: Response,
  options: HlsDialOptions = {},
): Promise<HlsPullProducer> {
  const connection = options.connection ?? new AbortController();
  const fetcher = new HlsFetcher(client, connection.signal);
  const log = (options.log ?? silentLogger).child({ format: "hls" });
  let url = res.url || options.url || client.source.url;
  let bytes: Uint8Array;
  try {
    bytes = await readBody(res.body!, MAX_PLAYLIST_BYTES);
  } catch (error) {
    throw new SourceError(client.source.display, `reading the playlist failed: ${errorText(error)}`, {
      cause: error,
    });
  }
  let playlist = fetcher.parse(bytes, res.headers.get("content-type") ?? "", url);
  if (playlist.kind === "master") {
    const variant = playlist.variants.reduce((best, v) => (v.bandwidth > best.bandwidth ? v : best));
    log.debug("hls variant", { uri: redactUrl(variant.uri), bandwidth: variant.bandwidth });
    url = variant.uri;
    playlist = await fetcher.playlist(url, 10_000);
    if (playlist.kind !== "media") {
      throw new SourceError(
        client.source.display,
        `variant playlist ${new URL(url).pathname} is itself a master playlist`,
      );
    }
  }
  if (!playlist.segments.length && playlist.ended) {
    throw new SourceError(client.source.display, "the HLS playlist has no segments and is ended");
  }
  const start = playlist.ended ? 0 : Math.max(0, playlist.segments.length - LIVE_START_SEGMENTS);
  const producer = new HlsPullProducer(fetcher, url, playlist, start, log, connection);
  await producer.probe(options.signal);
  return producer;
}

/**
 * A running HLS pull. Created by {@link dialHls} (through the `http` scheme).
 */
export class HlsPullProducer implements Producer {
  readonly #id = nextConnectionId();
  readonly #fetcher: HlsFetcher;
  readonly #url: string;
  readonly #log: Logger;
  readonly #connection: AbortController;
  readonly #startedAt = new Date().toISOString();
  #playlist: HlsMediaPlaylist;
  #nextSeq: number;
  #demux: SegmentDemux | undefined;
  #map: string | undefined;
  #medias: Media[] = [];
  readonly #byMedia = new Map<Media, Receiver>();
  readonly #byKey = new Map<number, Receiver>();
  #pending: KeyedFrame[] = [];
  #running: Promise<void> | undefined;
  #bytes = 0;
  #segments = 0;
  #lastChange = performance.now();
  #wallBase = -1;
  #mediaBase = 0;
  #skipped = false;

  /** Use {@link dialHls}. */
  constructor(
    fetcher: HlsFetcher,
    url: string,
    playlist: HlsMediaPlaylist,
    startIndex: number,
    log: Logger,
    connection: AbortController,
  ) {
    this.#fetcher = fetcher;
    this.#url = url;
    this.#playlist = playlist;
    this.#nextSeq = playlist.segments[startIndex]?.sequence ??
      playlist.mediaSequence + playlist.segments.length;
    this.#log = log;
    this.#connection = connection;
  }

  get #segmentTimeoutMs(): number {
    return Math.max(10_000, this.#playlist.targetDuration * 3000);
  }

  /** Fetches segments until every track's codec is known. Called once by {@link dialHls}. */
  async probe(signal?: AbortSignal): Promise<void> {
    const abort = () => this.#connection.abort(signal?.reason);
    signal?.addEventListener("abort", abort, { once: true });
    try {
      for (let i = 0; i < PROBE_SEGMENTS; i++) {
        const frames = await this.#nextSegment();
        if (frames === "end") break;
        this.#pending.push(...frames);
        if (this.#demux?.ready()) break;
      }
    } catch (error) {
      this.#connection.abort();
      if (signal?.aborted) {
        throw new SourceError(this.#fetcher.display, "dial aborted", { cause: signal.reason });
      }
      throw error;
    } finally {
      signal?.removeEventListener("abort", abort);
    }
    if (signal?.aborted) {
      this.#connection.abort();
      throw new SourceError(this.#fetcher.display, "dial aborted", { cause: signal.reason });
    }
    const demux = this.#demux;
    const medias = demux?.medias() ?? [];
    if (!demux || !medias.length) {
      this.#connection.abort();
      throw new SourceError(
        this.#fetcher.display,
        `HLS segments carry no supported track (${demux?.describe() ?? "no segment read"})`,
      );
    }
    this.#medias = medias.map((m) => m.media);
    for (const { media, key } of medias) {
      const receiver = new Receiver(media, media.codecs[0]);
      this.#byMedia.set(media, receiver);
      this.#byKey.set(key, receiver);
    }
  }

  medias(): Media[] {
    return this.#medias;
  }

  track(media: Media, codec: Codec): Receiver {
    const own = this.#medias.find((m) => m === media || (media.id !== undefined && m.id === media.id)) ??
      this.#medias.find((m) => m.kind === media.kind && m.codecs.some((c) => c.name === codec.name));
    if (!own) throw new RangeError(`The HLS source has no ${media.kind} ${codec.name} track`);
    return this.#byMedia.get(own)!;
  }

  /** Plays until stopped or an ended playlist is done (resolves), or fails (rejects). */
  start(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Stops and cancels requests in flight. Idempotent. */
  stop(): Promise<void> {
    this.#connection.abort();
    return Promise.resolve();
  }

  info(): ConnectionInfo {
    return {
      id: this.#id,
      format: `http/hls+${this.#demux?.container ?? "mpegts"}`,
      protocol: new URL(this.#url).protocol === "https:" ? "https" : "http",
      url: redactUrl(this.#fetcher.display),
      medias: this.#medias.map(mediaToString),
      bytesIn: this.#bytes,
      startedAt: this.#startedAt,
    };
  }

  get #stopped(): boolean {
    return this.#connection.signal.aborted;
  }

  async #run(): Promise<void> {
    let frames = this.#pending;
    this.#pending = [];
    for (;;) {
      if (this.#stopped) return;
      // Fetch the next segment while this one plays.
      const next = this.#nextSegment();
      next.catch(() => {});
      await this.#pace(frames);
      let got: KeyedFrame[] | "end";
      try {
        got = await next;
      } catch (error) {
        if (this.#stopped) return;
        throw error;
      }
      if (got === "end") {
        this.#log.debug("hls playlist ended", { segments: this.#segments });
        return;
      }
      frames = got;
    }
  }

  async #pace(frames: KeyedFrame[]): Promise<void> {
    const signal = this.#connection.signal;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      let now = performance.now();
      let due = this.#wallBase + (f.sec - this.#mediaBase) * 1000;
      if (this.#wallBase < 0 || f.rebase || Math.abs(due - now) > MAX_DRIFT_MS) {
        this.#wallBase = now;
        this.#mediaBase = f.sec;
        due = now;
      }
      if (due > now + 1) {
        await abortableSleep(due - now, signal);
        if (signal.aborted) return;
        now = performance.now();
      }
      this.#byKey.get(f.key)?.push(f.frame);
    }
  }

  /** The next segment's frames, reloading the playlist until it is listed; `"end"` after an ENDLIST. */
  async #nextSegment(): Promise<KeyedFrame[] | "end"> {
    for (;;) {
      if (this.#stopped) return "end";
      const segments = this.#playlist.segments;
      const first = segments[0]?.sequence ?? this.#playlist.mediaSequence;
      if (this.#nextSeq < first) {
        // Fell out of the live window (slow network): skip ahead.
        const skipTo = segments[Math.max(0, segments.length - LIVE_START_SEGMENTS)].sequence;
        this.#log.warn("hls fell behind the live window; skipping ahead", {
          from: this.#nextSeq,
          to: skipTo,
        });
        this.#nextSeq = skipTo;
        this.#skipped = true;
      }
      const segment = segments.find((s) => s.sequence === this.#nextSeq);
      if (segment) {
        this.#nextSeq++;
        const frames = await this.#readSegment(segment);
        if ((segment.discontinuity || this.#skipped) && frames.length) frames[0].rebase = true;
        this.#skipped = false;
        return frames;
      }
      if (this.#playlist.ended) return "end";
      await this.#reload();
    }
  }

  async #reload(): Promise<void> {
    const target = this.#playlist.targetDuration;
    await abortableSleep(Math.max(250, (target * 1000) / 2), this.#connection.signal);
    if (this.#stopped) return;
    const next = await this.#fetcher.playlist(this.#url, this.#segmentTimeoutMs);
    if (next.kind !== "media") {
      throw new SourceError(this.#fetcher.display, "the media playlist turned into a master playlist");
    }
    const last = (p: HlsMediaPlaylist) => p.mediaSequence + p.segments.length;
    if (last(next) !== last(this.#playlist) || next.ended !== this.#playlist.ended) {
      this.#lastChange = performance.now();
    }
    this.#playlist = next;
    const stale = Math.max(10_000, target * 3000);
    if (performance.now() - this.#lastChange > stale && !next.ended) {
      throw new SourceError(
        this.#fetcher.display,
        `the HLS playlist has not changed for ${Math.round(stale / 1000)} s: the stream stalled`,
      );
    }
  }

  async #readSegment(segment: HlsSegment): Promise<KeyedFrame[]> {
    const timeout = this.#segmentTimeoutMs;
    if (segment.map !== this.#map || !this.#demux) {
      if (segment.map) {
        const { bytes } = await this.#fetcher.bytes(segment.map, MAX_SEGMENT_BYTES, timeout, "init segment");
        this.#bytes += bytes.length;
        try {
          this.#demux = new Fmp4Segments(bytes);
        } catch (error) {
          throw new SourceError(
            this.#fetcher.display,
            `init segment ${new URL(segment.map).pathname}: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
      } else if (!this.#demux || this.#demux.container !== "mpegts") {
        this.#demux = new TsSegments();
      }
      this.#map = segment.map;
    }
    const { bytes, type } = await this.#fetcher.bytes(segment.uri, MAX_SEGMENT_BYTES, timeout, "segment");
    this.#bytes += bytes.length;
    this.#segments++;
    if (this.#demux.container === "mpegts" && bytes[0] !== 0x47) {
      throw new SourceError(
        this.#fetcher.display,
        `segment ${new URL(segment.uri).pathname} is not MPEG-TS (${describeBody(type, bytes)})`,
      );
    }
    return this.#demux.push(bytes);
  }
}
