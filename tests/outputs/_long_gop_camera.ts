/**
 * A long-GOP camera for late-viewer tests: ffmpeg publishes H.264 with a fixed GOP (no scene-cut
 * keyframes), optionally with AAC, into strom's RTSP server as stream `cam`, and a first viewer of
 * `/api/stream.ts` keeps the publisher's tracks (and their GOP cache) alive.
 */
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { LAVFI_AUDIO, LAVFI_VIDEO, publish, publishAndWait } from "../rtsp/_helpers.ts";
import { type OutputServer, startOutputServer } from "./_server.ts";

/** The running camera, its server and its first viewer. */
export interface LongGopCamera {
  s: OutputServer;
  close(): Promise<void>;
}

/** Starts the camera with a GOP of `gop` frames at 25 fps; with `audio`, AAC 64k too. */
export async function startLongGopCamera(gop: number, audio = false): Promise<LongGopCamera> {
  const s = await startOutputServer({ streams: { cam: [] } });
  const rtsp = await RtspServer.listen({ hub: s.hub, listen: { hostname: "127.0.0.1", port: 0 } });
  let publisher: ReturnType<typeof publish> | undefined;
  let firstViewer: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const close = async () => {
    await firstViewer?.cancel().catch(() => {});
    publisher?.kill("SIGKILL");
    await publisher?.exited;
    await rtsp.close();
    await s.close();
  };
  try {
    publisher = await publishAndWait(s.hub, "cam", `rtsp://127.0.0.1:${rtsp.addr.port}/cam`, [
      ...LAVFI_VIDEO,
      ...(audio ? LAVFI_AUDIO : []),
      "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
      "-g", String(gop), "-keyint_min", String(gop), "-sc_threshold", "0",
      ...(audio ? ["-c:a", "aac", "-b:a", "64k"] : []),
    ], 15_000);
    const res = await fetch(`${s.base}/api/stream.ts?src=cam`);
    firstViewer = res.body!.getReader();
    (async () => {
      while (!(await firstViewer!.read()).done) { /* discard */ }
    })().catch(() => {});
  } catch (error) {
    await close();
    throw error;
  }
  return { s, close };
}
