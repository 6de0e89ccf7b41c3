/**
 * A strict parser of the Prometheus text format 0.0.4, for tests only: every line is a `# HELP`,
 * `# TYPE` or other comment, or a sample `name{label="value",...} value [timestamp]`. It also checks
 * what Prometheus rejects a scrape for: a TYPE after the family's samples, a family split in two,
 * a duplicate series, a malformed escape, a missing final newline.
 *
 * @module
 */

/** One parsed sample. */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  line: number;
}

/** One parsed family. */
export interface ParsedFamily {
  name: string;
  type?: string;
  help?: string;
  samples: ParsedSample[];
}

/** Thrown with the line number and what is wrong. */
export class ExpositionParseError extends Error {
  override name = "ExpositionParseError";
  constructor(readonly line: number, reason: string) {
    super(`Cannot parse exposition line ${line}: ${reason}`);
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/;

/** The family a sample name belongs to (histogram/summary suffixes fold into their base). */
function familyOf(name: string, families: Map<string, ParsedFamily>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const t = families.get(base)?.type;
      if (t === "histogram" || t === "summary") return base;
    }
  }
  return name;
}

/**
 * Parses an exposition and returns its families by name.
 *
 * @example
 * ```ts
 * const families = parseExposition(await res.text());
 * families.get("strom_streams")!.samples[0].value; // 1
 * ```
 */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (text.length > 0 && !text.endsWith("\n")) {
    throw new ExpositionParseError(text.split("\n").length, "missing final newline");
  }
  const lines = text.split("\n");
  lines.pop();
  const families = new Map<string, ParsedFamily>();
  const closed = new Set<string>(); // families whose samples ended (another family's lines followed)
  const series = new Set<string>();
  let current: string | undefined;
  const enter = (name: string, no: number) => {
    if (current === name) return;
    if (closed.has(name)) throw new ExpositionParseError(no, `family ${name} continues after other families`);
    if (current !== undefined) closed.add(current);
    current = name;
  };
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, f = { name, samples: [] });
    return f;
  };

  lines.forEach((line, i) => {
    const no = i + 1;
    if (line === "") throw new ExpositionParseError(no, "empty line");
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // an ordinary comment
      const [, keyword, name, rest] = m;
      if (!METRIC_NAME.test(name) || METRIC_NAME.exec(name)![0] !== name) {
        throw new ExpositionParseError(no, `bad metric name "${name}"`);
      }
      enter(name, no);
      const f = family(name);
      if (keyword === "TYPE") {
        if (f.type !== undefined) throw new ExpositionParseError(no, `second TYPE for ${name}`);
        if (f.samples.length > 0) throw new ExpositionParseError(no, `TYPE for ${name} after its samples`);
        if (!TYPES.has(rest)) throw new ExpositionParseError(no, `unknown type "${rest}"`);
        f.type = rest;
      } else {
        if (f.help !== undefined) throw new ExpositionParseError(no, `second HELP for ${name}`);
        let help = "";
        for (let j = 0; j < rest.length; j++) {
          if (rest[j] !== "\\") {
            help += rest[j];
            continue;
          }
          const next = rest[++j];
          if (next === "\\") help += "\\";
          else if (next === "n") help += "\n";
          else throw new ExpositionParseError(no, `bad escape \\${next ?? ""} in HELP`);
        }
        f.help = help;
      }
      return;
    }

    const nameMatch = METRIC_NAME.exec(line);
    if (!nameMatch) throw new ExpositionParseError(no, "expected a metric name");
    const name = nameMatch[0];
    let pos = name.length;
    const labels: Record<string, string> = {};
    if (line[pos] === "{") {
      pos++;
      while (line[pos] !== "}") {
        const ln = LABEL_NAME.exec(line.slice(pos));
        if (!ln) throw new ExpositionParseError(no, `expected a label name at column ${pos + 1}`);
        pos += ln[0].length;
        if (line[pos] !== "=" || line[pos + 1] !== '"') {
          throw new ExpositionParseError(no, `expected =" at column ${pos + 1}`);
        }
        pos += 2;
        let value = "";
        for (;;) {
          const ch = line[pos];
          if (ch === undefined) throw new ExpositionParseError(no, "unterminated label value");
          if (ch === '"') break;
          if (ch === "\\") {
            const next = line[pos + 1];
            if (next === "\\" || next === '"') value += next;
            else if (next === "n") value += "\n";
            else throw new ExpositionParseError(no, `bad escape \\${next ?? ""} at column ${pos + 1}`);
            pos += 2;
            continue;
          }
          value += ch;
          pos++;
        }
        pos++;
        if (ln[0] in labels) throw new ExpositionParseError(no, `label ${ln[0]} twice`);
        labels[ln[0]] = value;
        if (line[pos] === ",") pos++;
        else if (line[pos] !== "}") {
          throw new ExpositionParseError(no, `expected , or } at column ${pos + 1}`);
        }
      }
      pos++;
    }
    if (line[pos] !== " ") {
      throw new ExpositionParseError(no, `expected a space before the value at column ${pos + 1}`);
    }
    const parts = line.slice(pos + 1).split(" ");
    if (parts.length > 2 || !VALUE.test(parts[0])) {
      throw new ExpositionParseError(no, `bad value "${line.slice(pos + 1)}"`);
    }
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1])) {
      throw new ExpositionParseError(no, `bad timestamp "${parts[1]}"`);
    }
    const value = parts[0] === "+Inf" ? Infinity : parts[0] === "-Inf" ? -Infinity : Number(parts[0]);

    const fname = familyOf(name, families);
    enter(fname, no);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) {
      throw new ExpositionParseError(no, `duplicate series ${name}${JSON.stringify(labels)}`);
    }
    series.add(key);
    family(fname).samples.push({ name, labels, value, line: no });
  });
  return families;
}
