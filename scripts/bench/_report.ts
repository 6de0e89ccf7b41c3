/**
 * Result rows of the fan-out bench and their text / Markdown tables.
 *
 * @module
 */

/** One server serving N readers for one measurement window. */
export interface PhaseResult {
  /** Which of the bench's alternating runs (1-based). */
  run: number;
  runtime: string;
  /**
   * raw: raw_tcp_relay.ts on `runtime`; rawc / rawc2: raw_tcp_relay.c on 1 / 2 threads (independent
   * of `runtime`, measured in each runtime's pass); gst: gst-rtsp-server in its default
   * configuration (rate control on); gstnorc: the same with rate control off; strom.
   */
  server: "raw" | "rawc" | "rawc2" | "gst" | "gstnorc" | "strom";
  readers: number;
  /** Readers playing when the window opened. */
  connected: number;
  windowSeconds: number;
  cpuSeconds: number;
  /** Server CPU seconds per reader-second: cpuSeconds / (readers * windowSeconds). */
  cpuPerReaderSecond: number;
  /** Server CPU in % of one core. */
  cpuPercent: number;
  /**
   * The part of it spent in the kernel (stime: the system calls, mostly the socket writes), % of one
   * core; the rest is the server's own user-space work. 10 ms resolution.
   */
  systemPercent: number;
  /** Peak RSS of the server process tree during the window, MB (10^6 bytes). */
  rssMB: number;
  /** strom serve only: its RSS 2 s after start, before any reader (and before it dials the camera). */
  idleRssMB?: number;
  /** Reader process CPU in % of one core (is the load generator saturated?). */
  readerCpuPercent: number;
  /** CPU used by processes outside the bench during the window, % of one core (noise indicator). */
  foreignCpuPercent: number;
  sourceKbps: number;
  minKbps: number;
  avgKbps: number;
  /** Readers that received >= 95 % of the source bitrate. */
  readersAt95: number;
  lostPackets: number;
  latency: { samples: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number; meanMs: number };
  unmatched: number;
  errors: string[];
  /** rawc / rawc2 only: how long handing one frame to every client took in the window. */
  fanout?: FanoutStats;
}

/** Send-loop timings of one class of frames, as raw_tcp_relay.c reports them. */
export interface FrameTiming {
  frames: number;
  avgBytes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * raw_tcp_relay.c's `fanout` event: per frame, the time from "access unit complete" to "the last
 * thread's last send() returned" (the kernel's copy and loopback TCP work for all clients).
 */
export interface FanoutStats {
  clients: number;
  threads: number;
  keyframes: FrameTiming;
  other: FrameTiming;
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-");
const sci = (n: number) => (Number.isFinite(n) ? n.toExponential(2) : "-");

/** The row of the same runtime and N for another server. */
export function peer(
  rows: PhaseResult[],
  r: PhaseResult,
  server: PhaseResult["server"],
): PhaseResult | undefined {
  return rows.find((x) =>
    x.run === r.run && x.runtime === r.runtime && x.readers === r.readers && x.server === server
  );
}

const HEAD = [
  "server",
  "N",
  "playing",
  "CPU s/reader-s",
  "CPU % core",
  "sys % core",
  "RSS MB",
  "min % src",
  "avg % src",
  ">=95 %",
  "lost pkts",
  "lat p50 ms",
  "lat p99 ms",
  "lat max ms",
  "vs rawc thrpt",
  "CPU / gst",
  "CPU / gst norc",
  "CPU / rawc",
  "reader CPU %",
  "other CPU %",
];

function cells(rows: PhaseResult[], r: PhaseResult): string[] {
  const raw = peer(rows, r, "rawc");
  const gst = peer(rows, r, "gst");
  const gstnorc = peer(rows, r, "gstnorc");
  const ratio = (a: number, b: number | undefined) => (b && b > 0 ? fmt(a / b, 2) : "-");
  return [
    r.server,
    String(r.readers),
    `${r.connected}/${r.readers}`,
    sci(r.cpuPerReaderSecond),
    fmt(r.cpuPercent),
    fmt(r.systemPercent),
    fmt(r.rssMB),
    fmt((100 * r.minKbps) / r.sourceKbps),
    fmt((100 * r.avgKbps) / r.sourceKbps),
    String(r.readersAt95),
    String(r.lostPackets),
    fmt(r.latency.p50Ms, 2),
    fmt(r.latency.p99Ms, 2),
    fmt(r.latency.maxMs, 1),
    ratio(r.avgKbps, raw?.avgKbps),
    ratio(r.cpuPerReaderSecond, gst?.cpuPerReaderSecond),
    ratio(r.cpuPerReaderSecond, gstnorc?.cpuPerReaderSecond),
    ratio(r.cpuPerReaderSecond, raw?.cpuPerReaderSecond),
    fmt(r.readerCpuPercent, 0),
    fmt(r.foreignCpuPercent, 0),
  ];
}

/** A plain-text table for the terminal. */
export function textTable(rows: PhaseResult[]): string {
  const body = rows.map((r) => cells(rows, r));
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padStart(widths[i])).join("  ");
  return [line(HEAD), ...body.map(line)].join("\n");
}

