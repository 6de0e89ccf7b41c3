/**
 * Runs a parsed `expr:` script. Values are strings, numbers, booleans, nil, lists, maps and the
 * built-in functions below; nothing reaches JavaScript objects or globals (maps have no
 * prototype, fields are looked up as own keys only). Bounded: at most {@link MAX_STEPS} evaluation
 * steps, {@link MAX_FETCHES} HTTP requests of at most {@link MAX_BODY} bytes and
 * {@link FETCH_TIMEOUT_MS} each, strings of at most {@link MAX_STRING} characters.
 *
 * Functions: go2rtc's `fetch(url[, {method, headers, json, data, body, params}])` (-> `{ok, status,
 * text, headers, json()}`; requests of one script share cookies; `user:pass@` in the URL answers
 * Basic or Digest challenges) and `match(text, regexp[, flags])` (-> `[whole, group1, ...]` or nil),
 * plus expr-lang's string helpers: `len`, `lower`, `upper`, `trim`, `trimPrefix`, `trimSuffix`,
 * `split`, `join`, `replace`, `indexOf`, `lastIndexOf`, `hasPrefix`, `hasSuffix`, `string`, `int`,
 * `float`, `toJSON`, `fromJSON`, `keys`, `values`, `first`, `last`, `urlencode`.
 *
 * @module
 */
import { RtspAuthClient } from "../rtsp/auth.ts";
import { ExprError, type ExprNode, type ExprProgram } from "./parser.ts";

/** Evaluation steps a script may take. */
export const MAX_STEPS = 100_000;
/** HTTP requests a script may make. */
export const MAX_FETCHES = 16;
/** Bytes read from one response at most. */
export const MAX_BODY = 4 * 1024 * 1024;
/** Per request (go2rtc: 5 s). */
export const FETCH_TIMEOUT_MS = 5000;
/** Longest string a script may build. */
export const MAX_STRING = 4 * 1024 * 1024;

/**
 * A built-in function (`fetch`, `match`, `len`...), the only callable values of a script.
 *
 * @example
 * ```ts
 * const twice = new ExprFunction("twice", ([s]) => String(s) + String(s));
 * ```
 */
export class ExprFunction {
  readonly name: string;
  readonly call: (args: ExprValue[], pos: number) => ExprValue | Promise<ExprValue>;
  constructor(name: string, call: (args: ExprValue[], pos: number) => ExprValue | Promise<ExprValue>) {
    this.name = name;
    this.call = call;
  }
}

/** What a script computes with. */
export type ExprValue = string | number | boolean | null | ExprValue[] | ExprMap | ExprFunction;
/** A map: no prototype, so `constructor`, `__proto__` are plain missing keys. */
export type ExprMap = { [key: string]: ExprValue };

function newMap(): ExprMap {
  return Object.create(null) as ExprMap;
}

function isMap(v: ExprValue): v is ExprMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof ExprFunction);
}

function typeName(v: ExprValue): string {
  if (v === null) return "nil";
  if (Array.isArray(v)) return "list";
  if (v instanceof ExprFunction) return "function";
  if (typeof v === "object") return "map";
  return typeof v === "number" ? "number" : typeof v === "boolean" ? "bool" : "string";
}

function truthy(v: ExprValue): boolean {
  return v !== null && v !== false && v !== 0 && v !== "";
}

function toText(v: ExprValue): string {
  if (typeof v === "string") return v;
  if (v === null) return "";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(toJson(v));
}

function toJson(v: ExprValue): unknown {
  if (v instanceof ExprFunction) return null;
  if (Array.isArray(v)) return v.map(toJson);
  if (isMap(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = toJson(v[k]);
    return out;
  }
  return v;
}

function fromJson(x: unknown): ExprValue {
  if (x === null || x === undefined) return null;
  if (typeof x === "string" || typeof x === "number" || typeof x === "boolean") return x;
  if (Array.isArray(x)) return x.map(fromJson);
  if (typeof x === "object") {
    const m = newMap();
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) m[k] = fromJson(v);
    return m;
  }
  return null;
}

function equal(a: ExprValue, b: ExprValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(toJson(a)) === JSON.stringify(toJson(b));
}

/** Options of {@link runExpr}. */
export interface ExprRunOptions {
  /** Aborts requests in flight (dial aborted). */
  signal?: AbortSignal;
  /** The HTTP client; default the global `fetch`. */
  fetch?: typeof fetch;
}

