/**
 * The input side shared by the fragmented and the progressive MP4 writers: tracks, the start rule
 * (first video keyframe once every track is configured), timelines, and conversion of a frame into
 * sample facts (decode time, composition offset, bytes).
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import { MAX_SHARED_SKEW_SECONDS, MediaTimeline } from "./media_timeline.ts";
import { Mp4Track, type Mp4TrackOptions } from "./mp4_track.ts";

/** What {@link Mp4Input.accept} found out about a frame. Reused between calls. */
export interface Mp4InputSample {
  index: number;
  track: Mp4Track;
  data: Uint8Array;
  /** Decode time in track ticks on the output timeline. */
  dts: number;
  /** Composition offset in track ticks. */
  cts: number;
  sync: boolean;
  /** Codec-defined duration in track ticks, when known (audio). */
  known: number | undefined;
  /** Decode time of this track's previous sample, or -1 for its first. */
  prevDts: number;
}

interface TrackState {
  track: Mp4Track;
  timeline: MediaTimeline;
  started: boolean;
  scale: number;
  offset: number;
  prevDts: number;
}

/** Shared input handling of the MP4 writers. */
export class Mp4Input {
  readonly tracks: readonly Mp4Track[];
  readonly hasVideo: boolean;
  dropped = 0;
  /**
   * With the `shared` time base: tracks whose first timestamp was too far from the others' to
   * share their clock (see {@link MAX_SHARED_SKEW_SECONDS}); they were placed by arrival instead.
   */
  unsharedTracks = 0;
  readonly sample: Mp4InputSample;
  readonly #states: TrackState[];
  readonly #shared: boolean;
  #started = false;
  #origin = 0;

  constructor(tracks: readonly Mp4TrackOptions[], timeBase: "track" | "shared" | undefined) {
    if (!tracks.length) throw new RangeError("Cannot create an MP4 writer without tracks");
    this.#shared = timeBase === "shared";
    this.tracks = tracks.map((t, i) => new Mp4Track(i + 1, t));
    this.hasVideo = this.tracks.some((t) => t.kind === "video");
    this.#states = this.tracks.map((track) => {
      const clock = track.codec.clockRate || track.timescale;
      return {
        track,
        timeline: new MediaTimeline({ clockRate: clock, defaultDuration: Math.round(clock / 25) }),
        started: false,
        scale: track.timescale / clock,
        offset: 0,
        prevDts: -1,
      };
    });
    this.sample = {
      index: 0,
      track: this.tracks[0],
      data: new Uint8Array(0),
      dts: 0,
      cts: 0,
      sync: true,
      known: undefined,
      prevDts: -1,
    };
  }

  get ready(): boolean {
    for (const t of this.tracks) if (!t.ready) return false;
    return true;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Seconds of the output timeline reached so far: the latest decode time over the tracks. */
  #reachedSeconds(): number {
    let max = 0;
    for (const s of this.#states) {
      if (s.prevDts > 0) max = Math.max(max, s.prevDts / s.track.timescale);
    }
    return max;
  }

  /** Sum of the tracks' config versions (changes when a sample entry changes). */
  configVersion(): number {
    let v = 0;
    for (const t of this.tracks) v += t.configVersion;
    return v;
  }

  /**
   * Learns from the frame and decides whether it becomes a sample; when it does, fills
   * {@link sample} and returns true.
   *
   * @throws {RangeError} for an unknown track index.
   */
  accept(index: number, frame: Frame): boolean {
    const st = this.#states[index];
    if (!st) {
      throw new RangeError(`Cannot push to MP4 track ${index}: the writer has ${this.#states.length} tracks`);
    }
    const track = st.track;
    track.observe(frame);
    const isVideo = track.kind === "video";
    if (!this.#started) {
      if (!this.ready || (this.hasVideo && !(isVideo && frame.keyframe))) {
        this.dropped++;
        return false;
      }
      this.#started = true;
      this.#origin = frame.timestamp / st.timeline.clockRate;
    }
    if (!st.started) {
      if (isVideo && !frame.keyframe) {
        this.dropped++;
        return false;
      }
      if (this.#shared) {
        const offset = Math.round((frame.timestamp / st.timeline.clockRate - this.#origin) * track.timescale);
        // Where the track would start going by arrival: the time the writer has reached. Shared
        // clocks agree with it within buffering; clocks that only look shared (RTP tracks, each
        // with its own random base) are off by hours, and would push the track's samples past
        // any limit or drop them for good. Those start at the arrival time instead.
        const arrived = Math.round(this.#reachedSeconds() * track.timescale);
        if (Math.abs(offset - arrived) > MAX_SHARED_SKEW_SECONDS * track.timescale) {
          this.unsharedTracks++;
          st.offset = arrived;
        } else if (offset < 0) {
          this.dropped++;
          return false;
        } else {
          st.offset = offset;
        }
      }
      st.started = true;
    }
    const known = track.knownDuration(frame);
    const data = track.sampleData(frame);
    if (!data) {
      this.dropped++;
      return false;
    }
    const t = st.timeline.next(
      frame.timestamp,
      known === undefined ? undefined : Math.round(known / st.scale),
    );
    const dts = st.offset + (st.scale === 1 ? t : Math.round(t * st.scale));
    const s = this.sample;
    s.index = index;
    s.track = track;
    s.data = data;
    s.dts = dts;
    s.cts = frame.cts ? (st.scale === 1 ? frame.cts : Math.round(frame.cts * st.scale)) : 0;
    s.sync = !isVideo || frame.keyframe;
    s.known = known;
    s.prevDts = st.prevDts;
    st.prevDts = dts;
    return true;
  }
}
