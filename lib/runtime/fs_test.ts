import { afterAll, describe, expect, it } from "bun:test";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileExists, makeDir, readFile, readTextFile, removeFile, writeFile, writeTextFile } from "./fs.ts";

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
});
