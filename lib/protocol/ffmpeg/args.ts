/**
 * `ffmpeg:` source URL -> ffmpeg command line, a port of go2rtc's `parseArgs`
 * (`internal/ffmpeg/ffmpeg.go`) so that go2rtc configs produce the same commands.
 *
 * ```text
 * ffmpeg:{input}#{param}#{param}...
 *   input:  rtsp://... | rtsps://... | http(s)://... | rtmp://... | other://...  (URL)
 *           <stream name>                     (read back from our own RTSP server)
 *           device?video=0&... | virtual?video=testsrc2&... | tts?text=...
 *           anything else: a file path
 *   params: #video=<preset|args|copy> (repeatable)   #audio=<preset|args|copy> (repeatable)
 *           #input=<template|args>  #timeout=<s>  #async  #raw=<template|args> (repeatable)
 *           #width=  #height=  #rotate=90|180|270|-90  #drawtext=<opts|template> (repeatable)
 *           #bitrate=  #hardware[=engine]  #query=<extra RTSP query> (stream names only)
 * ```
 *
 * The command is built in this order: bin, global options, input (with `-readrate_initial_burst`
 * for `-re` inputs on ffmpeg >= 6.1), codec options, `-vf "filters"`, output.
 *
 * @module
 */
import { parseHashParams } from "../exec/params.ts";
import { quoteSplit } from "../exec/quote_split.ts";
import { deviceInput, type DeviceList, type DevicePlatform, ttsInput, virtualInput } from "./inputs.ts";
import { type HardwareProbe, makeHardware } from "./hardware.ts";
import { FFMPEG_DEFAULTS } from "./templates.ts";

/** How the built command delivers media. */
export type FfmpegOutput = "rtsp" | "mjpeg" | "raw" | "adts" | "wav" | "mpegts";

/** Options of {@link buildFfmpegArgs}. */
export interface FfmpegArgsOptions {
  /** ffmpeg binary. Default `templates.bin`, else `ffmpeg`. */
  bin?: string;
  /** Global options after the binary. Default `templates.global`, else `-hide_banner`. */
  global?: string;
  /** Templates: {@link FFMPEG_DEFAULTS} merged with the `ffmpeg:` config section (see `ffmpegTemplates`). */
  templates?: Readonly<Record<string, string>>;
  /**
   * `user:password` for our RTSP server, for stream-name inputs when it requires auth (the server's
   * internal account, so `ffmpeg:<stream>` keeps working with `rtsp.username/password` set).
   */
  rtspUserinfo?: string;
  /** Port of our RTSP server, for stream-name inputs. Default 8554. */
  rtspPort?: number;
  /** RTSP input timeout in seconds when the URL has no `#timeout=`. Default `templates.timeout`, else 5. */
  timeout?: number;
  /**
   * Installed ffmpeg version (`"6.1"`, `"7.0.2"`, `"n6.1.1"`) or libavformat version (`"60.16.100"`).
   * From 6.1 on, `-re` inputs get `-readrate_initial_burst 0.001` (the default 0.5 s burst would skip
   * the start of a file). Unknown: no burst option.
   */
  version?: string;
  /** Whether a name is a configured stream (read through our RTSP server). Default: none are. */
  hasStream?: (name: string) => boolean;
  /** OS for `device?` inputs. Default `linux`. */
  platform?: DevicePlatform;
  /** Capture devices, for `device?video=<index>`. */
  devices?: DeviceList;
  /** Engine lookup for a bare `#hardware`. Default: none (software encoders stay). */
  probeHardware?: HardwareProbe;
  /**
   * Where media goes when no pipe format is implied by the params: `rtsp` (go2rtc's default: ffmpeg
   * publishes to our RTSP server at `{output}`) or `mpegts` (strom: MPEG-TS on stdout).
   */
  defaultOutput?: "rtsp" | "mpegts";
}

/** A built ffmpeg command. */
export interface FfmpegCommand {
  bin: string;
  /** Arguments after `bin`, split as the exec source splits them. May contain `{output}`. */
  args: string[];
  /** How media leaves ffmpeg: `rtsp` to `{output}`, or a format on stdout. */
  output: FfmpegOutput;
  /** The whole command as one line, the form `exec:` takes and go2rtc's tests compare. */
  commandLine: string;
  /** `#audio=auto`: the caller must pick the audio codec (backchannel) and build again. */
  autoAudio: boolean;
}

