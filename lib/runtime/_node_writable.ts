/**
 * A Web WritableStream over a node:stream Writable (child stdin), private to lib/runtime.
 *
 * Each write waits for 'drain' only when the node stream asks for it, so the Web stream's
 * backpressure follows the pipe's. Errors (EPIPE when the child exited) are kept and reject the
 * next write instead of being thrown as uncaught 'error' events.
 *
 * @module
 */
import type { Writable } from "node:stream";

export function toWebWritable(
  target: Writable,
  mapError: (error: unknown) => unknown,
): WritableStream<Uint8Array> {
  let failure: unknown;
  target.on("error", (error) => (failure ??= mapError(error)));
  const gone = () => failure ?? mapError(Object.assign(new Error("stream closed"), { code: "EPIPE" }));

  // Resolves on `event`, rejects if the stream errors or closes first.
  const wait = (event: "drain" | "finish") =>
    new Promise<void>((resolve, reject) => {
      const done = () => {
        target.off(event, onEvent);
        target.off("close", onClose);
        target.off("error", onClose);
      };
      const onEvent = () => {
        done();
        resolve();
      };
      const onClose = () => {
        done();
        if (event === "finish" && target.writableFinished && failure === undefined) resolve();
        else reject(gone());
      };
      target.once(event, onEvent);
      target.once("close", onClose);
      target.once("error", onClose);
    });

  return new WritableStream<Uint8Array>({
    write(chunk) {
      if (failure !== undefined || target.destroyed || target.writableEnded) return Promise.reject(gone());
      if (target.write(chunk)) return;
      return wait("drain");
    },
    close() {
      if (failure !== undefined) return Promise.reject(failure);
      if (target.destroyed) return;
      const finished = wait("finish");
      target.end();
      return finished;
    },
    abort() {
      target.destroy();
    },
  });
}
