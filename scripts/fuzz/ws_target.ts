/**
 * The `/api/ws` message target: a real app (createApp over a StreamHub, with the `mse`, `mjpeg` and
 * `hls` handlers it registers) behind a stand-in for the runtime's WebSocket upgrade, so each fuzz
 * input is delivered as the text messages of one connection (split at newlines), then the
 * connection closes. A handler failing with a non-domain error, or a synchronous throw out of the
 * message loop, is a finding; errors answered to the client as `{type: "error"}` are not.
 *
 * @module
 */
import type { Context } from "hono";
import { StreamHub } from "../../lib/core/hub.ts";
import { silentLogger } from "../../lib/core/log.ts";
import { createApp } from "../../server/app.ts";
import { loadConfigText } from "../../server/config/mod.ts";
import type { AppContext } from "../../server/context.ts";
import { runtimeIo } from "../../server/load.ts";
import type { WsHandlers } from "../../server/routes/ws.ts";
import type { UpgradeWebSocketFn } from "../../server/serve/types.ts";
import { registerBuiltinSources } from "../../server/sources.ts";
import { type FuzzTarget, isDomainError } from "./harness.ts";

interface Events {
  onOpen?(evt: unknown, ws: unknown): void;
  onMessage?(evt: { data: unknown }, ws: unknown): void;
  onClose?(evt: unknown, ws: unknown): void;
}

let app: ReturnType<typeof createApp> | undefined;
let lastEvents: Events | undefined;
const failures: unknown[] = [];

async function setup() {
  if (app) return app;
  registerBuiltinSources();
  // The in-process demo source (no program, no network); ffmpeg (MJPEG transcoding) fails at once.
  const { config, secrets } = await loadConfigText(
    'streams:\n  cam: "demo:"\n  push: []\nffmpeg:\n  bin: /nonexistent/ffmpeg\n',
    runtimeIo,
    "fuzz.yaml",
  );
  const hub = new StreamHub({ log: silentLogger, graceMs: 0 });
  for (const [name, sources] of Object.entries(config.streams)) hub.set(name, sources);
  const upgradeWebSocket = ((create: (c: Context) => Events) => (c: Context) => {
    lastEvents = create(c);
    return c.text("upgraded");
  }) as unknown as UpgradeWebSocketFn;
  const ctx: AppContext = { hub, config, configIo: runtimeIo, log: silentLogger, version: "fuzz", upgradeWebSocket, secrets };
  const wsHandlers: WsHandlers = new Map();
  app = createApp(ctx, { wsHandlers });
  // Record what a handler throws that is not a domain error (the loop turns it into a message).
  for (const [type, handler] of wsHandlers) {
    wsHandlers.set(type, async (message, conn) => {
      try {
        await handler(message, conn);
      } catch (error) {
        if (!isDomainError(error)) failures.push(error);
        throw error;
      }
    });
  }
  return app;
}

const text = (s: string) => new TextEncoder().encode(s);
const utf8 = new TextDecoder();

/** The WebSocket message target (see the module comment). */
export const wsTarget: FuzzTarget = {
  name: "ws",
  description: "/api/ws text messages (JSON parse, type dispatch, mse/mjpeg/hls handlers) over one connection each",
  maxAllocBytes: 1024 * 1024,
  seeds: () => [
    text('{"type":"mse","value":"avc1.640029,avc1.64002A,hvc1.1.6.L153.B0,mp4a.40.2,opus"}'),
    text('{"type":"hls","value":"avc1.640029,mp4a.40.2"}'),
    text('{"type":"mjpeg"}'),
    text('{"type":"webrtc/offer","value":"v=0\\r\\no=- 0 0 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\n"}\n{"type":"ping"}'),
    text('{"type":"mse","value":""}\n{"type":"mse","value":"flac"}\n{"type":"hls"}'),
    text('[1,2]\n{"type":7}\nnull\n{"value":"x"}'),
  ],
  async run(input, rng) {
    const a = await setup();
    failures.length = 0;
    lastEvents = undefined;
    const src = rng.chance(0.8) ? "cam" : rng.pick(["push", "nosuch", "", "cam&src=cam", "%00"]);
    await a.request(`/api/ws?src=${src}`);
    const events = lastEvents as Events | undefined;
    if (!events) return; // refused before the upgrade (no stream)
    const sent: unknown[] = [];
    const ws = { send: (m: unknown) => sent.push(m), close: () => {}, readyState: 1, raw: undefined, protocol: null, url: null };
    events.onOpen?.({}, ws);
    for (const message of utf8.decode(input).split("\n").slice(0, 8)) events.onMessage?.({ data: message }, ws);
    // Let the handlers run (they are not awaited by the loop), then hang up.
    await new Promise((r) => setTimeout(r, 0));
    events.onClose?.({}, ws);
    await new Promise((r) => setTimeout(r, 0));
    if (failures.length) throw failures[0];
  },
};