/** A Markdown table. */
export function markdownTable(rows: PhaseResult[]): string {
  const out = [`| ${HEAD.join(" | ")} |`, `|${HEAD.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`];
  for (const r of rows) out.push(`| ${cells(rows, r).join(" | ")} |`);
  return out.join("\n");
}

const timing = (t: FrameTiming) =>
  `${t.frames} x ${fmt(t.avgBytes / 1000, 0)} KB: p50 ${fmt(t.p50Ms, 2)}, p99 ${fmt(t.p99Ms, 2)}, max ${
    fmt(t.maxMs, 2)
  } ms`;

/**
 * One line per C relay row: how long the kernel took to take each frame for all N clients (the
 * send loop), keyframes apart. This is the part of the latency floor no relay code can remove.
 */
export function fanoutNotes(rows: PhaseResult[]): string[] {
  return rows.flatMap((r) =>
    r.fanout
      ? [
        `${r.server} N=${r.readers}: one frame to ${r.fanout.clients} socket(s) on ${r.fanout.threads} thread(s) took: keyframes ${
          timing(r.fanout.keyframes)
        }; other frames ${timing(r.fanout.other)}`,
      ]
      : []
  );
}

/** One checked target of issue 15 for strom on one runtime in one run. */
export interface TargetCheck {
  /** Stable key, e.g. "cpu/gst@200". */
  key: string;
  label: string;
  /** strom's figure (a ratio, ms or MB, as the label says). */
  value: number;
  limit: number;
  pass: boolean;
  detail: string;
}

/**
 * Issue 15's targets for one runtime in one run: CPU per reader-second at 100 and 200 readers
 * <= 1.0x gst-rtsp-server (default configuration and rate control off) and <= 1.5x the C relay;
 * p99 added latency <= 1.5x the C relay's at 50 and 200 readers and <= its p99 + 1 ms at 1 reader;
 * RSS at 200 readers <= 64 MB (on Deno plus `helloIdleMB`, an idle deno hello-world server); and
 * every reader >= 95 % of the source bitrate at the largest N. Targets whose rows are missing are
 * left out. `helloIdleMB`: the runtime's idle hello-world HTTP server in the same run; on Node and
 * Bun it is reported beside the RSS target (strom's RSS above that floor), not part of it.
 */
export function issueTargets(rows: PhaseResult[], runtime: string, helloIdleMB?: number): TargetCheck[] {
  const out: TargetCheck[] = [];
  const strom = (n: number) => rows.find((r) => r.runtime === runtime && r.server === "strom" && r.readers === n);
  for (const n of [100, 200]) {
    const s = strom(n);
    if (!s) continue;
    for (const [server, limit, name] of [
      ["gst", 1.0, "gst-rtsp-server (default, rate control on)"],
      ["gstnorc", 1.0, "gst-rtsp-server (rate control off)"],
      ["rawc", 1.5, "the C relay"],
    ] as const) {
      const ref = peer(rows, s, server);
      if (!ref) continue;
      const v = s.cpuPerReaderSecond / ref.cpuPerReaderSecond;
      out.push({
        key: `cpu/${server}@${n}`,
        label: `CPU per reader-second at ${n} readers <= ${limit.toFixed(1)}x ${name}`,
        value: v,
        limit,
        pass: v <= limit,
        detail: `${fmt(v, 2)}x (${sci(s.cpuPerReaderSecond)} vs ${sci(ref.cpuPerReaderSecond)})`,
      });
    }
  }
  for (const n of [1, 50, 200]) {
    const s = strom(n);
    const c = s && peer(rows, s, "rawc");
    if (!s || !c) continue;
    if (n === 1) {
      const v = s.latency.p99Ms - c.latency.p99Ms;
      out.push({
        key: `lat@1`,
        label: "p99 added latency at 1 reader <= the C relay's + 1 ms",
        value: v,
        limit: 1,
        pass: v <= 1,
        detail: `${fmt(s.latency.p99Ms, 2)} ms vs ${fmt(c.latency.p99Ms, 2)} ms (+${fmt(v, 2)} ms)`,
      });
    } else {
      const v = s.latency.p99Ms / c.latency.p99Ms;
      out.push({
        key: `lat@${n}`,
        label: `p99 added latency at ${n} readers <= 1.5x the C relay's`,
        value: v,
        limit: 1.5,
        pass: v <= 1.5,
        detail: `${fmt(v, 2)}x (${fmt(s.latency.p99Ms, 2)} vs ${fmt(c.latency.p99Ms, 2)} ms)`,
      });
    }
  }
  const s200 = strom(200);
  if (s200) {
    const limit = runtime === "deno" ? 64 + (helloIdleMB ?? 0) : 64;
    out.push({
      key: "rss@200",
      label: runtime === "deno"
        ? "RSS at 200 readers <= 64 MB + an idle deno hello-world server"
        : "RSS at 200 readers <= 64 MB",
      value: s200.rssMB,
      limit,
      pass: s200.rssMB <= limit,
      detail: `${fmt(s200.rssMB)} MB (limit ${fmt(limit)} MB)${
        s200.idleRssMB !== undefined
          ? `; idle strom before any reader: ${fmt(s200.idleRssMB)} MB, so the camera and 200 readers add ${
            fmt(s200.rssMB - s200.idleRssMB)
          } MB`
          : ""
      }${
        helloIdleMB !== undefined
          ? `; an idle ${runtime} hello-world HTTP server: ${fmt(helloIdleMB)} MB, strom ${fmt(s200.rssMB - helloIdleMB)} MB above it`
          : ""
      }`,
    });
  }
  const largest = rows.filter((r) => r.runtime === runtime && r.server === "strom").sort((a, b) =>
    b.readers - a.readers
  )[0];
  if (largest) {
    const minPct = (100 * largest.minKbps) / largest.sourceKbps;
    out.push({
      key: "bitrate",
      label: `every one of ${largest.readers} readers gets >= 95 % of the source bitrate`,
      value: minPct,
      limit: 95,
      pass: minPct >= 95 && largest.connected === largest.readers,
      detail: `min ${fmt(minPct)} %, ${largest.connected}/${largest.readers} playing`,
    });
  }
  return out;
}

