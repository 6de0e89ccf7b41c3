/**
 * `POST /api/webrtc` and `DELETE /api/webrtc` on a real server, with werift as the peer: every body
 * form go2rtc accepts (WHEP `application/sdp`, JSON, form `data=` base64, raw), and the errors a
 * client can cause (bad SDP 400, no common codec 415, too many peers 503, unknown session 404),
 * with no session or consumer left behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RTCRtpCodecParameters } from "werift";
import { silentLogger } from "../../lib/core/log.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import { webrtcModule } from "../../server/modules/webrtc.ts";
import { startServer } from "../../server/server.ts";
import { until, Viewer } from "./_peer.ts";

let base = "";
let hub: StreamHub;
let close: () => Promise<void>;

beforeAll(async () => {
  const s = await startServer({
    configSources: [JSON.stringify({ streams: { demo: "demo:" }, webrtc: { listen: "127.0.0.1:0", max_peers: 2 } })],
    listen: "127.0.0.1:0",
    handleSignals: false,
    log: silentLogger,
    modules: [webrtcModule],
  });
  base = s.urls[0];
  hub = s.hub;
  close = () => s.close();
}, 30_000);

afterAll(async () => {
  await close?.();
}, 30_000);

const consumers = () => hub.get("demo")?.consumers().length ?? 0;

/** Posts an offer in one of the forms, applies the answer, and waits for video. */
async function play(form: "whep" | "json" | "form" | "raw"): Promise<{ viewer: Viewer; res: Response }> {
  const viewer = new Viewer({ audio: false });
  const offer = await viewer.offer();
  let res: Response;
  let answer: string;
  if (form === "json") {
    res = await fetch(`${base}/api/webrtc?src=demo`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ type: "offer", sdp: offer }),
    });
    const body = await res.json();
    expect(body.type).toBe("answer");
    answer = body.sdp;
  } else if (form === "form") {
    res = await fetch(`${base}/api/webrtc?src=demo`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ data: btoa(offer) }).toString(),
    });
    answer = atob(await res.text());
  } else {
    res = await fetch(`${base}/api/webrtc?src=demo`, {
      method: "POST",
      headers: { "Content-Type": form === "whep" ? "application/sdp" : "text/plain" },
      body: offer,
    });
    answer = await res.text();
  }
  expect(answer).toMatch(/^v=0/);
  // Not trickled: the answer carries its candidates.
  expect(answer).toMatch(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
  // The peer offered actpass: strom answers passive, so the peer starts DTLS at once.
  expect(offer).toContain("a=setup:actpass");
  expect(answer).toContain("a=setup:passive");
  expect(answer).not.toContain("a=setup:active");
  await viewer.accept(answer);
  await until(`video over ${form}`, () => viewer.packets.video > 20, 10_000);
  return { viewer, res };
}

describe("POST /api/webrtc", () => {
  test("WHEP: 201, application/sdp, Location; DELETE there ends the session, then 404", async () => {
    const { viewer, res } = await play("whep");
    try {
      expect(res.status).toBe(201);
      expect(res.headers.get("content-type")).toContain("application/sdp");
      const location = res.headers.get("location")!;
      expect(location).toMatch(/^webrtc\?id=/);
      const url = new URL(location, `${base}/api/webrtc`);
      expect(consumers()).toBe(1);
      const del = await fetch(url, { method: "DELETE" });
      expect(del.status).toBe(200);
      await until("the consumer to leave", () => consumers() === 0, 3_000);
      expect((await fetch(url, { method: "DELETE" })).status).toBe(404);
    } finally {
      await viewer.close();
    }
  }, 30_000);

  test("JSON, form (base64 data=) and raw SDP bodies all play", async () => {
    for (const form of ["json", "form", "raw"] as const) {
      const { viewer, res } = await play(form);
      expect(res.status).toBe(200);
      // strom gives every form a Location to DELETE (go2rtc: WHIP only).
      const del = await fetch(new URL(res.headers.get("location")!, `${base}/api/webrtc`), { method: "DELETE" });
      expect(del.status).toBe(200);
      await viewer.close();
      await until("the consumer to leave", () => consumers() === 0, 3_000);
    }
  }, 40_000);

  test("client errors: bad SDP 400, no common codec 415, unknown stream 404, bad WHIP offer 400, PATCH 405", async () => {
    const post = (body: string, type = "application/sdp", src = "demo") =>
      fetch(`${base}/api/webrtc?src=${src}`, { method: "POST", headers: { "Content-Type": type }, body });
    const bad = await post("hello");
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toContain('must start with "v=0"');
    const badJson = await post("{", "application/json");
    expect(badJson.status).toBe(400);

    const vp8 = new Viewer({
      audio: false,
      video: [new RTCRtpCodecParameters({ mimeType: "video/VP8", clockRate: 90000, payloadType: 96 })],
    });
    const mismatch = await post(await vp8.offer());
    await vp8.close();
    expect(mismatch.status).toBe(415);
    const body = await mismatch.json();
    expect(body.error).toBe("WebRtcCodecError");
    expect(body.message).toContain("video:H264/90000");
    expect(body.message).toContain("video:VP8/90000");

    expect((await post("v=0", "application/sdp", "nosuch")).status).toBe(404);
    const whip = await fetch(`${base}/api/webrtc?dst=demo`, { method: "POST", body: "v=0" });
    // WHIP ingest exists (tests/webrtc/ingest_whip_test.ts): an offer without media is refused.
    expect(whip.status).toBe(400);
    expect((await whip.json()).message).toContain("no audio or video section");
    expect((await fetch(`${base}/api/webrtc?src=demo`, { method: "PATCH" })).status).toBe(405);
    expect((await fetch(`${base}/api/webrtc?src=demo`, { method: "OPTIONS" })).status).toBe(204);
    expect(consumers()).toBe(0);
  }, 30_000);

  test("webrtc.max_peers: the third peer gets 503 while two play", async () => {
    const a = await play("whep");
    const b = await play("whep");
    try {
      const c = new Viewer({ audio: false });
      const res = await fetch(`${base}/api/webrtc?src=demo`, {
        method: "POST",
        headers: { "Content-Type": "application/sdp" },
        body: await c.offer(),
      });
      await c.close();
      expect(res.status).toBe(503);
      expect((await res.json()).message).toContain("webrtc.max_peers");
      for (const r of [a.res, b.res]) {
        await fetch(new URL(r.headers.get("location")!, `${base}/api/webrtc`), { method: "DELETE" });
      }
      await until("both to leave", () => consumers() === 0, 3_000);
    } finally {
      await a.viewer.close();
      await b.viewer.close();
    }
  }, 40_000);
});
