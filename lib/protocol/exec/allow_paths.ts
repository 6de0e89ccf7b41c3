/**
 * `exec.allow_paths`: when the list is non-empty, an `exec:` source may only run an executable on
 * it. Both sides are resolved (PATH lookup, symlinks) before comparing, so `ffmpeg` on the list
 * allows `/usr/bin/ffmpeg` in a command and the other way round, and a symlink elsewhere that points
 * at an allowed file is that file.
 *
 * @module
 */
import { resolveExecutable } from "../../runtime/mod.ts";

/**
 * An `exec:` command whose executable is not in `exec.allow_paths`.
 *
 * @example
 * ```ts
 * try { await checkAllowedExecutable("touch", ["/usr/bin/ffmpeg"]); }
 * catch (e) { if (e instanceof ExecNotAllowedError) console.log(e.command, e.resolved); }
 * ```
 */
export class ExecNotAllowedError extends Error {
  override name = "ExecNotAllowedError";
  /** The executable as written in the source. */
  readonly command: string;
  /** Where it resolves to, when it exists. */
  readonly resolved: string | undefined;
  /** The configured list. */
  readonly allowPaths: readonly string[];
  constructor(command: string, resolved: string | undefined, allowPaths: readonly string[]) {
    super(
      `exec: "${command}"${resolved && resolved !== command ? ` (${resolved})` : ""} is not in exec.allow_paths ` +
        `[${allowPaths.join(", ")}]; add it to exec.allow_paths in the config file to let exec: sources run it.`,
    );
    this.command = command;
    this.resolved = resolved;
    this.allowPaths = allowPaths;
  }
}

/**
 * Resolves when `command` may run under `allowPaths` (an empty list allows any command).
 *
 * @throws {ExecNotAllowedError} when the list is non-empty and the command is not on it.
 * @example
 * ```ts
 * await checkAllowedExecutable("ffmpeg", ["/usr/bin/ffmpeg"]); // ok when ffmpeg on PATH is /usr/bin/ffmpeg
 * ```
 */
export async function checkAllowedExecutable(command: string, allowPaths: readonly string[]): Promise<void> {
  if (allowPaths.length === 0) return;
  if (allowPaths.includes(command)) return;
  const resolved = await resolveExecutable(command);
  if (resolved) {
    for (const allowed of allowPaths) {
      if (allowed === resolved || (await resolveExecutable(allowed)) === resolved) return;
    }
  }
  throw new ExecNotAllowedError(command, resolved, allowPaths);
}
