/**
 * RTSP header fields (RFC 2326 section 12): case-insensitive names, repeated fields kept apart.
 *
 * Web `Headers` is not used because it folds repeated fields into one comma-joined value, which
 * breaks `WWW-Authenticate` (a server offers Basic and Digest as two fields, and a Digest challenge
 * itself contains commas), and because some cameras only understand the canonical spelling (`CSeq`),
 * which `Headers` lower-cases on output.
 *
 * @module
 */

/**
 * An ordered, case-insensitive multi-map of header fields that keeps the spelling it was given.
 *
 * @example
 * ```ts
 * const h = new RtspHeaders({ CSeq: "1" });
 * h.append("WWW-Authenticate", 'Basic realm="cam"');
 * h.append("WWW-Authenticate", 'Digest realm="cam", nonce="abc"');
 * h.get("cseq"); // "1"
 * h.getAll("www-authenticate").length; // 2
 * ```
 */
export class RtspHeaders {
  readonly #entries: [string, string][] = [];

  constructor(init?: Record<string, string | number> | Iterable<readonly [string, string]>) {
    if (!init) return;
    if (Symbol.iterator in (init as object)) {
      for (const [k, v] of init as Iterable<readonly [string, string]>) this.append(k, v);
    } else {
      for (const [k, v] of Object.entries(init as Record<string, string | number>)) this.append(k, String(v));
    }
  }

  /** First value of a field, or `undefined`. */
  get(name: string): string | undefined {
    const want = name.toLowerCase();
    for (const [k, v] of this.#entries) if (k.toLowerCase() === want) return v;
    return undefined;
  }

  /** Every value of a repeated field, in order. */
  getAll(name: string): string[] {
    const want = name.toLowerCase();
    const out: string[] = [];
    for (const [k, v] of this.#entries) if (k.toLowerCase() === want) out.push(v);
    return out;
  }

  /** Whether the field is present. */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces every value of a field with one value. */
  set(name: string, value: string | number): this {
    this.delete(name);
    this.#entries.push([name, String(value)]);
    return this;
  }

  /** Adds a value, keeping existing ones. */
  append(name: string, value: string | number): this {
    this.#entries.push([name, String(value)]);
    return this;
  }

  /** Removes every value of a field. */
  delete(name: string): this {
    const want = name.toLowerCase();
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      if (this.#entries[i][0].toLowerCase() === want) this.#entries.splice(i, 1);
    }
    return this;
  }

  /** Number of fields (repeated fields count each time). */
  get size(): number {
    return this.#entries.length;
  }

  /** Fields in order as `[name, value]`. */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.#entries[Symbol.iterator]();
  }

  /** The fields as `Name: value\r\n` lines. */
  toString(): string {
    let s = "";
    for (const [k, v] of this.#entries) s += `${k}: ${v}\r\n`;
    return s;
  }
}
