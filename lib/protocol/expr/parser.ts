/**
 * The parser of `expr:` scripts: the subset of expr-lang (https://expr-lang.org) that go2rtc's
 * documented scripts use, parsed into a small tree. No `eval`, no access to JavaScript objects:
 * see `interpreter.ts` for what a tree may do.
 *
 * ```text
 * program  := { ("let" | "var") name "=" expr ";" } expr [";"]
 * expr     := nullish [ "?" expr ":" expr ]
 * nullish  := or { "??" or }
 * or       := and { ("||" | "or") and }          and := equality { ("&&" | "and") equality }
 * equality := compare { ("==" | "!=") compare }
 * compare  := sum { ("<" | "<=" | ">" | ">=" | "in" | "contains" | "startsWith" | "endsWith" | "matches") sum }
 * sum      := product { ("+" | "-") product }    product := unary { ("*" | "/" | "%") unary }
 * unary    := ("!" | "not" | "-" | "+") unary | postfix
 * postfix  := primary { "." name | "?." name | "[" expr "]" | "[" [expr] ":" [expr] "]" | "(" args ")" }
 * primary  := number | string | true | false | nil | name | "(" expr ")" | "[" list "]" | "{" map "}"
 * ```
 *
 * @module
 */

/**
 * A script strom cannot parse or run; `position` is the character offset in the script.
 *
 * @example
 * ```ts
 * try { parseExpr("let x = ;"); } catch (e) { if (e instanceof ExprError) console.log(e.position); } // 8
 * ```
 */
export class ExprError extends Error {
  override name = "ExprError";
  /** Offset in the script where it went wrong (-1 when not known). */
  readonly position: number;
  constructor(message: string, position = -1) {
    super(message);
    this.position = position;
  }
}

/** A node of the tree. */
export type ExprNode =
  | { type: "lit"; value: string | number | boolean | null; pos: number }
  | { type: "name"; name: string; pos: number }
  | { type: "list"; items: ExprNode[]; pos: number }
  | { type: "map"; entries: [string, ExprNode][]; pos: number }
  | { type: "unary"; op: string; arg: ExprNode; pos: number }
  | { type: "binary"; op: string; left: ExprNode; right: ExprNode; pos: number }
  | { type: "cond"; test: ExprNode; then: ExprNode; else: ExprNode; pos: number }
  | { type: "member"; object: ExprNode; name: string; optional: boolean; pos: number }
  | { type: "index"; object: ExprNode; index: ExprNode; pos: number }
  | { type: "slice"; object: ExprNode; from?: ExprNode; to?: ExprNode; pos: number }
  | { type: "call"; callee: ExprNode; args: ExprNode[]; pos: number };

/** A parsed script: variable declarations in order, then the result. */
export interface ExprProgram {
  lets: { name: string; value: ExprNode; pos: number }[];
  result: ExprNode;
}

/** The longest script accepted, in characters. */
export const MAX_SCRIPT_LENGTH = 64 * 1024;
// Nesting depth of brackets and operators, so a pathological script cannot overflow the stack.
const MAX_DEPTH = 64;

interface Token {
  kind: "num" | "str" | "name" | "punct" | "end";
  text: string;
  value?: string | number;
  pos: number;
}

