/**
 * Retention of a stream's recordings: deletes segments older than `maxAgeSeconds`, then the oldest
 * while the folder holds more than `maxBytes`, never a file that is being written.
 *
 * @module
 */
import { removeFile } from "../runtime/fs.ts";
import { listSegmentFiles, type SegmentFile } from "./catalog.ts";

/** Limits of {@link applyRetention}; 0 or absent means no limit. */
export interface RetentionOptions {
  /** Delete segments whose last write is older than this. */
  maxAgeSeconds?: number;
  /** Delete the oldest segments while all together are larger than this. */
  maxBytes?: number;
  /** Files never deleted (the segment being written). */
  keep?: ReadonlySet<string>;
  /** Now, Unix milliseconds. Default `Date.now()`. */
  now?: number;
}

/**
 * Applies the limits to a stream's folder; resolves with the files deleted, oldest first.
 *
 * @example
 * ```ts
 * const deleted = await applyRetention("recordings/cam", { maxAgeSeconds: 7 * 86400, maxBytes: 50e9, keep: new Set([current]) });
 * ```
 */
export async function applyRetention(dir: string, options: RetentionOptions): Promise<SegmentFile[]> {
  const maxAge = options.maxAgeSeconds ?? 0;
  const maxBytes = options.maxBytes ?? 0;
  if (maxAge <= 0 && maxBytes <= 0) return [];
  const now = options.now ?? Date.now();
  const files = await listSegmentFiles(dir);
  let total = 0;
  for (const f of files) total += f.bytes;
  const deleted: SegmentFile[] = [];
  for (const f of files) {
    if (options.keep?.has(f.path)) continue;
    const tooOld = maxAge > 0 && now - f.mtimeMs > maxAge * 1000;
    const tooBig = maxBytes > 0 && total > maxBytes;
    if (!tooOld && !tooBig) {
      if (maxBytes <= 0) continue; // later files may still be too old
      break;
    }
    await removeFile(f.path);
    total -= f.bytes;
    deleted.push(f);
  }
  return deleted;
}
