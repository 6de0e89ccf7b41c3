/**
 * Reading the installed ffmpeg's version from `ffmpeg -version`.
 *
 * @module
 */

/** Versions reported by `ffmpeg -version`. */
export interface FfmpegVersion {
  /** As printed: `6.1.1`, `n7.0-30-g8b0fe91754-20240520`, `5.1.9-0+deb12u1`, `N-113412-g...`. */
  ffmpeg: string;
  /** libavformat as `major.minor.micro`, e.g. `60.16.100`: more reliable than the release name for git builds. */
  libavformat?: string;
}

/**
 * Parses the output of `ffmpeg -version`. Returns `undefined` when it does not look like ffmpeg.
 *
 * @example
 * ```ts
 * parseFfmpegVersion("ffmpeg version 6.1.1 Copyright ...\nlibavformat    60. 16.100 / 60. 16.100");
 * // { ffmpeg: "6.1.1", libavformat: "60.16.100" }
 * ```
 */
export function parseFfmpegVersion(output: string): FfmpegVersion | undefined {
  const m = /ffmpeg version (\S+)/.exec(output);
  if (!m) return undefined;
  const lav = /libavformat\s+(\d+)\.\s*(\d+)\.\s*(\d+)/.exec(output);
  return lav ? { ffmpeg: m[1], libavformat: `${lav[1]}.${lav[2]}.${lav[3]}` } : { ffmpeg: m[1] };
}
