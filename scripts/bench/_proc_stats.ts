/**
 * CPU time and resident memory of a process, from Linux /proc.
 *
 * CPU: `utime + stime` of /proc/<pid>/stat (fields 14 and 15, in clock ticks, all threads of the
 * process included), or, for the windows the bench measures, the nanosecond run time of each thread
 * (/proc/<pid>/task/<tid>/schedstat) when no thread came or went in between. RSS: `VmRSS` of /proc/<pid>/status. The bench starts the runtimes' real binaries
 * (no launcher in between), so the pid is the server. `tree` also counts live descendants (for a
 * server that forks helpers; strom and gst do not here, and the esbuild service `tsx` forks must
 * not be billed to strom).
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
} catch { /* 100 on every Linux we run on */ }

interface ProcStat {
  ppid: number;
  ticks: number;
  /** stime alone: time the kernel spent in the process's system calls (sending, for a relay). */
  systemTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]), systemTicks: Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** The pid and all its live descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = readStat(pid);
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(pid);
    else children.set(st.ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    out.push(pid);
    for (const c of children.get(pid) ?? []) queue.push(c);
  }
  return out;
}

/** CPU seconds (user + system) used so far by the process (with `tree`, plus its live descendants). */
export function cpuSeconds(root: number, tree = false): number {
  let ticks = 0;
  for (const pid of tree ? processTree(root) : [root]) ticks += readStat(pid)?.ticks ?? 0;
  return ticks / ticksPerSecond;
}

/** Resident set size in bytes of the process (with `tree`, plus its live descendants). */
export function rssBytes(root: number, tree = false): number {
  let kb = 0;
  for (const pid of tree ? processTree(root) : [root]) {
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) kb += Number(m[1]);
    } catch { /* exited */ }
  }
  return kb * 1024;
}

/** User + nice + system CPU seconds of the whole machine so far (first line of /proc/stat). */
export function machineCpuSeconds(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2]) / ticksPerSecond;
}

/**
 * Samples how much CPU processes outside `ownRoot`'s tree use (other work on the machine that
 * competes with the bench), in % of one core.
 */
export class ForeignCpu {
  #machine = 0;
  #own = 0;
  #at = 0;
  constructor(readonly ownRoot: number) {
    this.mark();
  }

  mark(): void {
    this.#machine = machineCpuSeconds();
    this.#own = cpuSeconds(this.ownRoot, true);
    this.#at = performance.now();
  }

  /** % of one core used by foreign processes since the last mark. */
  percent(): number {
    const seconds = (performance.now() - this.#at) / 1000;
    const foreign = machineCpuSeconds() - this.#machine - (cpuSeconds(this.ownRoot, true) - this.#own);
    return seconds > 0 ? Math.max(0, (100 * foreign) / seconds) : 0;
  }
}

/** A CPU-time reading of one process; compare two with {@link cpuBetween}. */
export interface CpuSample {
  /** utime + stime seconds (10 ms resolution; includes threads that already exited). */
  ticksSeconds: number;
  /** stime seconds alone (10 ms resolution): the kernel's share, mostly the socket writes. */
  systemSeconds: number;
  /** Sum of the live threads' run time from /proc/<pid>/task/<tid>/schedstat, seconds (ns resolution). */
  schedSeconds: number;
  /** The live thread ids, to know whether `schedSeconds` of two samples are comparable. */
  tids: string;
}

/** Reads a {@link CpuSample} of a process. */
export function cpuSample(pid: number): CpuSample {
  const stat = readStat(pid);
  const ticksSeconds = (stat?.ticks ?? 0) / ticksPerSecond;
  const systemSeconds = (stat?.systemTicks ?? 0) / ticksPerSecond;
  let ns = 0;
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`).sort();
    for (const tid of tids) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    }
  } catch {
    ns = NaN;
  }
  return { ticksSeconds, systemSeconds, schedSeconds: ns / 1e9, tids: tids.join(",") };
}

/**
 * CPU seconds between two samples: the nanosecond scheduler figures when the process kept the same
 * threads (no thread's time got lost by exiting), else the tick counters.
 */
export function cpuBetween(a: CpuSample, b: CpuSample): number {
  if (a.tids === b.tids && Number.isFinite(a.schedSeconds) && Number.isFinite(b.schedSeconds)) {
    return b.schedSeconds - a.schedSeconds;
  }
  return b.ticksSeconds - a.ticksSeconds;
}
