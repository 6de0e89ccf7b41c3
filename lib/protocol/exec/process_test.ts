import { afterAll, describe, expect, it } from "bun:test";
import process from "node:process";
import { ExecError, ExecProcess, type ExecProcessOptions } from "./process.ts";

// Test-only check that a pid no longer exists: signal 0 probes without sending anything.
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

const started: ExecProcess[] = [];
afterAll(async () => {
  for (const p of started) await p.stop();
});

function run(command: string, args: string[], options: ExecProcessOptions = {}): ExecProcess {
  const p = ExecProcess.spawn(command, args, options);
  started.push(p);
  return p;
}

describe("ExecProcess", () => {
  it("kills a running ffmpeg on stop, leaving no process behind", async () => {
    const p = run("ffmpeg", [
      "-hide_banner",
      "-re",
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=64x48:rate=5",
      "-f",
      "null",
      "-",
    ], {
      stdout: false,
    });
    expect(alive(p.pid)).toBe(true);
    const status = await p.stop();
    expect(status.signal).toBe("SIGKILL");
    expect(p.hasExited).toBe(true);
    expect(alive(p.pid)).toBe(false);
    expect(await p.stop()).toBe(status); // idempotent
  });

  it("escalates to SIGKILL after #killtimeout when the kill signal is ignored", async () => {
    const p = run(
      "node",
      ["-e", "process.on('SIGTERM',()=>{});setInterval(()=>{},1000);process.stderr.write('ready\\n')"],
      { killSignal: "SIGTERM", killTimeoutMs: 300, stdout: false },
    );
    expect(await until(() => p.stderrTail().includes("ready"), 5000)).toBe(true);
    const t0 = Date.now();
    const status = await p.stop();
    expect(status.signal).toBe("SIGKILL");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(1800); // before the runtime's own 2 s escalation
    expect(alive(p.pid)).toBe(false);
  });

  it("stops gracefully with SIGTERM when the command honours it", async () => {
    const p = run("sleep", ["30"], { killSignal: "SIGTERM", stdout: false });
    const status = await p.stop();
    expect(status.signal).toBe("SIGTERM");
    expect(alive(p.pid)).toBe(false);
  });

  it("keeps the last stderr lines and reports them with the exit code", async () => {
    const p = run("sh", [
      "-c",
      "for i in $(seq 1 80); do echo line$i >&2; done; printf 'no newline' >&2; exit 3",
    ], {
      stderrLines: 5,
      stdout: false,
    });
    const status = await p.waitExit();
    expect(status.code).toBe(3);
    expect(p.stderrTail()).toEqual(["line77", "line78", "line79", "line80", "no newline"]);
    const error = p.exitError(status);
    expect(error).toBeInstanceOf(ExecError);
    expect(error.name).toBe("ExecError");
    expect(error.code).toBe(3);
    expect(error.stderr.at(-1)).toBe("no newline");
    expect(error.message).toContain("exited with code 3");
    expect(error.message).toContain("line80");
  });

  it("logs stderr lines, splitting on \\r as ffmpeg progress does", async () => {
    const lines: string[] = [];
    const log = {
      trace() {},
      info() {},
      warn() {},
      error() {},
      debug(msg: string) {
        lines.push(msg);
      },
      child() {
        return log;
      },
      enabled() {
        return true;
      },
    };
    const p = run("sh", ["-c", "printf 'frame=1\\rframe=2\\rdone\\n' >&2"], { log, stdout: false });
    await p.waitExit();
    expect(lines).toEqual(["frame=1", "frame=2", "done"]);
  });
});
