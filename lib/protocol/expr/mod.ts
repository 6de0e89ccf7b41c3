/**
 * `expr:` sources: a safe, bounded subset of expr-lang (go2rtc's `expr:`) whose result is the
 * real source URL; with go2rtc's `fetch()` and `match()`.
 *
 * @example
 * ```ts
 * import { registerExprSource } from "./lib/protocol/expr/mod.ts";
 * registerExprSource();
 * // streams: { cam: 'expr:let ip = "10.0.0.5"; "rtsp://" + ip + "/stream1"' }
 * ```
 *
 * @module
 */
export { ExprError, type ExprNode, type ExprProgram, MAX_SCRIPT_LENGTH, parseExpr } from "./parser.ts";
export {
  ExprFunction,
  type ExprMap,
  type ExprRunOptions,
  type ExprValue,
  FETCH_TIMEOUT_MS,
  MAX_BODY,
  MAX_FETCHES,
  MAX_STEPS,
  MAX_STRING,
  runExpr,
} from "./interpreter.ts";
export { registerExprSource, resolveExpr } from "./register.ts";
