// go2rtc's POST /api/restart and POST /api/exit on strom serve's loop (runServer): a restart stops the
// server and starts it again from the config file, so a saved config takes full effect; exit ends
// the loop with the asked code.
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/core/log.ts";
import { makeTestApp } from "../../server/_test_support.ts";
import { type RunningServer, runServer } from "../../server/server.ts";
import { acceptsTcp, freePort } from "../_support/net.ts";
import { waitFor } from "../outputs/_server.ts";

const dir = mkdtempSync(join(tmpdir(), "strom-restart-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("POST /api/restart and /api/exit", () => {
  it("restart applies a saved config in full; exit ends strom serve with the asked code", async () => {
    const [apiPort, rtspPort] = [await freePort(), await freePort()];
    const file = join(dir, "strom.yaml");
    const api = `http://127.0.0.1:${apiPort}`;
    writeFileSync(
      file,
      `api: { listen: "127.0.0.1:${apiPort}" }\nrtsp: { listen: "" }\nstreams:\n  a: "demo:"\n`,
    );
    const servers: RunningServer[] = [];
    const done = runServer(
      { configSources: [file], log: silentLogger, handleSignals: false },
      (s) => servers.push(s),
    );
    let exited: number | undefined;
    done.then((code) => exited = code, () => exited = -1);
    try {
      await waitFor("the first start", () => servers.length === 1);
      expect(Object.keys(await (await fetch(`${api}/api/streams`)).json())).toEqual(["a"]);
      expect(await acceptsTcp(rtspPort)).toBe(false);

      // A config saved through the API: its new stream applies at once, its RTSP listener only
      // after a restart (as in go2rtc, whose config page saves and then restarts).
      const text = readFileSync(file, "utf8")
        .replace('rtsp: { listen: "" }', `rtsp: { listen: "127.0.0.1:${rtspPort}" }`)
        .concat('  b: "demo:"\n');
      expect((await fetch(`${api}/api/config`, { method: "POST", body: text })).status).toBe(200);
      expect(await acceptsTcp(rtspPort)).toBe(false);

      // Bad exit codes are refused before anything stops.
      for (const bad of ["abc", "-1", "126", "1.5"]) {
        const res = await fetch(`${api}/api/exit?code=${bad}`, { method: "POST" });
        expect(res.status).toBe(400);
        expect(await res.text()).toContain("0 to 125");
      }

      // The file edited by hand into something that would not start: the restart is refused,
      // naming the file, line and key, and the server runs on; mended, it restarts.
      writeFileSync(file, text.replace(/^streams:$/m, "streams:\n  bad: 42: x"));
      const refused = await fetch(`${api}/api/restart`, { method: "POST" });
      expect(refused.status).toBe(400);
      expect((await refused.json()).message).toContain(`${file}:`);
      writeFileSync(file, text.replace("api: {", 'api: { auth: { users: { v: { password_hash: "not-bcrypt" } } },'));
      const badHash = await fetch(`${api}/api/restart`, { method: "POST" });
      expect(badHash.status).toBe(400);
      expect((await badHash.json()).message).toContain("password_hash");
      expect(servers).toHaveLength(1);
      expect((await fetch(`${api}/api/streams`)).status).toBe(200);
      writeFileSync(file, text);

      const res = await fetch(`${api}/api/restart`, { method: "POST" });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ restarting: true });
      await waitFor("the second start", () => servers.length === 2);
      expect(servers[0].stopRequest).toEqual({ restart: true, code: 0 });
      expect(Object.keys(await (await fetch(`${api}/api/streams`)).json()).sort()).toEqual(["a", "b"]);
      expect(await acceptsTcp(rtspPort)).toBe(true);
      expect(exited).toBeUndefined();

      const bye = await fetch(`${api}/api/exit?code=3`, { method: "POST" });
      expect(bye.status).toBe(200);
      expect(await bye.json()).toEqual({ exiting: true, code: 3 });
      expect(await done).toBe(3);
      expect(servers).toHaveLength(2);
      expect(await acceptsTcp(apiPort)).toBe(false);
      expect(await acceptsTcp(rtspPort)).toBe(false);
    } finally {
      if (exited === undefined) await servers.at(-1)?.close();
      await done.catch(() => {});
    }
  }, 30_000);

  it("an app not started by startServer answers 501 instead of stopping anything", async () => {
    const t = await makeTestApp({ yaml: 'streams:\n  a: "demo:"\n' });
    try {
      for (const path of ["/api/restart", "/api/exit?code=0"]) {
        const res = await t.app.request(path, { method: "POST" });
        expect(res.status).toBe(501);
        expect(await res.text()).toContain("not started by strom serve");
      }
    } finally {
      await t.close();
    }
  });
});
