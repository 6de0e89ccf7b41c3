/**
 * The config file the API writes back to: serialized read-modify-write, so two concurrent
 * `PUT /api/streams` never lose each other's edit, and atomic writes (temp file + rename).
 *
 * @module
 */

/** File access the config file needs (the runtime's `lib/runtime/fs.ts` by default). */
export interface TextFileIo {
  readTextFile(path: string): Promise<string>;
  /** Must be atomic (write a temp file, then rename). */
  writeTextFile(path: string, text: string): Promise<void>;
  fileExists(path: string): Promise<boolean>;
}

/**
 * One writable YAML config file.
 *
 * @example
 * ```ts
 * const file = new ConfigFile("strom.yaml", io);
 * await file.update((text) => setStream(text, "cam", ["rtsp://10.0.0.5/1"]));
 * ```
 */
export class ConfigFile {
  readonly path: string;
  readonly #io: TextFileIo;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string, io: TextFileIo) {
    this.path = path;
    this.#io = io;
  }

  /** The file's text; `""` when it does not exist yet. */
  async read(): Promise<string> {
    if (!(await this.#io.fileExists(this.path))) return "";
    return await this.#io.readTextFile(this.path);
  }

  /**
   * Reads the file, applies `edit` and writes the result, after every earlier update finished.
   * Writes nothing when `edit` returns the text unchanged. Resolves with the new text.
   */
  update(edit: (text: string) => string | Promise<string>): Promise<string> {
    const run = this.#queue.then(async () => {
      const before = await this.read();
      const after = await edit(before);
      if (after !== before) await this.#io.writeTextFile(this.path, after);
      return after;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Replaces the whole file (after earlier updates). */
  replace(text: string): Promise<string> {
    return this.update(() => text);
  }
}
