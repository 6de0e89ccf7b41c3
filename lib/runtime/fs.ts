/**
 * Files on `node:fs/promises`. Writes are atomic: data goes to a temporary file in the same
 * directory, is flushed to disk, then renamed over the target, so a crash or a concurrent reader
 * never sees a half-written config file.
 *
 * Errors are the runtime's own (`code: "ENOENT"`, ...), whose messages name the path.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import process from "node:process";

/**
 * Reads a whole file.
 *
 * @example
 * ```ts
 * const bytes = await readFile("tests/fixtures/ffmpeg_h264.mp4");
 * ```
 */
export async function readFile(path: string): Promise<Uint8Array> {
  const buf = await fsp.readFile(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Reads a whole file as UTF-8.
 *
 * @example
 * ```ts
 * const yaml = await readTextFile("strom.yaml");
 * ```
 */
export function readTextFile(path: string): Promise<string> {
  return fsp.readFile(path, "utf8");
}

let tmpCounter = 0;

/**
 * Writes a whole file atomically (temporary file + rename). An existing file keeps its
 * permission bits, so a config holding passwords stays `0600`.
 *
 * @example
 * ```ts
 * await writeFile("snapshot.jpg", jpeg);
 * ```
 */
export async function writeFile(path: string, data: Uint8Array): Promise<void> {
  const tmp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${tmpCounter++}.tmp`,
  );
  let mode: number | undefined;
  try {
    mode = (await fsp.stat(path)).mode & 0o7777;
  } catch { /* new file */ }
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, "wx", mode ?? 0o666);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (mode !== undefined) await fsp.chmod(tmp, mode); // open() applies the umask
    await fsp.rename(tmp, path);
  } catch (error) {
    await handle?.close().catch(() => {});
    await fsp.unlink(tmp).catch(() => {});
    throw error;
  }
}

/**
 * Writes a whole file as UTF-8, atomically (see {@link writeFile}).
 *
 * @example
 * ```ts
 * await writeTextFile("strom.yaml", yamlText);
 * ```
 */
export function writeTextFile(path: string, text: string): Promise<void> {
  return writeFile(path, new TextEncoder().encode(text));
}

/**
 * True when something exists at `path` (file or directory).
 *
 * @example
 * ```ts
 * if (!(await fileExists("strom.yaml"))) await writeTextFile("strom.yaml", "streams: {}\n");
 * ```
 */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await fsp.stat(path);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw error;
  }
}

/**
 * Removes a file. A file that is already gone is not an error.
 *
 * @example
 * ```ts
 * await removeFile("recordings/old.mp4");
 * ```
 */
export async function removeFile(path: string): Promise<void> {
  try {
    await fsp.unlink(path);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
  }
}

/**
 * Creates a directory and its missing parents. An existing directory is not an error.
 *
 * @example
 * ```ts
 * await makeDir("recordings/front_door");
 * ```
 */
export async function makeDir(path: string): Promise<void> {
  await fsp.mkdir(path, { recursive: true });
}
