/**
 * `strom discover`: finds the ONVIF cameras on the LAN (WS-Discovery, as the web UI's *Search the
 * LAN* and `GET /api/onvif`) and prints each as an `onvif://` source; with `--user`/`--password`
 * it also asks every camera for its media profiles and prints one ready-to-use source per profile
 * (`onvif://user:pass@host?subtype=<token>`), or why a camera refused.
 *
 * @module
 */
import { Command, Option } from "commander";
import {
  deviceLabels,
  type DiscoveredDevice,
  discoverOnvif,
  OnvifDiscoveryError,
  OnvifError,
  onvifSourceUrl,
  profileSourceUrl,
  profileVideo,
  resolveOnvifProfiles,
} from "../lib/protocol/onvif/mod.ts";
import { writeStdout } from "../lib/runtime/host.ts";
import { CliError } from "./errors.ts";
import { parseSeconds, timeoutOption } from "./options.ts";

/** Options of `strom discover`. */
interface DiscoverCliOptions {
  interface: string[];
  timeout: string;
  user?: string;
  password?: string;
  json?: boolean;
}

/** One camera as `strom discover` reports it. */
export interface DiscoverReport {
  /** `onvif://user:pass@host[:port]` (placeholders) or with the credentials given. */
  url: string;
  name?: string;
  hardware?: string;
  endpoint: string;
  xaddrs: string[];
  from: string;
  interface: string;
  /** With credentials: the camera's profiles as sources. */
  profiles?: { url: string; name: string; info: string }[];
  /** With credentials: why the profiles could not be read. */
  error?: string;
}

const list = (
  value: string,
  previous: string[],
) => [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];

/**
 * The `discover` subcommand.
 *
 * @example
 * ```ts
 * program.addCommand(discoverCommand());
 * ```
 */
export function discoverCommand(): Command {
  return new Command("discover")
    .description("find the ONVIF cameras on the LAN (WS-Discovery) and print them as onvif:// sources")
    .addOption(
      new Option("-i, --interface <names>", "search from these network interfaces only (comma-separated)")
        .argParser(list)
        .default([], "every interface with IPv4 but loopback"),
    )
    .addOption(timeoutOption(3, "seconds to wait for answers"))
    .option("-u, --user <name>", "log in to each camera and list its profiles")
    .option("-p, --password <password>", "the cameras' password (with --user)")
    .option("--json", "print JSON instead of lines")
    .addHelpText(
      "after",
      `
Examples:
  strom discover
  strom discover -i eth0 -u admin -p secret     # every camera's profiles as sources for streams:
  strom discover --json | jq -r '.[].url'`,
    )
    .action(async (o: DiscoverCliOptions) => {
      const timeoutMs = parseSeconds("--timeout", o.timeout) * 1000;
      let devices: DiscoveredDevice[];
      try {
        devices = await discoverOnvif({
          timeoutMs,
          interfaces: o.interface.length ? o.interface : undefined,
        });
      } catch (error) {
        if (error instanceof OnvifDiscoveryError) throw new CliError(error.message);
        throw error;
      }
      const reports: DiscoverReport[] = [];
      for (const d of devices) {
        const placeholder = onvifSourceUrl(d);
        if (!placeholder) continue;
        const url = o.user === undefined
          ? placeholder
          : withCredentials(placeholder, o.user, o.password ?? "");
        const report: DiscoverReport = {
          url,
          name: d.name,
          hardware: d.hardware,
          endpoint: d.endpoint,
          xaddrs: d.xaddrs,
          from: d.from,
          interface: d.interface,
        };
        if (o.user !== undefined) {
          try {
            const { profiles, base } = await resolveOnvifProfiles(url);
            report.profiles = profiles.map((p) => ({
              url: profileSourceUrl(base, p),
              name: p.name || p.token,
              info: profileVideo(p),
            }));
          } catch (error) {
            if (!(error instanceof OnvifError)) throw error;
            report.error = error.message;
          }
        }
        reports.push(report);
      }
      if (o.json) {
        writeStdout(JSON.stringify(reports, null, 2) + "\n");
        return;
      }
      if (reports.length === 0) {
        writeStdout(
          `No ONVIF camera answered within ${
            timeoutMs / 1000
          } s (is this machine on the cameras' network? In Docker: network_mode: host).\n`,
        );
        return;
      }
      for (const r of reports) {
        const about = deviceLabels(r).join(", ");
        writeStdout(`${r.url}${about ? `  (${about})` : ""}\n`);
        for (const p of r.profiles ?? []) writeStdout(`  ${p.url}  ${p.name}${p.info ? ` ${p.info}` : ""}\n`);
        if (r.error) writeStdout(`  ${r.error}\n`);
      }
    });
}

function withCredentials(placeholder: string, user: string, password: string): string {
  return placeholder.replace(
    "//user:pass@",
    `//${encodeURIComponent(user)}:${encodeURIComponent(password)}@`,
  );
}