/**
 * An `ffmpeg:` URL that cannot become a command.
 *
 * @example
 * ```ts
 * try { buildFfmpegArgs("ffmpeg:device?foo=1", {}); } catch (e) {
 *   if (e instanceof FfmpegArgsError) console.log(e.url);
 * }
 * ```
 */
export class FfmpegArgsError extends Error {
  override name = "FfmpegArgsError";
  readonly url: string;
  constructor(url: string, message: string) {
    super(`Cannot build an ffmpeg command from "${url}": ${message}`);
    this.url = url;
  }
}

// The parts of a command line, assembled by toArgsLine.
interface Parts {
  bin: string;
  global: string;
  input: string;
  codecs: string[];
  filters: string[];
  output: string;
  video: number;
  audio: number;
  burst: boolean;
  /** `-filter_complex` graph (a mosaic of several inputs); `filters` are appended to it. */
  complex?: string;
}

// Everything after the binary.
function toArgsLine(p: Parts): string {
  let s = "";
  if (p.global) s += p.global + " ";
  if (p.burst && p.input.startsWith("-re ")) s += "-readrate_initial_burst 0.001 ";
  s += p.input;
  if (p.complex !== undefined) {
    const graph = p.filters.length ? `${p.complex},${p.filters.join(",")}` : p.complex;
    s += ` -filter_complex "${graph}"`;
  }
  // Several #video or #audio params: one output stream each, mapped from the first input stream.
  const multi = p.video > 1 || p.audio > 1;
  let iv = 0;
  let ia = 0;
  for (let codec of p.codecs) {
    if (!codec) continue;
    if (multi && codec.startsWith("-c:v ")) {
      codec = "-map 0:v:0? " + codec.replaceAll(":v ", `:v:${iv++} `);
    } else if (multi && codec.startsWith("-c:a ")) {
      codec = "-map 0:a:0? " + codec.replaceAll(":a ", `:a:${ia++} `);
    }
    s += " " + codec;
  }
  if (p.filters.length && p.complex === undefined) s += ` -vf "${p.filters.join(",")}"`;
  return s + " " + p.output;
}

/**
 * A `-filter_complex` graph that tiles `n` video inputs into a grid of `width` x `height` tiles,
 * as square as it gets (2: side by side, 3-4: 2x2, 5-6: 3x2, ...); each input is scaled to fit its
 * tile, keeping its aspect ratio, and padded with black. Empty tiles stay black.
 *
 * @example
 * ```ts
 * mosaicGrid(2, 640, 360);
 * // "[0:v]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:-1:-1,setsar=1[t0];...;[t0][t1]xstack=inputs=2:layout=0_0|640_0:fill=black"
 * ```
 */
export function mosaicGrid(n: number, width: number, height: number): string {
  const w = pixels(width, 640);
  const h = pixels(height, 360);
  const cols = Math.ceil(Math.sqrt(n));
  const layout: string[] = [];
  let labels = "";
  for (let i = 0; i < n; i++) {
    labels += `[t${i}]`;
    layout.push(`${(i % cols) * w}_${Math.floor(i / cols) * h}`);
  }
  return `${fitted(n, w, h).join(";")};${labels}xstack=inputs=${n}:layout=${layout.join("|")}:fill=black`;
}

// A picture size from #width/#height, or `fallback` when it is not a positive number.
function pixels(value: number, fallback: number): number {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : fallback;
}

// Each of `n` inputs scaled to fit w x h (aspect kept, padded black), labelled [t0], [t1], ...
function fitted(n: number, w: number, h: number): string[] {
  const chains: string[] = [];
  for (let i = 0; i < n; i++) {
    chains.push(`[${i}:v]scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:-1:-1,setsar=1[t${i}]`);
  }
  return chains;
}

/**
 * A `-filter_complex` graph that shows `n` video inputs one after the other, each for `seconds`,
 * over and over (a camera tour, the go2rtc seed article's "surveillance" rotation): each input is
 * scaled to fit `width` x `height` (aspect kept, padded with black) and laid over the first while
 * its turn lasts, timed on the first input's clock.
 *
 * @example
 * ```ts
 * tourGraph(2, 10, 1280, 720);
 * // "[0:v]scale=...[t0];[1:v]scale=...[t1];[t0][t1]overlay=enable='gte(mod(t,20),10)*lt(mod(t,20),20)'"
 * ```
 */
