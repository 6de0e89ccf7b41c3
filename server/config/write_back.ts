/**
 * Editing the config file's text without losing the user's comments and formatting (what go2rtc's
 * `pkg/yaml.Patch` does for `PUT`/`DELETE /api/streams`).
 *
 * Each edit is made twice:
 * 1. with yaml's Document API (`parseDocument`, `setIn`/`deleteIn`, `toString`): always correct,
 *    keeps comments, but re-renders the whole file (comment alignment, flow padding, folded text);
 * 2. as a text splice at the edited key only (block-style maps, the common case), leaving every other
 *    byte alone.
 * The splice is used when re-parsing it gives exactly the data of (1); otherwise (flow-style maps,
 * anchors, exotic layouts) the Document API rendering is returned.
 *
 * @module
 */
import {
  Document,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  Pair,
  Scalar,
  visit,
  YAMLMap,
} from "yaml";
import type { Node as YamlNode, ToStringOptions } from "yaml";
import { ConfigError } from "./errors.ts";
import { parseYaml } from "./yaml_parse.ts";

/** A key path into the YAML document: map keys, or indexes into lists. */
export type YamlPath = readonly (string | number)[];

/**
 * Sets (creates or replaces) a stream's sources. One source is written as a plain string (go2rtc
 * style), several as a list, `null` or `[]` as an empty value (a push-only stream). A missing
 * `streams:` section is created.
 *
 * @example
 * ```ts
 * text = setStream(text, "garage", ["rtsp://10.0.0.5/1", "ffmpeg:garage#video=h264"]);
 * ```
 */
export function setStream(text: string, name: string, sources: readonly string[] | null): string {
  const value = sources === null || sources.length === 0
    ? null
    : sources.length === 1
    ? sources[0]
    : [...sources];
  return setIn(text, ["streams", name], value);
}

/**
 * Removes a stream from `streams:`; returns the text unchanged when it is not there.
 *
 * @example
 * ```ts
 * text = deleteStream(text, "garage");
 * ```
 */
export function deleteStream(text: string, name: string): string {
  return deleteIn(text, ["streams", name]);
}

/**
 * Sets the value at `path` (plain JSON-like data), creating missing maps on the way, keeping comments
 * and formatting elsewhere. Throws `ConfigError` when `text` is not valid YAML.
 *
 * @example
 * ```ts
 * text = setIn(text, ["api", "listen"], ":8080");
 * text = setIn(text, ["preload", "front_door"], "video&audio");
 * ```
 */
export function setIn(text: string, path: YamlPath, value: unknown): string {
  if (value === undefined) return deleteIn(text, path);
  return edit(text, (doc, style) => {
    apiSetIn(doc, path, value);
    return style;
  }, (t, doc, style) => spliceSet(t, doc, path, value, style));
}

/**
 * Deletes the key at `path`; returns the text unchanged when it is not there.
 *
 * @example
 * ```ts
 * text = deleteIn(text, ["preload", "front_door"]);
 * ```
 */
export function deleteIn(text: string, path: YamlPath): string {
  if (path.length === 0) return "";
  const probe = parse(text.replace(/\r\n/g, "\n"));
  if (!probe.hasIn(path)) return text;
  return edit(text, (doc, style) => {
    doc.deleteIn(path);
    return style;
  }, (t, doc) => spliceDelete(t, doc, path));
}

// --- the two-way edit ----------------------------------------------------------------------------

interface Style {
  indent: number;
  indentSeq: boolean;
  flowCollectionPadding: boolean;
}

function edit(
  original: string,
  viaApi: (doc: Document, style: Style) => Style,
  viaSplice: (text: string, doc: Document, style: Style) => string | undefined,
): string {
  const crlf = original.includes("\r\n");
  const text = crlf ? original.replace(/\r\n/g, "\n") : original;
  const style = detectStyle(text);

  const expectedDoc = parse(text);
  viaApi(expectedDoc, style);
  const rendered = expectedDoc.toString(toStringOptions(style));
  const expected = JSON.stringify(expectedDoc.toJS());

  let result = rendered;
  let candidate: string | undefined;
  try {
    candidate = viaSplice(text, parse(text), style);
  } catch {
    candidate = undefined;
  }
  if (candidate !== undefined) {
    const check = parseYaml(candidate, PARSE_OPTIONS);
    if (check.errors.length === 0 && JSON.stringify(check.toJS()) === expected) result = candidate;
  }
  return crlf ? result.replace(/\n/g, "\r\n") : result;
}

