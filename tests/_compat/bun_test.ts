/**
 * The `bun:test` API for Node and Deno, mapped onto `node:test` plus Jest's `expect` and `jest-mock`.
 *
 * Test files import from "bun:test"; on Bun that is the native runner, on Deno the deno.json import
 * map points here, and on Node the resolve hook in `register.mjs` does. Matchers come from the npm
 * `expect` package and mocks from `jest-mock`, so nothing here re-implements them.
 *
 * @module
 */
import * as nodeTest from "node:test";
import { expect } from "expect";
import { ModuleMocker } from "jest-mock";

type Fn = () => unknown | Promise<unknown>;
type Options = number | { timeout?: number };

function toOptions(options?: Options): { timeout?: number } {
  if (typeof options === "number") return { timeout: options };
  return options ?? {};
}

// Bun's default per-test timeout is 5 s; node:test has none. Keep the suites bounded everywhere.
const DEFAULT_TIMEOUT = 5_000;

// Inside a skipped describe (describe.skip / describe.skipIf(true)) the body still runs, so each of
// its tests is registered and counted as skipped one by one, as Bun counts them; its hooks do not run.
let skippedDepth = 0;

function makeIt(base: typeof nodeTest.it) {
  const it = (name: string, fn: Fn, options?: Options) =>
    skippedDepth > 0
      ? it.skip(name)
      : base(name, { timeout: DEFAULT_TIMEOUT, ...toOptions(options) }, async () => {
        await fn();
      });
  it.skip = (name: string, _fn?: Fn, _options?: Options) => base(name, { skip: true }, () => {});
  it.todo = (name: string, _fn?: Fn, _options?: Options) => base(name, { todo: true }, () => {});
  it.only = it;
  it.if = (condition: boolean) => (condition ? it : it.skip);
  it.skipIf = (condition: boolean) => (condition ? it.skip : it);
  return it;
}

export const it = makeIt(nodeTest.it);
export const test = it;

/** `fn` run with its tests registered as skipped (Deno runs a nested describe's body later, so wrap it). */
function asSkipped(fn: () => void): () => void {
  return () => {
    skippedDepth++;
    try {
      fn();
    } finally {
      skippedDepth--;
    }
  };
}

function makeDescribe() {
  const describe = (name: string, fn: () => void) =>
    nodeTest.describe(name, skippedDepth > 0 ? asSkipped(fn) : fn);
  describe.skip = (name: string, fn: () => void) => nodeTest.describe(name, asSkipped(fn));
  describe.only = describe;
  describe.if = (condition: boolean) => (condition ? describe : describe.skip);
  describe.skipIf = (condition: boolean) => (condition ? describe.skip : describe);
  return describe;
}

export const describe = makeDescribe();

// Hooks take Bun's optional timeout (ms) as a second argument; in a skipped describe they are dropped.
const hook = (base: typeof nodeTest.before) => (fn: Fn, options?: Options) => {
  if (skippedDepth > 0) return;
  base(async () => void (await fn()), { timeout: DEFAULT_HOOK_TIMEOUT, ...toOptions(options) });
};
const DEFAULT_HOOK_TIMEOUT = 60_000;

export const beforeAll = hook(nodeTest.before);
export const afterAll = hook(nodeTest.after);
export const beforeEach = hook(nodeTest.beforeEach);
export const afterEach = hook(nodeTest.afterEach);

const mocker = new ModuleMocker(globalThis as any);

/** `mock(impl)` as in Bun: a Jest mock function wrapping `impl`. */
// deno-lint-ignore no-explicit-any
export function mock<T extends (...args: any[]) => any>(impl?: T) {
  return mocker.fn(impl);
}
mock.restore = () => mocker.restoreAllMocks();

// deno-lint-ignore no-explicit-any
export function spyOn<T extends object, K extends keyof T>(object: T, method: K): any {
  // deno-lint-ignore no-explicit-any
  return mocker.spyOn(object as any, method as any);
}

export { expect };
