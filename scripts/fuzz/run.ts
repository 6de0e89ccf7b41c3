/**
 * Runs the fuzz targets (scripts/fuzz/targets.ts) and prints iterations and findings.
 *
 *   node --import tsx scripts/fuzz/run.ts --target all --seconds 600
 *   node --import tsx scripts/fuzz/run.ts --target sdp,rtp --iterations 20000 --seed 7
 *   deno run -A scripts/fuzz/run.ts --target all --seconds 60
 *   bun scripts/fuzz/run.ts --target all --seconds 60
 *
 * Options: --target all|<name>[,<name>...], --seconds N (per target), --iterations N (per target),
 * --seed N (default 1: runs are reproducible), --per-input-ms N (hang bound, default 2000),
 * --out <dir> (writes each finding's input as <target>-<n>.bin), --json (one JSON report).
 * Exits 1 when there is a finding.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import process from "node:process";
import { base64ToBytes } from "../../lib/core/bytes.ts";
import { type FuzzResult, fuzzTarget } from "./harness.ts";
import { targets } from "./targets.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const wanted = (arg("target") ?? "all").split(",");
const selected = wanted.includes("all") ? targets : targets.filter((t) => wanted.includes(t.name));
const unknown = wanted.filter((w) => w !== "all" && !targets.some((t) => t.name === w));
if (unknown.length) {
  console.error(`Unknown target ${unknown.join(", ")}; known: all, ${targets.map((t) => t.name).join(", ")}`);
  process.exit(2);
}
const seconds = arg("seconds") ? Number(arg("seconds")) : undefined;
const iterations = arg("iterations") ? Number(arg("iterations")) : undefined;
const seed = Number(arg("seed") ?? 1);
const perInputMs = Number(arg("per-input-ms") ?? 2000);
const out = arg("out");
const json = process.argv.includes("--json");

const results: FuzzResult[] = [];
for (const target of selected) {
  const result = await fuzzTarget(target, {
    seed,
    iterations,
    ms: seconds !== undefined ? seconds * 1000 : iterations ? undefined : 10_000,
    perInputMs,
  });
  results.push(result);
  if (!json) {
    const errs = Object.entries(result.errors).map(([k, v]) => `${k}×${v}`).join(" ") || "none";
    console.log(
      `${target.name.padEnd(12)} ${String(result.iterations).padStart(9)} inputs in ${(result.ms / 1000).toFixed(1)} s` +
        ` (${result.seeds} seeds), findings: ${result.findings.length}; errors thrown: ${errs}`,
    );
    for (const f of result.findings) console.log(`  ${f.kind} at input ${f.iteration}: ${f.detail}\n    ${(f.stack ?? "").split("\n").slice(1, 4).join("\n    ")}`);
  }
  if (out && result.findings.length) {
    mkdirSync(out, { recursive: true });
    result.findings.forEach((f, i) => writeFileSync(`${out}/${f.target}-${i}.bin`, base64ToBytes(f.input)));
  }
}
if (json) console.log(JSON.stringify({ seed, results }, null, 2));
process.exit(results.some((r) => r.findings.length) ? 1 : 0);
