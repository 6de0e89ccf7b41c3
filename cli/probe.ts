/**
 * `strom probe <url>`: dials a source, watches it for a few seconds and reports its codecs
 * (profile/level from the fmtp), picture size (from the SPS), frame rate (timestamps, VUI and
 * arrival), GOP, bitrate per track and arrival jitter, as a table or as JSON (`--json`).
 *
 * The source is dialed directly through the registry (not through a stream), so no GOP cache
 * replays old frames in a burst: every frame is timed as the source delivers it.
 *
 * @module
 */
import { writeStdout } from "../lib/runtime/host.ts";
import { Command } from "commander";
import { codecToString } from "../lib/core/codec.ts";
import type { ConnectionInfo, Producer } from "../lib/core/connection.ts";
import { redactUrl } from "../lib/core/errors.ts";
import { Sender } from "../lib/core/fanout.ts";
import type { Frame } from "../lib/core/frame.ts";
import type { Media } from "../lib/core/media.ts";
import { dialSource, schemeOf } from "../lib/core/registry.ts";
import { statPath } from "../lib/runtime/fs.ts";
import { loadServerConfig } from "../server/load.ts";
import { configureFfmpegSources, registerBuiltinSources } from "../server/sources.ts";
import { type CodecReport, describeCodec, describeSps, type SpsReport } from "./codec_info.ts";
import { CliError } from "./errors.ts";
import { abortableSleep } from "../lib/core/abortable_sleep.ts";
import { onInterrupt } from "./interrupt.ts";
import { configOption, parseSeconds, timeoutOption } from "./options.ts";
import { type TrackMeasurements, TrackStats } from "./track_stats.ts";

/** One media as the source describes it. */
export interface ProbeMedia {
  kind: string;
  direction: string;
  id?: string;
  codecs: (Omit<CodecReport, "sps"> & { text: string })[];
}

/** One received track: codec facts plus measurements. */
export interface ProbeTrack extends TrackMeasurements {
  kind: "video" | "audio";
  /** Short codec name: `h264`, `h265`, `aac`, `opus`, `pcma`, `mjpeg`... */
  codec: string;
  clock_rate: number;
  /** Profile and level: from the SPS for video when there is one, else from the fmtp. */
  profile?: string;
  level?: string;
  tier?: string;
  codec_string?: string;
  width?: number;
  height?: number;
  chroma?: string;
  bit_depth?: number;
  interlaced?: boolean;
  /** Frame rate stated in the SPS VUI timing info. */
  fps_sps?: number | null;
  sample_rate?: number;
  channels?: number;
  samples_per_frame?: number;
}

/** What `strom probe` reports. */
export interface ProbeResult {
  url: string;
  /** Time to connect and describe, ms. */
  dial_ms: number;
  /** How long frames were measured, s. */
  measured_s: number;
  medias: ProbeMedia[];
  tracks: ProbeTrack[];
  connection: ConnectionInfo;
  /** Inconsistencies worth a look (fmtp vs SPS, missing frames, a source that ended early). */
  warnings: string[];
  /** Total run time, ms. */
  probe_ms: number;
}

/** Options of {@link probe}. */
export interface ProbeOptions {
  /** Measure for this long. Default 3 s. */
  seconds?: number;
  /** Give up connecting after this long. Default 10 s. */
  timeoutMs?: number;
  /** Ends the measurement early (Ctrl-C); the report covers what arrived until then. */
  signal?: AbortSignal;
}

const SHORT: Record<string, string> = { "MPEG4-GENERIC": "aac", "MP4A-LATM": "aac", JPEG: "mjpeg" };

/** Records each frame with its arrival time, synchronously from `Receiver.push`. */
class FrameTap extends Sender {
  readonly stats: TrackStats;
  constructor(media: Media, stats: TrackStats) {
    super(media, stats.codec, () => {});
    this.stats = stats;
  }
  override push(frame: Frame): void {
    this.stats.observe(frame, performance.now());
  }
}

