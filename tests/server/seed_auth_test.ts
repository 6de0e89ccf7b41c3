// The go2rtc seed article's own auth blocks, pasted as written, protect what they say they protect:
// `api.auth: {username, password_hash}` is the API's admin (bcrypt), and `rtsp.auth: {enabled,
// users: [{username, password}]}` are RTSP's accounts (ffprobe as the RTSP client). Before, both were
// "unknown key" warnings and the server ran with no auth at all.
import { describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { hashPassword, PasswordHashError } from "../../server/access/accounts.ts";
import { startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";

const hasFfprobe = await hasTool("ffprobe");
const basic = (user: string, password: string) => ({ Authorization: "Basic " + btoa(`${user}:${password}`) });

async function seedServer(rtspAuthEnabled: boolean) {
  const rtspPort = await freePort();
  const server = await startServer({
    configSources: [JSON.stringify({
      api: { listen: "127.0.0.1:0", local_auth: true, auth: { username: "admin", password_hash: await hashPassword("admin-pw", 4) } },
      rtsp: {
        listen: `127.0.0.1:${rtspPort}`,
        auth: { enabled: rtspAuthEnabled, users: [{ username: "client", password: "secure_password" }] },
      },
      webrtc: { listen: "" },
      streams: { demo: "demo:" },
    })],
    log: silentLogger,
    handleSignals: false,
  });
  return { server, rtsp: `rtsp://127.0.0.1:${rtspPort}/demo` };
}

describe("the seed article's auth blocks", () => {
  it("api.auth.username/password_hash is the API's admin", async () => {
    const { server } = await seedServer(true);
    try {
      const api = `${server.urls[0]}/api/streams`;
      expect((await fetch(api)).status).toBe(401);
      expect((await fetch(api, { headers: basic("admin", "wrong") })).status).toBe(401);
      expect((await fetch(api, { headers: basic("client", "secure_password") })).status).toBe(401); // an RTSP account
      const ok = await fetch(api, { headers: basic("admin", "admin-pw") });
      expect(ok.status).toBe(200);
      expect(Object.keys(await ok.json())).toEqual(["demo"]);
    } finally {
      await server.close();
    }
  }, 30_000);

  it.skipIf(!hasFfprobe)("rtsp.auth.users are RTSP's accounts; rtsp.auth.enabled: false turns them off (needs ffprobe)", async () => {
    const on = await seedServer(true);
    try {
      await expect(ffprobe(on.rtsp, [], 10_000)).rejects.toThrow(/401|Unauthorized/i);
      await expect(ffprobe(on.rtsp.replace("rtsp://", "rtsp://admin:admin-pw@"), [], 10_000)).rejects.toThrow(/401|Unauthorized/i);
      const probe = await ffprobe(on.rtsp.replace("rtsp://", "rtsp://client:secure_password@"), [], 15_000);
      expect(probe.streams.map((s) => s.codec_name)).toContain("h264");
    } finally {
      await on.server.close();
    }
    const off = await seedServer(false);
    try {
      const probe = await ffprobe(off.rtsp, [], 15_000);
      expect(probe.streams.map((s) => s.codec_name)).toContain("h264");
    } finally {
      await off.server.close();
    }
  }, 60_000);

  it("a password_hash that is not bcrypt stops the start naming its key", async () => {
    const error = await startServer({
      configSources: [JSON.stringify({ api: { listen: "127.0.0.1:0", auth: { username: "admin", password_hash: "md5:abc" } }, rtsp: { listen: "" } })],
      log: silentLogger,
      handleSignals: false,
    }).then((s) => s.close().then(() => undefined), (e) => e);
    expect(error).toBeInstanceOf(PasswordHashError);
    expect(error.message).toContain("api.auth.password_hash is not a bcrypt hash");
  });
});
