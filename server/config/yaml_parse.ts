/**
 * YAML parsing with bounded cost, for config text that may come from the network (`POST
 * /api/config`) as well as from files.
 *
 * `yaml`'s `parseDocument` has costs that grow faster than the text, measured on Node 20 with
 * 256 KiB bodies:
 *
 * - **Nesting**: its parser and composer recurse once per level. 256 KiB of `[`, `{`, `- ` or `? `
 *   ran them into the stack limit, where V8 ended the whole process ("RegExpCompiler Allocation
 *   failed - process out of memory"). Here the parser is fed one lexer token at a time and the
 *   text is refused as soon as more than {@link MAX_YAML_DEPTH} collections are open.
 * - **Size**: yaml's cost is per token, 1-8 us each; text of nothing but tiny nodes costs up to
 *   10 us per character. More than {@link MAX_YAML_TOKENS} tokens are refused, which bounds any
 *   text to about half a second.
 * - **Unique keys**: `uniqueKeys` compares every key with every earlier key of its map, so 256 KiB
 *   of short stream names took 8 s (1 MiB: about 2 minutes). Here it is off and
 *   {@link duplicateKeyErrors} does the same check with a set per map.
 * - **Errors**: every problem becomes an `Error` with a captured stack; text made of nothing but
 *   problems (`""""...`, `&a &a ...`) took 2-4 s per 256 KiB. Stacks are not captured while
 *   parsing (no one reads them: the message and offset are what is reported).
 *
 * The result is the same `Document` `parseDocument` gives (the same errors, codes and offsets),
 * or one with a single `RESOURCE_EXHAUSTION` error naming the limit and where it was reached.
 *
 * @module
 */
import { Composer, isMap, isScalar, isSeq, Lexer, Parser, YAMLParseError } from "yaml";
import type { CST, Document, DocumentOptions, ParseOptions, SchemaOptions } from "yaml";

/** Deepest nesting of collections accepted (a strom config needs about 6). */
export const MAX_YAML_DEPTH = 64;

/**
 * Most lexer tokens accepted: about 6,000 streams of a typical config (2,000 streams with two
 * sources each lex into 33,000 tokens and load in 150 ms). yaml's cost is per token, so this
 * bounds the time any text can take, whatever its shape, to about half a second.
 */
export const MAX_YAML_TOKENS = 100_000;

/** Options for {@link parseYaml}: yaml's own; `uniqueKeys` is always checked, with a set. */
export type YamlParseOptions = Omit<
  ParseOptions & DocumentOptions & SchemaOptions,
  "uniqueKeys" | "prettyErrors"
>;

/**
 * Parses one YAML document like `yaml`'s `parseDocument` with `uniqueKeys: true` and
 * `prettyErrors: false`, at a cost linear in the text (see the module notes). Problems are in
 * `doc.errors`, in source order; it does not throw on bad input.
 *
 * @example
 * ```ts
 * const doc = parseYaml("streams:\n  cam: rtsp://10.0.0.2/live\n", { merge: true });
 * if (doc.errors.length) console.log(doc.errors[0].message, "at offset", doc.errors[0].pos[0]);
 * ```
 */
export function parseYaml(text: string, options: YamlParseOptions = {}): Document.Parsed {
  const opts = { ...options, uniqueKeys: false, prettyErrors: false };
  const composer = new Composer(opts);
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const { tokens, refused } = parseBounded(text);
    let doc: Document.Parsed | undefined;
    for (const next of composer.compose(refused ? [] : tokens, true, text.length)) {
      if (!doc) {
        doc = next;
      } else {
        doc.errors.push(
          new YAMLParseError(
            [next.range[0], next.range[1]],
            "MULTIPLE_DOCS",
            "Source contains multiple documents; please use YAML.parseAllDocuments()",
          ),
        );
        break;
      }
    }
    // compose(..., forceDoc = true) always yields a document.
    const parsed = doc as Document.Parsed;
    if (refused) {
      const at = refused.offset;
      parsed.errors.push(new YAMLParseError([at, at + 1], "RESOURCE_EXHAUSTION", refused.reason));
      return parsed;
    }
    const duplicates = duplicateKeyErrors(parsed);
    if (duplicates.length) {
      parsed.errors.push(...duplicates);
      parsed.errors.sort((a, b) => a.pos[0] - b.pos[0]);
    }
    return parsed;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * yaml's CST for the text, fed one lexer token at a time so that nesting and size are checked as
 * the parser goes: its parser recurses once per open block collection when it closes them, and
 * 130 KiB of `- - - ...` ran it into the stack limit; its flow handling took 2 s for 256 KiB of `[`.
 */
function parseBounded(text: string): { tokens: CST.Token[]; refused?: { offset: number; reason: string } } {
  const parser = new Parser();
  const tokens: CST.Token[] = [];
  let count = 0;
  for (const lexeme of new Lexer().lex(text)) {
    if (++count > MAX_YAML_TOKENS) {
      return {
        tokens,
        refused: {
          offset: parser.offset,
          reason: `More than ${MAX_YAML_TOKENS} YAML tokens (a config of about 6,000 streams); ` +
            "nothing longer is parsed, to keep parsing under a second",
        },
      };
    }
    for (const token of parser.next(lexeme)) tokens.push(token);
    // The stack holds the open nodes, collections and others (document, scalar): only when it is
    // long can the collections in it be too many.
    if (parser.stack.length > MAX_YAML_DEPTH) {
      let depth = 0;
      for (const open of parser.stack) {
        if (open.type === "block-map" || open.type === "block-seq" || open.type === "flow-collection") {
          if (++depth > MAX_YAML_DEPTH) {
            return {
              tokens,
              refused: {
                offset: open.offset,
                reason: `Collections nested more than ${MAX_YAML_DEPTH} levels deep`,
              },
            };
          }
        }
      }
    }
  }
  for (const token of parser.end()) tokens.push(token);
  return { tokens };
}

/**
 * `DUPLICATE_KEY` errors for every map key equal to an earlier key of the same map, as `yaml`'s
 * `uniqueKeys: true` finds them (scalars by value, other keys by identity), with one set per map.
 *
 * @example
 * ```ts
 * const doc = parseDocument("a: 1\na: 2\n", { uniqueKeys: false });
 * duplicateKeyErrors(doc)[0].code; // "DUPLICATE_KEY"
 * ```
 */
export function duplicateKeyErrors(doc: Document): YAMLParseError[] {
  const errors: YAMLParseError[] = [];
  const pending: unknown[] = [doc.contents];
  const seen = new Set<unknown>();
  while (pending.length) {
    const node = pending.pop();
    if (isSeq(node)) {
      for (const item of node.items) pending.push(item);
    } else if (isMap(node)) {
      seen.clear();
      for (const pair of node.items) {
        const key = pair.key;
        // Keys that are collections equal only themselves, so they can never repeat; NaN never
        // equals NaN.
        if (isScalar(key) && !(typeof key.value === "number" && Number.isNaN(key.value))) {
          if (seen.has(key.value)) {
            const at = key.range?.[0] ?? 0;
            errors.push(new YAMLParseError([at, at + 1], "DUPLICATE_KEY", "Map keys must be unique"));
          } else {
            seen.add(key.value);
          }
        }
        pending.push(pair.key, pair.value);
      }
    }
  }
  return errors;
}
