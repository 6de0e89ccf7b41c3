/**
 * Test peers for the cluster tests: a real nats-server with JetStream on a free loopback port, strom
 * nodes as separate processes on the runtime running the test (node/tsx, deno, bun), and ffmpeg
 * readers that report how many frames they decoded.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "bun:test";
import { freePort } from "../_support/net.ts";
import { stromCommand } from "../_support/strom_command.ts";
import { openWebSocket } from "../ops/_support.ts";
import { answerOverWs, until as untilViewer, Viewer } from "../webrtc/_peer.ts";

export const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** A child process with its output kept. */
export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `re` in the output; rejects after `timeoutMs` or on exit. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  readonly exited: boolean;
  /** Sends `signal` and waits (bounded) for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/** Starts a process and keeps its stdout+stderr. */
export function startProc(cmd: string, args: string[], label: string): Proc {
  const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  let exited = false;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((fn) => fn());
  child.stdout!.on("data", (d) => ((out += d), notify()));
  child.stderr!.on("data", (d) => ((out += d), notify()));
  child.on("error", (e) => ((out += `\nspawn error: ${e}`), (exited = true), notify()));
  child.on("close", () => ((exited = true), notify()));
  return {
    child,
    output: () => out,
    get exited() {
      return exited;
    },
    waitFor(re, timeoutMs) {
      return new Promise((resolvePromise, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) return done(), resolvePromise(m);
          if (exited) return done(), reject(new Error(`${label} exited before ${re}:\n${out.slice(-3000)}`));
        };
        const timer = setTimeout(() => (done(), reject(new Error(`${label}: no ${re} within ${timeoutMs} ms:\n${out.slice(-3000)}`))), timeoutMs);
        const done = () => (clearTimeout(timer), listeners.delete(check));
        listeners.add(check);
        check();
      });
    },
    async stop(signal = "SIGTERM", timeoutMs = 8000) {
      if (exited) return;
      child.kill(signal);
      const deadline = Date.now() + timeoutMs;
      while (!exited && Date.now() < deadline) await sleep(50);
      if (!exited) child.kill("SIGKILL");
      const hard = Date.now() + 2000;
      while (!exited && Date.now() < hard) await sleep(50);
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value other than undefined/false; throws after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false> | T | undefined | false, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
    await sleep(everyMs);
  }
}

/** A temp folder removed by `cleanup()`. */
export function tempDir(): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), "strom-cluster-"));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** nats-server with JetStream, its store in `dir`, restartable on the same port. */
export class NatsServer {
  proc: Proc | undefined;
  constructor(readonly port: number, readonly dir: string) {}
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.proc = startProc("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(this.port), "-sd", this.dir], "nats-server");
    await this.proc.waitFor(/Server is ready/, 10_000);
  }
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await this.proc?.stop(signal);
  }
}

/** A strom process started from a YAML config. */
export class StromProc {
  proc: Proc | undefined;
  readonly configPath: string;
  constructor(readonly name: string, dir: string, yaml: string, readonly apiPort: number, readonly rtspPort: number) {
    this.configPath = join(dir, `${name}.yaml`);
    writeFileSync(this.configPath, yaml);
  }
  get api(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }
  rtsp(stream: string): string {
    return `rtsp://127.0.0.1:${this.rtspPort}/${stream}`;
  }
  async start(timeoutMs = 45_000): Promise<void> {
    const [cmd, args] = stromCommand();
    this.proc = startProc(cmd, [...args, "serve", "-c", this.configPath], `strom ${this.name}`);
    await this.proc.waitFor(/listening on http/, timeoutMs);
  }
  async json<T = any>(path: string): Promise<T> {
    const res = await fetch(this.api + path, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new Error(`${this.name} ${path}: HTTP ${res.status}`);
    return await res.json() as T;
  }
  /** Consumers of a stream now (at a camera: its upstream connections). */
  async consumers(stream: string): Promise<number> {
    const all = await this.json<Record<string, { consumers: unknown[] }>>("/api/streams");
    return all[stream]?.consumers.length ?? 0;
  }
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await this.proc?.stop(signal);
  }
}

/** A strom serving the `demo:` clip as `cam` over RTSP on free loopback ports: the cluster's camera. */
export async function demoCamera(dir: string, name = "camera"): Promise<StromProc> {
  const [api, rtsp] = [await freePort(), await freePort()];
  return new StromProc(name, dir, [
    `api: {listen: "127.0.0.1:${api}"}`,
    `rtsp: {listen: "127.0.0.1:${rtsp}"}`,
    `webrtc: {listen: ""}`,
    `streams: {cam: "demo:"}`,
    ``,
  ].join("\n"), api, rtsp);
}

