#!/usr/bin/env node
// Runs the whole test suite on Node (tsx), Deno and Bun, one after another, and ends with one line
// `N passed, N failed` summing all three. Exit code is non-zero when any runtime failed a test or
// did not finish.
//
//   npm test                      all runtimes, all test files
//   npm test -- lib/core          only files under a path (any runtime)
//   STROM_TEST_RUNTIMES=node,bun npm test
//
// Each runtime also writes a JUnit report, which is what the counts are read from, so the summary
// does not depend on any runner's console format.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const bin = (name) => join(root, "node_modules", ".bin", name);
const roots = ["lib", "server", "cli", "tests"];

function findTests(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".") || entry.name === "_compat") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) findTests(path, out);
    else if (entry.name.endsWith("_test.ts")) out.push(relative(root, path));
  }
  return out;
}

const filters = process.argv.slice(2);
let files = [];
for (const r of roots) {
  try {
    if (statSync(join(root, r)).isDirectory()) findTests(join(root, r), files);
  } catch { /* folder not there yet */ }
}
if (filters.length) files = files.filter((f) => filters.some((p) => f.startsWith(p.replace(/^\.\//, ""))));
files.sort();
if (!files.length) {
  console.error("no test files found");
  process.exit(1);
}

const runtimes = (process.env.STROM_TEST_RUNTIMES ?? "node,deno,bun").split(",").map((s) => s.trim());
const work = mkdtempSync(join(tmpdir(), "strom-test-"));

const commands = {
  node: (xml) => [process.execPath, [
    "--import", "tsx", "--import", "./tests/_compat/register.mjs",
    "--test", "--test-concurrency=1",
    "--test-reporter=spec", "--test-reporter-destination=stdout",
    "--test-reporter=junit", `--test-reporter-destination=${xml}`,
    ...files,
  ]],
  deno: (xml) => [bin("deno"), ["test", "-A", "--no-check", `--junit-path=${xml}`, ...files]],
  bun: (xml) => [bin("bun"), ["test", "--timeout=20000", "--reporter=junit", `--reporter-outfile=${xml}`, ...files.map((f) => `./${f}`)]],
};

const rtIsDeno = (xml) => xml.endsWith("deno.xml");

function count(xml) {
  let text;
  try {
    text = readFileSync(xml, "utf8");
  } catch {
    return null;
  }
  const cases = [];
  // Each <testcase ...> is one test: self-closing or empty when it passed, else holding
  // <failure>/<error>/<skipped>.
  // Attribute values may hold an unescaped ">" (legal XML), so skip over quoted strings.
  const re = /<testcase\b((?:[^>"]|"[^"]*")*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of text.matchAll(re)) {
    const name = /\bname="([^"]*)"/.exec(m[1])?.[1] ?? "";
    cases.push({ name, body: m[3] ?? "" });
  }
  // Deno reports a describe() block as a test case of its own, with its steps named "parent > child";
  // count only leaves, so a test counts once on every runtime.
  const names = cases.map((c) => c.name);
  let passed = 0, failed = 0, skipped = 0;
  for (const c of cases) {
    if (rtIsDeno(xml) && names.some((n) => n.startsWith(`${c.name} &gt; `))) continue;
    if (/<(failure|error)\b/.test(c.body)) failed++;
    else if (/<skipped\b/.test(c.body)) skipped++;
    else passed++;
  }
  return { passed, failed, skipped };
}

let total = { passed: 0, failed: 0, skipped: 0 };
let broken = false;

// Type-check everything once (library, server, CLI, tests, examples) before running the suites.
if (!filters.length && process.env.STROM_SKIP_TYPECHECK !== "1") {
  console.log("=== typecheck (tsc --noEmit) ===");
  const tc = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
  if (tc.status !== 0) {
    console.log("=== typecheck failed: counted as one failure ===");
    total.failed++;
  } else {
    console.log("=== typecheck ok ===");
  }
}
for (const rt of runtimes) {
  if (!commands[rt]) {
    console.error(`unknown runtime "${rt}" in STROM_TEST_RUNTIMES (use node, deno, bun)`);
    process.exit(2);
  }
  const xml = join(work, `${rt}.xml`);
  const [cmd, args] = commands[rt](xml);
  console.log(`\n=== ${rt}: ${files.length} test files ===`);
  const started = Date.now();
  const res = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, STROM_TEST_RUNTIME: rt } });
  const c = count(xml);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (!c) {
    console.log(`=== ${rt}: no report written (exit ${res.status ?? res.signal}) after ${secs}s ===`);
    broken = true;
    continue;
  }
  if (res.status !== 0 && c.failed === 0) {
    console.log(`=== ${rt}: runner exited ${res.status ?? res.signal} with no failed test: counted as one failure ===`);
    c.failed = 1;
  }
  console.log(`=== ${rt}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped in ${secs}s ===`);
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
}
if (broken) total.failed += 1;
console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed ? 1 : 0);