export function tourGraph(n: number, seconds: number, width: number, height: number): string {
  const w = pixels(width, 1280);
  const h = pixels(height, 720);
  const turn = Number.isFinite(seconds) && seconds > 0 ? seconds : 10;
  const period = turn * n;
  const chains = fitted(n, w, h);
  let below = "t0";
  for (let i = 1; i < n; i++) {
    const out = i < n - 1 ? `[o${i}]` : "";
    chains.push(`[${below}][t${i}]overlay=enable='gte(mod(t,${period}),${i * turn})*lt(mod(t,${period}),${(i + 1) * turn})'${out}`);
    below = `o${i}`;
  }
  return chains.join(";");
}

/** `#tour=` as seconds: `10`, `10s`, `1.5s`, `2m`; undefined for anything else. */
export function tourSeconds(value: string | undefined): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m)?\s*$/i.exec(value ?? "");
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2]?.toLowerCase() === "m" ? 60 : 1);
  return n > 0 ? n : undefined;
}

// ffmpeg >= 6.1, from an ffmpeg version ("6.1.1", "n7.0") or a libavformat one ("60.16.100").
function burstSupported(version: string | undefined): boolean {
  if (!version) return false;
  const m = /(\d+)\.\s*(\d+)/.exec(version);
  if (!m) return /^N-/.test(version); // git builds ("N-113412-g...") are newer than any release
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major >= 10) return major > 60 || (major === 60 && minor >= 16); // libavformat 60.16 = ffmpeg 6.1
  return major > 6 || (major === 6 && minor >= 1);
}

/**
 * Builds the ffmpeg command for an `ffmpeg:` source URL (the `ffmpeg:` prefix is optional).
 * Pure: no process is run; engines for a bare `#hardware` come from `options.probeHardware`.
 *
 * @throws {FfmpegArgsError} for a `device?` input without `video` or `audio`.
 * @example
 * ```ts
 * const cmd = buildFfmpegArgs("ffmpeg:rtsp://cam/1#video=h264#audio=opus", { templates: ffmpegTemplates() });
 * cmd.commandLine;
 * // "ffmpeg -hide_banner -allowed_media_types video+audio -fflags nobuffer ... -i rtsp://cam/1
 * //  -c:v libx264 ... -c:a libopus ... -user_agent ffmpeg/go2rtc -rtsp_transport tcp -f rtsp {output}"
 * cmd.output; // "rtsp"
 * ```
 */
