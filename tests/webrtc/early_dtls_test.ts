/**
 * A DTLS ClientHello that reaches strom before werift's DTLS transport has started is kept and
 * handed to it (lib/protocol/webrtc/early_dtls.ts), instead of being dropped until the client
 * resends it. Here strom's DTLS start is held back by 400 ms, so the werift viewer's ClientHello
 * (sent ~100 ms after its ICE is up) always comes first: strom must still use it and play.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Stream } from "../../lib/core/stream.ts";
import { registerDemoSource } from "../../lib/protocol/demo/register.ts";
import { WebRtcServer } from "../../lib/protocol/webrtc/mod.ts";
import { until, Viewer } from "./_peer.ts";

registerDemoSource();

describe("early DTLS datagrams", () => {
  let stream: Stream;
  let server: WebRtcServer;
  beforeAll(() => {
    stream = new Stream("demo", ["demo:"], { graceMs: 200 });
    server = new WebRtcServer({ ice: { bindAddress: "127.0.0.1" }, connectTimeoutMs: 8000, silenceTimeoutMs: 5000 });
  });
  afterAll(async () => {
    await server.close();
    await stream.close();
  });

  test("a ClientHello sent before strom's DTLS started is used when it starts", async () => {
    const viewer = new Viewer({ audio: false });
    try {
      const session = await server.play(stream, await viewer.offer());
      const transport = session.peer.transceivers()[0].dtlsTransport as unknown as {
        start(): Promise<void>;
        state: string;
      };
      const start = transport.start.bind(transport);
      let started = false;
      transport.start = async () => {
        await new Promise((r) => setTimeout(r, 400));
        started = true;
        return await start();
      };
      await viewer.accept(session.answer);
      await until("video with a keyframe", () => viewer.packets.video > 20 && viewer.keyframeSince(0), 15_000);
      expect(started).toBe(true);
      expect(session.peer.earlyDtls?.replayed).toBeGreaterThanOrEqual(1);
      expect(transport.state).toBe("connected");
    } finally {
      await viewer.close();
    }
    await until("the session to end", () => server.sessions.size === 0, 8_000);
  }, 40_000);
});
