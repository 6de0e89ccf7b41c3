/**
 * `exec:...#backchannel=1`: a command that takes audio on stdin (a speaker, `ffplay`, a file
 * writer), as go2rtc's `pkg/stdin`. The source offers one `sendonly` audio media (two-way audio,
 * from our side); a talker's frames (a browser microphone, an RTSP backchannel client,
 * `AudioTalker`) are written to the command's stdin as raw payload bytes.
 *
 * ```text
 * exec:ffplay -nodisp -f alaw -ar 8000 -#backchannel=1                 (PCMA/8000, go2rtc's default)
 * exec:ffmpeg -f s16le -ar 16000 -ac 1 -i - out.wav#backchannel=1#audio=pcml/16000
 * ```
 *
 * `#audio=` names the codecs the command reads (repeatable): `pcma`, `pcmu` (G.711, `alaw`/`mulaw`
 * also accepted), `pcm` (16-bit big-endian, `s16be`), `pcml` (16-bit little-endian, `s16le`), each
 * with an optional `/rate`. Talkers in another codec go through the stream's audio transcoders.
 *
 * @module
 */
import { type Codec, parseCodecString } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import { redactUrl, SourceError } from "../../core/errors.ts";
import { type Receiver, Sender } from "../../core/fanout.ts";
import type { Frame } from "../../core/frame.ts";
import type { Logger } from "../../core/log.ts";
import { type Media, mediaToString } from "../../core/media.ts";
import type { ExecUrl } from "./exec_url.ts";
import { ExecProcess } from "./process.ts";

const ALIASES: Record<string, string> = { alaw: "pcma", mulaw: "pcmu", ulaw: "pcmu", s16be: "pcm", s16le: "pcml" };
// How long a command may take to exit by itself after its stdin closed.
const STDIN_EOF_GRACE_MS = 1000;
const RAW = new Set(["PCMA", "PCMU", "L16", "PCML"]);

/**
 * The codecs of `#audio=` values (default: PCMA/8000 and L16/8000, as go2rtc).
 *
 * @throws {RangeError} for a codec that is not raw audio a pipe can carry.
 * @example
 * ```ts
 * backchannelCodecs(["alaw/16000"]); // [{ name: "PCMA", clockRate: 16000, channels: 1 }]
 * ```
 */
export function backchannelCodecs(values: readonly string[]): Codec[] {
  if (!values.length) values = ["pcma/8000", "pcm/8000"];
  return values.map((value) => {
    const [name, ...rest] = value.trim().split("/");
    const codec = parseCodecString([ALIASES[name.toLowerCase()] ?? name, ...rest].join("/"));
    if (!RAW.has(codec.name)) {
      throw new RangeError(
        `Cannot use #audio=${value} on an exec backchannel: stdin takes raw audio (pcma, pcmu, pcm, pcml, with an optional /rate)`,
      );
    }
    if (!codec.clockRate) codec.clockRate = 8000;
    codec.channels ??= 1;
    return codec;
  });
}

/**
 * A command that plays (or stores) a talker's audio from its stdin. Created by `dialExec` for
 * `#backchannel=1`. The process starts at dial, so a missing program fails the dial.
 *
 * @example
 * ```ts
 * const speaker = await dialExec("exec:ffplay -nodisp -f alaw -ar 8000 -#backchannel=1");
 * await speaker.addTrack(speaker.medias()[0], { name: "PCMA", clockRate: 8000 }, talkerReceiver);
 * ```
 */
export class ExecBackchannelProducer implements Producer {
  readonly #id = nextConnectionId();
  readonly #url: string;
  readonly #parsed: ExecUrl;
  readonly #proc: ExecProcess;
  readonly #log: Logger;
  readonly #media: Media;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #senders: Sender[] = [];
  readonly #startedAt = new Date().toISOString();
  #running: Promise<void> | undefined;
  #stopped = false;
  #broken = false;
  #bytes = 0;

  private constructor(url: string, parsed: ExecUrl, proc: ExecProcess, media: Media, log: Logger) {
    this.#url = url;
    this.#parsed = parsed;
    this.#proc = proc;
    this.#media = media;
    this.#log = log;
    this.#writer = proc.stdin!.getWriter();
    // A closed pipe (the command exited) must not become an unhandled rejection.
    this.#writer.closed.catch(() => {});
  }

  /**
   * Starts the command with stdin piped.
   *
   * @throws {SourceError} for a bad `#audio=`; SpawnError when it cannot start.
   */
  static spawn(url: string, parsed: ExecUrl, log: Logger): ExecBackchannelProducer {
    let codecs: Codec[];
    try {
      codecs = backchannelCodecs(parsed.params.get("audio") ?? []);
    } catch (error) {
      throw new SourceError(url, (error as Error).message);
    }
    const proc = ExecProcess.spawn(parsed.command, parsed.args, {
      killSignal: parsed.killSignal,
      killTimeoutMs: parsed.killTimeoutMs,
      log,
      stdin: true,
      stdout: false,
    });
    log.debug("started (backchannel)", { pid: proc.pid, command: redactUrl(parsed.commandLine) });
    const media: Media = { kind: "audio", direction: "sendonly", codecs, id: "backchannel" };
    return new ExecBackchannelProducer(url, parsed, proc, media, log);
  }

  /** The process id of the command. */
  get pid(): number {
    return this.#proc.pid;
  }

  /** Bytes written to the command's stdin. */
  get bytesOut(): number {
    return this.#bytes;
  }

  medias(): Media[] {
    return [this.#media];
  }

  /** The command only takes audio. */
  track(): Receiver {
    throw new RangeError(`The exec backchannel source "${redactUrl(this.#url)}" sends nothing to viewers; it takes a talker's audio`);
  }

  /** Writes the talker's frames (already in `codec`) to the command's stdin. */
  addTrack(media: Media, codec: Codec, receiver: Receiver): void {
    const sender = new Sender(media, codec, this.#write, {
      onError: (error) => this.#log.debug("backchannel write failed", { error: String(error) }),
    });
    this.#senders.push(sender);
    receiver.addSender(sender, { fromCache: false });
  }

  readonly #write = (frame: Frame): Promise<void> | void => {
    if (this.#stopped || this.#broken) return;
    this.#bytes += frame.data.length;
    // Waiting on the write keeps at most the sender's bounded queue in memory while the command is slow.
    return this.#writer.write(frame.data).catch(() => {
      this.#broken = true;
    });
  };

  /**
   * Runs until the command exits. Resolves when stopped or on exit code 0; rejects with an
   * `ExecError` otherwise.
   */
  start(): Promise<void> {
    this.#running ??= (async () => {
      const status = await this.#proc.waitExit();
      if (this.#stopped || status.code === 0) return;
      throw this.#proc.exitError(status);
    })();
    return this.#running;
  }

  /** Detaches from talkers and ends the command (its stdin is closed first). Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return await this.#proc.stop().then(() => {});
    this.#stopped = true;
    for (const s of this.#senders.splice(0)) s.close();
    // End of stdin lets a writer (ffmpeg into a file) finish by itself; the kill signal follows
    // when it has not within STDIN_EOF_GRACE_MS.
    await this.#writer.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#proc.exited, new Promise((r) => (timer = setTimeout(r, STDIN_EOF_GRACE_MS)))]);
    clearTimeout(timer);
    await this.#proc.stop();
  }

  info(): ConnectionInfo {
    return {
      id: this.#id,
      format: "exec",
      protocol: "pipe",
      url: redactUrl(this.#url),
      medias: [mediaToString(this.#media)],
      bytesOut: this.#bytes,
      startedAt: this.#startedAt,
    };
  }
}