const PUNCT = ["?.", "??", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", "{", "}", ",", ":", ";", ".", "?", "+", "-", "*", "/", "%", "!", "<", ">", "="];
const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0" };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (src.startsWith("//", i)) {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (src.startsWith("/*", i)) {
      const end = src.indexOf("*/", i + 2);
      if (end < 0) throw new ExprError("unclosed /* comment", i);
      i = end + 2;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c)) {
      while (i < src.length && /[0-9_.]/.test(src[i]) && !(src[i] === "." && !/[0-9]/.test(src[i + 1] ?? ""))) i++;
      const text = src.slice(start, i);
      const value = Number(text.replaceAll("_", ""));
      if (!Number.isFinite(value)) throw new ExprError(`bad number "${text}"`, start);
      tokens.push({ kind: "num", text, value, pos: start });
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      i++;
      let value = "";
      for (;;) {
        if (i >= src.length) throw new ExprError("unclosed string", start);
        const d = src[i];
        if (d === c) break;
        if (d === "\\" && c !== "`") {
          const e = src[i + 1];
          if (e === "u" && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          if (e === undefined || !(e in ESCAPES)) throw new ExprError(`unknown escape "\\${e ?? ""}" in a string`, i);
          value += ESCAPES[e];
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      tokens.push({ kind: "str", text: src.slice(start, i), value, pos: start });
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_$]/.test(src[i])) i++;
      tokens.push({ kind: "name", text: src.slice(start, i), pos: start });
      continue;
    }
    const p = PUNCT.find((x) => src.startsWith(x, i));
    if (!p) throw new ExprError(`unexpected character "${c}"`, i);
    // "?." before a digit is a ternary followed by a number (a ?.5 : b), as in JS.
    if (p === "?." && /[0-9]/.test(src[i + 2] ?? "")) {
      tokens.push({ kind: "punct", text: "?", pos: i });
      i += 1;
      continue;
    }
    tokens.push({ kind: "punct", text: p, pos: i });
    i += p.length;
  }
  tokens.push({ kind: "end", text: "end of script", pos: src.length });
  return tokens;
}

const COMPARE = new Set(["<", "<=", ">", ">=", "in", "contains", "startsWith", "endsWith", "matches"]);

class Parser {
  readonly #t: Token[];
  #i = 0;
  #depth = 0;

  constructor(tokens: Token[]) {
    this.#t = tokens;
  }