/**
 * Dials `url`, measures its tracks for `seconds`, stops it and reports.
 *
 * @throws {CliError} when it does not answer within `timeoutMs`; source errors as they come.
 * @example
 * ```ts
 * const result = await probe("demo:", { seconds: 2 });
 * result.tracks[0].width; // 640
 * ```
 */
export async function probe(url: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const seconds = options.seconds ?? 3;
  const timeoutMs = options.timeoutMs ?? 10_000;
  registerBuiltinSources();
  const started = performance.now();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new CliError(
          `Source "${redactUrl(url)}" did not answer within ${timeoutMs / 1000} s; raise it with --timeout.`,
        ),
      );
    }, timeoutMs);
  });
  let producer: Producer | undefined;
  const warnings: string[] = [];
  try {
    const dialing = dialSource(url, { streamName: "probe", signal: controller.signal });
    // A dial that finishes after the timeout must not leak its connection.
    dialing.then((p) => {
      if (controller.signal.aborted) p.stop().catch(() => {});
    }, () => {});
    producer = await Promise.race([dialing, timeout]);
    clearTimeout(timer);
    const dialMs = performance.now() - started;

    const medias = producer.medias();
    const tracks: { media: Media; stats: TrackStats; codec: CodecReport }[] = [];
    for (const media of medias) {
      // Backchannels (we send to the source) carry nothing to measure.
      if (media.direction === "sendonly" || media.direction === "inactive" || !media.codecs.length) continue;
      const codec = media.codecs[0];
      const stats = new TrackStats(media.kind, codec);
      const receiver = await producer.track(media, codec);
      receiver.addSender(new FrameTap(media, stats), { fromCache: false });
      tracks.push({ media, stats, codec: describeCodec(codec) });
    }

    let ended: string | undefined;
    const measureStart = performance.now();
    const running = producer.start().then(
      () => (ended = "the source ended"),
      (error) => (ended = `the source failed: ${(error as Error).message}`),
    );
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    running.then(() => stop.abort());
    await abortableSleep(seconds * 1000, stop.signal);
    options.signal?.removeEventListener("abort", onAbort);
    const measured = (performance.now() - measureStart) / 1000;
    if (ended) warnings.push(`${ended} after ${measured.toFixed(1)} s`);
    else if (options.signal?.aborted) warnings.push(`interrupted after ${measured.toFixed(1)} s`);

    const reports = tracks.map((t) => trackReport(t.media, t.codec, t.stats, warnings));
    return {
      url: producer.info().url ?? redactUrl(url),
      dial_ms: Math.round(dialMs),
      measured_s: Math.round(measured * 1000) / 1000,
      medias: medias.map((m) => ({
        kind: m.kind,
        direction: m.direction,
        ...(m.id ? { id: m.id } : {}),
        codecs: m.codecs.map((c) => {
          const { sps: _sps, ...rest } = describeCodec(c);
          return { ...rest, text: codecToString(c) };
        }),
      })),
      tracks: reports,
      connection: producer.info(),
      warnings,
      probe_ms: Math.round(performance.now() - started),
    };
  } finally {
    clearTimeout(timer);
    await producer?.stop().catch(() => {});
  }
}

