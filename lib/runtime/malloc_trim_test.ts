import { afterEach, describe, expect, test } from "bun:test";
import { execFile } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeName } from "./env.ts";
import { SERVE_MALLOC_TRIM_MS, trimMallocPeriodically } from "./malloc_trim.ts";

const saved = process.env.STROM_MALLOC_TRIM_MS;
const onDeno = runtimeName() === "deno";
// Read only on Deno (every use is Deno's): a diagnostic report costs Node and Bun for nothing.
const onGlibcLinux = onDeno && process.platform === "linux" &&
  // deno-lint-ignore no-explicit-any
  (process.report?.getReport() as any)?.header?.glibcVersionRuntime !== undefined;

interface ProbeResult {
  applied: boolean;
  reason?: string;
  periodMs?: number;
  intact: boolean;
  released: number;
  beforeMB: number;
  afterMB: number;
}

/** Runs testdata/malloc_trim_probe.ts in a fresh Deno process with the given permissions. */
function probe(permissions: string[], env: Record<string, string> = {}): Promise<ProbeResult> {
  const script = fileURLToPath(new URL("./testdata/malloc_trim_probe.ts", import.meta.url));
  const args = ["run", "--no-check", "--v8-flags=--expose-gc", ...permissions, script];
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  if (!("STROM_MALLOC_TRIM_MS" in env)) delete childEnv.STROM_MALLOC_TRIM_MS;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env: childEnv, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`malloc_trim probe failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "{}"));
    });
  });
}

describe("C heap trimming for strom serve", () => {
  afterEach(() => {
    if (saved === undefined) delete process.env.STROM_MALLOC_TRIM_MS;
    else process.env.STROM_MALLOC_TRIM_MS = saved;
  });

  test("only on Deno; 0 turns it off; a bad value is an error naming the variable and its range", () => {
    process.env.STROM_MALLOC_TRIM_MS = "0";
    expect(trimMallocPeriodically()).toEqual({ applied: false, reason: "disabled" });
    for (const bad of ["x", "-1", "2.5", "3600001"]) {
      process.env.STROM_MALLOC_TRIM_MS = bad;
      expect(() => trimMallocPeriodically()).toThrow(
        `STROM_MALLOC_TRIM_MS="${bad}" is not a whole number from 0 to 3600000`,
      );
    }
    delete process.env.STROM_MALLOC_TRIM_MS;
    const trim = trimMallocPeriodically();
    if (trim.applied) trim.stop();
    if (!onDeno) expect(trim).toEqual({ applied: false, reason: "not-deno" });
    else if (onGlibcLinux) expect(trim.applied && trim.periodMs).toBe(SERVE_MALLOC_TRIM_MS);
  });

  test.skipIf(!onDeno || !onGlibcLinux)(
    "gives freed C heap pages back to the system, and leaves live buffers intact (Deno on glibc Linux)",
    async () => {
      const r = await probe(["--allow-env", "--allow-ffi", "--allow-read"]);
      expect(r).toMatchObject({ applied: true, periodMs: SERVE_MALLOC_TRIM_MS, intact: true, released: 1 });
      // ~78 MB of 4 KB buffers were freed between live ones; glibc kept them resident until trimmed.
      expect(r.beforeMB - r.afterMB).toBeGreaterThan(40);
    },
  );

  test.skipIf(!onDeno || !onGlibcLinux)(
    "without --allow-ffi (or with STROM_MALLOC_TRIM_MS=0) Deno runs on untrimmed, and asks nothing",
    async () => {
      const denied = await probe(["--allow-env", "--allow-read"]);
      expect(denied).toMatchObject({ applied: false, reason: "no-ffi-permission", intact: true });
      const off = await probe(["--allow-env", "--allow-ffi", "--allow-read"], { STROM_MALLOC_TRIM_MS: "0" });
      expect(off).toMatchObject({ applied: false, reason: "disabled", intact: true });
      // Nothing trimmed: the freed pages stay.
      expect(off.beforeMB - off.afterMB).toBeLessThan(5);
    },
  );
});
