/**
 * An RTMP publisher killed with SIGKILL mid-stream, and a new one publishing into the same stream:
 * an RTMP player that was watching keeps its connection and gets the new publisher's frames.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { StreamHub } from "../../lib/core/hub.ts";
import { RtmpClientProducer } from "../../lib/protocol/rtmp/producer.ts";
import { RtmpServer } from "../../lib/protocol/rtmp/server.ts";
import { hasEncoder } from "../_support/ffmpeg.ts";
import { H264_AAC_CAMERA, hasPublisher, publishRtmpAndWait, waitFor } from "./_helpers.ts";

const haveX264 = await hasEncoder("libx264");

describe.skipIf(!haveX264)(
  haveX264 ? "rtmp publisher killed and replaced" : "rtmp publisher killed and replaced (skipped: ffmpeg lacks libx264)",
  () => {
    let hub: StreamHub;
    let server: RtmpServer;
    let base = "";
    const children: { kill: (s: "SIGKILL") => void; exited: Promise<unknown> }[] = [];

    beforeAll(async () => {
      hub = new StreamHub({ graceMs: 500 });
      hub.set("cam", []);
      server = await RtmpServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      base = `rtmp://127.0.0.1:${server.addr.port}`;
    });

    afterAll(async () => {
      for (const c of children) c.kill("SIGKILL");
      await Promise.all(children.map((c) => c.exited));
      await server?.close();
      await hub?.close();
    });

    it("keeps an RTMP player going across kill -9 of the publisher and a new publisher", async () => {
      const first = await publishRtmpAndWait(hub, "cam", `${base}/cam`, H264_AAC_CAMERA);
      children.push(first);
      const player = await RtmpClientProducer.dial(`${base}/cam`);
      let ended = false;
      player.start().then(() => (ended = true), () => (ended = true));
      try {
        const video = player.medias().find((m) => m.kind === "video")!;
        const receiver = player.track(video, video.codecs[0]);
        await waitFor("frames from the first publisher", () => receiver.frames > 25);

        first.kill("SIGKILL");
        await first.exited;
        await waitFor("the killed publisher to be gone", () => !hasPublisher(hub, "cam"));
        const before = receiver.frames;

        children.push(await publishRtmpAndWait(hub, "cam", `${base}/cam`, H264_AAC_CAMERA));
        await waitFor("frames from the second publisher", () => receiver.frames > before + 25, 15_000);
        expect(ended).toBe(false);
        expect(server.sessions.size).toBe(2); // the player and the new publisher
      } finally {
        await player.stop();
      }
    }, 40_000);
  },
);
