/**
 * A small writer for the Prometheus text exposition format, version 0.0.4:
 *
 * ```text
 * # HELP strom_track_frames_total Frames received from a source track.
 * # TYPE strom_track_frames_total counter
 * strom_track_frames_total{stream="door",media="video",codec="H264"} 1520
 * ```
 *
 * One `# HELP` and one `# TYPE` line per family, then its samples. Label values escape `\`, `"` and
 * newlines; HELP text escapes `\` and newlines. Samples with the same labels are summed, so the
 * output never holds a duplicate series (which Prometheus would reject for the whole scrape).
 *
 * @module
 */

/** `Content-Type` of the text format, as Prometheus asks for it. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Metric types the writer emits. */
export type MetricType = "counter" | "gauge";

/** Label names to values. Values are escaped by the writer. */
export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Escapes a label value: backslash, double quote and line feed.
 *
 * @example
 * ```ts
 * escapeLabelValue('a "b"\n'); // 'a \\"b\\"\\n'
 * ```
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (ch) => (ch === "\n" ? "\\n" : `\\${ch}`));
}

/**
 * Escapes HELP text: backslash and line feed (quotes stay as they are).
 *
 * @example
 * ```ts
 * escapeHelp("first\nsecond"); // "first\\nsecond"
 * ```
 */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (ch) => (ch === "\n" ? "\\n" : "\\\\"));
}

/**
 * Formats a sample value: integers without a fraction, `NaN`, `+Inf`, `-Inf`.
 *
 * @example
 * ```ts
 * formatValue(Infinity); // "+Inf"
 * formatValue(0.25); // "0.25"
 * ```
 */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/**
 * One metric family: a name, a type, help text, and samples keyed by their label set.
 *
 * @example
 * ```ts
 * const frames = writer.counter("strom_track_frames_total", "Frames received.");
 * frames.add({ stream: "door", media: "video" }, 25);
 * ```
 */
export class MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly #samples = new Map<string, number>();

  constructor(name: string, type: MetricType, help: string) {
    if (!METRIC_NAME.test(name)) {
      throw new TypeError(`Cannot use metric name "${name}": it must match ${METRIC_NAME.source}.`);
    }
    if (type === "counter" && !name.endsWith("_total")) {
      throw new TypeError(`Cannot use counter name "${name}": counter names end with "_total".`);
    }
    this.name = name;
    this.type = type;
    this.help = help;
  }

  /** Sets the sample with these labels (replacing an earlier value). */
  set(labels: Labels, value: number): void {
    this.#samples.set(labelString(labels), value);
  }

  /** Adds to the sample with these labels (starting from 0). */
  add(labels: Labels, value: number): void {
    const key = labelString(labels);
    this.#samples.set(key, (this.#samples.get(key) ?? 0) + value);
  }

  /** Number of samples (series) in the family. */
  get size(): number {
    return this.#samples.size;
  }

  /** The family as exposition lines, each ending in `\n`. */
  toString(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    for (const [labels, value] of this.#samples) out += `${this.name}${labels} ${formatValue(value)}\n`;
    return out;
  }
}

/** `{a="1",b="2"}`, or `""` without labels. Doubles as the series key. */
function labelString(labels: Labels): string {
  let out = "";
  for (const name in labels) {
    if (!LABEL_NAME.test(name) || name.startsWith("__")) {
      throw new TypeError(
        `Cannot use label name "${name}": it must match ${LABEL_NAME.source} and not start with "__".`,
      );
    }
    out += `${out ? "," : ""}${name}="${escapeLabelValue(labels[name])}"`;
  }
  return out ? `{${out}}` : "";
}

/**
 * Collects metric families for one scrape and renders them in the order they were declared.
 *
 * @example
 * ```ts
 * const writer = new ExpositionWriter();
 * writer.gauge("strom_streams", "Configured streams.").set({}, 3);
 * return new Response(writer.text(), { headers: { "content-type": EXPOSITION_CONTENT_TYPE } });
 * ```
 */
export class ExpositionWriter {
  readonly #families = new Map<string, MetricFamily>();

  /** Declares a counter family (name ends in `_total`). */
  counter(name: string, help: string): MetricFamily {
    return this.#declare(name, "counter", help);
  }

  /** Declares a gauge family. */
  gauge(name: string, help: string): MetricFamily {
    return this.#declare(name, "gauge", help);
  }

  #declare(name: string, type: MetricType, help: string): MetricFamily {
    if (this.#families.has(name)) throw new Error(`Cannot declare metric "${name}" twice in one scrape.`);
    const family = new MetricFamily(name, type, help);
    this.#families.set(name, family);
    return family;
  }

  /** The whole exposition. Families without samples keep their HELP/TYPE lines (valid, and self-documenting). */
  text(): string {
    let out = "";
    for (const family of this.#families.values()) out += family.toString();
    return out;
  }
}
