/**
 * `strom token` prints a bearer token (JWT) for scripts and players, signed with the config's
 * `api.auth.token_secret`; `strom passwd` prints a bcrypt hash for `password_hash`.
 *
 * @module
 */
import { Command, Option } from "commander";
import { getEnv } from "../lib/runtime/env.ts";
import { readStdinText, writeStdout } from "../lib/runtime/host.ts";
import { hashPassword, MIN_TOKEN_SECRET, signToken } from "../server/access/accounts.ts";
import { parseDuration } from "../server/config/validate.ts";
import { loadServerConfig } from "../server/load.ts";
import { CliError } from "./errors.ts";
import { configOption } from "./options.ts";

/** Options of `strom token`. */
interface TokenCliOptions {
  user: string;
  role: "viewer" | "admin";
  streams: string[];
  publish: string[];
  expires: string;
  config: string[];
}

const list = (value: string, previous: string[]) => [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];

/**
 * The `token` subcommand.
 *
 * @example
 * ```ts
 * program.addCommand(tokenCommand());
 * ```
 */
export function tokenCommand(): Command {
  return new Command("token")
    .description("print a bearer token (JWT) signed with api.auth.token_secret of the config")
    .requiredOption("-u, --user <name>", "the name the token stands for (shown in logs and /api/streams)")
    .addOption(new Option("--role <role>", "viewer or admin").choices(["viewer", "admin"]).default("viewer"))
    .option("--streams <patterns>", "streams it may watch (comma-separated, * wildcards; default all)", list, [])
    .option("--publish <patterns>", "streams it may publish into (comma-separated; default none)", list, [])
    .option("--expires <duration>", 'lifetime, e.g. "30m", "24h", "7d"', "24h")
    .addOption(configOption())
    .addHelpText(
      "after",
      `
The secret is api.auth.token_secret of the config given with -c (or $STROM_TOKEN_SECRET).

Examples:
  strom token -c strom.yaml -u frigate --streams 'front_*,garage' --expires 7d
  curl -H "Authorization: Bearer $(strom token -c strom.yaml -u ci)" http://host:1984/api/streams
  ffplay "rtsp://frigate:$(strom token -c strom.yaml -u frigate)@host:8554/front_door"`,
    )
    .action(async (o: TokenCliOptions) => {
      const loaded = await loadServerConfig(o.config);
      const secret = loaded.config.api.auth?.token_secret || getEnv("STROM_TOKEN_SECRET") || "";
      if (!secret) {
        throw new CliError(
          "No token secret: set api.auth.token_secret in the config (at least 32 characters, e.g. ${STROM_TOKEN_SECRET}) and pass it with -c.",
        );
      }
      if (secret.length < MIN_TOKEN_SECRET) {
        throw new CliError(`api.auth.token_secret is ${secret.length} characters; it must be at least ${MIN_TOKEN_SECRET}.`);
      }
      const seconds = parseDuration(o.expires);
      if (seconds === undefined || seconds <= 0) throw new CliError(`--expires "${o.expires}" is not a duration such as 30m, 24h or 7d.`);
      const token = await signToken(secret, { name: o.user, role: o.role, streams: o.streams, publish: o.publish }, seconds);
      writeStdout(token + "\n");
    });
}

/**
 * The `passwd` subcommand: a bcrypt hash of a password for `api.auth.users.<name>.password_hash`.
 *
 * @example
 * ```ts
 * program.addCommand(passwdCommand());
 * ```
 */
export function passwdCommand(): Command {
  return new Command("passwd")
    .description("print a bcrypt hash of a password for api.auth.users.<name>.password_hash")
    .argument("[password]", "the password (default: read one line from stdin)")
    .option("--cost <rounds>", "bcrypt cost (4-15)", "10")
    .addHelpText("after", `
Examples:
  strom passwd 'correct horse'
  echo 'correct horse' | strom passwd`)
    .action(async (password: string | undefined, o: { cost: string }) => {
      const cost = Number(o.cost);
      if (!Number.isInteger(cost) || cost < 4 || cost > 15) throw new CliError(`--cost must be a whole number 4-15, got "${o.cost}".`);
      const text = password ?? (await readStdinLine());
      if (!text) throw new CliError("No password: give it as an argument or on stdin.");
      writeStdout((await hashPassword(text, cost)) + "\n");
    });
}

async function readStdinLine(): Promise<string> {
  return (await readStdinText()).split(/\r?\n/)[0];
}
