/**
 * RTSP server and client against real ffmpeg/ffprobe peers: ffmpeg publishes with ANNOUNCE/RECORD,
 * ffprobe and ffmpeg read back over TCP and UDP, a strom stream relays through the RTSP client,
 * authentication, 404, many readers, and a reader that stops reading.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { StreamHub } from "../../lib/core/hub.ts";
import { type TcpConn, tcpConnect } from "../../lib/runtime/mod.ts";
import { RtspClient, RtspError } from "../../lib/protocol/rtsp/client.ts";
import { registerRtspSources } from "../../lib/protocol/rtsp/producer.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { ffmpeg, ffprobe, hasEncoder, run } from "../_support/ffmpeg.ts";
import { decodeRtsp, H264_AAC_CAMERA, publish, publishAndWait, sleep, waitFor } from "./_helpers.ts";

const haveX264 = await hasEncoder("libx264");

describe.skipIf(!haveX264)(
  haveX264
    ? "rtsp server with ffmpeg peers"
    : "rtsp server with ffmpeg peers (skipped: ffmpeg lacks libx264)",
  () => {
    let hub: StreamHub;
    let server: RtspServer;
    let authServer: RtspServer;
    let base = "";
    let authPort = 0;
    let publisher: ReturnType<typeof publish>;

    beforeAll(async () => {
      registerRtspSources();
      hub = new StreamHub({ graceMs: 500, reconnectDelaysMs: [300] });
      hub.set("cam", []);
      hub.set("empty", []);
      server = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
      base = `rtsp://127.0.0.1:${server.addr.port}`;
      hub.set("relay", [`${base}/cam`]);
      hub.set("relay_udp", [`${base}/cam#transport=udp`]);
      publisher = await publishAndWait(hub, "cam", `${base}/cam`, H264_AAC_CAMERA);

      const authHub = new StreamHub({ graceMs: 200 });
      authHub.set("cam", [`${base}/cam`]);
      authServer = await RtspServer.listen({
        hub: authHub,
        listen: { hostname: "127.0.0.1", port: 0 },
        username: "admin",
        password: "s3cr:t@x",
      });
      authPort = authServer.addr.port;
    });

    afterAll(async () => {
      publisher?.kill("SIGKILL");
      await publisher?.exited;
      await authServer?.close();
      await server?.close();
      await hub?.close();
      // The rtsp schemes stay registered: other test files in this process (Bun) dial them too.
    });

    it("serves h264+aac to ffprobe over TCP", async () => {
      const probe = await ffprobe(`${base}/cam`, ["-rtsp_transport", "tcp"], 10_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      expect(probe.streams.find((s) => s.codec_type === "video")?.width).toBe(320);
    }, 15_000);

    it("serves h264+aac to ffprobe over UDP", async () => {
      const probe = await ffprobe(`${base}/cam`, ["-rtsp_transport", "udp"], 10_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
    }, 15_000);

    it("honours ?video= filters", async () => {
      const probe = await ffprobe(`${base}/cam?video=h264`, ["-rtsp_transport", "tcp"], 10_000);
      expect(probe.streams.map((s) => s.codec_name)).toEqual(["h264"]);
    }, 15_000);

    it("is decoded by ffmpeg without errors", async () => {
      const res = await decodeRtsp(`${base}/cam`, 20);
      expect(res.stderr.trim()).toBe("");
      expect(res.code).toBe(0);
    }, 20_000);

    it("relays through a strom stream with an rtsp:// source (TCP and UDP client)", async () => {
      for (const name of ["relay", "relay_udp"]) {
        const probe = await ffprobe(`${base}/${name}`, ["-rtsp_transport", "tcp"], 10_000);
        expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      }
      const res = await decodeRtsp(`${base}/relay_udp`, 10);
      expect(res.code).toBe(0);
    }, 30_000);

    it("answers 404 with the stream name for unknown streams", async () => {
      const client = new RtspClient(`${base}/nope`);
      await client.connect();
      try {
        await client.describe();
        throw new Error("DESCRIBE should have failed");
      } catch (error) {
        expect(error).toBeInstanceOf(RtspError);
        expect((error as RtspError).status).toBe(404);
      } finally {
        client.close();
      }
      const res = await run("ffprobe", ["-v", "error", "-rtsp_transport", "tcp", `${base}/nope`], 10_000);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain("404");
    }, 15_000);

    it("answers a stream without sources with an error, not a hang", async () => {
      const res = await run("ffprobe", ["-v", "error", "-rtsp_transport", "tcp", `${base}/empty`], 10_000);
      expect(res.timedOut).toBe(false);
      expect(res.code).not.toBe(0);
    }, 15_000);

    it("requires credentials when configured (Digest via ffmpeg, 401 on wrong ones)", async () => {
      const bad = await run("ffprobe", [
        "-v",
        "error",
        "-rtsp_transport",
        "tcp",
        `rtsp://admin:wrong@127.0.0.1:${authPort}/cam`,
      ], 10_000);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain("401");
      const none = await run("ffprobe", [
        "-v",
        "error",
        "-rtsp_transport",
        "tcp",
        `rtsp://127.0.0.1:${authPort}/cam`,
      ], 10_000);
      expect(none.code).not.toBe(0);
      const good = await ffprobe(`rtsp://admin:${encodeURIComponent("s3cr:t@x")}@127.0.0.1:${authPort}/cam`, [
        "-rtsp_transport",
        "tcp",
      ], 10_000);
      expect(good.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      // strom's own client: URL-decoded credentials, 401 retried once.
      const client = new RtspClient(`rtsp://admin:s3cr%3At%40x@127.0.0.1:${authPort}/cam`);
      await client.connect();
      const d = await client.describe();
      expect(d.sdp.medias.length).toBe(2);
      client.close();
      const wrong = new RtspClient(`rtsp://admin:nope@127.0.0.1:${authPort}/cam`);
      await wrong.connect();
      await expect(wrong.describe()).rejects.toThrow("401");
      wrong.close();
    }, 30_000);

    it("serves 20 concurrent ffmpeg readers from one publisher", async () => {
      const readers = Array.from({ length: 20 }, (_, i) =>
        ffmpeg([
          "-rtsp_transport",
          i % 4 === 3 ? "udp" : "tcp",
          "-i",
          `${base}/cam`,
          "-t",
          "2",
          "-c",
          "copy",
          "-f",
          "null",
          "-",
        ], 20_000));
      const results = await Promise.all(readers);
      for (const r of results) {
        expect(r.timedOut).toBe(false);
        expect(r.code).toBe(0);
      }
    }, 30_000);

    it("does not stall other readers when one reader stops reading", async () => {
      // A viewer that PLAYs and then never reads its socket.
      const addr = server.addr;
      const conn: TcpConn = await tcpConnect({ hostname: "127.0.0.1", port: addr.port });
      const enc = new TextEncoder();
      const url = `${base}/cam`;
      conn.write(enc.encode(`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n`));
      conn.write(
        enc.encode(
          `SETUP ${url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`,
        ),
      );
      await sleep(300);
      const session = [...server.sessions].find((s) => s.consumer?.tracks[0]?.transport);
      expect(session).toBeDefined();
      conn.write(enc.encode(`PLAY ${url} RTSP/1.0\r\nCSeq: 3\r\nSession: ${session!.id}\r\n\r\n`));
      try {
        // Meanwhile another reader decodes normally.
        const res = await decodeRtsp(url, 25);
        expect(res.code).toBe(0);
        expect(session!.released).toBe(false);
      } finally {
        conn.destroy();
      }
      await waitFor("the stalled session to be released", () => session!.released, 5_000);
    }, 25_000);

    it("keeps the session count honest", async () => {
      await waitFor(
        "reader sessions to be released",
        () =>
          [...server.sessions].filter((s) =>
            s.role === "viewer" && !s.consumer?.info().userAgent?.startsWith("strom")
          ).length === 0,
        5_000,
      );
      for (const s of server.sessions) {
        expect(s.released).toBe(false);
      }
    }, 10_000);
  },
);
