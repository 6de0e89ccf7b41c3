// Progress of the long-running commands (issue 11): on a terminal (`script` gives the CLI a pty)
// one line on stderr rewritten in place each second with elapsed time, bytes, bitrate and dropped
// frames; with --json (no terminal) JSON lines on stdout.
import { describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StreamHub } from "../../lib/core/hub.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { hasEncoder } from "../_support/ffmpeg.ts";
import { hasTool, runText } from "../_support/process.ts";
import { bin, root, strom } from "./_cli.ts";

const hasScript = await hasTool("script");
const hasX264 = (await hasTool("ffmpeg")) && (await hasEncoder("libx264"));
const CLEAR = "\r\x1b[K";

/** Runs `strom ...args` under a pseudo-terminal; the output as the terminal got it. */
async function stromOnTty(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; out: string }> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const r = await runText("script", ["-qfec", ["node", bin, ...args].map(quote).join(" "), "/dev/null"], {
    cwd: root,
    timeoutMs,
    label: `strom ${args.join(" ")} (tty)`,
  });
  return { code: r.code, out: r.stdout };
}

/** The progress lines: what follows each "clear line" and is not followed by a newline. */
function progressLines(out: string): string[] {
  return out.split(CLEAR).slice(1).map((s) => s.split(/\r?\n/)[0]).filter((s) => s.includes("elapsed"));
}

describe.skipIf(!hasScript)("progress on a terminal", () => {
  it("strom record rewrites one progress line each second, then prints the summary on a clean line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strom-progress-"));
    try {
      const r = await stromOnTty(["record", "demo:", "-o", join(dir, "a.mp4"), "--duration", "3"]);
      expect(r.code).toBe(0);
      const lines = progressLines(r.out);
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const l of lines) {
        expect(l).toMatch(/^\d+\.\d s elapsed, \d+\.\d s recorded, [\d.]+ [KM]?B, \d+ kbit\/s, \d+ dropped$/);
      }
      // Progress lines are rewritten in place (no newline between them); the summary follows the last clear.
      const afterLast = r.out.slice(r.out.lastIndexOf(CLEAR) + CLEAR.length);
      expect(afterLast).toMatch(/^wrote .*a\.mp4: 3\.\d+ s/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);

  it("strom relay shows elapsed, bytes sent, bitrate, dropped frames and state", async () => {
    const hub = new StreamHub({ graceMs: 0 });
    hub.set("pub", []);
    const server = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
    try {
      const r = await stromOnTty(["relay", "demo:", `rtsp://127.0.0.1:${server.addr.port}/pub`, "--duration", "3.5"]);
      expect(r.code).toBe(0);
      const lines = progressLines(r.out);
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const l of lines) {
        expect(l).toMatch(/^\d+\.\d s elapsed, [\d.]+ [KM]?B sent, \d+ kbit\/s, \d+ dropped, publishing$/);
      }
      expect(r.out).toMatch(/relayed [\d.]+ [KM]?B/);
    } finally {
      await server.close();
      await hub.close();
    }
  }, 40_000);
});

describe.skipIf(!hasX264)("strom transcode --json", () => {
  it("prints start, progress, file and end as JSON lines on stdout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strom-progress-"));
    try {
      const r = await strom(
        ["transcode", "demo:", "-o", join(dir, "t.mp4"), "--video", "h264", "--audio", "aac", "--duration", "3", "--json"],
        40_000,
      );
      expect(r.code).toBe(0);
      const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      const kinds = events.map((e) => e.event);
      expect(kinds[0]).toBe("start");
      expect(kinds).toContain("progress");
      expect(kinds.slice(-2)).toEqual(["file", "end"]);
      const progress = events.find((e) => e.event === "progress");
      expect(Object.keys(progress).sort()).toEqual(["bitrate", "bytes", "dropped", "elapsed", "event", "seconds"]);
      expect(events.at(-1).bytes).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 45_000);
});
