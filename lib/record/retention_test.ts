import { afterAll, describe, expect, it } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyRetention } from "./retention.ts";
import { segmentFileName } from "./segment_name.ts";

const root = mkdtempSync(join(tmpdir(), "strom-retention-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 1);

/** Five 1000-byte segments, one a minute, each last written at its start + 60 s; plus a stray file. */
function folder(name: string): { dir: string; files: string[] } {
  const dir = join(root, name);
  mkdirSync(dir);
  const files: string[] = [];
  for (let i = 0; i < 5; i++) {
    const start = T0 + i * 60_000;
    const path = join(dir, segmentFileName(start));
    writeFileSync(path, new Uint8Array(1000));
    utimesSync(path, (start + 60_000) / 1000, (start + 60_000) / 1000);
    files.push(segmentFileName(start));
  }
  writeFileSync(join(dir, "notes.txt"), "kept");
  return { dir, files };
}

describe("applyRetention", () => {
  it("deletes segments older than max_age, oldest first, and leaves other files", async () => {
    const { dir, files } = folder("age");
    const now = T0 + 7 * 60_000 + 30_000; // the first two ended more than 5 min ago
    const deleted = await applyRetention(dir, { maxAgeSeconds: 300, now });
    expect(deleted.map((f) => f.name)).toEqual(files.slice(0, 2));
    expect(readdirSync(dir).sort()).toEqual([...files.slice(2), "notes.txt"].sort());
  });

  it("deletes the oldest beyond max_size, but never a kept (being written) file", async () => {
    const { dir, files } = folder("size");
    const keep = new Set([join(dir, files[0])]);
    const deleted = await applyRetention(dir, { maxBytes: 2500, keep, now: T0 });
    // 5000 bytes over a 2500 cap: files 1, 2 and 3 go (file 0 is being written), leaving 2000.
    expect(deleted.map((f) => f.name)).toEqual([files[1], files[2], files[3]]);
    expect(readdirSync(dir).filter((n) => n.endsWith(".mp4")).sort()).toEqual([files[0], files[4]]);
  });

  it("does nothing without limits, and for a missing folder", async () => {
    const { dir, files } = folder("none");
    expect(await applyRetention(dir, {})).toEqual([]);
    expect(readdirSync(dir).length).toBe(files.length + 1);
    expect(await applyRetention(join(root, "missing"), { maxBytes: 1 })).toEqual([]);
  });
});
