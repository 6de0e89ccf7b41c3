/**
 * Fragmented MP4 muxer for MSE, HLS (fMP4) and `/api/stream.mp4`: an init segment (`ftyp`+`moov`)
 * and then `moof`+`mdat` fragments, one per frame by default (lowest latency, as go2rtc does).
 *
 * Timing: each sample's decode time comes from the frame timestamps (see `MediaTimeline`); `tfdt`
 * always carries the exact decode time, so a duration that had to be predicted (the last sample of a
 * fragment, whose successor is not known yet) never makes the timeline drift. Video durations are
 * predicted as the largest of the recent frame intervals (before any: the SPS frame rate, else
 * 250 ms): MSE implementations treat a decode-time step of more than twice the previous duration as
 * a discontinuity and drop frames until the next keyframe (MSE "coded frame processing" step 6), so
 * erring long is safe while erring short is not.
 *
 * Memory: nothing is buffered before the muxer is {@link Mp4Muxer.ready | ready}; frames that
 * arrive earlier are dropped. Pending samples are bounded by `fragmentFrames`.
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import { BoxWriter } from "./mp4_box.ts";
import { Mp4SampleBatch, writeFragment } from "./mp4_fragment.ts";
import { writeFragmentedMoov, writeFtyp } from "./mp4_moov.ts";
import {
  type Mp4Track,
  type Mp4TrackOptions,
  SAMPLE_FLAGS_NON_SYNC,
  SAMPLE_FLAGS_SYNC,
} from "./mp4_track.ts";
import { Mp4Input } from "./_mp4_input.ts";

/**
 * The init segment was asked for before every track's configuration was known.
 *
 * @example
 * ```ts
 * try { mux.init(); } catch (e) { if (e instanceof Mp4NotReadyError) console.log(e.waiting); }
 * ```
 */
export class Mp4NotReadyError extends Error {
  override name = "Mp4NotReadyError";
  /** Codec names of the tracks still waiting for parameter sets. */
  readonly waiting: string[];
  constructor(waiting: string[]) {
    super(
      `Cannot build the MP4 init segment yet: ${waiting.join(", ")} still waits for its parameter sets ` +
        `(SPS/PPS). Pass them in the codec fmtp (sprop-parameter-sets) or push a keyframe that carries them.`,
    );
    this.waiting = waiting;
  }
}

/** Options of an {@link Mp4Muxer}. */
export interface Mp4MuxerOptions {
  /** Samples per fragment, over all tracks. Default 1: one `moof`+`mdat` per frame. */
  fragmentFrames?: number;
  /** Start a new fragment at each video keyframe (HLS fMP4 segments, recordings). Default false. */
  fragmentAtKeyframe?: boolean;
  /**
   * `track` (default): every track starts at time 0 with its first frame, for sources whose tracks
   * have unrelated clocks (RTP). `shared`: the timestamps of all tracks (divided by their clock rate)
   * share one origin, as in demuxed MPEG-TS/FLV/MP4; the relative offsets are kept.
   */
  timeBase?: "track" | "shared";
}

interface TrackState {
  batch: Mp4SampleBatch;
  /** Recent frame intervals, for the predicted duration of the newest sample. */
  deltas: Uint32Array;
  deltaIndex: number;
}

/**
 * Fragmented MP4 muxer.
 *
 * @example
 * ```ts
 * const mux = new Mp4Muxer([{ codec: videoCodec }, { codec: audioCodec }]);
 * // for every frame of track i:
 * const fragment = mux.push(i, frame);
 * if (fragment) {
 *   if (mux.needsInit) send(mux.init()); // first time, and again after an SPS change
 *   send(fragment);
 * }
 * mux.mimeType(); // 'video/mp4; codecs="avc1.64001f,mp4a.40.2"'
 * ```
 */
export class Mp4Muxer {
  readonly tracks: readonly Mp4Track[];
  /** Fragments written. */
  fragments = 0;

  readonly #input: Mp4Input;
  readonly #states: TrackState[];
  readonly #batches: Mp4SampleBatch[];
  readonly #fragmentFrames: number;
  readonly #atKeyframe: boolean;
  #pending = 0;
  #sequence = 0;
  #initVersion = -1;

