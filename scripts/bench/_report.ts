/**
 * Result rows of the fan-out bench and their text / Markdown tables.
 *
 * @module
 */

/** One server serving N readers for one measurement window. */
export interface PhaseResult {
  runtime: string;
  /**
   * raw: raw_tcp_relay.ts on `runtime`; rawc / rawc2: raw_tcp_relay.c on 1 / 2 threads (independent
   * of `runtime`, measured in each runtime's pass); gst: gst-rtsp-server; strom.
   */
  server: "raw" | "rawc" | "rawc2" | "gst" | "strom";
  readers: number;
  /** Readers playing when the window opened. */
  connected: number;
  windowSeconds: number;
  cpuSeconds: number;
  /** Server CPU seconds per reader-second: cpuSeconds / (readers * windowSeconds). */
  cpuPerReaderSecond: number;
  /** Server CPU in % of one core. */
  cpuPercent: number;
  /** Peak RSS of the server process tree during the window, MB (10^6 bytes). */
  rssMB: number;
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
  return rows.find((x) => x.runtime === r.runtime && x.readers === r.readers && x.server === server);
}

const HEAD = [
  "server",
  "N",
  "playing",
  "CPU s/reader-s",
  "CPU % core",
  "RSS MB",
  "min % src",
  "avg % src",
  ">=95 %",
  "lost pkts",
  "lat p50 ms",
  "lat p99 ms",
  "lat max ms",
  "vs raw thrpt",
  "CPU / gst",
  "CPU / raw",
  "reader CPU %",
  "other CPU %",
];

function cells(rows: PhaseResult[], r: PhaseResult): string[] {
  const raw = peer(rows, r, "raw");
  const gst = peer(rows, r, "gst");
  const ratio = (a: number, b: number | undefined) => (b && b > 0 ? fmt(a / b, 2) : "-");
  return [
    r.server,
    String(r.readers),
    `${r.connected}/${r.readers}`,
    sci(r.cpuPerReaderSecond),
    fmt(r.cpuPercent),
    fmt(r.rssMB),
    fmt((100 * r.minKbps) / r.sourceKbps),
    fmt((100 * r.avgKbps) / r.sourceKbps),
    String(r.readersAt95),
    String(r.lostPackets),
    fmt(r.latency.p50Ms, 2),
    fmt(r.latency.p99Ms, 2),
    fmt(r.latency.maxMs, 1),
    r.server === "raw" ? "1.00" : ratio(r.avgKbps, raw?.avgKbps),
    r.server === "gst" ? "1.00" : ratio(r.cpuPerReaderSecond, gst?.cpuPerReaderSecond),
    r.server === "raw" ? "1.00" : ratio(r.cpuPerReaderSecond, raw?.cpuPerReaderSecond),
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

/** The relays that do the least work possible (the latency floor), with their labels. */
const FLOORS: [PhaseResult["server"], (runtime: string) => string][] = [
  ["raw", (runtime) => `raw ${runtime}`],
  ["rawc", () => "raw C 1-thread"],
  ["rawc2", () => "raw C 2-thread"],
];

/**
 * The latency target at one N: strom's p99, and beside it the p99 of every floor relay measured at
 * that N, so a FAIL can be read against what the machine allows at all.
 */
function latencyCheck(rows: PhaseResult[], strom: PhaseResult): string {
  const target = 2;
  const floors = FLOORS.flatMap(([server, label]) => {
    const f = peer(rows, strom, server);
    if (!f) return [];
    const send = f.fanout?.keyframes.frames
      ? ` (keyframe send loop p50 ${fmt(f.fanout.keyframes.p50Ms, 2)} ms)`
      : "";
    return [{ label: label(strom.runtime), p99: f.latency.p99Ms, send }];
  });
  let floorText = "";
  if (floors.length) {
    const best = Math.min(...floors.map((f) => f.p99));
    floorText = `; floor p99: ${floors.map((f) => `${f.label} ${fmt(f.p99, 2)} ms${f.send}`).join(", ")}, ${
      best < target ? "the best floor meets it" : "no floor relay meets it either"
    }`;
  }
  return `${strom.latency.p99Ms < target ? "PASS" : "FAIL"} added latency p99 < ${target} ms (${
    fmt(strom.latency.p99Ms, 2)
  } ms, p50 ${fmt(strom.latency.p50Ms, 2)} ms${floorText})`;
}

/**
 * Pass/fail lines for the issue's targets: bitrate, CPU and RSS from strom's row at the largest N
 * (the issue states those at 200 readers), latency at every N measured (the issue does not tie it
 * to a reader count).
 */
export function targetChecks(rows: PhaseResult[], runtime: string): string[] {
  const stroms = rows.filter((r) => r.runtime === runtime && r.server === "strom").sort((a, b) =>
    a.readers - b.readers
  );
  const strom = stroms[stroms.length - 1];
  if (!strom) return [];
  const gst = peer(rows, strom, "gst");
  const mark = (ok: boolean) => (ok ? "PASS" : "FAIL");
  const minPct = (100 * strom.minKbps) / strom.sourceKbps;
  const out = [
    `${
      mark(minPct >= 95 && strom.connected === strom.readers)
    } every one of ${strom.readers} readers gets >= 95 % of the source bitrate (min ${
      fmt(minPct)
    } %, ${strom.connected}/${strom.readers} playing)`,
  ];
  if (gst) {
    const ratio = strom.cpuPerReaderSecond / gst.cpuPerReaderSecond;
    out.push(
      `${mark(ratio <= 1.5)} CPU per reader-second <= 1.5x gst-rtsp-server (${fmt(ratio, 2)}x: ${
        sci(strom.cpuPerReaderSecond)
      } vs ${sci(gst.cpuPerReaderSecond)})`,
    );
  } else {
    out.push(`---- CPU vs gst-rtsp-server: not measured (gst-rtsp-server not in this run)`);
  }
  out.push(`${mark(strom.rssMB <= 80)} RSS <= 80 MB (${fmt(strom.rssMB)} MB)`);
  return [
    ...out.map((l) => `  ${runtime} N=${strom.readers}: ${l}`),
    ...stroms.map((r) => `  ${runtime} N=${r.readers}: ${latencyCheck(rows, r)}`),
  ];
}
