/**
 * A WebSocket client for signalling (the `webrtc:ws://` source), on every runtime: Deno, Bun and
 * Node 22+ have a global `WebSocket`; Node 20 has none, so the `ws` package (installed with
 * `@hono/node-ws`, which the Node server adapter uses) stands in with the same event API.
 *
 * @module
 */

/** The few things signalling needs from a WebSocket. */
export interface SignalSocket {
  send(text: string): void;
  close(): void;
  /** A text message arrived. */
  onMessage: ((text: string) => void) | undefined;
  /** The socket closed (by either side, or failed). Called once. */
  onClose: (() => void) | undefined;
}

type WebSocketCtor = new (url: string) => WebSocket;

async function webSocketClass(): Promise<WebSocketCtor> {
  const global = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  if (global) return global;
  // @ts-ignore: the ws package ships no types; its client has the same event API.
  const mod = await import("ws");
  return (mod.WebSocket ?? mod.default) as WebSocketCtor;
}

/**
 * Opens a WebSocket; resolves when it is open.
 *
 * @throws {Error} when it cannot open within `timeoutMs`, or `signal` aborts.
 * @example
 * ```ts
 * const socket = await openWebSocket("ws://127.0.0.1:1984/api/ws?src=cam");
 * socket.onMessage = (text) => console.log(JSON.parse(text));
 * socket.send(JSON.stringify({ type: "webrtc/offer", value: sdp }));
 * ```
 */
export async function openWebSocket(url: string, signal?: AbortSignal, timeoutMs = 10_000): Promise<SignalSocket> {
  const Ctor = await webSocketClass();
  const ws = new Ctor(url);
  let closed = false;
  const socket: SignalSocket = {
    send: (text) => {
      if (!closed) ws.send(text);
    },
    close: () => {
      if (closed) return;
      closed = true;
      try {
        ws.close();
      } catch { /* already closing */ }
    },
    onMessage: undefined,
    onClose: undefined,
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the WebSocket ${url} did not open within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => fail(new Error("the dial was aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    function fail(error: Error) {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      closed = true;
      try {
        ws.close();
      } catch { /* not open */ }
      reject(error);
    }
    ws.onopen = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    ws.onerror = () => fail(new Error(`cannot open the WebSocket ${url}`));
  });
  ws.onerror = () => {};
  ws.onmessage = (event: MessageEvent) => {
    if (typeof event.data === "string") socket.onMessage?.(event.data);
  };
  ws.onclose = () => {
    if (closed) return;
    closed = true;
    socket.onClose?.();
  };
  return socket;
}
