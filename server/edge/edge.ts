/**
 * An edge outside a cluster: points every stream at the central server, and, when the edge lists
 * no streams of its own, serves the central's whole stream list (re-read every `edge.refresh`).
 *
 * With `edge.origin` (an RTSP URL), streams are read from `<origin>/<stream>`. With
 * `edge.central_server` (an HTTP API URL, the go2rtc seed article's form), the central's `GET /api`
 * chooses RTSP, RTSPS or MPEG-TS (see central.ts); until the central first answers, the edge's
 * streams have no source and viewers are refused with the reason, and the edge keeps asking. With
 * several central servers, `edge.routing` chooses one (routing.ts); the edge stays with it while it
 * answers, and when it stops (checked at once when one of its streams fails) points every stream at
 * another, whose frames the viewers go on with.
 *
 * @module
 */
import { abortableSleep } from "../../lib/core/abortable_sleep.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import type { Logger } from "../../lib/core/log.ts";
import { redactUrl } from "../../lib/core/redact.ts";
import { relayUrl } from "../cluster/relay_url.ts";
import { type CentralMedia, CentralServer } from "./central.ts";
import { type CentralAnswer, chooseCentral } from "./routing.ts";
import type { EdgeSettings } from "./settings.ts";

/** Options of {@link EdgeRunner}. */
export interface EdgeRunnerOptions {
  hub: StreamHub;
  settings: EdgeSettings;
  /** The stream names under `streams:` in the config (read at each round). */
  configured: () => string[];
  log: Logger;
}

/** Delays between tries while the central does not answer: 1, 2, 5, then every 10 s. */
const RETRY_MS = [1000, 2000, 5000, 10_000];

/**
 * Runs an edge's rounds until closed. `settings.origin`, when set, is an RTSP URL (a node name
 * needs a cluster, which server/cluster handles); the constructor throws {@link CentralUrlError}
 * for a `central_server` that is not an HTTP(S) URL.
 *
 * @example
 * ```ts
 * const edge = new EdgeRunner({ hub, settings, configured: () => Object.keys(config.streams), log });
 * await edge.start(); // the first round, or at most 10 s of trying
 * // ...
 * await edge.close();
 * ```
 */