  constructor(tracks: readonly Mp4TrackOptions[], options: Mp4MuxerOptions = {}) {
    this.#input = new Mp4Input(tracks, options.timeBase);
    this.tracks = this.#input.tracks;
    this.#fragmentFrames = Math.max(1, options.fragmentFrames ?? 1);
    this.#atKeyframe = options.fragmentAtKeyframe ?? false;
    this.#states = this.tracks.map((track) => ({
      batch: new Mp4SampleBatch(track.id, Math.min(this.#fragmentFrames, 256), track.kind === "video"),
      deltas: new Uint32Array(8),
      deltaIndex: 0,
    }));
    this.#batches = this.#states.map((s) => s.batch);
  }

  /** Frames dropped: before the muxer was ready, before the first keyframe, or unconvertible. */
  get dropped(): number {
    return this.#input.dropped;
  }

  /** Whether every track's configuration is known, so {@link init} can be built. */
  get ready(): boolean {
    return this.#input.ready;
  }

  /** Whether the next fragment must be preceded by a (new) init segment. */
  get needsInit(): boolean {
    return this.ready && this.#input.configVersion() !== this.#initVersion;
  }

  /**
   * The RFC 6381 codecs list: `avc1.64001f,mp4a.40.2`. Video entries are known once the SPS is.
   *
   * @example
   * ```ts
   * mux.mimeCodecs(); // "hvc1.1.6.L93.B0,flac"
   * ```
   */
  mimeCodecs(): string {
    return this.tracks.map((t) => t.mimeCodec).filter((s) => s).join(",");
  }

  /**
   * The full MIME type for `MediaSource.addSourceBuffer`.
   *
   * @example
   * ```ts
   * mux.mimeType(); // 'video/mp4; codecs="avc1.64001f,mp4a.40.2"'
   * ```
   */
  mimeType(): string {
    return `${this.#input.hasVideo ? "video" : "audio"}/mp4; codecs="${this.mimeCodecs()}"`;
  }

  /**
   * The init segment: `ftyp` + `moov`.
   *
   * @throws {Mp4NotReadyError} when a video track's parameter sets are still unknown.
   * @example
   * ```ts
   * if (mux.ready) socket.send(mux.init());
   * ```
   */
  init(): Uint8Array {
    const waiting = this.tracks.filter((t) => !t.ready).map((t) => t.codec.name);
    if (waiting.length) throw new Mp4NotReadyError(waiting);
    const w = new BoxWriter(1024);
    writeFtyp(w, "iso5", ["iso5", "iso6", "mp41"]);
    writeFragmentedMoov(w, this.tracks);
    this.#initVersion = this.#input.configVersion();
    return w.toBytes();
  }

  /**
   * Adds a frame of track `index` (the order given to the constructor). Returns a fragment when one
   * is complete, else undefined (frame batched or dropped).
   *
   * @throws {RangeError} for an unknown track index.
   * @example
   * ```ts
   * const fragment = mux.push(0, frame);
   * ```
   */
  push(index: number, frame: Frame): Uint8Array | undefined {
    if (!this.#input.accept(index, frame)) return undefined;
    const s = this.#input.sample;
    const st = this.#states[index];
    const batch = st.batch;
    if (s.prevDts >= 0) {
      // The previous sample of this fragment now has an exact duration.
      if (batch.count > 0) batch.durations[batch.count - 1] = Math.max(1, s.dts - s.prevDts);
      if (s.dts > s.prevDts) st.deltas[st.deltaIndex++ & 7] = s.dts - s.prevDts;
    }
    let out: Uint8Array | undefined;
    if (this.#atKeyframe && s.track.kind === "video" && s.sync && this.#pending > 0) out = this.flush();
    let duration = s.known;
    if (duration === undefined) {
      duration = 0;
      for (let i = 0; i < 8; i++) if (st.deltas[i] > duration) duration = st.deltas[i];
      if (duration === 0) {
        const fps = s.track.params?.fps;
        duration = Math.round(fps ? s.track.timescale / fps : s.track.timescale / 4);
      }
    }
    if (batch.count === 0) batch.baseDecodeTime = s.dts;
    batch.add(s.data, duration, s.sync ? SAMPLE_FLAGS_SYNC : SAMPLE_FLAGS_NON_SYNC, s.cts);
    this.#pending++;
    if (this.#pending >= this.#fragmentFrames && !out) out = this.flush();
    return out;
  }

  /**
   * Writes the pending samples as one fragment (with `fragmentFrames` > 1 or at the end).
   *
   * @example
   * ```ts
   * const last = mux.flush();
   * ```
   */
  flush(): Uint8Array | undefined {
    if (this.#pending === 0) return undefined;
    const out = writeFragment(++this.#sequence, this.#batches);
    for (const b of this.#batches) b.clear();
    this.#pending = 0;
    this.fragments++;
    return out;
  }
}
