/**
 * `strom transcode <src> -o out.mp4 --video h264 --audio aac`: a thin wrapper that builds an
 * `ffmpeg:` source (the same command builder as `ffmpeg:` streams in the config) and records its
 * output like `strom record`.
 *
 * Inputs ffmpeg can open itself (rtsp, http, rtmp URLs, files) go to it directly. Any other source
 * (`demo:`, `exec:`, a stream name of the config...) is served to ffmpeg by a private RTSP server
 * on 127.0.0.1 with a random port, as `ffmpeg:<stream name>` sources do in the server.
 *
 * @module
 */
import { writeStdout } from "../lib/runtime/host.ts";
import { Command } from "commander";
import { schemeOf } from "../lib/core/registry.ts";
import { buildFfmpegArgs } from "../lib/protocol/ffmpeg/args.ts";
import { ffmpegTemplates } from "../lib/protocol/ffmpeg/templates.ts";
import { RtspServer } from "../lib/protocol/rtsp/server.ts";
import { statPath } from "../lib/runtime/fs.ts";
import { which } from "../lib/runtime/process.ts";
import { setRtspPort } from "../server/sources.ts";
import { CliError } from "./errors.ts";
import { parsePositiveInt } from "./options.ts";
import { addRecordOptions, type RecordCliOptions, recordSettings, recordStream } from "./record.ts";
import { openSources } from "./sources.ts";

/** Schemes ffmpeg reads itself (the `ffmpeg:` builder has input templates for them). */
const FFMPEG_NATIVE = new Set(["rtsp", "rtsps", "http", "https", "rtmp"]);

/** The name the private RTSP server gives a non-native input. */
const INPUT_STREAM = "transcode_input";

/** Options of the `transcode` subcommand. */
interface TranscodeCliOptions extends RecordCliOptions {
  video: string;
  audio: string;
  width?: string;
  height?: string;
  printCommand?: boolean;
}

/**
 * The `ffmpeg:` URL for an input and codec choices. Template names are expanded here, so ffmpeg
 * always writes MPEG-TS to stdout (a lone `#audio=aac` would otherwise select raw ADTS output).
 *
 * @example
 * ```ts
 * transcodeUrl("rtsp://cam/1", { video: "h264", audio: "aac" }, templates);
 * // "ffmpeg:rtsp://cam/1#video=-c:v libx264 ...#audio=-c:a aac"
 * ```
 */
export function transcodeUrl(
  input: string,
  o: { video: string; audio: string; width?: number; height?: number },
  templates: Record<string, string>,
): string {
  const expand = (value: string, kind: "v" | "a") =>
    value === "copy" ? `-c:${kind} copy` : templates[value] ?? value;
  let url = `ffmpeg:${input}`;
  if (o.video !== "none") url += `#video=${expand(o.video, "v")}`;
  if (o.audio !== "none") url += `#audio=${expand(o.audio, "a")}`;
  if (o.width) url += `#width=${o.width}`;
  if (o.height) url += `#height=${o.height}`;
  return url;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await statPath(path))?.isFile ?? false;
  } catch {
    return false;
  }
}

/**
 * The `transcode` subcommand.
 *
 * @example
 * ```ts
 * program.addCommand(transcodeCommand());
 * ```
 */
export function transcodeCommand(): Command {
  const cmd = new Command("transcode")
    .description("convert a source with ffmpeg and record the result (MP4 or MPEG-TS)")
    .argument("<src>", 'source URL ("demo:", "rtsp://..."), a media file, or a stream name of the config')
    .option(
      "--video <codec>",
      "video: h264, h265, a hardware preset such as h264/vaapi, copy, or none",
      "h264",
    )
    .option("--audio <codec>", "audio: aac, opus, copy, or none", "aac")
    .option("--width <pixels>", "scale the video to this width")
    .option("--height <pixels>", "scale the video to this height");
  addRecordOptions(cmd)
    .option("--print-command", "print the ffmpeg command line and exit")
    .addHelpText(
      "after",
      `
Examples:
  strom transcode demo: -o demo_x264.mp4 --duration 10
  strom transcode rtsp://192.168.1.10/stream1 -o door.mp4 --video h264 --audio aac --width 1280
  strom transcode rtsp://192.168.1.10/h265 -o door.ts --video h264 --audio none
  strom transcode front_door -c strom.yaml -o out.mp4 --video h264/vaapi --print-command

Codec names are the ffmpeg presets of the config (ffmpeg: section, go2rtc-compatible); anything
else is passed to ffmpeg as options ("-c:v libx264 -crf 20"). Needs ffmpeg (ffmpeg.bin).`,
    )
    .action(async (src: string, opts: TranscodeCliOptions) => {
      if (opts.video === "none" && opts.audio === "none") {
        throw new CliError("--video none and --audio none leave nothing to transcode.");
      }
      const width = opts.width !== undefined ? parsePositiveInt("--width", opts.width) : undefined;
      const height = opts.height !== undefined ? parsePositiveInt("--height", opts.height) : undefined;
      const settings = recordSettings(opts);
      const sources = await openSources({ config: opts.config, dialTimeoutMs: settings.timeoutMs });
      const templates = ffmpegTemplates(sources.ffmpeg);
      let server: RtspServer | undefined;
      try {
        // What ffmpeg reads: the URL or file itself, or one of our streams through the RTSP server.
        let input = src;
        const scheme = schemeOf(src);
        const native = FFMPEG_NATIVE.has(scheme) || (!scheme && !sources.hub.get(src) && await isFile(src));
        if (!native) {
          if (!sources.hub.get(src)) {
            if (!scheme) {
              throw new CliError(`"${src}" is not a file, a source URL, or a stream of the config.`);
            }
            sources.hub.set(INPUT_STREAM, [src]);
            input = INPUT_STREAM;
          }
        }
        const url = transcodeUrl(input, { video: opts.video, audio: opts.audio, width, height }, templates);
        if (opts.printCommand) {
          const built = buildFfmpegArgs(url, {
            templates,
            hasStream: (name) => sources.hub.get(name) !== undefined,
            defaultOutput: "mpegts",
          });
          writeStdout(built.commandLine + "\n");
          return;
        }
        const bin = templates.bin || "ffmpeg";
        if (!(await which(bin))) {
          throw new CliError(
            `ffmpeg ("${bin}") was not found. Install ffmpeg, or set ffmpeg.bin in a config passed with -c.`,
          );
        }
        if (!native) {
          server = await RtspServer.listen({ hub: sources.hub, listen: { hostname: "127.0.0.1", port: 0 } });
          setRtspPort(server.addr.port);
        }
        const stream = sources.hub.set("transcode", [url]);
        await recordStream(stream, settings);
      } finally {
        await sources.close();
        await server?.close();
      }
    });
  return cmd;
}