const PARSE_OPTIONS = { merge: true } as const;

function parse(text: string): Document {
  const doc = parseYaml(text, PARSE_OPTIONS);
  if (doc.errors.length) {
    const e = doc.errors[0];
    const before = text.slice(0, e.pos[0]);
    throw new ConfigError({
      file: "<config file>",
      line: before.split("\n").length,
      column: e.pos[0] - lineStart(text, e.pos[0]) + 1,
      reason: `cannot edit the config file, it is not valid YAML: ${e.message}`,
      cause: e,
    });
  }
  return doc;
}

function toStringOptions(style: Style): ToStringOptions {
  return {
    indent: style.indent,
    indentSeq: style.indentSeq,
    flowCollectionPadding: style.flowCollectionPadding,
    lineWidth: 0,
    nullStr: "",
  };
}

// --- Document API edit ----------------------------------------------------------------------------

function apiSetIn(doc: Document, path: YamlPath, value: unknown): void {
  if (
    doc.contents != null && !isCollection(doc.contents) &&
    !(isScalar(doc.contents) && doc.contents.value == null)
  ) {
    throw new ConfigError({
      file: "<config file>",
      reason: "cannot edit the config file: its top level is not a map",
    });
  }
  if (isScalar(doc.contents)) doc.contents = null;
  // yaml's setIn refuses to descend into a scalar (e.g. an empty `streams:`); make each parent a map.
  for (let i = 1; i < path.length; i++) {
    const prefix = path.slice(0, i);
    const parent = doc.getIn(prefix, true) as YamlNode | undefined;
    if (parent !== undefined && !isCollection(parent)) {
      doc.setIn(prefix, carryComments(parent, new YAMLMap()));
    }
  }
  const old = doc.getIn(path, true) as YamlNode | undefined;
  if (isScalar(old) && !isCollectionValue(value)) {
    if (typeof old.value !== typeof value) delete old.tag;
    old.value = value;
    return;
  }
  const node = doc.createNode(value) as YamlNode;
  doc.setIn(path, old ? carryComments(old, node) : node);
}

function carryComments<T extends YamlNode>(from: YamlNode, to: T): T {
  if (from.commentBefore) to.commentBefore = from.commentBefore;
  if (from.comment) to.comment = from.comment;
  if (from.spaceBefore) to.spaceBefore = from.spaceBefore;
  return to;
}

function isCollectionValue(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}

// --- splice edit ----------------------------------------------------------------------------------

function spliceSet(
  text: string,
  doc: Document,
  path: YamlPath,
  value: unknown,
  style: Style,
): string | undefined {
  let node = doc.contents as YamlNode | null;
  if (node == null || (isScalar(node) && node.value == null)) {
    // Empty document (maybe just comments): append the new top-level key.
    if (typeof path[0] !== "string") return undefined;
    const pair = renderPair(path[0], nest(path.slice(1), value), style);
    return text + (text === "" || text.endsWith("\n") ? "" : "\n") + pair + "\n";
  }
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    if (typeof key !== "string" || !isBlockMap(node)) return undefined;
    const pair = findPair(node, key);
    if (!pair) return insertPair(text, node, key, nest(path.slice(i + 1), value), style);
    if (i === path.length - 1) return replaceValue(text, pair, value, style);
    const v = pair.value as YamlNode | null;
    if (v == null || (isScalar(v) && v.value == null)) {
      return replaceValue(text, pair, nest(path.slice(i + 1), value), style);
    }
    node = v;
  }
  return undefined;
}