/** The first lines of a cluster node's YAML: its loopback listeners and one stream `cam` from `cameraRtsp`. */
export function nodeYamlLines(api: number, rtsp: number, cameraRtsp: string): string[] {
  return [
    `api: {listen: "127.0.0.1:${api}"}`,
    `rtsp: {listen: "127.0.0.1:${rtsp}"}`,
    `webrtc: {listen: "127.0.0.1:0"}`,
    `log: {level: info, format: text}`,
    `streams: {cam: "${cameraRtsp}"}`,
  ];
}

/** Waits until every node sees `count` live nodes and all name the same owner of `cam`; returns it. */
export function agreedOwner(nodes: readonly StromProc[], count: number, timeoutMs: number): Promise<string> {
  return until(`all nodes to see ${count} up and agree on one owner`, timeoutMs, async () => {
    const views = await Promise.all(nodes.map((n) => n.json<{ nodes: unknown[]; streams: Record<string, string> }>("/api/cluster")));
    const owners = new Set(views.map((v) => v.streams.cam));
    return views.every((v) => v.nodes.length === count) && owners.size === 1 && !owners.has(undefined as never)
      ? [...owners][0]
      : undefined;
  });
}

/** The most upstream connections the camera had for `cam` while `work` ran (sampled every 150 ms). */
export async function maxUpstreamDuring(camera: StromProc, work: Promise<unknown>): Promise<number> {
  let max = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      max = Math.max(max, await camera.consumers("cam").catch(() => 0));
      await sleep(150);
    }
  })();
  try {
    await work;
  } finally {
    sampling = false;
    await sampler;
  }
  return max;
}

/** An ffmpeg RTSP reader decoding video; counts decoded frames from its progress output. */
export class Reader {
  readonly proc: Proc;
  /** @param inputArgs ffmpeg input options placed before `-i` (e.g. `-probesize 32`). */
  constructor(url: string, inputArgs: string[] = []) {
    this.proc = startProc("ffmpeg", [
      "-nostdin", "-v", "error", "-rtsp_transport", "tcp", ...inputArgs, "-i", url, "-an", "-f", "null", "-",
      "-progress", "pipe:1", "-nostats", "-stats_period", "0.2",
    ], `ffmpeg ${url}`);
  }
  /** Frames decoded so far. */
  frames(): number {
    const all = [...this.proc.output().matchAll(/^frame=(\d+)/gm)];
    return all.length ? Number(all[all.length - 1][1]) : 0;
  }
  /** Waits until `n` more frames than `from` were decoded. */
  async grows(n: number, timeoutMs: number, from = this.frames()): Promise<number> {
    try {
      return await until(`${n} more frames from ${from}`, timeoutMs, () => {
        if (this.proc.exited) throw new Error(`the reader exited:\n${this.proc.output().slice(-2000)}`);
        const now = this.frames();
        return now >= from + n ? now : undefined;
      });
    } catch (error) {
      // What ffmpeg printed says whether it connected, probed or decoded anything.
      throw new Error(`${(error as Error).message}\nffmpeg's last output:\n${this.proc.output().slice(-1500)}`);
    }
  }
  async stop(): Promise<void> {
    await this.proc.stop("SIGKILL");
  }
}

/**
 * Starts `camera` and one strom node per name, each with its loopback listeners, stream `cam` read
 * from the camera, and the YAML lines `tail` gives it (`apis`: every node's API port, in order).
 */
export async function startNodes(
  dir: string,
  camera: StromProc,
  names: readonly string[],
  tail: (name: string, apis: readonly number[]) => string[],
): Promise<StromProc[]> {
  const ports: [number, number][] = [];
  for (const _ of names) ports.push([await freePort(), await freePort()]);
  const apis = ports.map(([api]) => api);
  const nodes = names.map((name, i) =>
    new StromProc(name, dir, [...nodeYamlLines(ports[i][0], ports[i][1], camera.rtsp("cam")), ...tail(name, apis), ``].join("\n"), ports[i][0], ports[i][1])
  );
  await Promise.all([camera.start(), ...nodes.map((n) => n.start())]);
  return nodes;
}

/** Of two nodes, the one that pulls `cam` once they agree, and the other. */
export async function ownerAndOther(nodes: readonly StromProc[]): Promise<{ owner: StromProc; other: StromProc }> {
  const ownerName = await agreedOwner(nodes, 2, 30_000);
  const owner = nodes.find((n) => n.name === ownerName)!;
  return { owner, other: nodes.find((n) => n !== owner)! };
}

/**
 * With `load_balancer: least-connections` and `session_sticky` on two nodes: once `owner` carries a
 * viewer and `other` none, new viewers of `cam` at `owner` are sent to `other` (HTTP 307 with the
 * query kept and `cluster_hop=1`, followed by fetch; RTSP 302 followed by ffmpeg), the sticky client
 * keeps going there, and a request marked `cluster_hop` is served where it arrives.
 */