function trackReport(media: Media, codec: CodecReport, stats: TrackStats, warnings: string[]): ProbeTrack {
  const m = stats.result();
  const label = `${media.kind} ${codec.name}`;
  let sps: SpsReport | undefined = codec.sps ? describeSps(codec.name, codec.sps) : undefined;
  if (!sps && m.sps) sps = m.sps;
  if (codec.sps && m.sps && (m.sps.width !== sps?.width || m.sps.height !== sps?.height)) {
    warnings.push(
      `${label}: in-band SPS says ${m.sps.width}x${m.sps.height}, the SDP ${sps?.width}x${sps?.height}`,
    );
    sps = m.sps;
  }
  if (sps && codec.profile && (codec.profile !== sps.profile || codec.level !== sps.level)) {
    warnings.push(
      `${label}: fmtp says ${codec.profile} ${codec.level ?? ""}, the SPS ${sps.profile} ${sps.level}`
        .replace(/\s+,/, ","),
    );
  }
  if (m.frames === 0) warnings.push(`${label}: no frames arrived`);
  if (m.timestamp_gaps) warnings.push(`${label}: ${m.timestamp_gaps} timestamp gap(s) or reset(s)`);
  const { sps: _inBand, ...measured } = m;
  const out: ProbeTrack = {
    kind: media.kind,
    codec: SHORT[codec.name.toUpperCase()] ?? codec.name.toLowerCase(),
    clock_rate: codec.clock_rate,
    ...(sps?.profile ?? codec.profile ? { profile: sps?.profile ?? codec.profile } : {}),
    ...(sps?.level ?? codec.level ? { level: sps?.level ?? codec.level } : {}),
    ...(sps?.tier ?? codec.tier ? { tier: sps?.tier ?? codec.tier } : {}),
    ...(sps?.codec_string ?? codec.codec_string
      ? { codec_string: sps?.codec_string ?? codec.codec_string }
      : {}),
    ...measured,
  };
  if (media.kind === "video") {
    if (sps) {
      out.width = sps.width;
      out.height = sps.height;
      out.chroma = sps.chroma;
      out.bit_depth = sps.bit_depth;
      out.interlaced = sps.interlaced;
    }
    out.fps_sps = sps?.fps ?? null;
  } else {
    const rate = codec.sample_rate ?? codec.clock_rate;
    if (rate) out.sample_rate = rate;
    if (codec.channels) out.channels = codec.channels;
    if (codec.samples_per_frame) out.samples_per_frame = codec.samples_per_frame;
  }
  return out;
}

function kbps(bps: number | null): string {
  if (bps === null) return "-";
  return bps >= 1_000_000 ? `${(bps / 1_000_000).toFixed(2)} Mbit/s` : `${Math.round(bps / 1000)} kbit/s`;
}

