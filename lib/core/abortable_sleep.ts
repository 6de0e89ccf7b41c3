/**
 * A timer that an AbortSignal cuts short: for retry delays and timed runs that must end at once on
 * shutdown or Ctrl-C.
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds, or at once when `signal` aborts (never rejects). The timer is
 * cleared on abort, so it never keeps the process alive past it.
 *
 * @example
 * ```ts
 * await abortableSleep(3000, controller.signal);
 * ```
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
