/**
 * The RTSP flow of `exec:` sources, as go2rtc: `{output}` in the command becomes an RTSP URL on
 * strom's own RTSP server, the process publishes there (ANNOUNCE/RECORD), and what arrives is the
 * source.
 *
 * ```text
 * exec:ffmpeg -re -i a.mp4 -c copy -f rtsp {output}
 *   -> ffmpeg ... -f rtsp rtsp://[strom-internal:<pw>@]127.0.0.1:8554/<32 random hex>
 * ```
 *
 * Each dial gets its own random path, reachable only until the first publisher arrives (a private
 * stream of the hub, never listed); the publisher then is handed to the dial and the path is gone.
 * With RTSP auth on, the URL carries the server's internal account.
 *
 * @module
 */
import { randomHex } from "../../core/bytes.ts";
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import { redactUrl } from "../../core/errors.ts";
import type { StreamHub } from "../../core/hub.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import type { Media } from "../../core/media.ts";
import { Stream } from "../../core/stream.ts";
import type { Receiver } from "../../core/fanout.ts";
import type { ExecUrl } from "./exec_url.ts";
import { ExecError, type ExecProcess } from "./process.ts";

/** Where `{output}` points: strom's running RTSP server. */
export interface RtspOutputTarget {
  /** The hub the RTSP server publishes into. */
  hub: StreamHub;
  /** The RTSP server's port. */
  port: number;
  /** `user:password` of the server's internal account when RTSP auth is on. */
  userinfo?: string;
  /** Host the process connects to. Default `127.0.0.1`. */
  host?: string;
}

/**
 * A private stream that takes exactly one publisher and hands it over, instead of serving it.
 * The RTSP server finds it by name like any stream (see `StreamHub.addHidden`).
 */
class PublishWaiter extends Stream {
  readonly publisher: Promise<Producer>;
  #resolve!: (p: Producer) => void;
  #taken: Producer | undefined;
  /** Called when the handed-over publisher's connection ends. */
  onGone: (() => void) | undefined;