function spliceDelete(text: string, doc: Document, path: YamlPath): string | undefined {
  let node = doc.contents as YamlNode | null;
  let parentPair: Pair | undefined;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    if (typeof key !== "string" || !isBlockMap(node)) return undefined;
    const pair = findPair(node, key);
    if (!pair) return text;
    if (i < path.length - 1) {
      parentPair = pair;
      node = pair.value as YamlNode | null;
      continue;
    }
    if (node.items.length === 1) {
      // Deleting the only entry: `streams:\n  cam: x` becomes `streams: {}` (an empty map, not null).
      return parentPair ? replaceValue(text, parentPair, {}, undefined) : undefined;
    }
    const keyNode = pair.key as YamlNode;
    const keyStart = keyNode.range?.[0];
    if (keyStart === undefined || !startsLine(text, keyStart)) return undefined;
    // Comment lines directly above the entry describe it and go with it.
    const start = includeCommentsAbove(text, lineStart(text, keyStart), keyStart - lineStart(text, keyStart));
    const end = endOfPair(text, pair);
    if (end === undefined) return undefined;
    return text.slice(0, start) + text.slice(end);
  }
  return undefined;
}

/** Appends `key: value` as the last entry of a block map, at the indentation of its entries. */
function insertPair(
  text: string,
  map: YAMLMap,
  key: string,
  value: unknown,
  style: Style,
): string | undefined {
  const first = map.items[0] as Pair | undefined;
  const last = map.items[map.items.length - 1] as Pair | undefined;
  const firstStart = (first?.key as YamlNode | undefined)?.range?.[0];
  if (!last || firstStart === undefined || !startsLine(text, firstStart)) return undefined;
  const indent = text.slice(lineStart(text, firstStart), firstStart);
  const end = endOfPair(text, last);
  if (end === undefined) return undefined;
  const lines = renderPair(key, value, style).split("\n").map((l) => (l ? indent + l : l)).join("\n");
  const before = text.slice(0, end);
  const gap = before === "" || before.endsWith("\n") ? "" : "\n";
  return before + gap + lines + "\n" + text.slice(end);
}

/** Replaces the value of an existing `key: value` entry, keeping a comment on the key's line. */
function replaceValue(
  text: string,
  pair: Pair,
  value: unknown,
  style: Style | undefined,
): string | undefined {
  const keyNode = pair.key as YamlNode | null;
  const keyRange = keyNode?.range;
  if (!keyRange || !startsLine(text, keyRange[0])) return undefined;
  const colon = skipSpaces(text, keyRange[1]);
  if (text[colon] !== ":") return undefined;
  const indent = text.slice(lineStart(text, keyRange[0]), keyRange[0]);
  const old = pair.value as YamlNode | null;
  // Keep the quoting the user chose (plain, 'single', "double"); block styles only suit multi-line text.
  const oldType = isScalar(old) && typeof old.value === "string" && typeof value === "string" &&
      (old.type === "PLAIN" || old.type === "QUOTE_SINGLE" || old.type === "QUOTE_DOUBLE")
    ? old.type
    : undefined;
  const rendered = renderValue(value, style ?? detectStyle(text), oldType).split("\n");
  const head = rendered[0];
  const tail = rendered.slice(1).map((l) => "\n" + (l ? indent + l : l)).join("");

  const oldRange = old?.range;
  const oldIsBlock = oldRange != null && oldRange[1] > oldRange[0] && text[oldRange[1] - 1] === "\n";
  if (oldIsBlock) {
    // Old value spans lines below the key (block list/map/scalar): replace from the colon to its end.
    const keyLineEnd = lineEndNoNewline(text, colon);
    const comment = commentOf(text.slice(colon + 1, Math.min(keyLineEnd, oldRange[0])));
    if (comment === undefined) return undefined;
    return text.slice(0, colon + 1) + head + comment + tail + "\n" + text.slice(oldRange[1]);
  }
  const oldStart = oldRange && oldRange[1] > oldRange[0] ? oldRange[0] : colon + 1;
  const oldEnd = oldRange && oldRange[1] > oldRange[0] ? oldRange[1] : colon + 1;
  if (tail === "") {
    // Inline to inline: swap just the value text; the rest of the line (a comment) stays.
    const replacement = oldStart === colon + 1 ? head : head.trimStart();
    return text.slice(0, oldStart) + replacement + text.slice(oldEnd);
  }
  // Inline to block: the comment that followed the old value moves up to the key's line.
  const lineEnd = lineEndNoNewline(text, oldEnd);
  const comment = commentOf(text.slice(oldEnd, lineEnd));
  if (comment === undefined) return undefined;
  return text.slice(0, colon + 1) + head + comment + tail + text.slice(lineEnd);
}

