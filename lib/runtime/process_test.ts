import { describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtimeName } from "./env.ts";
import { spawn, SpawnError, which } from "./process.ts";
import { readAll, sleep, within } from "./_test_util.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

// A zombie counts as gone: its parent (the exited runtime) can no longer reap it, and in a
// container PID 1 may not either.
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

// Skipped (and counted as skipped) when ffmpeg is not on PATH.
const ffmpeg = await which("ffmpeg");

describe("process", () => {
  it("pipes stdin to stdout through `sh -c cat`", async () => {
    const child = spawn("/bin/sh", ["-c", "cat"], { stdin: "pipe", stdout: "pipe" });
    expect(child.pid).toBeGreaterThan(0);
    const output = readAll(child.stdout!);
    const writer = child.stdin!.getWriter();
    const big = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    await within(writer.write(new TextEncoder().encode("hello\n")), 2000, "write");
    await within(writer.write(big), 4000, "write 1 MB");
    await within(writer.close(), 2000, "close stdin");
    const got = await output;
    expect(got.byteLength).toBe(6 + big.byteLength);
    expect(text(got.subarray(0, 6))).toBe("hello\n");
    expect(got.subarray(6)).toEqual(big);
    expect(await within(child.exited, 2000, "exit")).toEqual({ code: 0, signal: null });
  });

  it("kills a child that outlives timeoutMs and says so in exited; one that finishes in time is left alone", async () => {
    const slow = spawn("/bin/sh", ["-c", "sleep 30"], { stdout: "ignore", timeoutMs: 200 });
    expect(await within(slow.exited, 3000, "timed-out exit")).toEqual({ code: null, signal: "SIGKILL", timedOut: true });
    const quick = spawn("/bin/sh", ["-c", "exit 0"], { stdout: "ignore", timeoutMs: 5000 });
    expect(await within(quick.exited, 3000, "quick exit")).toEqual({ code: 0, signal: null });
  });

  it.skipIf(!ffmpeg)("runs ffmpeg -version", async () => {
    const child = spawn(ffmpeg!, ["-hide_banner", "-version"], { stderr: "pipe" });
    const [out] = await Promise.all([readAll(child.stdout!), readAll(child.stderr!)]);
    expect(text(out)).toMatch(/^ffmpeg version /);
    expect((await within(child.exited, 4000, "ffmpeg exit")).code).toBe(0);
  });

  it("reports exit codes and streams large stdout with backpressure", async () => {
    const child = spawn("/bin/sh", ["-c", "head -c 5000000 /dev/zero; echo oops >&2; exit 3"], {
      stderr: "pipe",
    });
    await sleep(100); // let the pipe fill while nobody reads
    const [out, err] = await Promise.all([readAll(child.stdout!), readAll(child.stderr!)]);
    expect(out.byteLength).toBe(5_000_000);
    expect(text(err)).toBe("oops\n");
    expect(await within(child.exited, 2000, "exit")).toEqual({ code: 3, signal: null });
  });

  it("passes env (merged over the parent's) and cwd", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strom-proc-"));
    try {
      const child = spawn("sh", ["-c", 'echo "$STROM_X $(pwd)"; test -n "$PATH"'], {
        env: { STROM_X: "42" },
        cwd: dir,
      });
      const out = text(await readAll(child.stdout!)).trim();
      expect(out.startsWith("42 ")).toBe(true);
      expect(out.endsWith(dir.split("/").pop()!)).toBe(true);
      expect((await within(child.exited, 2000, "exit")).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("kills a long-running child", async () => {
    const child = spawn("sleep", ["30"]);
    await sleep(50);
    child.kill();
    expect(await within(child.exited, 3000, "exit after SIGTERM")).toEqual({ code: null, signal: "SIGTERM" });
    child.kill(); // no-op once exited
  });

  it("escalates to SIGKILL when SIGTERM is ignored", async () => {
    const child = spawn("/bin/sh", ["-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"]);
    const reader = child.stdout!.getReader();
    await within(reader.read(), 2000, "ready");
    const started = Date.now();
    child.kill("SIGTERM");
    const status = await within(child.exited, 4000, "exit after SIGKILL");
    expect(status.signal).toBe("SIGKILL");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    await reader.cancel();
  }, 8000);

  it("asyncDispose kills and waits for the exit", async () => {
    const child = spawn("sleep", ["30"]);
    {
      await using c = child;
      expect(c.pid).toBeGreaterThan(0);
    }
    const status = await within(child.exited, 10, "already exited");
    expect(status.signal).toBe("SIGTERM");
  });

  it("throws a clear SpawnError for a missing binary", () => {
    let err: unknown;
    try {
      spawn("strom-no-such-binary", ["-version"]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpawnError);
    const e = err as SpawnError;
    expect(e.name).toBe("SpawnError");
    expect(e.command).toBe("strom-no-such-binary");
    expect(e.code).toBe("NotFound");
    expect(e.message).toBe(
      'Cannot start strom-no-such-binary: not found on PATH. Install it (e.g. "apt-get install strom-no-such-binary") or give its absolute path.',
    );
  });

  it("throws SpawnError for a missing path, a non-executable file and a missing cwd", () => {
    const dir = mkdtempSync(join(tmpdir(), "strom-proc-"));
    try {
      const file = join(dir, "not-executable.sh");
      writeFileSync(file, "#!/bin/sh\n", { mode: 0o644 });
      const tryIt = (cmd: string, cwd?: string) => {
        try {
          spawn(cmd, [], { cwd });
        } catch (e) {
          return e as SpawnError;
        }
        throw new Error("spawn did not throw");
      };
      expect(tryIt(join(dir, "nope")).code).toBe("NotFound");
      expect(tryIt(join(dir, "nope")).message).toContain("no such file");
      const denied = tryIt(file);
      expect(denied.code).toBe("PermissionDenied");
      expect(denied.message).toContain(`chmod +x ${file}`);
      const noCwd = tryIt("sh", join(dir, "missing"));
      expect(noCwd.code).toBe("NotFound");
      expect(noCwd.message).toContain("working directory");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("which() finds commands on PATH and checks paths", async () => {
    const sh = await which("sh");
    expect(sh).toMatch(/^\/.*\/sh$/);
    expect(await which(sh!)).toBe(sh);
    expect(await which("strom-no-such-binary")).toBeUndefined();
    expect(await which("/etc/passwd")).toBeUndefined();
    expect(await which("")).toBeUndefined();
  });

  it("kills children when the parent runtime exits", async () => {
    if (process.platform !== "linux") return;
    const script = new URL("./testdata/spawn_then_exit.ts", import.meta.url).pathname;
    const rt = runtimeName();
    const args = rt === "node"
      ? ["--import", "tsx", script, "--stubborn"]
      : rt === "deno"
      ? ["run", "-A", script, "--stubborn"]
      : [script, "--stubborn"];
    const parent = spawn(process.execPath, args, { stderr: "pipe" });
    const [out, err] = await Promise.all([readAll(parent.stdout!, 8000), readAll(parent.stderr!, 8000)]);
    expect(text(err)).toBe("");
    expect((await within(parent.exited, 8000, "runtime exit")).code).toBe(0);
    const { pids } = JSON.parse(text(out)) as { pids: number[] };
    expect(pids.length).toBe(2);
    // `sleep` dies from SIGTERM at once; the shell ignoring SIGTERM gets SIGKILL 2 s later.
    await within(
      (async () => {
        while (alive(pids[0])) await sleep(20);
      })(),
      1000,
      "plain child gone",
    );
    await within(
      (async () => {
        while (alive(pids[1])) await sleep(50);
      })(),
      4000,
      "stubborn child gone",
    );
  }, 15000);
});
