/**
 * Segment file names carry their start time: `2026-12-03T17-19-15.123Z.mp4` (RFC 3339 in UTC with
 * `-` for `:`, which Windows does not allow in file names). Sorting the names sorts by time.
 *
 * @module
 */

const NAME = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})(?:\.(\d{3}))?Z\.mp4$/;

/**
 * The file name of a segment starting at `startMs` (Unix milliseconds).
 *
 * @example
 * ```ts
 * segmentFileName(Date.UTC(2026, 11, 3, 17, 19, 15, 123)); // "2026-12-03T17-19-15.123Z.mp4"
 * ```
 */
export function segmentFileName(startMs: number): string {
  return new Date(startMs).toISOString().replace(/:/g, "-") + ".mp4";
}

/**
 * The start time (Unix milliseconds) of a segment file name, or undefined for other files.
 *
 * @example
 * ```ts
 * parseSegmentFileName("2026-12-03T17-19-15.123Z.mp4"); // 1796318355123
 * parseSegmentFileName("notes.txt"); // undefined
 * ```
 */
export function parseSegmentFileName(name: string): number | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5] ?? "000"}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}
