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

/** What {@link statPath} reports. */
export interface FileInfo {
  size: number;
  /** Last modification, Unix milliseconds. */
  mtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
}

/**
 * Size, modification time and kind of what is at `path`, or undefined when nothing is there.
 *
 * @example
 * ```ts
 * const info = await statPath("recordings/cam/2026-12-03T17-00-00.000Z.mp4");
 * if (info) console.log(info.size);
 * ```
 */
export async function statPath(path: string): Promise<FileInfo | undefined> {
  try {
    const s = await fsp.stat(path);
    return { size: s.size, mtimeMs: s.mtimeMs, isFile: s.isFile(), isDirectory: s.isDirectory() };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

/** An entry of {@link readDir}. */
export interface DirEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
}

/**
 * The entries of a directory (not recursive, in no particular order). A missing directory gives an
 * empty list.
 *
 * @example
 * ```ts
 * const files = (await readDir("recordings/cam")).filter((e) => e.isFile).map((e) => e.name);
 * ```
 */
export async function readDir(path: string): Promise<DirEntry[]> {
  try {
    const entries = await fsp.readdir(path, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, isFile: e.isFile(), isDirectory: e.isDirectory() }));
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return [];
    throw error;
  }
}

/**
 * How {@link openFile} opens: `read` an existing file; `append` creates or extends one (writes go to
 * the end); `create` makes a new file and fails when one exists.
 */
export type OpenMode = "read" | "append" | "create" | "overwrite";

/**
 * An open file: positioned reads, appends, and `sync` to push written data to the disk.
 *
 * Writes reach the operating system when their promise resolves, so they survive the process
 * being killed (`kill -9`); `sync()` makes them survive a power loss too.
 */
export interface OpenFile extends AsyncDisposable {
  readonly path: string;
  /**
   * Reads up to `length` bytes at `position` (fewer at the end of the file).
   *
   * @example
   * ```ts
   * const header = await file.read(0, 8);
   * ```
   */
  read(position: number, length: number): Promise<Uint8Array>;
  /**
   * Writes all of `data` at the end of the file (append mode) or at the current end (create mode).
   *
   * @example
   * ```ts
   * await file.write(fragment);
   * ```
   */
  write(data: Uint8Array): Promise<void>;
  /**
   * Writes all of `data` at `position` (not in append mode), e.g. to patch a header written earlier.
   *
   * @example
   * ```ts
   * await file.writeAt(moovSize, 0);
   * ```
   */
  writeAt(data: Uint8Array, position: number): Promise<void>;
  /** Flushes written data to the storage device (fsync). */
  sync(): Promise<void>;
  /** The file's current size in bytes. */
  size(): Promise<number>;
  /** Closes the file; later calls do nothing. */
  close(): Promise<void>;
}

/**
 * Opens a file for positioned reads or for appending.
 *
 * @throws the runtime's error (`code: "ENOENT"`, `"EACCES"`, `"EEXIST"`...), naming the path.
 * @example
 * ```ts
 * await using file = await openFile("recordings/cam/a.mp4", "append");
 * await file.write(init);
 * await file.sync();
 * ```
 */
export async function openFile(path: string, mode: OpenMode): Promise<OpenFile> {
  const flags = mode === "read" ? "r" : mode === "append" ? "a" : mode === "overwrite" ? "w" : "wx";
  const handle = await fsp.open(path, flags);
  let closed = false;
  let end = mode === "read" ? 0 : (await handle.stat()).size;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    path,
    async read(position, length) {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await handle.read(buf, got, length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    },
    async write(data) {
      let done = 0;
      while (done < data.length) {
        // Append mode ignores the position on POSIX; create mode writes at the tracked end.
        const { bytesWritten } = await handle.write(data, done, data.length - done, end);
        done += bytesWritten;
        end += bytesWritten;
      }
    },
    async writeAt(data, position) {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
        done += bytesWritten;
      }
      end = Math.max(end, position + data.length);
    },
    sync: () => handle.sync(),
    async size() {
      return (await handle.stat()).size;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
