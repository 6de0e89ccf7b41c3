/**
 * Garbage on a live WebRTC session's own path: a werift viewer that plays strom's demo stream sends,
 * from its nominated pair, malformed STUN, DTLS records of every content type (known and unknown)
 * and truncated ones, RTP/RTCP-looking noise and a close_notify alert in the clear (what anyone able
 * to send from the viewer's address could forge). The viewer keeps getting video, a second viewer is not disturbed,
 * and the server answers. Before strom dropped invalid DTLS records (dtls_server_patch.ts), a record
 * of an unknown content type made werift close the DTLS transport while the session stayed listed:
 * the viewer's picture froze for as long as it stayed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { freePort } from "../_support/net.ts";
import { until, Viewer } from "./_peer.ts";

interface WeriftPair {
  protocol: { sendData(data: Uint8Array, addr: [string, number]): Promise<void> };
  remoteCandidate: { host: string; port: number };
}

/** Sends `data` to strom from the viewer's nominated ICE pair, as the viewer's own packets go. */
function pairOf(viewer: Viewer): (data: Uint8Array) => Promise<void> {
  const transport = (viewer.pc as unknown as { iceTransports: { connection: { nominated?: WeriftPair } }[] })
    .iceTransports[0];
  const pair = transport.connection.nominated!;
  return (data) => pair.protocol.sendData(data, [pair.remoteCandidate.host, pair.remoteCandidate.port]);
}

/** A DTLS 1.2 record header and body: content type, version fe fd, epoch, sequence, length. */
function record(type: number, epoch: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(13 + body.length);
  out[0] = type;
  out[1] = 0xfe;
  out[2] = 0xfd;
  out[3] = epoch >> 8;
  out[4] = epoch & 0xff;
  out[10] = 7;
  out[11] = body.length >> 8;
  out[12] = body.length & 0xff;
  out.set(body, 13);
  return out;
}

async function play(base: string): Promise<Viewer> {
  const viewer = new Viewer();
  const res = await fetch(`${base}/api/webrtc?src=demo`, {
    method: "POST",
    headers: { "Content-Type": "application/sdp" },
    body: await viewer.offer(),
  });
  expect(res.status).toBe(201);
  await viewer.accept(await res.text());
  await until("video", () => viewer.packets.video > 10, 15_000);
  return viewer;
}

for (const shared of [true, false]) {
  describe(`malformed datagrams on a playing WebRTC session (${shared ? "shared ICE port" : "a port per peer"})`, () => {
    const open: { close(): Promise<void> }[] = [];
    afterAll(async () => {
      for (const o of open.reverse()) await o.close();
    });

    test("the viewer keeps playing, another viewer is not disturbed, the server answers", async () => {
      const port = await freePort();
      const server: RunningServer = await startServer({
        configSources: [JSON.stringify({
          api: { listen: "127.0.0.1:0" },
          rtsp: { listen: "" },
          webrtc: { listen: shared ? `127.0.0.1:${port}` : "", audio_transcode: false },
          streams: { demo: "demo:" },
        })],
        log: silentLogger,
        handleSignals: false,
      });
      open.push(server);
      const base = server.urls[0];
      const noisy = await play(base);
      open.push(noisy);
      const quiet = await play(base);
      open.push(quiet);
      const send = pairOf(noisy);
      const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

      for (let i = 0; i < 400; i++) {
        const b = random(1 + (i % 200));
        switch (i % 5) {
          case 0: // STUN-looking
            b[0] = i & 3;
            await send(b);
            break;
          case 1: // a DTLS record of an unknown content type (24-63)
            await send(record(24 + (i % 40), i & 1, random(i % 64)));
            break;
          case 2: { // a DTLS record of a known type with a garbage body, epoch 0 or 1; every third truncated
            const r = record(20 + (i % 4), (i >> 2) & 1, random(i % 64));
            await send(i % 3 === 0 ? r.subarray(0, 1 + (i % 16)) : r);
            break;
          }
          case 3: // RTP or RTCP-looking
            b[0] = 0x80 | (i & 0x3f);
            if (b.length > 1) b[1] = (i & 8) ? 192 + (i % 16) : i & 0x7f;
            await send(b);
            break;
          case 4: // close_notify (warning) in the clear, as a forger would send it
            await send(record(21, 0, new Uint8Array([1, 0])));
            break;
        }
      }
      const before = [noisy.packets.video, quiet.packets.video];
      await new Promise((r) => setTimeout(r, 1500));
      expect(noisy.packets.video - before[0]).toBeGreaterThan(20);
      expect(quiet.packets.video - before[1]).toBeGreaterThan(20);
      const info = await (await fetch(`${base}/api/streams?src=demo`)).json() as {
        consumers: { format: string }[];
      };
      expect(info.consumers.filter((c) => c.format === "webrtc").length).toBe(2);
    }, 60_000);
  });
}
