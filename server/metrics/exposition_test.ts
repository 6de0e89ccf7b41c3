import { describe, expect, it } from "bun:test";
import { ExpositionParseError, parseExposition } from "./_exposition_parser.ts";
import { escapeHelp, escapeLabelValue, ExpositionWriter, formatValue } from "./exposition.ts";

describe("escaping", () => {
  it("escapes backslash, quote and newline in label values", () => {
    expect(escapeLabelValue('a\\b "c"\nd')).toBe('a\\\\b \\"c\\"\\nd');
  });

  it("escapes backslash and newline in HELP, not quotes", () => {
    expect(escapeHelp('say "hi"\\\nnext')).toBe('say "hi"\\\\\\nnext');
  });

  it("formats special values", () => {
    expect(formatValue(NaN)).toBe("NaN");
    expect(formatValue(Infinity)).toBe("+Inf");
    expect(formatValue(-Infinity)).toBe("-Inf");
    expect(formatValue(42)).toBe("42");
    expect(formatValue(0.5)).toBe("0.5");
    expect(formatValue(1e21)).toBe("1e+21");
  });
});

describe("ExpositionWriter", () => {
  it("writes HELP, TYPE and samples per family, in declaration order", () => {
    const w = new ExpositionWriter();
    w.gauge("up_things", "Things up.").set({}, 3);
    const c = w.counter("x_total", "Xs.");
    c.add({ a: "1" }, 2);
    c.add({ a: "2" }, 5);
    expect(w.text()).toBe(
      "# HELP up_things Things up.\n# TYPE up_things gauge\nup_things 3\n" +
        '# HELP x_total Xs.\n# TYPE x_total counter\nx_total{a="1"} 2\nx_total{a="2"} 5\n',
    );
  });

  it("sums samples with the same labels so no series is duplicated", () => {
    const w = new ExpositionWriter();
    const c = w.counter("dup_total", "d");
    c.add({ s: "a" }, 1);
    c.add({ s: "a" }, 2);
    c.set({ s: "b" }, 7);
    const f = parseExposition(w.text()).get("dup_total")!;
    expect(f.samples.map((s) => [s.labels.s, s.value])).toEqual([["a", 3], ["b", 7]]);
  });

  it("keeps empty families as HELP/TYPE only", () => {
    const w = new ExpositionWriter();
    w.gauge("empty_gauge", "nothing yet");
    expect(w.text()).toBe("# HELP empty_gauge nothing yet\n# TYPE empty_gauge gauge\n");
  });

  it("round-trips awkward label values and help text through a strict parser", () => {
    const w = new ExpositionWriter();
    const value = 'rtsp://cam/"1"\\path\nline2 {x="y"},';
    w.gauge("weird", 'help with \\ and\nnewline and "quotes"').set({ url: value, z: "" }, 1);
    const f = parseExposition(w.text()).get("weird")!;
    expect(f.help).toBe('help with \\ and\nnewline and "quotes"');
    expect(f.samples[0].labels).toEqual({ url: value, z: "" });
  });

  it("rejects bad names, counters without _total and double declarations", () => {
    const w = new ExpositionWriter();
    expect(() => w.gauge("1bad", "x")).toThrow(TypeError);
    expect(() => w.gauge("has-dash", "x")).toThrow(TypeError);
    expect(() => w.counter("requests", "x")).toThrow(/_total/);
    w.gauge("once", "x");
    expect(() => w.gauge("once", "x")).toThrow(/twice/);
    const g = w.gauge("labels_checked", "x");
    expect(() => g.set({ "bad-label": "v" }, 1)).toThrow(TypeError);
    expect(() => g.set({ __reserved: "v" }, 1)).toThrow(TypeError);
  });
});

describe("the test parser is strict", () => {
  const bad: [string, RegExp][] = [
    ["a 1", /final newline/],
    ['a{b="c} 1\n', /unterminated/],
    ['a{b="\\x"} 1\n', /bad escape/],
    ["a one\n", /bad value/],
    ["a 1\na 2\n", /duplicate series/],
    ['a 1\nb 1\na{x="1"} 1\n', /continues/],
    ["a 1\n# TYPE a gauge\n", /after its samples/],
    ["# TYPE a gauge\n# TYPE a gauge\n", /second TYPE/],
    ["# TYPE a thing\n", /unknown type/],
    ["\n", /empty line/],
    ['a{b="1"}1\n', /space/],
  ];
  for (const [text, reason] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      let error: unknown;
      try {
        parseExposition(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ExpositionParseError);
      expect((error as Error).message).toMatch(reason);
    });
  }

  it("accepts comments, timestamps and special values", () => {
    const f = parseExposition('# just a comment\n# TYPE a gauge\na{x="1"} +Inf 1700000000000\na -1.5e3\n');
    expect(f.get("a")!.samples.map((s) => s.value)).toEqual([Infinity, -1500]);
  });
});
