/**
 * The `strom` command line: `strom serve`, `strom config check`, `strom probe`, `strom snapshot`,
 * `strom record`, `strom relay`, `strom transcode`, `strom discover`, `strom token`, `strom passwd`.
 *
 * Run with `node cli/bin.mjs`, `deno run -A cli/main.ts` or `bun cli/main.ts`.
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { hasScheme } from "../lib/core/registry.ts";
import { commandLineArgs, exitProcess, isMainModule, writeStderr } from "../lib/runtime/host.ts";
import { registerBuiltinSources } from "../server/sources.ts";
import { VERSION } from "../server/version.ts";
import { configCommand } from "./config_check.ts";
import { discoverCommand } from "./discover.ts";
import { CliError, formatCliError } from "./errors.ts";
import { probeCommand } from "./probe.ts";
import { recordCommand } from "./record.ts";
import { relayCommand } from "./relay.ts";
import { snapshotCommand } from "./snapshot.ts";
import { transcodeCommand } from "./transcode.ts";
import { serveCommand } from "./serve.ts";
import { passwdCommand, tokenCommand } from "./token.ts";

// Display names of source schemes, in the order the summary lists them.
const INPUT_NAMES: [scheme: string, name: string][] = [
  ["rtsp", "RTSP"],
  ["rtmp", "RTMP"],
  ["http", "HTTP"],
  ["webrtc", "WebRTC"],
  ["tcp", "TCP"],
  ["onvif", "ONVIF"],
  ["ffmpeg", "ffmpeg"],
  ["exec", "exec"],
];

/** What the server serves: the output routes and protocols that exist (keep in step with docs/features.md). */
export const OUTPUT_PROTOCOLS = ["WebRTC", "RTSP", "RTMP", "MSE", "HLS", "MP4", "MPEG-TS", "FLV", "MJPEG", "JPEG", "ONVIF"];

/**
 * The one-line description `strom --help` prints: the source schemes that are registered (so it
 * names only inputs that exist) and {@link OUTPUT_PROTOCOLS}.
 *
 * @example
 * ```ts
 * protocolSummary(); // "Camera streaming server: RTSP, ffmpeg, exec in; RTSP, MSE, ... out."
 * ```
 */
export function protocolSummary(): string {
  registerBuiltinSources();
  const inputs = INPUT_NAMES.filter(([scheme]) => hasScheme(scheme)).map(([, name]) => name);
  return `Camera streaming server: ${inputs.join(", ")} in; ${OUTPUT_PROTOCOLS.join(", ")} out.`;
}

/**
 * Builds the command tree. Actions throw on failure; {@link run} turns that into an exit code.
 *
 * @example
 * ```ts
 * await buildProgram().parseAsync(["serve", "-c", "strom.yaml"], { from: "user" });
 * ```
 */
export function buildProgram(): Command {
  const program = new Command("strom")
    .description(protocolSummary())
    .version(VERSION, "-v, --version", "print the version")
    .showSuggestionAfterError(true)
    .exitOverride();
  program.addCommand(serveCommand(), { isDefault: true });
  program.addCommand(probeCommand());
  program.addCommand(relayCommand());
  program.addCommand(recordCommand());
  program.addCommand(transcodeCommand());
  program.addCommand(snapshotCommand());
  program.addCommand(discoverCommand());
  program.addCommand(configCommand());
  program.addCommand(tokenCommand());
  program.addCommand(passwdCommand());
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

/**
 * Runs the CLI with `args` (without the executable and script) and resolves with the exit code.
 *
 * @example
 * ```ts
 * exitProcess(await run(commandLineArgs()));
 * ```
 */
export async function run(args: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed help, the version or its own one-line error.
      return error.exitCode;
    }
    writeStderr(`strom: ${formatCliError(error)}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

// The program's entry point when run directly (Deno/Bun set import.meta.main; Node 20 does not).
if (isMainModule(import.meta.url, (import.meta as ImportMeta & { main?: boolean }).main)) {
  // Exit explicitly: a finished command must not linger on a stray timer or socket.
  exitProcess(await run(commandLineArgs()));
}