/** Pass/fail lines of {@link issueTargets} for one runtime (rows of one run). */
export function targetChecks(rows: PhaseResult[], runtime: string, helloIdleMB?: number): string[] {
  return issueTargets(rows, runtime, helloIdleMB).map((t) =>
    `${runtime}: ${t.pass ? "PASS" : "FAIL"} ${t.label}: ${t.detail}`
  );
}

/**
 * One Markdown table of every target (rows) per runtime (columns), with strom's figure in each run
 * and how many runs met it.
 */
export function summaryMarkdown(
  rows: PhaseResult[],
  runtimes: string[],
  runs: number,
  helloIdle: Map<string, number[]>,
): string {
  const perRuntime = new Map<string, TargetCheck[][]>();
  for (const rt of runtimes) {
    const list: TargetCheck[][] = [];
    for (let run = 1; run <= runs; run++) {
      list.push(issueTargets(rows.filter((r) => r.run === run), rt, helloIdle.get(rt)?.[run - 1]));
    }
    perRuntime.set(rt, list);
  }
  const keys: { key: string; label: string }[] = [];
  for (const lists of perRuntime.values()) {
    for (const l of lists) for (const t of l) if (!keys.some((k) => k.key === t.key)) keys.push(t);
  }
  const unit = (key: string, v: number) =>
    key.startsWith("rss") ? `${fmt(v)} MB` : key === "lat@1" ? `+${fmt(v, 2)} ms` : key === "bitrate" ? `${fmt(v)} %` : `${fmt(v, 2)}x`;
  const out = [
    `| target | ${runtimes.join(" | ")} |`,
    `|---|${runtimes.map(() => "---").join("|")}|`,
  ];
  for (const { key, label } of keys) {
    const cellsFor = runtimes.map((rt) => {
      const found = perRuntime.get(rt)!.map((l) => l.find((t) => t.key === key)).filter((t) => t !== undefined);
      if (!found.length) return "-";
      const passed = found.filter((t) => t!.pass).length;
      const mark = passed === found.length ? "**met**" : passed === 0 ? "**not met**" : "**partly**";
      return `${mark} ${passed}/${found.length}: ${found.map((t) => unit(key, t!.value)).join(", ")}`;
    });
    out.push(`| ${label} | ${cellsFor.join(" | ")} |`);
  }
  const idle = runtimes.map((rt) => {
    const v = rows.filter((r) => r.runtime === rt && r.server === "strom" && r.readers === 200 && r.idleRssMB);
    return v.length ? v.map((r) => `${fmt(r.idleRssMB!)} MB`).join(", ") : "-";
  });
  if (idle.some((c) => c !== "-")) out.push(`| (for the RSS row: strom serve idle, before any reader) | ${idle.join(" | ")} |`);
  const hello = runtimes.map((rt) => helloIdle.get(rt) ?? []);
  if (hello.some((l) => l.length)) {
    out.push(`| (the RSS floor: an idle hello-world HTTP server on the runtime, same run; Deno's limit adds it to 64 MB) | ${
      hello.map((l) => l.length ? l.map((x) => `${fmt(x)} MB`).join(", ") : "-").join(" | ")
    } |`);
    const above = runtimes.map((rt, i) => {
      const s = rows.filter((r) => r.runtime === rt && r.server === "strom" && r.readers === 200);
      const cells = s.map((r) => {
        const floor = hello[i][r.run - 1];
        return floor === undefined ? undefined : `${fmt(r.rssMB - floor)} MB`;
      }).filter((c) => c !== undefined);
      return cells.length ? cells.join(", ") : "-";
    });
    if (above.some((c) => c !== "-")) {
      out.push(`| (strom at 200 readers above that floor) | ${above.join(" | ")} |`);
    }
  }
  return out.join("\n");
}