export async function expectLeastConnectionsRedirects(owner: StromProc, other: StromProc): Promise<void> {
  // A viewer on the owner (marked as already balanced, so it stays there): the owner carries 1, the other 0.
  const relay = new Reader(owner.rtsp("cam") + "?cluster_hop=1");
  try {
    await relay.grows(10, 30_000);
    expect(await owner.consumers("cam")).toBe(1);

    // HTTP: 307 to the other node, query kept and marked.
    const first = await fetch(`${owner.api}/api/stream.mp4?src=cam&duration=1`, { redirect: "manual", signal: AbortSignal.timeout(5000) });
    expect(first.status).toBe(307);
    expect(first.headers.get("location")).toBe(`${other.api}/api/stream.mp4?src=cam&duration=1&cluster_hop=1`);
    await first.body?.cancel();
    // Followed, it plays there.
    const followed = await fetch(`${owner.api}/api/frame.mp4?src=cam`, { signal: AbortSignal.timeout(20_000) });
    expect(followed.status).toBe(200);
    expect(followed.url.startsWith(other.api)).toBe(true);
    expect((await followed.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    // RTSP: ffmpeg follows the 302 and decodes from the other node.
    const before = await other.consumers("cam");
    const viewer = new Reader(owner.rtsp("cam"));
    try {
      await viewer.grows(20, 30_000);
      expect(await other.consumers("cam")).toBe(before + 1);
    } finally {
      await viewer.stop();
    }
    // A request already sent once is served where it arrives.
    const hop = await fetch(`${owner.api}/api/frame.mp4?src=cam&cluster_hop=1`, { redirect: "manual", signal: AbortSignal.timeout(20_000) });
    expect(hop.status).toBe(200);
    await hop.arrayBuffer();

    await expectWebRtcBalanced(owner, other);
  } finally {
    await relay.stop();
  }
}

/**
 * WebRTC viewers of `cam` at `owner` whose sticky node is `other`: a WHEP offer gets a 307 there
 * and its session (and absolute `Location`) is on `other`; an offer over `/api/ws` at `owner` (go2rtc's
 * player) is answered by `other`'s session through `owner`, and the media comes from `other`. Each
 * ends there when the viewer leaves (DELETE, WebSocket closed).
 */
async function expectWebRtcBalanced(owner: StromProc, other: StromProc): Promise<void> {
  const before = await other.consumers("cam");
  const ownerBefore = await owner.consumers("cam");

  // WHEP: 307 with the body kept, followed by fetch.
  let viewer = new Viewer({ audio: false });
  try {
    const offer = await viewer.offer();
    const post = (redirect: RequestRedirect) =>
      fetch(`${owner.api}/api/webrtc?src=cam`, {
        method: "POST",
        headers: { "Content-Type": "application/sdp" },
        body: offer,
        redirect,
        signal: AbortSignal.timeout(20_000),
      });
    const first = await post("manual");
    expect(first.status).toBe(307);
    expect(first.headers.get("location")).toBe(`${other.api}/api/webrtc?src=cam&cluster_hop=1`);
    await first.body?.cancel();
    const res = await post("follow");
    expect(res.status).toBe(201);
    expect(res.url.startsWith(other.api)).toBe(true);
    const location = res.headers.get("location")!;
    expect(location.startsWith(`${other.api}/api/webrtc?id=`)).toBe(true);
    await viewer.accept(await res.text());
    await untilViewer("WHEP video from the other node", () => viewer.packets.video > 50, 20_000);
    expect(await other.consumers("cam")).toBe(before + 1);
    expect((await fetch(location, { method: "DELETE", signal: AbortSignal.timeout(5000) })).status).toBe(200);
    await until("the WHEP session gone", 5000, async () => (await other.consumers("cam")) === before);
  } finally {
    await viewer.close();
  }

  // /api/ws: the WebSocket stays on the owner, the session is the other node's.
  viewer = new Viewer({ audio: false });
  const ws = await openWebSocket(`${owner.api.replace("http", "ws")}/api/ws?src=cam`);
  try {
    await viewer.accept(await answerOverWs(ws, await viewer.offer(), 20_000));
    await untilViewer("video over /api/ws from the other node", () => viewer.packets.video > 50, 20_000);
    expect(await other.consumers("cam")).toBe(before + 1);
    expect(await owner.consumers("cam")).toBe(ownerBefore);
    ws.close();
    await until("the ws session gone from the other node", 5000, async () => (await other.consumers("cam")) === before);
  } finally {
    ws.close();
    await viewer.close();
  }
}
