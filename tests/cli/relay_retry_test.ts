// `strom relay` keeps publishing across destination failures (issue 11): the destination (strom's
// RTSP server, in this process) goes away and comes back on the same port; the relay reports the
// failure, publishes again, and ffprobe reads the stream from the restarted server. --json gives
// one JSON object per line on stdout; --retries bounds the attempts.
import { describe, expect, it } from "bun:test";
import { StreamHub } from "../../lib/core/hub.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { startStrom } from "./_cli.ts";

const hasFfprobe = await hasTool("ffprobe");

async function destination(port: number) {
  const hub = new StreamHub({ graceMs: 0 });
  hub.set("pub", []);
  const server = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port } });
  return {
    hub,
    close: async () => {
      await server.close();
      await hub.close();
    },
  };
}

/** The JSON lines printed so far (stdout and stderr are mixed in the output; text lines are skipped). */
function jsonLines(output: string): Record<string, any>[] {
  return output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

describe("strom relay when the destination fails", () => {
  it.skipIf(!hasFfprobe)("publishes again after the destination restarts; --json reports progress, retry, publishing, end", async () => {
    const port = await freePort();
    const url = `rtsp://127.0.0.1:${port}/pub`;
    let dest = await destination(port);
    const cli = startStrom(["relay", "demo:", url, "--json", "--retry-delay", "0.5", "--duration", "40"]);
    try {
      await cli.waitFor(/"event":"start"/, 15_000);
      await cli.waitFor(/"event":"progress"/, 5_000);
      await dest.close();
      await cli.waitFor(/"event":"retry"/, 10_000);
      // A few failed attempts while the port is closed, then the server is back.
      await new Promise((r) => setTimeout(r, 1500));
      dest = await destination(port);
      await cli.waitFor(/"event":"publishing"/, 20_000);
      const probe = await ffprobe(url, ["-rtsp_transport", "tcp"], 10_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      cli.child.kill("SIGINT");
      const exit = await cli.exited(20_000);
      // Deno's child_process may report the signal instead of the exit code.
      expect(exit.code === 0 || exit.signal === "SIGINT").toBe(true);
      expect(cli.output()).toContain("SIGINT: stopping the relay");

      const events = jsonLines(cli.output());
      const kinds = events.map((e) => e.event);
      expect(kinds[0]).toBe("start");
      expect(events[0]).toMatchObject({ stream: "demo:", dst: url, tracks: "H264/90000 + MPEG4-GENERIC/48000" });
      expect(kinds.indexOf("retry")).toBeLessThan(kinds.indexOf("publishing"));
      expect(kinds.at(-1)).toBe("end");
      const progress = events.filter((e) => e.event === "progress");
      for (const p of progress) {
        expect(Object.keys(p).sort()).toEqual(["attempts", "bitrate", "bytes", "dropped", "elapsed", "event", "state"]);
      }
      // Bytes only grow, across the reconnect too.
      for (let i = 1; i < progress.length; i++) expect(progress[i].bytes).toBeGreaterThanOrEqual(progress[i - 1].bytes);
      const retry = events.find((e) => e.event === "retry")!;
      expect(typeof retry.error).toBe("string");
      const end = events.at(-1)!;
      expect(end.attempts).toBeGreaterThanOrEqual(2);
      expect(end.bytes).toBeGreaterThan(progress[0].bytes);
      expect(end.bitrate).toBeGreaterThan(100_000);
    } finally {
      cli.kill();
      await dest.close();
    }
  }, 90_000);

  it("--retries bounds the attempts: exit 1 naming the last error", async () => {
    const port = await freePort();
    const dest = await destination(port);
    const cli = startStrom(["relay", "demo:", `rtsp://127.0.0.1:${port}/pub`, "--retries", "1", "--retry-delay", "0.2", "--timeout", "3"]);
    try {
      await cli.waitFor(/relaying demo:/, 15_000);
      await dest.close();
      const exit = await cli.exited(20_000);
      expect(exit.code).toBe(1);
      expect(cli.output()).toMatch(/strom: Publishing to "rtsp:\/\/127\.0\.0\.1:\d+\/pub" failed 2 times in a row \(--retries 1\); the last error: /);
      expect(cli.output()).toContain("publishing again (attempt 2)");
    } finally {
      cli.kill();
      await dest.close();
    }
  }, 40_000);
});
