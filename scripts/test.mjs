#!/usr/bin/env node
// Runs the whole test suite on Node (tsx), Deno and Bun, one after another, and ends with one line
// `N passed, N failed` (`, N skipped` when any) summing all three. Exit code is non-zero when any
// runtime failed a test, did not finish in time, wrote no report, or ran far fewer tests than the
// others (a runner that silently dropped files must not look green).
//
//   npm test                      all runtimes, all test files
//   npm test -- lib/core          only files under a path (any runtime)
//   STROM_TEST_RUNTIMES=node,bun npm test
//   STROM_TEST_TIMEOUT_MIN=45 npm test    per-runtime time limit (default 30 minutes)
//
// Each runtime also writes a JUnit report, which is what the counts are read from, so the summary
// does not depend on any runner's console format.
import { spawn, spawnSync } from "node:child_process";
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
    // Where the runner says it (Bun: file and describe name; Node and Deno name runner internals).
    const where = [/\bfile="([^"]*_test\.ts)"/, /\bclassname="([^"]*)"/]
      .map((re) => re.exec(m[1])?.[1] ?? "")
      .filter((w) => w && w !== "test" && !w.startsWith("ext:") && !w.includes("_compat/"));
    cases.push({ name, where: where.join(": "), body: m[3] ?? "" });
  }
  // Deno reports a describe() block as a test case of its own, with its steps named "parent > child";
  // count only leaves, so a test counts once on every runtime.
  const names = cases.map((c) => c.name);
  let passed = 0, failed = 0, skipped = 0;
  const failures = [];
  for (const c of cases) {
    if (rtIsDeno(xml) && names.some((n) => n.startsWith(`${c.name} &gt; `))) continue;
    if (/<(failure|error)\b/.test(c.body)) {
      failed++;
      failures.push({ name: unescapeXml(c.name), where: unescapeXml(c.where), why: firstLines(c.body) });
    }
    // Bun lists each hook of a skipped describe as a skipped "(unnamed)" case: not a test.
    else if (/<skipped\b/.test(c.body)) skipped += c.name === "(unnamed)" ? 0 : 1;
    else passed++;
  }
  return { passed, failed, skipped, failures };
}

function unescapeXml(s) {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n))).replace(/&amp;/g, "&");
}

/** The first few lines of a <failure>/<error>'s message and text, for the closing summary. */
function firstLines(body) {
  const msg = /\bmessage="([^"]*)"/.exec(body)?.[1] ?? "";
  // Attribute values may hold an unescaped ">" (Node's "&lt;anonymous>"): skip quoted strings.
  const text = /<(?:failure|error)\b(?:[^>"]|"[^"]*")*>([\s\S]*?)<\/(?:failure|error)>/.exec(body)?.[1] ?? "";
  // Node puts the message in the attribute with its line breaks dropped, and again in the text.
  const raw = unescapeXml(text.replace(/<!\[CDATA\[|\]\]>/g, "").trim() || msg);
  return raw.split("\n").map((l) => l.trimEnd()).filter(Boolean).slice(0, 8).join("\n      ");
}

let total = { passed: 0, failed: 0, skipped: 0 };

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
// A runtime that ran (passed + failed + skipped) fewer than this share of the tests the fullest
// runtime ran fails the run.
const MIN_SHARE = 0.9;
const timeoutMin = Number(process.env.STROM_TEST_TIMEOUT_MIN ?? 30);
const problems = [];

// The suite runs in its own process group (below), so Ctrl-C must be passed on to it.
let current;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    try {
      if (current) process.kill(-current.pid, "SIGKILL");
    } catch { /* gone */ }
    process.exit(130);
  });
}

/**
 * Runs one runtime's suite in its own process group, so a timeout kills the runner and every
 * ffmpeg/browser it started. Resolves with the exit status, or "timeout".
 */
function runSuite(rt, cmd, args) {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: "inherit",
      detached: true,
      env: { ...process.env, STROM_TEST_RUNTIME: rt },
    });
    current = child;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.log(`\n=== ${rt}: still running after ${timeoutMin} min (STROM_TEST_TIMEOUT_MIN): killing it ===`);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch { /* already gone */ }
    }, timeoutMin * 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolveRun(`could not start ${cmd}: ${err.message}`);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid, "SIGKILL"); // leftovers of the run (an ffmpeg a test forgot)
      } catch { /* none */ }
      resolveRun(timedOut ? "timeout" : code ?? signal);
    });
  });
}

const ran = {};
const failedTests = [];
for (const rt of runtimes) {
  if (!commands[rt]) {
    console.error(`unknown runtime "${rt}" in STROM_TEST_RUNTIMES (use node, deno, bun)`);
    process.exit(2);
  }
  const xml = join(work, `${rt}.xml`);
  const [cmd, args] = commands[rt](xml);
  console.log(`\n=== ${rt}: ${files.length} test files ===`);
  const started = Date.now();
  const status = await runSuite(rt, cmd, args);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (status === "timeout") {
    problems.push(`${rt}: timed out after ${timeoutMin} min`);
    continue;
  }
  const c = count(xml);
  if (!c) {
    console.log(`=== ${rt}: no report written (exit ${status}) after ${secs}s ===`);
    problems.push(`${rt}: no JUnit report (exit ${status})`);
    continue;
  }
  if (status !== 0 && c.failed === 0) {
    console.log(`=== ${rt}: runner exited ${status} with no failed test: counted as one failure ===`);
    c.failed = 1;
  }
  console.log(`=== ${rt}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped in ${secs}s ===`);
  for (const f of c.failures) failedTests.push({ rt, ...f });
  ran[rt] = c.passed + c.failed + c.skipped;
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
}
const most = Math.max(0, ...Object.values(ran));
const fullest = Object.keys(ran).find((rt) => ran[rt] === most);
for (const [rt, n] of Object.entries(ran)) {
  if (n < most * MIN_SHARE) problems.push(`${rt}: ran ${n} tests, ${fullest} ran ${most}`);
}
// The failed tests again at the very end, so the tail of a long CI log says what failed.
if (failedTests.length) {
  console.log("");
  for (const f of failedTests) {
    console.log(`=== ${f.rt} failed: ${f.where ? `${f.where}: ` : ""}${f.name} ===`);
    if (f.why) console.log(`      ${f.why}`);
  }
}
if (problems.length) {
  console.log("");
  for (const p of problems) console.log(`=== failed run: ${p} ===`);
  total.failed += problems.length;
}
console.log(`\n${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ""}`);
process.exit(total.failed ? 1 : 0);