/**
 * Runs a parsed script and returns its result.
 *
 * @throws {ExprError} for a runtime error (wrong types, unknown names, limits, failed requests).
 * @example
 * ```ts
 * await runExpr(parseExpr(`let n = 2; "cam" + string(n)`)); // "cam2"
 * ```
 */
export async function runExpr(program: ExprProgram, options: ExprRunOptions = {}): Promise<ExprValue> {
  return await new Interpreter(options).run(program);
}

class Interpreter {
  readonly #vars = new Map<string, ExprValue>();
  readonly #builtins = new Map<string, ExprFunction>();
  readonly #options: ExprRunOptions;
  readonly #cookies = new Map<string, Map<string, string>>(); // host -> name -> value
  #steps = 0;
  #fetches = 0;

  constructor(options: ExprRunOptions) {
    this.#options = options;
    this.#defineBuiltins();
  }

  async run(program: ExprProgram): Promise<ExprValue> {
    for (const l of program.lets) {
      if (this.#builtins.has(l.name)) throw new ExprError(`"${l.name}" is a built-in function; pick another name`, l.pos);
      this.#vars.set(l.name, await this.#eval(l.value));
    }
    return await this.#eval(program.result);
  }

  #string(s: string, pos: number): string {
    if (s.length > MAX_STRING) throw new ExprError(`a string grew past ${MAX_STRING} characters`, pos);
    return s;
  }

