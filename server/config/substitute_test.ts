import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createVariableResolver, substituteVariables } from "./substitute.ts";

describe("createVariableResolver", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "strom-creds-"));
    writeFileSync(join(dir, "A"), "a-from-credentials\n");
    writeFileSync(join(dir, "B"), "b-from-credentials\r\n");
    writeFileSync(join(dir, "C"), "two\nlines\n");
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const io = (env: Record<string, string>) => ({
    getEnv: (n: string) => env[n],
    readTextFile: (p: string) => readFile(p, "utf8"),
  });

  it("prefers env:, then the credentials directory, then the process environment", async () => {
    const resolve = createVariableResolver({
      env: { A: "a-from-section" },
      ...io({ CREDENTIALS_DIRECTORY: dir, A: "a-env", B: "b-env", D: "d-env" }),
    });
    expect(await resolve("A")).toEqual({ value: "a-from-section", from: "env-section" });
    expect(await resolve("B")).toEqual({ value: "b-from-credentials", from: "credentials" });
    expect(await resolve("C")).toEqual({ value: "two\nlines", from: "credentials" });
    expect(await resolve("D")).toEqual({ value: "d-env", from: "environment" });
    expect(await resolve("E")).toBeUndefined();
  });

  it("skips the credentials directory when CREDENTIALS_DIRECTORY is unset", async () => {
    const resolve = createVariableResolver(io({ A: "a-env" }));
    expect(await resolve("A")).toEqual({ value: "a-env", from: "environment" });
  });

  it("resolves ${...} inside env: values and survives cycles", async () => {
    const resolve = createVariableResolver({
      env: { URL: "rtsp://${USER}:${PASS}@cam", USER: "admin", LOOP1: "${LOOP2}", LOOP2: "${LOOP1}" },
      getEnv: (n) => (n === "PASS" ? "pw" : undefined),
    });
    expect((await resolve("URL"))?.value).toBe("rtsp://admin:pw@cam");
    expect((await resolve("LOOP1"))?.value).toBe("${LOOP1}");
  });
});

describe("substituteVariables", () => {
  const resolve = createVariableResolver({ env: { NAME: "cam", EMPTY: "" }, getEnv: () => undefined });

  it("replaces ${VAR} and ${VAR:default}; defaults may contain colons", async () => {
    const r = await substituteVariables(
      "a: ${NAME}\nb: ${NAME:other}\nc: ${NOPE:rtsp://x:554/y}\nd: ${NOPE:}\ne: '${EMPTY}'\n",
      resolve,
    );
    expect(r.text).toBe("a: cam\nb: cam\nc: rtsp://x:554/y\nd: \ne: ''\n");
    expect(r.secrets).toEqual(["cam"]);
    expect(r.warnings).toEqual([]);
  });

  it("leaves an unresolved variable as written and warns with its line", async () => {
    const r = await substituteVariables("streams:\n  cam: rtsp://${NOPE}@x\n", resolve, "strom.yaml");
    expect(r.text).toBe("streams:\n  cam: rtsp://${NOPE}@x\n");
    expect(r.warnings).toEqual([{
      code: "unresolved-variable",
      file: "strom.yaml",
      line: 2,
      path: "",
      message:
        "strom.yaml:2: variable ${NOPE} is not set (not in env:, $CREDENTIALS_DIRECTORY or the environment); left as-is. Set it, or give a default: ${NOPE:value}",
    }]);
  });

  it("does not warn about variables in comments", async () => {
    const text = "# ${A}\nx: 1 # ${B}\ny: '# ${C}'\nz: a#${D}\n";
    const r = await substituteVariables(text, resolve, "f");
    expect(r.warnings.map((w) => w.line)).toEqual([3, 4]);
  });

  it("ignores things that only look like variables", async () => {
    const text = "a: $NAME\nb: ${1X}\nc: %{localtime}\nd: ${NAME\n";
    const r = await substituteVariables(text, resolve);
    expect(r.text).toBe(text);
    expect(r.warnings).toEqual([]);
  });
});
