import { afterAll, describe, expect, it } from "bun:test";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  fileExists,
  makeDir,
  openFile,
  readDir,
  readFile,
  readTextFile,
  removeFile,
  statPath,
  writeFile,
  writeTextFile,
} from "./fs.ts";

const dir = mkdtempSync(join(tmpdir(), "strom-fs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("fs", () => {
  it("writes atomically and reads back", async () => {
    const path = join(dir, "config.yaml");
    await writeTextFile(path, "streams: {}\n");
    expect(await readTextFile(path)).toBe("streams: {}\n");
    await writeTextFile(path, "streams:\n  cam: rtsp://x\n");
    expect(await readTextFile(path)).toBe("streams:\n  cam: rtsp://x\n");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("round-trips bytes as plain Uint8Array", async () => {
    const path = join(dir, "blob.bin");
    const data = new Uint8Array(100_000).map((_, i) => i & 0xff);
    await writeFile(path, data);
    const got = await readFile(path);
    expect(got.constructor).toBe(Uint8Array);
    expect(got).toEqual(data);
  });

  it("keeps the permission bits of an existing file", async () => {
    if (process.platform === "win32") return;
    const path = join(dir, "secret.yaml");
    await writeTextFile(path, "a");
    chmodSync(path, 0o600);
    await writeTextFile(path, "b");
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("leaves no temporary file when the write fails", async () => {
    const path = join(dir, "missing-dir", "x.txt");
    await expect(writeTextFile(path, "x")).rejects.toMatchObject({ code: "ENOENT" });
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("checks existence, removes files and makes directories", async () => {
    const nested = join(dir, "a", "b", "c");
    await makeDir(nested);
    await makeDir(nested);
    expect(await fileExists(nested)).toBe(true);
    const path = join(nested, "f.txt");
    expect(await fileExists(path)).toBe(false);
    await writeTextFile(path, "x");
    expect(await fileExists(path)).toBe(true);
    await removeFile(path);
    await removeFile(path);
    expect(await fileExists(path)).toBe(false);
    await expect(readFile(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("appends through an open file, reads at positions, syncs, stats and lists", async () => {
    const sub = join(dir, "open");
    await makeDir(sub);
    const path = join(sub, "seg.bin");
    const a = await openFile(path, "append");
    await a.write(new Uint8Array([1, 2, 3]));
    await a.write(new Uint8Array(70_000).fill(7));
    await a.sync();
    expect(await a.size()).toBe(70_003);
    await a.close();
    await a.close();
    // Appending again extends the file instead of truncating it.
    const b = await openFile(path, "append");
    await b.write(new Uint8Array([9]));
    await b.close();
    const r = await openFile(path, "read");
    expect(await r.read(0, 4)).toEqual(new Uint8Array([1, 2, 3, 7]));
    expect(await r.read(70_002, 10)).toEqual(new Uint8Array([7, 9]));
    expect((await r.read(80_000, 4)).length).toBe(0);
    await r.close();
    expect(await statPath(path)).toMatchObject({ size: 70_004, isFile: true, isDirectory: false });
    expect(await statPath(join(sub, "none"))).toBeUndefined();
    expect((await statPath(sub))!.isDirectory).toBe(true);
    expect(await readDir(sub)).toEqual([{ name: "seg.bin", isFile: true, isDirectory: false }]);
    expect(await readDir(join(sub, "missing"))).toEqual([]);
    await expect(openFile(path, "create")).rejects.toMatchObject({ code: "EEXIST" });
    const c = await openFile(join(sub, "new.bin"), "create");
    await c.write(new Uint8Array([5, 6]));
    await c.write(new Uint8Array([8]));
    await c.close();
    expect(await readFile(join(sub, "new.bin"))).toEqual(new Uint8Array([5, 6, 8]));
    await expect(openFile(join(sub, "missing", "x"), "append")).rejects.toMatchObject({ code: "ENOENT" });
  });
  it("overwrite mode truncates, and writeAt patches earlier bytes (an MP4 header after its data)", async () => {
    const path = join(dir, "patched.bin");
    await writeFile(path, new Uint8Array([9, 9, 9, 9, 9, 9]));
    const f = await openFile(path, "overwrite");
    await f.write(new Uint8Array([0, 0, 0, 0]));
    await f.writeAt(new Uint8Array([7, 7]), 1);
    await f.writeAt(new Uint8Array([5]), 6);
    await f.close();
    expect(await readFile(path)).toEqual(new Uint8Array([0, 7, 7, 0, 0, 0, 5]));
  });
});