  async #eval(n: ExprNode): Promise<ExprValue> {
    if (++this.#steps > MAX_STEPS) throw new ExprError(`the script took more than ${MAX_STEPS} steps`, n.pos);
    switch (n.type) {
      case "lit":
        return n.value;
      case "name": {
        if (this.#vars.has(n.name)) return this.#vars.get(n.name)!;
        const fn = this.#builtins.get(n.name);
        if (fn) return fn;
        throw new ExprError(`unknown name "${n.name}"`, n.pos);
      }
      case "list": {
        const out: ExprValue[] = [];
        for (const item of n.items) out.push(await this.#eval(item));
        return out;
      }
      case "map": {
        const m = newMap();
        for (const [k, v] of n.entries) m[k] = await this.#eval(v);
        return m;
      }
      case "unary": {
        const v = await this.#eval(n.arg);
        if (n.op === "!") return !truthy(v);
        if (typeof v !== "number") throw new ExprError(`"${n.op}" needs a number, not ${typeName(v)}`, n.pos);
        return n.op === "-" ? -v : v;
      }
      case "cond":
        return truthy(await this.#eval(n.test)) ? await this.#eval(n.then) : await this.#eval(n.else);
      case "binary":
        return await this.#binary(n);
      case "member": {
        const o = await this.#eval(n.object);
        if (o === null && n.optional) return null;
        if (!isMap(o)) throw new ExprError(`cannot read ".${n.name}" of ${typeName(o)}`, n.pos);
        return Object.hasOwn(o, n.name) ? o[n.name] : null;
      }
      case "index": {
        const o = await this.#eval(n.object);
        const i = await this.#eval(n.index);
        if (Array.isArray(o) || typeof o === "string") {
          if (typeof i !== "number" || !Number.isInteger(i)) throw new ExprError(`an index must be a whole number, not ${typeName(i)}`, n.pos);
          const at = i < 0 ? o.length + i : i;
          if (at < 0 || at >= o.length) throw new ExprError(`index ${i} is out of range (length ${o.length})`, n.pos);
          return o[at];
        }
        if (isMap(o)) {
          const key = toText(i);
          return Object.hasOwn(o, key) ? o[key] : null;
        }
        throw new ExprError(`cannot index ${typeName(o)}`, n.pos);
      }
      case "slice": {
        const o = await this.#eval(n.object);
        if (!Array.isArray(o) && typeof o !== "string") throw new ExprError(`cannot slice ${typeName(o)}`, n.pos);
        const from = n.from ? await this.#eval(n.from) : 0;
        const to = n.to ? await this.#eval(n.to) : o.length;
        if (typeof from !== "number" || typeof to !== "number") throw new ExprError("slice bounds must be numbers", n.pos);
        return o.slice(from, to);
      }
      case "call": {
        const fn = await this.#eval(n.callee);
        if (!(fn instanceof ExprFunction)) throw new ExprError(`${typeName(fn)} is not a function`, n.pos);
        const args: ExprValue[] = [];
        for (const a of n.args) args.push(await this.#eval(a));
        return await fn.call(args, n.pos);
      }
    }
  }

  async #binary(n: Extract<ExprNode, { type: "binary" }>): Promise<ExprValue> {
    const left = await this.#eval(n.left);
    // Short-circuit operators evaluate the right side only when needed.
    if (n.op === "&&") return truthy(left) ? truthy(await this.#eval(n.right)) : false;
    if (n.op === "||") return truthy(left) ? true : truthy(await this.#eval(n.right));
    if (n.op === "??") return left !== null ? left : await this.#eval(n.right);
    const right = await this.#eval(n.right);
    const bad = () => new ExprError(`"${n.op}" cannot combine ${typeName(left)} and ${typeName(right)}`, n.pos);
    switch (n.op) {
      case "==":
        return equal(left, right);
      case "!=":
        return !equal(left, right);
      case "+":
        if (typeof left === "number" && typeof right === "number") return left + right;
        if (typeof left === "string" || typeof right === "string") {
          if (typeof left === "object" || typeof right === "object") throw bad();
          return this.#string(toText(left) + toText(right), n.pos);
        }
        if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
        throw bad();
      case "-":
      case "*":
      case "/":
      case "%":
        if (typeof left !== "number" || typeof right !== "number") throw bad();
        return n.op === "-" ? left - right : n.op === "*" ? left * right : n.op === "/" ? left / right : left % right;
      case "<":
      case "<=":
      case ">":
      case ">=":
        if (!((typeof left === "number" && typeof right === "number") || (typeof left === "string" && typeof right === "string"))) {
          throw bad();
        }
        return n.op === "<" ? left < right : n.op === "<=" ? left <= right : n.op === ">" ? left > right : left >= right;
      case "contains":
      case "startsWith":
      case "endsWith":
        if (typeof left !== "string" || typeof right !== "string") throw bad();
        return n.op === "contains" ? left.includes(right) : n.op === "startsWith" ? left.startsWith(right) : left.endsWith(right);
      case "matches":
        if (typeof left !== "string" || typeof right !== "string") throw bad();
        return regexp(right, "", n.pos).test(left);
      case "in":
        if (Array.isArray(right)) return right.some((x) => equal(x, left));
        if (isMap(right)) return Object.hasOwn(right, toText(left));
        if (typeof right === "string" && typeof left === "string") return right.includes(left);
        throw bad();
    }
    throw new ExprError(`unknown operator "${n.op}"`, n.pos);
  }

  #defineBuiltins(): void {
    const def = (name: string, min: number, max: number, fn: (a: ExprValue[], pos: number) => ExprValue | Promise<ExprValue>) => {
      this.#builtins.set(
        name,
        new ExprFunction(name, (args, pos) => {
          if (args.length < min || args.length > max) {
            throw new ExprError(`${name}() takes ${min === max ? min : `${min} to ${max}`} arguments, not ${args.length}`, pos);
          }
          return fn(args, pos);
        }),
      );
    };
    const str = (name: string, v: ExprValue, pos: number): string => {
      if (typeof v !== "string") throw new ExprError(`${name}() needs a string, not ${typeName(v)}`, pos);
      return v;
    };
    def("fetch", 1, 2, (a, pos) => this.#fetch(str("fetch", a[0], pos), a[1] ?? null, pos));
    def("match", 2, 3, (a, pos) => {
      const m = regexp(str("match", a[1], pos), a[2] === undefined ? "" : str("match", a[2], pos), pos).exec(str("match", a[0], pos));
      return m ? m.map((x) => x ?? "") : null;
    });
    def("len", 1, 1, (a, pos) => {
      const v = a[0];
      if (typeof v === "string" || Array.isArray(v)) return v.length;
      if (isMap(v)) return Object.keys(v).length;
      throw new ExprError(`len() needs a string, list or map, not ${typeName(v)}`, pos);
    });
    def("lower", 1, 1, (a, pos) => str("lower", a[0], pos).toLowerCase());
    def("upper", 1, 1, (a, pos) => str("upper", a[0], pos).toUpperCase());
    def("trim", 1, 2, (a, pos) => {
      const s = str("trim", a[0], pos);
      if (a[1] === undefined) return s.trim();
      const cut = str("trim", a[1], pos);
      let i = 0;
      let j = s.length;
      while (i < j && cut.includes(s[i])) i++;
      while (j > i && cut.includes(s[j - 1])) j--;
      return s.slice(i, j);
    });
    def("trimPrefix", 2, 2, (a, pos) => {
      const s = str("trimPrefix", a[0], pos);
      const p = str("trimPrefix", a[1], pos);
      return s.startsWith(p) ? s.slice(p.length) : s;
    });
    def("trimSuffix", 2, 2, (a, pos) => {
      const s = str("trimSuffix", a[0], pos);
      const p = str("trimSuffix", a[1], pos);
      return p && s.endsWith(p) ? s.slice(0, -p.length) : s;
    });
    def("split", 2, 2, (a, pos) => str("split", a[0], pos).split(str("split", a[1], pos)));
    def("join", 1, 2, (a, pos) => {
      if (!Array.isArray(a[0])) throw new ExprError(`join() needs a list, not ${typeName(a[0])}`, pos);
      return this.#string(a[0].map(toText).join(a[1] === undefined ? "" : str("join", a[1], pos)), pos);
    });
    def("replace", 3, 3, (a, pos) =>
      this.#string(str("replace", a[0], pos).replaceAll(str("replace", a[1], pos), str("replace", a[2], pos)), pos));
    def("indexOf", 2, 2, (a, pos) => str("indexOf", a[0], pos).indexOf(str("indexOf", a[1], pos)));
    def("lastIndexOf", 2, 2, (a, pos) => str("lastIndexOf", a[0], pos).lastIndexOf(str("lastIndexOf", a[1], pos)));
    def("hasPrefix", 2, 2, (a, pos) => str("hasPrefix", a[0], pos).startsWith(str("hasPrefix", a[1], pos)));
    def("hasSuffix", 2, 2, (a, pos) => str("hasSuffix", a[0], pos).endsWith(str("hasSuffix", a[1], pos)));
    def("string", 1, 1, (a) => toText(a[0]));
    def("int", 1, 1, (a, pos) => {
      const v = typeof a[0] === "string" ? Number(a[0].trim()) : a[0];
      if (typeof v !== "number" || !Number.isFinite(v)) throw new ExprError(`int() cannot convert ${toText(a[0])}`, pos);
      return Math.trunc(v);
    });
    def("float", 1, 1, (a, pos) => {
      const v = typeof a[0] === "string" ? Number(a[0].trim()) : a[0];
      if (typeof v !== "number" || Number.isNaN(v)) throw new ExprError(`float() cannot convert ${toText(a[0])}`, pos);
      return v;
    });
    def("toJSON", 1, 1, (a) => JSON.stringify(toJson(a[0])));
    def("fromJSON", 1, 1, (a, pos) => {
      try {
        return fromJson(JSON.parse(str("fromJSON", a[0], pos)));
      } catch (error) {
        if (error instanceof ExprError) throw error;
        throw new ExprError(`fromJSON(): not JSON (${(error as Error).message})`, pos);
      }
    });
    def("keys", 1, 1, (a, pos) => {
      if (!isMap(a[0])) throw new ExprError(`keys() needs a map, not ${typeName(a[0])}`, pos);
      return Object.keys(a[0]);
    });
    def("values", 1, 1, (a, pos) => {
      const m = a[0];
      if (!isMap(m)) throw new ExprError(`values() needs a map, not ${typeName(m)}`, pos);
      return Object.keys(m).map((k) => m[k]);
    });
    def("first", 1, 1, (a) => (Array.isArray(a[0]) && a[0].length ? a[0][0] : null));
    def("last", 1, 1, (a) => (Array.isArray(a[0]) && a[0].length ? a[0][a[0].length - 1] : null));
    def("urlencode", 1, 1, (a, pos) => encodeURIComponent(str("urlencode", a[0], pos)));
  }

  async #fetch(rawUrl: string, options: ExprValue, pos: number): Promise<ExprValue> {
    if (++this.#fetches > MAX_FETCHES) throw new ExprError(`the script made more than ${MAX_FETCHES} requests`, pos);
    if (options !== null && !isMap(options)) throw new ExprError(`fetch() options must be a map, not ${typeName(options)}`, pos);
    const opt = options ?? newMap();
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new ExprError(`fetch(): "${rawUrl}" is not a URL`, pos);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ExprError(`fetch() takes http:// and https:// URLs, not ${url.protocol}//`, pos);
    }
    const auth = url.username || url.password
      ? new RtspAuthClient(decodeURIComponent(url.username), decodeURIComponent(url.password))
      : undefined;
    url.username = "";
    url.password = "";
    const params = opt.params;
    if (isMap(params)) {
      for (const k of Object.keys(params)) url.searchParams.append(k, toText(params[k]));
    }
    const method = typeof opt.method === "string" ? opt.method.toUpperCase() : "GET";
    const headers = new Headers();
    let body: string | undefined;
    if (opt.json !== undefined && opt.json !== null) {
      body = JSON.stringify(toJson(opt.json));
      headers.set("Content-Type", "application/json");
    } else if (isMap(opt.data)) {
      const form = new URLSearchParams();
      for (const k of Object.keys(opt.data)) form.append(k, toText(opt.data[k]));
      body = form.toString();
      headers.set("Content-Type", "application/x-www-form-urlencoded");
    } else if (typeof opt.body === "string") {
      body = opt.body;
    }
    if (isMap(opt.headers)) {
      for (const k of Object.keys(opt.headers)) {
        try {
          headers.set(k, toText(opt.headers[k]));
        } catch {
          throw new ExprError(`fetch(): bad header "${k}"`, pos);
        }
      }
    }
    const jar = this.#cookies.get(url.host);
    if (jar?.size) headers.set("Cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));

    const doFetch = (fetch_: typeof fetch) => {
      const authorization = auth?.authorization(method, url.pathname + url.search);
      if (authorization) headers.set("Authorization", authorization);
      const timeout = AbortSignal.timeout(FETCH_TIMEOUT_MS);
      const signal = this.#options.signal ? AbortSignal.any([this.#options.signal, timeout]) : timeout;
      return fetch_(url, { method, headers, body, signal, redirect: "follow" });
    };
    const fetch_ = this.#options.fetch ?? fetch;
    let res: Response;
    let text: string;
    try {
      res = await doFetch(fetch_);
      if (res.status === 401 && auth) {
        const challenge = res.headers.get("www-authenticate") ?? "";
        await res.body?.cancel().catch(() => {});
        if (auth.challenge([challenge])) res = await doFetch(fetch_);
      }
      this.#keepCookies(url.host, res.headers);
      text = await readText(res, MAX_BODY);
    } catch (error) {
      if (error instanceof ExprError) throw error;
      const cause = (error as { cause?: { message?: string; code?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new ExprError(`fetch(${url.origin}${url.pathname}) failed: ${why}`, pos);
    }
    const result = newMap();
    result.ok = res.status < 400;
    // Go's http.Response.Status, as go2rtc returns it: "200 OK".
    result.status = `${res.status}${res.statusText ? " " + res.statusText : ""}`;
    result.text = text;
    const h = newMap();
    res.headers.forEach((value, key) => (h[key] = value));
    result.headers = h;
    result.json = new ExprFunction("json", () => {
      try {
        return fromJson(JSON.parse(text));
      } catch {
        return null; // go2rtc: json() of a non-JSON body is nil
      }
    });
    return result;
  }

  #keepCookies(host: string, headers: Headers): void {
    const list = typeof headers.getSetCookie === "function" ? headers.getSetCookie() : [];
    if (!list.length) return;
    let jar = this.#cookies.get(host);
    if (!jar) this.#cookies.set(host, jar = new Map());
    for (const line of list) {
      const pair = line.split(";")[0];
      const eq = pair.indexOf("=");
      if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
}

function regexp(pattern: string, flags: string, pos: number): RegExp {
  if (!/^[ims]*$/.test(flags)) throw new ExprError(`regexp flags are i, m and s, not "${flags}"`, pos);
  try {
    return new RegExp(pattern, flags);
  } catch (error) {
    throw new ExprError(`bad regexp "${pattern}": ${(error as Error).message}`, pos);
  }
}

async function readText(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel().catch(() => {});
        throw new ExprError(`a response was larger than ${max} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const all = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return new TextDecoder().decode(all);
}