function ms(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/**
 * The human-readable form of a probe result: a header, one table row per track, the warnings.
 *
 * @example
 * ```ts
 * writeStdout(formatProbeTable(await probe("demo:")));
 * ```
 */
export function formatProbeTable(r: ProbeResult): string {
  const head = [
    "TRACK",
    "CODEC",
    "FORMAT",
    "FPS",
    "GOP",
    "BITRATE",
    "JITTER ms (rfc3550 / stddev / max / spread)",
  ];
  const rows: string[][] = [head];
  r.tracks.forEach((t, i) => {
    const codec = [t.codec, t.profile, t.level ? `@${t.level}` : "", t.tier === "High" ? "High tier" : ""]
      .filter(Boolean).join(" ").replace(" @", "@");
    let format = "";
    let fps = "-";
    let gop = "-";
    if (t.kind === "video") {
      format = t.width
        ? `${t.width}x${t.height} ${t.chroma ?? ""} ${t.bit_depth ?? 8}-bit${
          t.interlaced ? " interlaced" : ""
        }`
        : "?";
      if (t.fps !== null) fps = t.fps.toFixed(2) + (t.fps_sps ? ` (sps ${t.fps_sps})` : "");
      if (t.gop?.frames != null) {
        gop = `${t.gop.frames} fr / ${t.gop.seconds?.toFixed(2)} s`;
        if (t.gop.min_frames !== t.gop.max_frames) gop += ` (${t.gop.min_frames}-${t.gop.max_frames})`;
      } else if (t.gop) gop = `>= ${t.gop.at_least_frames} fr`;
    } else {
      const ch = t.channels === 1
        ? "mono"
        : t.channels === 2
        ? "stereo"
        : t.channels
        ? `${t.channels} ch`
        : "";
      format = [
        t.sample_rate ? `${t.sample_rate} Hz` : "",
        ch,
        t.frame_interval_ms ? `${ms(t.frame_interval_ms)} ms frames` : "",
      ]
        .filter(Boolean).join(" ");
    }
    const j = t.jitter;
    let jitter = j ? `${ms(j.jitter_ms)} / ${ms(j.stddev_ms)} / ${ms(j.max_ms)} / ${ms(j.spread_ms)}` : "-";
    if (j?.startup_burst_frames) jitter += ` (after a ${j.startup_burst_frames}-frame burst)`;
    rows.push([`${i} ${t.kind}`, codec, format.trim(), fps, gop, kbps(t.bitrate_bps), jitter]);
  });
  const widths = head.map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines = [
    `${r.url}  (connected in ${r.dial_ms} ms, measured ${r.measured_s.toFixed(1)} s)`,
    "",
    ...rows.map((row) =>
      row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ").trimEnd()
    ),
  ];
  const other = r.medias.filter((m) => m.direction === "sendonly");
  for (const m of other) lines.push(`backchannel: ${m.kind} ${m.codecs.map((c) => c.text).join(", ")}`);
  if (r.warnings.length) lines.push("", ...r.warnings.map((w) => `warning: ${w}`));
  return lines.join("\n") + "\n";
}

/**
 * What a probe argument stands for: a source URL as is; a stream name of the config for its first
 * source; a media file for ffmpeg reading it (`ffmpeg:<path>#video=copy#audio=copy`, paced at
 * its own speed, so rates and GOP are those of the file).
 */
async function resolveProbeUrl(arg: string, config: string[]): Promise<string> {
  if (schemeOf(arg)) return arg;
  const loaded = await loadServerConfig(config);
  configureFfmpegSources((loaded.config.ffmpeg ?? {}) as Record<string, unknown>, () => false);
  const sources = loaded.config.streams?.[arg];
  if (sources?.length) return sources[0];
  if ((await statPath(arg).catch(() => undefined))?.isFile) return `ffmpeg:${arg}#video=copy#audio=copy`;
  throw new CliError(
    `"${arg}" is neither a source URL (rtsp://..., ffmpeg:..., demo:), a media file, nor a stream of the config; pass a URL, a file or -c.`,
  );
}

/**
 * The `probe` subcommand.
 *
 * @example
 * ```ts
 * program.addCommand(probeCommand());
 * ```
 */
export function probeCommand(): Command {
  return new Command("probe")
    .description("measure a source: codecs, resolution, fps, GOP, bitrate and jitter per track")
    .argument(
      "<url>",
      'source URL, e.g. "demo:" or "rtsp://user:pass@10.0.0.5/stream1", a media file (read by ffmpeg), or a stream name with -c',
    )
    .option("--json", "print the report as JSON")
    .option("--seconds <n>", "measure for this many seconds", "3")
    .addOption(timeoutOption(10, "give up connecting after this many seconds"))
    .addOption(configOption())
    .addHelpText(
      "after",
      `
Examples:
  strom probe demo:
  strom probe rtsp://admin:pass@192.168.1.10/stream1 --seconds 10
  strom probe rtsp://192.168.1.10/stream1 --json | jq '.tracks[] | {codec, width, height, fps, gop}'
  strom probe front_door -c strom.yaml
  strom probe recording.mp4

Measured per track: fps (timestamps, SPS VUI, arrival), GOP (frames and seconds between keyframes),
bitrate (payload bits over media time), jitter (RFC 3550 estimator, std-dev and max of arrival
interval minus timestamp interval, and the spread a player must buffer). Ctrl-C ends the
measurement early and reports what arrived. Exit code 1 when nothing arrived.`,
    )
    .action(
      async (arg: string, opts: { json?: boolean; seconds: string; timeout: string; config: string[] }) => {
        const seconds = parseSeconds("--seconds", opts.seconds);
        const timeoutMs = parseSeconds("--timeout", opts.timeout) * 1000;
        const url = await resolveProbeUrl(arg, opts.config);
        const interrupt = onInterrupt();
        let result: ProbeResult;
        try {
          result = await probe(url, { seconds, timeoutMs, signal: interrupt.signal });
        } finally {
          interrupt.dispose();
        }
        writeStdout(opts.json ? JSON.stringify(result, null, 2) + "\n" : formatProbeTable(result));
        if (result.tracks.length && result.tracks.every((t) => t.frames === 0)) {
          throw new CliError(`No frames arrived from "${result.url}" within ${seconds} s.`);
        }
      },
    );
}
