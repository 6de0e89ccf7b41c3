/**
 * Recording: a consumer that writes a stream into fragmented MP4 segment files (crash-safe per
 * fragment), retention by age and size, the index of a segment, listings, and MP4 cuts across
 * segments by wall-clock time.
 *
 * @example
 * ```ts
 * import { SegmentCatalog, StreamRecorder } from "./lib/record/mod.ts";
 * const rec = new StreamRecorder({ dir: "recordings/cam", segmentSeconds: 60 });
 * await stream.addConsumer(rec, { retry: {} });
 * rec.start(stream.name);
 * const list = await new SegmentCatalog().summaries("recordings/cam");
 * ```
 *
 * @module
 */
export { type RecordedSegment, StreamRecorder, type StreamRecorderOptions } from "./stream_recorder.ts";
export { applyRetention, type RetentionOptions } from "./retention.ts";
export {
  listSegmentFiles,
  SegmentCatalog,
  type SegmentFile,
  segmentSeconds,
  type SegmentSummary,
} from "./catalog.ts";
export { type CutSource, CutRangeError, planCut, type RecordingCut } from "./cut.ts";
export {
  NON_SYNC_FLAG,
  readSegmentIndex,
  SegmentFormatError,
  type SegmentIndex,
  type SegmentRun,
  type SegmentTrack,
} from "./segment_index.ts";
export { parseSegmentFileName, segmentFileName } from "./segment_name.ts";
export { matchesPattern, type RecordRulesConfig, RecordRules, type RecordSettings } from "./recording_rules.ts";
