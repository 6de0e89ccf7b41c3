/**
 * Ctrl-C handling for the long-running subcommands (`record`, `relay`, `transcode`, `probe`): the
 * first SIGINT/SIGTERM asks the command to finish cleanly (finalize the file, TEARDOWN), a second
 * one exits at once with 130.
 *
 * @module
 */
import { exitProcess, onTermination, writeStderr } from "../lib/runtime/host.ts";

/** A pending interruption: `signal` aborts on the first SIGINT/SIGTERM. */
export interface Interrupt {
  /** Aborted on the first SIGINT or SIGTERM; its reason is the signal name. */
  readonly signal: AbortSignal;
  /** Resolves with the signal name on the first SIGINT or SIGTERM. */
  readonly received: Promise<string>;
  /** Removes the handlers (call when the command ends). */
  dispose(): void;
}

/**
 * Installs SIGINT/SIGTERM handlers for one command.
 *
 * @example
 * ```ts
 * const interrupt = onInterrupt((name) => writeStderr(`${name}: finishing the file\n`));
 * try { await Promise.race([recorder.done, interrupt.received]); } finally { interrupt.dispose(); }
 * ```
 */
export function onInterrupt(notice?: (signal: string) => void): Interrupt {
  const controller = new AbortController();
  let resolveReceived!: (name: string) => void;
  const received = new Promise<string>((resolve) => (resolveReceived = resolve));
  const handler = (name: string) => {
    if (controller.signal.aborted) {
      // A second Ctrl-C: the user does not want to wait for the clean end.
      writeStderr(`strom: ${name} again, exiting without cleanup\n`);
      exitProcess(130);
    }
    notice?.(name);
    controller.abort(name);
    resolveReceived(name);
  };
  return { signal: controller.signal, received, dispose: onTermination(handler) };
}
