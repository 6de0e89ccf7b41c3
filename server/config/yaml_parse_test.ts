import { describe, expect, it } from "bun:test";
import { parseDocument } from "yaml";
import { runtimeIo } from "../load.ts";
import { loadConfigText } from "./load.ts";
import { duplicateKeyErrors, MAX_YAML_DEPTH, MAX_YAML_TOKENS, parseYaml } from "./yaml_parse.ts";

/** What yaml's own parseDocument (quadratic unique-key check included) makes of the text. */
function reference(text: string) {
  const doc = parseDocument(text, { prettyErrors: false, merge: true, uniqueKeys: true });
  return {
    js: doc.errors.length ? undefined : doc.toJS(),
    errors: doc.errors.map((e) => [e.code, e.pos[0]]),
  };
}

function ours(text: string) {
  const doc = parseYaml(text, { merge: true });
  return {
    js: doc.errors.length ? undefined : doc.toJS(),
    errors: doc.errors.map((e) => [e.code, e.pos[0]]),
  };
}

describe("parseYaml gives yaml's own result", () => {
  const samples: Array<[string, string]> = [
    [
      "a config",
      "api:\n  listen: :1984\nstreams:\n  cam:\n    - rtsp://a/b#backchannel=0\n    - ffmpeg:cam#video=h264\n",
    ],
    ["a repeated top-level key", "a: 1\nb: 2\na: 3\n"],
    ["a repeated key in a nested map", "streams:\n  cam: demo:\n  door: demo:\n  cam: demo:\n"],
    ["a repeated key in a flow map", "streams: {cam: x, cam: y}\n"],
    ["a key repeated three times", "a: 1\na: 2\na: 3\n"],
    ["the same key in two maps", "x: {a: 1}\ny: {a: 2}\n"],
    ["a number and a string key", '1: x\n"1": y\n'],
    ["two NaN keys", ".nan: 1\n.nan: 2\n"],
    ["two explicit keys", "? a\n: 1\n? a\n: 2\n"],
    ["collections as keys", "? [a]\n: 1\n? [a]\n: 2\n"],
    ["merge keys", "base: &b {a: 1}\nx:\n  <<: *b\n  c: 2\n"],
    ["a repeated key after a syntax error", "a: [1\nb: 2\nb: 3\n"],
    ["a repeated key inside a list", "- a: 1\n  a: 2\n- a: 3\n"],
    ["two documents", "a: 1\n---\nb: 2\n"],
    ["an empty text", ""],
  ];
  for (const [what, text] of samples) {
    it(what, () => {
      expect(ours(text)).toEqual(reference(text));
    });
  }

  it("two empty keys are repeated keys, as for yaml", () => {
    // yaml puts the error after the `? `, parseYaml at the empty key: the same line either way.
    expect(ours("? \n: 1\n? \n: 2\n").errors).toEqual([["DUPLICATE_KEY", 9]]);
    expect(reference("? \n: 1\n? \n: 2\n").errors).toEqual([["DUPLICATE_KEY", 10]]);
  });

  it("duplicateKeyErrors finds what uniqueKeys finds, at the repeated key", () => {
    const text = "a: 1\nb:\n  c: 1\n  c: 2\na: 2\n";
    const errors = duplicateKeyErrors(parseDocument(text, { uniqueKeys: false }));
    expect(errors.map((e) => [e.code, e.pos[0]]).sort()).toEqual([["DUPLICATE_KEY", 17], [
      "DUPLICATE_KEY",
      22,
    ]]);
  });
});

describe("parseYaml bounds what a text can cost", () => {
  it(`accepts ${MAX_YAML_DEPTH} nested collections and refuses one more, at its bracket`, () => {
    const ok = "[".repeat(MAX_YAML_DEPTH) + "]".repeat(MAX_YAML_DEPTH);
    expect(parseYaml(ok).errors).toEqual([]);
    const deep = "[".repeat(MAX_YAML_DEPTH + 1) + "]".repeat(MAX_YAML_DEPTH + 1);
    const doc = parseYaml(deep);
    expect(doc.errors.map((e) => [e.code, e.pos[0]])).toEqual([["RESOURCE_EXHAUSTION", MAX_YAML_DEPTH]]);
    expect(doc.errors[0].message).toContain(`nested more than ${MAX_YAML_DEPTH} levels`);
  });

  it("brackets inside quotes, comments and plain words are not nesting", () => {
    const text = `a: "${"[".repeat(100)}"\nb: '${"{".repeat(100)}'\n# ${"[".repeat(100)}\nc: x${
      "[".repeat(100)
    }\n`;
    expect(ours(text)).toEqual(reference(text));
    expect(parseYaml(text).errors).toEqual([]);
  });

  it("refuses block nesting (`- - - ...`, indented lists) past the limit", () => {
    const inline = parseYaml("- ".repeat(MAX_YAML_DEPTH + 1) + "x\n");
    expect(inline.errors.map((e) => e.code)).toEqual(["RESOURCE_EXHAUSTION"]);
    let indented = "";
    for (let i = 0; i <= MAX_YAML_DEPTH; i++) indented += " ".repeat(i) + "-\n";
    expect(parseYaml(indented).errors.map((e) => e.code)).toEqual(["RESOURCE_EXHAUSTION"]);
    let map = "";
    for (let i = 0; i <= MAX_YAML_DEPTH; i++) map += " ".repeat(i) + "k:\n";
    const mapDoc = parseYaml(map);
    expect(mapDoc.errors.map((e) => e.code)).toEqual(["RESOURCE_EXHAUSTION"]);
    // The 65th map is the one whose key is indented by 64.
    expect(mapDoc.errors[0].pos[0]).toBe(map.indexOf(" ".repeat(MAX_YAML_DEPTH) + "k:") + MAX_YAML_DEPTH);
  });

  it(`refuses more than ${MAX_YAML_TOKENS} tokens, naming the limit`, () => {
    const doc = parseYaml("-\n".repeat(MAX_YAML_TOKENS));
    expect(doc.errors.map((e) => e.code)).toEqual(["RESOURCE_EXHAUSTION"]);
    expect(doc.errors[0].message).toContain(`More than ${MAX_YAML_TOKENS} YAML tokens`);
  });

  it("a config of 2,000 streams is well inside the limits", async () => {
    let text = "streams:\n";
    for (let i = 0; i < 2000; i++) {
      text += `  cam${i}:\n    - rtsp://admin:pw@10.0.${i >> 8}.${
        i & 255
      }:554/Streaming/Channels/101\n    - ffmpeg:cam${i}#video=h264\n`;
    }
    const { config } = await loadConfigText(text, runtimeIo, "big.yaml");
    expect(Object.keys(config.streams ?? {}).length).toBe(2000);
  });

  // Before: 256 KiB of any of these ran yaml's composer into the stack limit, where V8 ended the
  // process ("RegExpCompiler Allocation failed - process out of memory").
  for (const unit of ["[", "{", "- ", "? ", "[a, "]) {
    it(`256 KiB of ${JSON.stringify(unit)} is a ConfigError naming the place, not a crash`, async () => {
      const text = unit.repeat(Math.floor(262144 / unit.length));
      for (let round = 0; round < 3; round++) {
        const error = await loadConfigText(text, runtimeIo, "deep.yaml").then(
          () => undefined,
          (e: Error) => e,
        );
        expect(error?.name).toBe("ConfigError");
        expect(error?.message).toMatch(
          /^deep\.yaml:1:\d+: .*(nested more than 64 levels|More than 100000 YAML tokens)/,
        );
      }
    });
  }
});