/** `" # text"` for a comment, `""` for blanks, `undefined` for anything else. */
function commentOf(rest: string): string | undefined {
  const t = rest.trim();
  if (t === "") return "";
  return t.startsWith("#") ? ` ${t}` : undefined;
}

/** `key: value` rendered at column 0, without a final newline. */
function renderPair(key: string, value: unknown, style: Style): string {
  const doc = new Document();
  const map = new YAMLMap();
  map.items.push(new Pair(doc.createNode(key), doc.createNode(value)));
  doc.contents = map;
  return doc.toString(toStringOptions(style)).replace(/\n$/, "");
}

/**
 * The text that follows `key:` for `value`: `" x"` for inline values, or a first line (`""`, `" |-"`)
 * followed by lines indented relative to the key.
 */
function renderValue(value: unknown, style: Style, oldType: Scalar.Type | undefined): string {
  const doc = new Document();
  const node = doc.createNode(value);
  if (oldType && isScalar(node)) node.type = oldType;
  const map = new YAMLMap();
  map.items.push(new Pair(new Scalar("k"), node));
  doc.contents = map;
  const out = doc.toString(toStringOptions(style)).replace(/\n$/, "");
  return out.slice(2); // drop "k:"
}

/** Wraps `value` in maps for the remaining keys: `nest(["a", "b"], 1)` is `{a: {b: 1}}`. */
function nest(keys: YamlPath, value: unknown): unknown {
  let out = value;
  for (let i = keys.length - 1; i >= 0; i--) out = { [keys[i]]: out };
  return out;
}

function isBlockMap(node: unknown): node is YAMLMap {
  return isMap(node) && !node.flow;
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  for (const item of map.items) {
    const k = item.key as YamlNode | null;
    if (isScalar(k) && (k.value === key || (k.value != null && String(k.value) === key))) return item as Pair;
  }
  return undefined;
}

/** Offset just past the last line of a pair (after its newline), or the end of the text. */
function endOfPair(text: string, pair: Pair): number | undefined {
  const v = pair.value as YamlNode | null;
  const range = v?.range ?? (pair.key as YamlNode | null)?.range;
  if (!range) return undefined;
  const end = range[1];
  if (end > 0 && text[end - 1] === "\n") return end;
  const nl = text.indexOf("\n", end);
  return nl === -1 ? text.length : nl + 1;
}

/** Moves `start` up over comment lines directly above it at the same indentation. */
function includeCommentsAbove(text: string, start: number, indent: number): number {
  while (start > 0) {
    const prev = lineStart(text, start - 1);
    const line = text.slice(prev, start - 1);
    const body = line.trimStart();
    if (!body.startsWith("#") || line.length - body.length !== indent) break;
    start = prev;
  }
  return start;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

function lineEndNoNewline(text: string, offset: number): number {
  const nl = text.indexOf("\n", offset);
  return nl === -1 ? text.length : nl;
}

function startsLine(text: string, offset: number): boolean {
  return text.slice(lineStart(text, offset), offset).trim() === "";
}

function skipSpaces(text: string, offset: number): number {
  while (text[offset] === " " || text[offset] === "\t") offset++;
  return offset;
}

/** Indentation width, list indentation and flow padding as the file already uses them. */
function detectStyle(text: string): Style {
  const style: Style = { indent: 2, indentSeq: true, flowCollectionPadding: true };
  const indented = /^( +)[^\s#-]/m.exec(text);
  if (indented) style.indent = Math.min(8, indented[1].length);
  if (/^( *)[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\n\1- /m.test(text)) style.indentSeq = false;
  let doc: Document | undefined;
  try {
    doc = parseYaml(text, PARSE_OPTIONS);
  } catch {
    return style;
  }
  visit(doc, (_key, node) => {
    if ((isMap(node) || isSeq(node)) && node.flow && node.range && node.items.length > 0) {
      style.flowCollectionPadding = text[node.range[0] + 1] === " ";
      return visit.BREAK;
    }
  });
  return style;
}