  get #peek(): Token {
    return this.#t[this.#i];
  }

  #atEnd(): boolean {
    return this.#t[this.#i].kind === "end";
  }

  #is(text: string): boolean {
    const t = this.#peek;
    return (t.kind === "punct" || t.kind === "name") && t.text === text;
  }

  #take(text: string): boolean {
    if (!this.#is(text)) return false;
    this.#i++;
    return true;
  }

  #expect(text: string): Token {
    const t = this.#peek;
    if (!this.#is(text)) throw new ExprError(`expected "${text}" but found "${t.text}"`, t.pos);
    this.#i++;
    return t;
  }

  #enter(pos: number): void {
    if (++this.#depth > MAX_DEPTH) throw new ExprError(`the script nests deeper than ${MAX_DEPTH} levels`, pos);
  }

  program(): ExprProgram {
    const lets: ExprProgram["lets"] = [];
    while (this.#is("let") || this.#is("var")) {
      const pos = this.#peek.pos;
      this.#i++;
      const name = this.#peek;
      if (name.kind !== "name") throw new ExprError(`expected a variable name but found "${name.text}"`, name.pos);
      this.#i++;
      this.#expect("=");
      const value = this.expr();
      this.#expect(";");
      lets.push({ name: name.text, value, pos });
    }
    if (this.#peek.kind === "end") {
      throw new ExprError("the script has no result: its last part must be an expression (the URL)", this.#peek.pos);
    }
    const result = this.expr();
    this.#take(";");
    if (!this.#atEnd()) {
      const t = this.#peek;
      throw new ExprError(
        `unexpected "${t.text}": only the last part may be a bare expression; declare the others with "let name = ...;"`,
        t.pos,
      );
    }
    return { lets, result };
  }

  expr(): ExprNode {
    const pos = this.#peek.pos;
    this.#enter(pos);
    try {
      const test = this.#binary(0);
      if (!this.#take("?")) return test;
      const then = this.expr();
      this.#expect(":");
      return { type: "cond", test, then, else: this.expr(), pos };
    } finally {
      this.#depth--;
    }
  }

  // Binary levels, loosest first.
  static readonly LEVELS: readonly (readonly string[])[] = [
    ["??"],
    ["||", "or"],
    ["&&", "and"],
    ["==", "!="],
    [...COMPARE],
    ["+", "-"],
    ["*", "/", "%"],
  ];

  #binary(level: number): ExprNode {
    if (level >= Parser.LEVELS.length) return this.#unary();
    let left = this.#binary(level + 1);
    for (;;) {
      const t = this.#peek;
      const op = Parser.LEVELS[level].find((o) => this.#is(o));
      if (!op) return left;
      this.#i++;
      const right = this.#binary(level + 1);
      const canonical = op === "or" ? "||" : op === "and" ? "&&" : op;
      left = { type: "binary", op: canonical, left, right, pos: t.pos };
    }
  }

  #unary(): ExprNode {
    const t = this.#peek;
    for (const op of ["!", "not", "-", "+"]) {
      if (this.#take(op)) {
        this.#enter(t.pos);
        try {
          return { type: "unary", op: op === "not" ? "!" : op, arg: this.#unary(), pos: t.pos };
        } finally {
          this.#depth--;
        }
      }
    }
    return this.#postfix(this.#primary());
  }

  #postfix(node: ExprNode): ExprNode {
    for (;;) {
      const t = this.#peek;
      if (this.#take(".") || this.#is("?.")) {
        const optional = t.text === "?.";
        if (optional) this.#i++;
        const name = this.#peek;
        if (name.kind !== "name") throw new ExprError(`expected a field name after "${t.text}"`, name.pos);
        this.#i++;
        node = { type: "member", object: node, name: name.text, optional, pos: t.pos };
      } else if (this.#take("[")) {
        this.#enter(t.pos);
        try {
          if (this.#take(":")) {
            const to = this.#is("]") ? undefined : this.expr();
            this.#expect("]");
            node = { type: "slice", object: node, to, pos: t.pos };
            continue;
          }
          const index = this.expr();
          if (this.#take(":")) {
            const to = this.#is("]") ? undefined : this.expr();
            this.#expect("]");
            node = { type: "slice", object: node, from: index, to, pos: t.pos };
            continue;
          }
          this.#expect("]");
          node = { type: "index", object: node, index, pos: t.pos };
        } finally {
          this.#depth--;
        }
      } else if (this.#take("(")) {
        this.#enter(t.pos);
        try {
          const args: ExprNode[] = [];
          while (!this.#is(")")) {
            args.push(this.expr());
            if (!this.#take(",")) break;
          }
          this.#expect(")");
          node = { type: "call", callee: node, args, pos: t.pos };
        } finally {
          this.#depth--;
        }
      } else {
        return node;
      }
    }
  }

  #primary(): ExprNode {
    const t = this.#peek;
    this.#i++;
    switch (t.kind) {
      case "num":
      case "str":
        return { type: "lit", value: t.value!, pos: t.pos };
      case "name":
        if (t.text === "true" || t.text === "false") return { type: "lit", value: t.text === "true", pos: t.pos };
        if (t.text === "nil" || t.text === "null") return { type: "lit", value: null, pos: t.pos };
        return { type: "name", name: t.text, pos: t.pos };
      case "punct":
        if (t.text === "(") {
          const inner = this.expr();
          this.#expect(")");
          return inner;
        }
        if (t.text === "[") {
          const items: ExprNode[] = [];
          while (!this.#is("]")) {
            items.push(this.expr());
            if (!this.#take(",")) break;
          }
          this.#expect("]");
          return { type: "list", items, pos: t.pos };
        }
        if (t.text === "{") {
          const entries: [string, ExprNode][] = [];
          while (!this.#is("}")) {
            const key = this.#peek;
            if (key.kind !== "name" && key.kind !== "str" && key.kind !== "num") {
              throw new ExprError(`expected a key in the map but found "${key.text}"`, key.pos);
            }
            this.#i++;
            this.#expect(":");
            entries.push([String(key.value ?? key.text), this.expr()]);
            if (!this.#take(",")) break;
          }
          this.#expect("}");
          return { type: "map", entries, pos: t.pos };
        }
    }
    throw new ExprError(`unexpected "${t.text}"`, t.pos);
  }
}

/**
 * Parses an `expr:` script (without the `expr:` prefix).
 *
 * @throws {ExprError} naming what is wrong and where.
 * @example
 * ```ts
 * parseExpr(`let host = "10.0.0.5"; "rtsp://" + host + "/stream1"`).lets[0].name; // "host"
 * ```
 */
export function parseExpr(script: string): ExprProgram {
  if (script.length > MAX_SCRIPT_LENGTH) {
    throw new ExprError(`the script is longer than ${MAX_SCRIPT_LENGTH} characters`);
  }
  return new Parser(tokenize(script)).program();
}
