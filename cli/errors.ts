/**
 * How the CLI reports failures: one line on stderr, no stack trace, a non-zero exit code.
 *
 * @module
 */

/**
 * A failure the CLI reports as one line and exit code `exitCode`.
 *
 * @example
 * ```ts
 * throw new CliError('Config file "strom.yaml" not found. Pass an existing file with -c.');
 * ```
 */
export class CliError extends Error {
  override name = "CliError";
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * The one-line text for an error: its message (domain errors already say where and how to fix),
 * prefixed with the error class for unexpected ones.
 *
 * @example
 * ```ts
 * formatCliError(new Error("boom")); // "Error: boom"
 * ```
 */
export function formatCliError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const known = [
    "CliError",
    "ConfigError",
    "UnknownSchemeError",
    "SourceError",
    "StreamNotFoundError",
    "NetError",
    "CodecMismatchError",
    "RtspError",
    "FfmpegArgsError",
    "JpegEncodeError",
  ];
  const text = known.includes(error.name) ? error.message : `${error.name}: ${error.message}`;
  return text.replace(/\s*\n\s*/g, " ");
}