  constructor(name: string) {
    super(name, []);
    this.publisher = new Promise((resolve) => (this.#resolve = resolve));
  }

  override addPublisher(producer: Producer): Promise<void> {
    if (this.#taken) return Promise.reject(new Error("this exec output already has a publisher"));
    this.#taken = producer;
    this.#resolve(producer);
    return Promise.resolve();
  }

  override removePublisher(producer: Producer): void {
    if (producer === this.#taken) this.onGone?.();
  }
}

/**
 * A reserved `{output}` URL: where the process publishes, and the publisher once it did.
 *
 * @example
 * ```ts
 * const out = RtspOutput.reserve({ hub, port: 8554 });
 * spawn("ffmpeg", [..., "-f", "rtsp", out.url]);
 * const publisher = await out.publisher; // race it with the process exit and a timeout
 * out.release();
 * ```
 */
export class RtspOutput {
  /** The URL to put in place of `{output}`. */
  readonly url: string;
  /** The same URL with the account redacted, for logs. */
  readonly safeUrl: string;
  readonly #waiter: PublishWaiter;
  readonly #remove: () => void;

  private constructor(url: string, safeUrl: string, waiter: PublishWaiter, remove: () => void) {
    this.url = url;
    this.safeUrl = safeUrl;
    this.#waiter = waiter;
    this.#remove = remove;
  }

  /** Reserves a fresh random path on the target's RTSP server. */
  static reserve(target: RtspOutputTarget): RtspOutput {
    const name = randomHex(16);
    const waiter = new PublishWaiter(name);
    const remove = target.hub.addHidden(waiter);
    const host = target.host ?? "127.0.0.1";
    const userinfo = target.userinfo ? target.userinfo + "@" : "";
    return new RtspOutput(
      `rtsp://${userinfo}${host}:${target.port}/${name}`,
      `rtsp://${host}:${target.port}/${name}`,
      waiter,
      remove,
    );
  }

  /** Resolves with the first publisher of the path. */
  get publisher(): Promise<Producer> {
    return this.#waiter.publisher;
  }

  /** Set a callback for when the handed-over publisher disconnects. */
  set onGone(fn: (() => void) | undefined) {
    this.#waiter.onGone = fn;
  }

  /** Lines (stderr) with the internal account replaced by the redacted URL. */
  scrub(lines: string[]): string[] {
    return this.url === this.safeUrl ? lines : lines.map((l) => l.replaceAll(this.url, this.safeUrl));
  }

  /** Frees the path (no later publisher can reach it). Idempotent. */
  release(): void {
    this.#remove();
  }
}

/**
 * An `exec:` source in the RTSP flow: the process and the publisher it connected. Created by
 * `dialExec`. The media are the publisher's; `start()` settles when either the process or its
 * connection ends (the other is then stopped); `stop()` kills the process.
 *
 * @example
 * ```ts
 * const p = await dialExec("exec:ffmpeg -re -i a.mp4 -c copy -f rtsp {output}", { rtspOutput: { hub, port: 8554 } });
 * p.medias(); // what ffmpeg announced
 * await p.stop(); // kills ffmpeg
 * ```
 */
export class ExecRtspProducer implements Producer {
  readonly #id = nextConnectionId();
  readonly #url: string;
  readonly #parsed: ExecUrl;
  readonly #proc: ExecProcess;
  readonly #publisher: Producer;
  readonly #log: Logger;
  readonly #output: RtspOutput;
  #gone!: () => void;
  readonly #goneP: Promise<void>;
  #running: Promise<void> | undefined;
  #stopped = false;

  /** Use `dialExec`. */
  constructor(url: string, parsed: ExecUrl, proc: ExecProcess, publisher: Producer, output: RtspOutput, log?: Logger) {
    this.#url = url;
    this.#parsed = parsed;
    this.#proc = proc;
    this.#publisher = publisher;
    this.#log = log ?? silentLogger;
    this.#output = output;
    this.#goneP = new Promise((resolve) => (this.#gone = resolve));
    output.onGone = () => this.#gone();
  }

  /** The process id of the command. */
  get pid(): number {
    return this.#proc.pid;
  }

  /** The parsed URL (command, args and options). */
  get command(): ExecUrl {
    return this.#parsed;
  }

  medias(): Media[] {
    return this.#publisher.medias();
  }

  track(media: Media, codec: Codec): Receiver | Promise<Receiver> {
    return this.#publisher.track(media, codec);
  }

  /**
   * Runs until the process exits or its RTSP connection ends. Resolves when stopped or when the
   * command exits with code 0; rejects with an `ExecError` (exit code, stderr tail) otherwise.
   */
  start(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  async #run(): Promise<void> {
    const ended = await Promise.race([
      this.#proc.exited.then(() => "exit" as const),
      this.#goneP.then(() => "disconnected" as const),
    ]);
    if (ended === "disconnected") {
      if (!this.#stopped) this.#log.debug("exec rtsp publisher disconnected; stopping the command");
      await this.#proc.stop();
    } else {
      await this.#publisher.stop();
    }
    const status = await this.#proc.waitExit();
    if (this.#stopped || (ended === "exit" && status.code === 0)) return;
    const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
    const context = ended === "disconnected"
      ? " after its RTSP connection to strom ended"
      : " while publishing to strom over RTSP";
    throw new ExecError(this.#parsed.commandLine, how + context, status, this.#output.scrub(this.#proc.stderrTail()));
  }

  /** Kills the command (`#killsignal`, `#killtimeout`), closes its connection, waits for the exit. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#proc.stop();
    await this.#publisher.stop();
  }

  info(): ConnectionInfo {
    const inner = this.#publisher.info();
    return {
      ...inner,
      id: this.#id,
      format: "exec",
      protocol: "rtsp",
      remoteAddr: undefined,
      url: redactUrl(this.#url),
    };
  }
}