export class EdgeRunner {
  readonly #o: EdgeRunnerOptions;
  readonly #centrals: CentralServer[];
  /** Index of the central in use, once one answered. */
  #current: number | undefined;
  readonly #abort = new AbortController();
  #wake: (() => void) | undefined;
  #unlisten: (() => void) | undefined;
  readonly #discovered = new Set<string>();
  #media: CentralMedia | undefined;
  #pointed = new Map<string, string>();
  #error: string | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: EdgeRunnerOptions) {
    this.#o = options;
    this.#centrals = options.settings.centrals.map((url) => new CentralServer(url));
    // A stream of the central in use failing (its RTSP dropped, a dial refused) checks the central at
    // once rather than at the next refresh, so a dead central is left within seconds.
    if (this.#centrals.length > 1 && !options.settings.origin) {
      this.#unlisten = options.hub.events.on((event) => {
        if (event.type === "source_error" && this.#pointed.has(event.stream)) this.#wake?.();
      });
    }
  }

  /** Runs the first round (waiting at most `firstWaitMs` for it), then keeps going in the background. */
  async start(firstWaitMs = 10_000): Promise<void> {
    let first!: () => void;
    const firstDone = new Promise<void>((resolve) => first = resolve);
    this.#loop = this.#run(first);
    const timer = setTimeout(first, firstWaitMs);
    await firstDone;
    clearTimeout(timer);
  }

  /** Stops the rounds; discovered streams stay until the hub closes. */
  async close(): Promise<void> {
    this.#unlisten?.();
    this.#abort.abort();
    await this.#loop;
  }

  async #run(firstDone: () => void): Promise<void> {
    let failures = 0;
    while (!this.#abort.signal.aborted) {
      let ok: boolean;
      try {
        await this.#round();
        ok = true;
        if (this.#error) this.#o.log.info("central server answers again", { central: this.#currentApi() });
        this.#error = undefined;
        failures = 0;
      } catch (error) {
        if (this.#abort.signal.aborted) break;
        ok = false;
        const message = redactUrl((error as Error).message);
        if (message !== this.#error) {
          this.#o.log.warn(
            this.#media
              ? "cannot read the central server's stream list; streams keep their sources"
              : "cannot reach the central server yet; its streams have no source until it answers",
            { error: message },
          );
        }
        this.#error = message;
        failures++;
      }
      firstDone();
      // Only a central's stream list or RTSP port can change; an origin URL with configured streams is set once.
      if (ok && this.#centrals.length === 0) return;
      const wait = ok ? this.#o.settings.refreshMs : RETRY_MS[Math.min(failures - 1, RETRY_MS.length - 1)];
      await this.#sleep(wait, 1000);
    }
  }

  async #round(): Promise<void> {
    const { settings, hub, log } = this.#o;
    const signal = this.#abort.signal;
    if (settings.origin) {
      const origin = settings.origin;
      this.#media ??= {
        kind: origin.startsWith("rtsps:") ? "rtsps" : "rtsp",
        url: (s) => relayUrl(origin, s),
        display: redactUrl(origin),
      };
    } else {
      this.#media = await this.#pick(signal);
    }
    const media = this.#media;
    const configured = this.#o.configured();
    let names = configured;
    if (configured.length === 0 && this.#centrals.length > 0) {
      names = await this.#centrals[this.#current ?? 0].streamNames(signal);
      if (signal.aborted) return;
      const listed = new Set(names);
      for (const name of [...this.#discovered]) {
        if (listed.has(name)) continue;
        const stream = hub.get(name);
        if (stream && stream.consumers().length > 0) continue; // gone at the central: let its viewers finish
        hub.delete(name);
        this.#discovered.delete(name);
        this.#pointed.delete(name);
        log.info("edge: stream gone from the central server's list; removed", { stream: name });
      }
      for (const name of names) {
        if (hub.get(name) && !this.#discovered.has(name)) continue; // added here by the API: not ours
        if (!this.#discovered.has(name)) {
          this.#discovered.add(name);
          log.info("edge: serving the central server's stream", { stream: name });
        }
      }
    }
    for (const name of names) {
      const url = media.url(name);
      if (this.#pointed.get(name) === url) continue;
      if (!configured.includes(name) && !this.#discovered.has(name)) continue;
      hub.set(name, [url]);
      this.#pointed.set(name, url);
    }
  }

  #currentApi(): string | undefined {
    return this.#current === undefined ? undefined : this.#centrals[this.#current].api;
  }

  // Sleeps `ms`, or less when a stream of the central in use fails (not sooner than `minMs`).
  async #sleep(ms: number, minMs: number): Promise<void> {
    const woken = new AbortController();
    const signal = AbortSignal.any([this.#abort.signal, woken.signal]);
    const started = Date.now();
    this.#wake = () => {
      if (Date.now() - started >= minMs) woken.abort();
    };
    await abortableSleep(ms, signal).catch(() => {});
    this.#wake = undefined;
  }

  // The central in use while it answers; else the one `edge.routing` chooses among those that do.
  async #pick(signal: AbortSignal): Promise<CentralMedia> {
    const { log, settings } = this.#o;
    const failed = this.#current;
    let lastError: Error | undefined;
    if (failed !== undefined) {
      try {
        return this.#use(failed, await this.#centrals[failed].media(signal));
      } catch (error) {
        if (this.#centrals.length === 1) throw error;
        lastError = error as Error;
        log.warn("central server not answering; trying the others", {
          central: this.#centrals[failed].api,
          error: redactUrl(lastError.message),
        });
      }
    }
    const answers: (CentralAnswer & { media: CentralMedia })[] = [];
    const errors: string[] = lastError ? [lastError.message] : [];
    await Promise.all(this.#centrals.map(async (central, index) => {
      if (index === failed) return;
      const t0 = performance.now();
      try {
        const media = await central.media(signal);
        answers.push({ index, rttMs: performance.now() - t0, media });
      } catch (error) {
        errors.push((error as Error).message);
      }
    }));
    const chosen = chooseCentral(answers, this.#centrals.length, failed, settings.routing);
    if (chosen === undefined) {
      if (errors.length === 1) throw new Error(errors[0]);
      throw new Error(`no central server answers: ${errors.join("; ")}`);
    }
    const answer = answers.find((a) => a.index === chosen)!;
    if (this.#centrals.length > 1) {
      log.info(
        failed === undefined ? "edge: central server chosen" : "edge: moved to another central server",
        {
          central: this.#centrals[chosen].api,
          rule: failed === undefined ? settings.routing.strategy : settings.routing.fallback,
          rtt_ms: Math.round(answer.rttMs * 10) / 10,
          answered: answers.length,
        },
      );
    }
    return this.#use(chosen, answer.media);
  }

  #use(index: number, media: CentralMedia): CentralMedia {
    const api = this.#centrals[index].api;
    if (
      this.#current !== index || !this.#media || media.kind !== this.#media.kind ||
      media.display !== this.#media.display
    ) {
      this.#o.log.info("edge: streams are pulled from the central server", {
        central: api,
        via: media.kind,
        from: media.display,
      });
      if (media.kind === "mpegts") {
        this.#o.log.info(
          "the central serves no RTSP for this URL (none, or no RTSPS for https), so streams come as MPEG-TS over its API: " +
            "H.264, H.265, AAC and Opus pass, PCMA/PCMU audio does not",
          { central: api },
        );
      }
    }
    this.#current = index;
    return media;
  }
}