export function buildFfmpegArgs(url: string, options: FfmpegArgsOptions = {}): FfmpegCommand {
  const t = options.templates ?? FFMPEG_DEFAULTS;
  const template = (name: string): string => t[name] ?? "";
  // A param value that names a template means the template; anything else is used as it is.
  const configTemplate = (value: string): string => t[value] || value;

  const source = url.startsWith("ffmpeg:") ? url.slice(7) : url;
  const hash = source.indexOf("#");
  const s = hash >= 0 ? source.slice(0, hash) : source;
  const q = parseHashParams(hash >= 0 ? source.slice(hash + 1) : "");
  const all = (key: string): string[] => q.get(key) ?? [];
  const first = (key: string): string | undefined => q.get(key)?.[0];

  const defaultOutput = options.defaultOutput ?? "rtsp";
  let outputKind: FfmpegOutput = defaultOutput;
  const p: Parts = {
    bin: options.bin ?? (template("bin") || "ffmpeg"),
    global: options.global ?? (t.global ?? "-hide_banner"),
    input: "",
    codecs: [],
    filters: [],
    output: template(defaultOutput === "mpegts" ? "output/mpegts" : "output"),
    video: all("video").length,
    audio: all("audio").length,
    burst: burstSupported(options.version),
  };

  const timeoutSeconds = first("timeout") || (options.timeout !== undefined ? String(options.timeout) : "") ||
    template("timeout") || "5";
  // `#input=` picks another template by name, or is a template itself.
  const inputTemplate = (name: string, input: string): string => {
    const custom = first("input");
    let tpl = custom ? configTemplate(custom) : template(name);
    // {timeout} is in microseconds for ffmpeg's RTSP/HTTP `-timeout`; configs give seconds.
    tpl = tpl.replace("{timeout}", timeoutSeconds + "000000");
    return tpl.replace("{input}", input);
  };

  // Stream `name` as ffmpeg reads it from our RTSP server.
  const streamInput = (name: string, types: string): string => {
    const userinfo = options.rtspUserinfo ? options.rtspUserinfo + "@" : "";
    let url = `rtsp://${userinfo}127.0.0.1:${options.rtspPort ?? 8554}/${name}?${types}`;
    // Tells our RTSP server which source this reader stands for, so the stream never feeds ffmpeg
    // from this very ffmpeg source (loop protection).
    url += "&source=" + encodeURIComponent("ffmpeg:" + source);
    for (const extra of all("query")) if (extra) url += "&" + extra;
    return inputTemplate("rtsp", url);
  };
  const mosaicParts = s.includes(",") ? s.split(",") : [];
  const mosaic = mosaicParts.length > 1 &&
    mosaicParts.every((part) => /^(rtsps?|https?|rtmps?):\/\//.test(part) || options.hasStream?.(part) === true);

  // Input: 0. a mosaic of several, 1. a URL, 2. one of our streams, 3. device/virtual/tts, 4. a file.
  const scheme = s.indexOf("://");
  const query = s.indexOf("?");
  if (mosaic) {
    // The go2rtc seed article's "quad_view": ffmpeg:front_door,living_room,backyard,garage, tiled
    // into one picture (video only, so it is encoded: #video=h264 unless another is given).
    p.input = mosaicParts.map((part) => {
      if (!part.includes("://")) return streamInput(part, "video");
      if (part.startsWith("rtsp")) return "-allowed_media_types video " + inputTemplate("rtsp", part);
      return inputTemplate("http", part);
    }).join(" ");
    const custom = first("filter_complex");
    const tour = first("tour");
    if (tour !== undefined && custom === undefined) {
      // A camera tour: each input in turn, full size.
      const seconds = tourSeconds(tour);
      if (seconds === undefined) {
        throw new FfmpegArgsError(url, `#tour=${tour} is not a duration; give each camera's turn in seconds, e.g. #tour=10 or #tour=1m`);
      }
      p.complex = tourGraph(mosaicParts.length, seconds, Number(first("width") ?? 1280), Number(first("height") ?? 720));
    } else {
      p.complex = custom !== undefined
        ? configTemplate(custom)
        : mosaicGrid(mosaicParts.length, Number(first("width") ?? 640), Number(first("height") ?? 360));
    }
    if (p.video === 0) {
      p.codecs.push(configTemplate("h264"));
      p.video = 1;
    }
  } else if (scheme > 0) {
    switch (s.slice(0, scheme)) {
      case "http":
      case "https":
      case "rtmp":
        p.input = inputTemplate("http", s);
        break;
      case "rtsp":
      case "rtsps": {
        // https://ffmpeg.org/ffmpeg-protocols.html#rtsp: do not set up tracks nobody asked for.
        let types = "video+audio";
        if (p.video > 0 && p.audio === 0) types = "video";
        else if (p.audio > 0 && p.video === 0) types = "audio";
        p.input = `-allowed_media_types ${types} ` + inputTemplate("rtsp", s);
        break;
      }
      default:
        p.input = "-i " + s;
    }
  } else if (s && options.hasStream?.(s)) {
    p.input = streamInput(s, p.video > 0 && p.audio === 0 ? "video" : p.audio > 0 && p.video === 0 ? "audio" : "video&audio");
  } else if (query > 0 && ["device", "virtual", "tts"].includes(s.slice(0, query))) {
    const rest = s.slice(query + 1);
    switch (s.slice(0, query)) {
      case "device":
        p.input = deviceInput(rest, options.platform ?? "linux", options.devices);
        if (!p.input) {
          throw new FfmpegArgsError(url, 'a device input needs "video=" or "audio=", e.g. "device?video=0"');
        }
        break;
      case "virtual":
        p.input = virtualInput(rest);
        break;
      case "tts":
        p.input = ttsInput(rest);
        break;
    }
  } else {
    // A file path (go2rtc leaves the input empty for an unknown "xxx?..." prefix; a path is likelier).
    p.input = inputTemplate("file", s);
  }

  if (q.has("async")) p.input = "-use_wallclock_as_timestamps 1 -async 1 " + p.input;

  // 1. Raw options, verbatim or by template name (go2rtc issue #487).
  for (const raw of all("raw")) p.codecs.push(configTemplate(raw));

  // 2. Video filters: scale, rotate, drawtext.
  const width = first("width");
  const height = first("height");
  // (A mosaic's #width/#height are the size of each tile.)
  if (!mosaic && (width !== undefined || height !== undefined)) p.filters.push(`scale=${width ?? "-1"}:${height ?? "-1"}`);
  switch (first("rotate")) {
    case "90":
      p.filters.push("transpose=1"); // 90 degrees clockwise
      break;
    case "180":
      p.filters.push("transpose=1,transpose=1");
      break;
    case "-90":
    case "270":
      p.filters.push("transpose=2"); // 90 degrees counterclockwise
      break;
  }
  for (let drawtext of all("drawtext")) {
    drawtext = configTemplate(drawtext);
    if (!drawtext.includes("text=")) drawtext += `:text='%{localtime\\:%Y-%m-%d %X}'`;
    p.filters.push("drawtext=" + drawtext);
  }

  // 3. Video codecs, 4. bitrate, 5. audio codecs: a template name, literal options, or copy.
  let autoAudio = false;
  for (const video of all("video")) p.codecs.push(video === "copy" ? "-c:v copy" : configTemplate(video));
  const bitrate = first("bitrate");
  if (bitrate !== undefined) {
    // https://trac.ffmpeg.org/wiki/Limiting%20the%20output%20bitrate
    p.codecs.push(`-b:v ${bitrate} -maxrate ${bitrate} -bufsize ${bitrate}`);
  }
  for (const audio of all("audio")) {
    if (audio === "auto") autoAudio = true;
    p.codecs.push(audio === "copy" ? "-c:a copy" : configTemplate(audio));
  }

  // 6. Hardware encoders.
  const hardware = first("hardware");
  if (hardware !== undefined) makeHardware(p, hardware, t, options.probeHardware);

  if (p.video === 0 && p.audio === 0) p.codecs.push("-c copy");
  else if (p.video === 0) p.codecs.push("-vn");
  else if (p.audio === 0) p.codecs.push("-an");

  // Pipe outputs for formats our RTSP server would only have to unwrap again.
  const before = (value: string | undefined) => (value ?? "").split("/")[0];
  if (p.video === 0 && p.audio === 0) {
    // Copying from an MJPEG capture device: pass the JPEGs through.
    if (p.input.includes(" mjpeg ")) {
      p.output = template("output/mjpeg");
      outputKind = "mjpeg";
    }
  } else if (p.video === 1 && p.audio === 0) {
    switch (before(first("video"))) {
      case "mjpeg":
        p.output = template("output/mjpeg");
        outputKind = "mjpeg";
        break;
      case "raw":
        p.output = template("output/raw");
        outputKind = "raw";
        break;
    }
  } else if (p.video === 0 && p.audio === 1) {
    switch (before(first("audio"))) {
      case "aac":
        p.output = template("output/aac");
        outputKind = "adts";
        break;
      case "pcma":
      case "pcmu":
      case "pcml":
        p.output = template("output/wav");
        outputKind = "wav";
        break;
    }
  }

  if (defaultOutput === "mpegts") {
    // strom's pipe is MPEG-TS, which carries AAC but not G.711 or 16-bit PCM: an audio-only AAC
    // output stays MPEG-TS, audio-only G.711/PCM stays on go2rtc's WAV pipe, and G.711/PCM next to
    // video goes to strom's RTSP server through {output} (RTP carries PCMA, PCMU and L16).
    if (outputKind === "adts") {
      p.output = template("output/mpegts");
      outputKind = "mpegts";
    }
    const pcm = all("audio").some((a) => ["pcma", "pcmu", "pcm"].includes(before(a)));
    if (pcm && outputKind === "mpegts") {
      p.output = template("output");
      outputKind = "rtsp";
    }
  }

  const line = toArgsLine(p);
  // A binary path with spaces (C:\Program Files\ffmpeg\bin\ffmpeg.exe) is quoted for exec:.
  const bin = /\s/.test(p.bin) ? `"${p.bin}"` : p.bin;
  return { bin: p.bin, args: quoteSplit(line), output: outputKind, commandLine: bin + " " + line, autoAudio };
}
