/**
 * A test host with an address of its own: a network namespace made for the test, joined to this
 * machine by a veth pair, so a server started inside it sees its clients as a LAN host would
 * (a non-loopback peer address). Needs root and `ip` (Debian iproute2); tests `skipIf` otherwise.
 *
 * Addresses come from 198.18.0.0/15 (RFC 2544, set aside for benchmarking test networks), one /30
 * per namespace; nothing outside the namespace and its veth peer is ever addressed.
 *
 * @module
 */
import { getEnv } from "../../lib/runtime/env.ts";
import { type ChildProcess, spawn } from "../../lib/runtime/mod.ts";
import { hasTool, run } from "./process.ts";
import { stromCommand } from "./strom_command.ts";

/** Whether this process may create network namespaces (root with `ip` on PATH, and it works). */
export async function canUseNetns(): Promise<boolean> {
  if (!(await hasTool("ip"))) return false;
  const probe = `strom-probe-${randomSuffix()}`;
  const add = await run("ip", ["netns", "add", probe], 5_000);
  if (add.code !== 0) return false;
  await run("ip", ["netns", "del", probe], 5_000);
  return true;
}

function randomSuffix(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function ip(args: string[]): Promise<void> {
  const res = await run("ip", args, 10_000);
  if (res.code !== 0) throw new Error(`ip ${args.join(" ")} failed (${res.code}): ${res.stderr.trim()}`);
}

/**
 * A namespace with one veth link to this machine: `hostAddress` is this side, `address` the
 * namespace's side. `spawn()` runs a command inside it; `close()` kills what it started and
 * deletes the namespace (and with it the veth pair).
 *
 * @example
 * ```ts
 * await using ns = await TestNetns.create();
 * const server = ns.spawn("node", ["--import", "tsx", "cli/main.ts", "serve"]);
 * await fetch(`http://${ns.address}:1984/api/health`);
 * ```
 */
export class TestNetns {
  readonly name: string;
  /** The namespace's IPv4 address (where its servers are reached). */
  readonly address: string;
  /** This machine's address on the link (the client address the namespace sees). */
  readonly hostAddress: string;
  /** The name of the namespace's end of the veth link (its interface, as `ip` inside it lists it). */
  readonly link: string;
  /** The name of this machine's end of the veth link (the interface `hostAddress` is on). */
  readonly hostLink: string;
  readonly #children: ChildProcess[] = [];
  readonly #subnet: number;
  /** Host ends of the links `addLink` made (removed ones too: deleting them again is harmless). */
  readonly #extraHostLinks: string[] = [];

  private constructor(name: string, subnet: number, hostLink: string, nsLink: string) {
    this.#subnet = subnet;
    this.name = name;
    this.link = nsLink;
    this.hostAddress = `198.18.${subnet}.1`;
    this.address = `198.18.${subnet}.2`;
    this.hostLink = hostLink;
  }

  /** Creates the namespace, the veth pair and the addresses, and brings the links up. */
  static async create(): Promise<TestNetns> {
    const suffix = randomSuffix();
    const subnet = 1 + (crypto.getRandomValues(new Uint8Array(1))[0] % 250);
    const name = `strom-t-${suffix}`;
    const hostLink = `sth${suffix}`;
    const nsLink = `stn${suffix}`;
    const ns = new TestNetns(name, subnet, hostLink, nsLink);
    await ip(["netns", "add", name]);
    try {
      await ns.#wire(hostLink, ns.hostAddress, nsLink, ns.address);
      await ip(["netns", "exec", name, "ip", "link", "set", "lo", "up"]);
    } catch (error) {
      await ns.close();
      throw error;
    }
    return ns;
  }

  /**
   * Adds another veth link between this machine and the namespace, on a /30 of 198.19.0.0/16 (the
   * other half of the benchmarking range), as a LAN interface that appears while a server runs.
   * `remove()` deletes it again; `close()` does too. `name`: the namespace end's interface name
   * (at most 15 characters), e.g. one a server there was told to use before it existed.
   */
  async addLink(name?: string): Promise<
    { hostLink: string; hostAddress: string; link: string; address: string; remove(): Promise<void> }
  > {
    const n = this.#extraHostLinks.length;
    if (n >= 60) throw new Error("TestNetns.addLink: at most 60 extra links");
    const suffix = randomSuffix();
    const hostLink = `sxh${suffix}`;
    const link = name ?? `sxn${suffix}`;
    const hostAddress = `198.19.${this.#subnet}.${4 * n + 1}`;
    const address = `198.19.${this.#subnet}.${4 * n + 2}`;
    try {
      await this.#wire(hostLink, hostAddress, link, address);
    } catch (error) {
      await run("ip", ["link", "del", hostLink], 5_000);
      throw error;
    }
    this.#extraHostLinks.push(hostLink);
    return {
      hostLink,
      hostAddress,
      link,
      address,
      remove: async () => {
        await run("ip", ["link", "del", hostLink], 5_000);
      },
    };
  }

  // A veth pair from this machine (`hostLink`, `hostAddress`) into the namespace (`nsLink`,
  // `address`), each end on the same /30 and up.
  async #wire(hostLink: string, hostAddress: string, nsLink: string, address: string): Promise<void> {
    await ip(["link", "add", hostLink, "type", "veth", "peer", "name", nsLink]);
    await ip(["link", "set", nsLink, "netns", this.name]);
    await ip(["addr", "add", `${hostAddress}/30`, "dev", hostLink]);
    await ip(["link", "set", hostLink, "up"]);
    await ip(["netns", "exec", this.name, "ip", "addr", "add", `${address}/30`, "dev", nsLink]);
    await ip(["netns", "exec", this.name, "ip", "link", "set", nsLink, "up"]);
  }

  /** Starts a command inside the namespace (stdout and stderr piped; killed by `close()`). */
  spawn(command: string, args: string[], env?: Record<string, string>): ChildProcess {
    const child = spawn("ip", ["netns", "exec", this.name, command, ...args], {
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: getEnv("PATH") ?? "", ...env },
    });
    this.#children.push(child);
    return child;
  }

  /**
   * Starts `strom serve -c <config>` (a file or inline YAML/JSON) inside the namespace on the
   * runtime running the test, and resolves with its API's base URL once `/api/health` answers there
   * (at most 30 s). It is killed by `close()`.
   */
  async serveStrom(config: string, apiPort = 1984): Promise<string> {
    const [cmd, args] = stromCommand();
    void this.spawn(cmd, [...args, "serve", "-c", config]).exited;
    const base = `http://${this.address}:${apiPort}`;
    for (let i = 0; i < 150; i++) {
      const up = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
      if (up) return base;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`strom serve in namespace ${this.name} did not answer at ${base} within 30 s`);
  }

  /** Kills what `spawn()` started, then deletes the namespace and the veth pair. */
  async close(): Promise<void> {
    for (const child of this.#children.splice(0)) {
      child.kill("SIGKILL");
      await Promise.race([child.exited, new Promise((r) => setTimeout(r, 3_000))]);
    }
    await run("ip", ["link", "del", this.hostLink], 5_000);
    for (const link of this.#extraHostLinks.splice(0)) await run("ip", ["link", "del", link], 5_000);
    await run("ip", ["netns", "del", this.name], 5_000);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
