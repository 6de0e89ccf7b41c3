import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CONFIG_YAML } from "./default.ts";
import { ConfigError } from "./errors.ts";
import { classifySource, loadConfig, loadConfigText } from "./load.ts";
import type { ConfigIo } from "./load.ts";

/** An in-memory io: files by path, an environment map. */
function memoryIo(files: Record<string, string>, env: Record<string, string> = {}): ConfigIo {
  return {
    readTextFile: (path) => {
      if (Object.hasOwn(files, path)) return Promise.resolve(files[path]);
      return Promise.reject(
        Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: "ENOENT" }),
      );
    },
    writeTextFile: (path, text) => {
      files[path] = text;
      return Promise.resolve();
    },
    getEnv: (name) => env[name],
  };
}

async function loadError(sources: string[], io: ConfigIo): Promise<ConfigError> {
  try {
    await loadConfig(sources, io);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("classifySource", () => {
  it("tells files, inline YAML/JSON and a.b=value apart like go2rtc", () => {
    expect(classifySource("strom.yaml")).toBe("file");
    expect(classifySource("/etc/strom/strom.yaml")).toBe("file");
    expect(classifySource("configs/a.b=c.yaml")).toBe("file");
    expect(classifySource("{api: {listen: ':80'}}")).toBe("inline");
    expect(classifySource('  {"api": {}}')).toBe("inline");
    expect(classifySource("log.level=debug")).toBe("dotted");
    expect(classifySource("ffmpeg.rtsp/udp=-i {input}")).toBe("dotted");
    expect(classifySource("level=debug")).toBe("file"); // go2rtc needs a dot before "="
  });
});

describe("loadConfig defaults", () => {
  it("uses the embedded default config when given no source, with no writable path", async () => {
    const { config, warnings, writablePath } = await loadConfig([], memoryIo({}));
    expect(warnings).toEqual([]);
    expect(writablePath).toBeUndefined();
    expect(config.streams).toEqual({ demo: ["demo:"] });
    expect(config.api.listen).toBe(":1984");
  });

  it("fills every section with its defaults", async () => {
    const { config } = await loadConfig(["strom.yaml"], memoryIo({ "strom.yaml": "" }));
    expect(config.api).toMatchObject({ listen: ":1984", username: "", base_path: "", local_auth: false });
    expect(config.api.auth.users).toEqual({});
    expect(config.rtsp).toEqual({
      listen: ":8554",
      username: "",
      password: "",
      auth: { enabled: true, users: [] },
      default_query: "video&audio",
      pkt_size: 0,
      udp: false,
      tls_listen: "",
    });
    expect(config.webrtc.listen).toBe(":8555");
    // No STUN servers by default: strom works offline; LAN peers connect with host candidates.
    expect(config.webrtc.ice_servers).toEqual([]);
    expect(config.webrtc.filters).toEqual({});
    expect(config.ffmpeg).toEqual({ bin: "ffmpeg", global: "-hide_banner", timeout: 5 });
    expect(config.rtmp.listen).toBe("");
    expect(config.log).toEqual({
      level: "info",
      format: "auto",
      output: "stdout",
      time: "",
      rotation: { max_size: 0, max_files: 10, compress: false },
      ffmpeg: "error",
    });
    expect(config.debug).toEqual({ dump_sdp: false });
    expect(config.metrics).toEqual({ enabled: false, path: "/metrics" });
    expect(config.limits).toEqual({
      max_connections: 0,
      max_connections_per_ip: 0,
      max_connections_per_stream: 0,
      connection_timeout: 30,
      idle_timeout: 60,
      write_timeout: 15,
      max_body_size: 1000000,
      max_ws_message: 1000000,
      shutdown_timeout: 10,
    });
    expect(config.record).toMatchObject({
      dir: "recordings",
      segment: 60,
      max_age: 0,
      max_size: 0,
      streams: [],
      overrides: {},
    });
    expect(config.hls).toEqual({ max_sessions: 50, session_timeout: 30, max_session_bytes: 16_000_000 });
    expect(config.streams).toEqual({});
    expect(config.publish).toEqual({});
    expect(config.preload).toEqual({});
    expect(config.env).toEqual({});
  });

  it("lists the sections in schema order", async () => {
    const { config } = await loadConfig(
      ["strom.yaml"],
      memoryIo({ "strom.yaml": "streams: {a: x}\napi: {}\n" }),
    );
    expect(Object.keys(config).slice(0, 3)).toEqual(["app", "api", "rtsp"]);
  });

  it("the default YAML text loads cleanly", async () => {
    const { config, warnings } = await loadConfigText(DEFAULT_CONFIG_YAML, memoryIo({}));
    expect(warnings).toEqual([]);
    expect(config.streams.demo).toEqual(["demo:"]);
  });
});

describe("loadConfig sources", () => {
  it("merges several sources in order: maps merge key by key, lists replace", async () => {
    const io = memoryIo({
      "a.yaml": [
        "api:",
        '  listen: ":1984"',
        '  origin: "*"',
        "webrtc:",
        "  candidates: [1.1.1.1:8555, 2.2.2.2:8555]",
        "streams:",
        "  cam1: rtsp://a/1",
        "  cam2: [rtsp://a/2, rtsp://a/3]",
        "",
      ].join("\n"),
      "b.yaml": [
        "api:",
        '  listen: ":8080"',
        "webrtc:",
        "  candidates: [3.3.3.3:8555]",
        "streams:",
        "  cam2: rtsp://b/2",
        "  cam3: rtsp://b/3",
        "",
      ].join("\n"),
    });
    const { config, writablePath } = await loadConfig(["a.yaml", "b.yaml"], io);
    expect(writablePath).toBe("a.yaml");
    expect(config.api.listen).toBe(":8080");
    expect(config.api.origin).toBe("*");
    expect(config.webrtc.candidates).toEqual(["3.3.3.3:8555"]);
    expect(config.streams).toEqual({ cam1: ["rtsp://a/1"], cam2: ["rtsp://b/2"], cam3: ["rtsp://b/3"] });
  });

  it("accepts inline YAML, inline JSON and a.b=value, applied after files", async () => {
    const io = memoryIo({ "strom.yaml": 'log:\n  level: info\nrtsp:\n  listen: ":8554"\n' });
    const { config, writablePath } = await loadConfig([
      "{log: {level: debug}, streams: {x: rtsp://x}}",
      "strom.yaml",
      '{"rtsp": {"listen": ":9554"}}',
      "api.listen=:8080",
      "rtsp.pkt_size=1200",
      "streams.cam=rtsp://10.0.0.5/live#video=h264",
      "streams.push=",
      "webrtc.candidates=[a:1, b:2]",
    ], io);
    expect(writablePath).toBe("strom.yaml");
    expect(config.log.level).toBe("info"); // the file came after the inline source
    expect(config.rtsp.listen).toBe(":9554");
    expect(config.api.listen).toBe(":8080");
    expect(config.rtsp.pkt_size).toBe(1200);
    expect(config.streams).toEqual({ x: ["rtsp://x"], cam: ["rtsp://10.0.0.5/live#video=h264"], push: [] });
    expect(config.webrtc.candidates).toEqual(["a:1", "b:2"]);
  });

  it("takes an a.b=value value literally when it is not valid YAML on its own", async () => {
    const { config } = await loadConfig(["streams.odd=a: b: c", "env.PASS=x"], memoryIo({}));
    expect(config.streams.odd).toEqual(["a: b: c"]);
    expect(config.env).toEqual({ PASS: "x" });
  });

  it("has no writable path with inline sources only, and the first file is writable even when missing", async () => {
    const inlineOnly = await loadConfig(["{streams: {a: x}}"], memoryIo({}));
    expect(inlineOnly.writablePath).toBeUndefined();
    expect(inlineOnly.config.streams).toEqual({ a: ["x"] }); // no demo stream: the default is only for "no sources"

    const missing = await loadConfig(
      ["new.yaml", "other.yaml"],
      memoryIo({ "other.yaml": "streams: {b: y}" }),
    );
    expect(missing.writablePath).toBe("new.yaml");
    expect(missing.config.streams).toEqual({ b: ["y"] });
    expect(missing.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        "missing-file",
        "new.yaml: file not found; starting without it (it is created on the first change made through the API)",
      ],
    ]);
  });

  it("fails with a ConfigError when a file exists but cannot be read", async () => {
    const io = memoryIo({});
    io.readTextFile = () =>
      Promise.reject(Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" }));
    const e = await loadError(["strom.yaml"], io);
    expect(e.file).toBe("strom.yaml");
    expect(e.message).toContain("strom.yaml: cannot read the config file: EACCES: permission denied");
  });
});

describe("loadConfig streams forms", () => {
  it("accepts a string, a list, an empty value (push-only) and {url: ...}", async () => {
    const text = [
      "streams:",
      "  one: rtsp://cam/1",
      "  many:",
      "    - rtsp://cam/2",
      "    - ffmpeg:many#video=h264",
      "  flow: [rtsp://a, rtsp://b]",
      "  push:",
      "  push2: ~",
      "  obj: {url: rtsp://cam/3}",
      "  objs:",
      "    url: [rtsp://cam/4, rtsp://cam/5]",
      "  123: rtsp://numeric/name",
      "",
    ].join("\n");
    const { config, warnings } = await loadConfigText(text, memoryIo({}));
    expect(warnings).toEqual([]);
    expect(config.streams).toEqual({
      one: ["rtsp://cam/1"],
      many: ["rtsp://cam/2", "ffmpeg:many#video=h264"],
      flow: ["rtsp://a", "rtsp://b"],
      push: [],
      push2: [],
      obj: ["rtsp://cam/3"],
      objs: ["rtsp://cam/4", "rtsp://cam/5"],
      "123": ["rtsp://numeric/name"],
    });
  });

  it("rejects a number source and an object without url, with positions", async () => {
    await expect(loadConfigText("streams:\n  cam: 554\n", memoryIo({}))).rejects.toThrow(
      'strom.yaml:2:3: "streams.cam" must be a source URL, a list of URLs, {url: ...}, or empty for a push-only stream, got a number',
    );
    await expect(loadConfigText("streams:\n  cam:\n    - rtsp://a\n    - 5\n", memoryIo({}))).rejects.toThrow(
      'strom.yaml:4:7: "streams.cam[1]" must be a source URL string, got a number',
    );
    await expect(loadConfigText("streams:\n  cam: {name: x}\n", memoryIo({}))).rejects.toThrow(
      'strom.yaml:2:8: "streams.cam" needs "url"',
    );
  });

  it("keeps a stream named __proto__ as a plain entry", async () => {
    const { config } = await loadConfigText("streams:\n  __proto__: rtsp://x\n", memoryIo({}));
    expect(Object.keys(config.streams)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(config.streams)).toBe(Object.prototype);
  });

  it("normalizes publish and preload", async () => {
    const { config } = await loadConfigText(
      "publish:\n  cam: rtmp://a/live\n  cam2: [rtmp://a, rtmps://b]\npreload:\n  cam:\n  cam2: video=h264\n",
      memoryIo({}),
    );
    expect(config.publish).toEqual({ cam: ["rtmp://a/live"], cam2: ["rtmp://a", "rtmps://b"] });
    expect(config.preload).toEqual({ cam: "video&audio", cam2: "video=h264" });
  });
});

describe("loadConfig warnings", () => {
  it("warns about an unknown key with file:line, the key path and a suggestion", async () => {
    const text = 'api:\n  listen: ":1984"\nrtsp:\n  listen: ":8554"\n  udpp: true\nstrams:\n  a: x\nfoo: 1\n';
    const { warnings, config } = await loadConfig(["strom.yaml"], memoryIo({ "strom.yaml": text }));
    expect(warnings.map((w) => w.message)).toEqual([
      'strom.yaml:5: unknown key "rtsp.udpp" (did you mean "udp"?)',
      'strom.yaml:6: unknown key "strams" (did you mean "streams"?)',
      'strom.yaml:8: unknown key "foo"',
    ]);
    expect(warnings[0]).toMatchObject({
      code: "unknown-key",
      file: "strom.yaml",
      line: 5,
      path: "rtsp.udpp",
    });
    expect(config.streams).toEqual({});
  });

  it("names go2rtc-only sections instead of calling them unknown", async () => {
    const { warnings } = await loadConfigText("homekit:\n  cam:\n    pin: 12345678\n", memoryIo({}));
    expect(warnings.map((w) => [w.code, w.message])).toEqual([
      [
        "unsupported-section",
        'strom.yaml:1: section "homekit" is a go2rtc feature strom does not have; ignored',
      ],
    ]);
  });

  it("does not warn about ffmpeg templates or per-module log levels", async () => {
    const { warnings, config } = await loadConfigText(
      "ffmpeg:\n  bin: /usr/bin/ffmpeg\n  h264: -c:v libx264\n  rtsp/udp: -rtsp_transport udp -i {input}\nlog:\n  rtsp: trace\n",
      memoryIo({}),
    );
    expect(warnings).toEqual([]);
    expect(config.ffmpeg).toEqual({
      bin: "/usr/bin/ffmpeg",
      global: "-hide_banner",
      timeout: 5,
      h264: "-c:v libx264",
      "rtsp/udp": "-rtsp_transport udp -i {input}",
    });
    expect(config.log.rtsp).toBe("trace");
  });
});

describe("loadConfig errors", () => {
  it("fails on a wrong type with file:line:col and the key path", async () => {
    const text = "# strom\n\nstreams:\n  demo: demo:x\n\napi:\n  listen: 1984\n";
    const e = await loadError(["strom.yaml"], memoryIo({ "strom.yaml": text }));
    expect(e.name).toBe("ConfigError");
    expect(e.message).toBe('strom.yaml:7:3: "api.listen" must be a string like ":1984", got a number');
    expect({ file: e.file, line: e.line, column: e.column, path: e.path }).toEqual({
      file: "strom.yaml",
      line: 7,
      column: 3,
      path: "api.listen",
    });
  });

  it("reports positions inside inline and a.b=value sources", async () => {
    const io = memoryIo({});
    expect((await loadError(["api.listen=1984"], io)).message).toBe(
      '<inline #1>:1:5: "api.listen" must be a string like ":1984", got a number',
    );
    expect((await loadError(["{log: {level: info}}", "{rtsp: {pkt_size: big}}"], io)).message).toBe(
      '<inline #2>:1:9: "rtsp.pkt_size" must be an integer, got the string "big"',
    );
  });

  it("checks values, not only types", async () => {
    const io = memoryIo({});
    const cases: Array<[string, string]> = [
      [
        "api.listen=localhost",
        '"api.listen" must be an address like ":1984" or "127.0.0.1:1984" (or "" to disable), got "localhost"',
      ],
      [
        "log.level=debg",
        '"log.level" must be one of trace, debug, info, warn, error, disabled, got "debg" (did you mean "debug"?)',
      ],
      ["rtsp.pkt_size=70000", '"rtsp.pkt_size" must be an integer from 0 to 65535, got 70000'],
      [
        "rtsp.udp=yes",
        '"rtsp.udp" must be true or false, got the string "yes" (YAML 1.2: use true or false)',
      ],
      [
        "hls.session_timeout=soon",
        '"hls.session_timeout" must be a duration like "30s", "5m", "7d" or a number of seconds, got the string "soon"',
      ],
      ["metrics.path=metrics", '"metrics.path" must be a path starting with "/", got "metrics"'],
      ["webrtc.ice_servers=[{username: u}]", '"webrtc.ice_servers[0]" needs "urls"'],
    ];
    for (const [source, reason] of cases) {
      const e = await loadError([source], io);
      expect(e.reason.slice(0, reason.length)).toBe(reason);
    }
  });

  it("fails on malformed YAML with file:line:col and the parser's reason", async () => {
    const io = memoryIo({
      "a.yaml": "streams:\n  demo: demo:\n",
      "b.yaml": 'api:\n  listen: ":1984"\n  listen: ":80"\n',
      "c.yaml": "api:\n\tlisten: x\n",
      "d.yaml": "- a\n- b\n",
    });
    expect((await loadError(["a.yaml"], io)).message).toBe(
      'a.yaml:2:9: cannot parse YAML: Nested mappings are not allowed in compact mappings (quote values that contain ": " or end with ":", e.g. "demo:")',
    );
    expect((await loadError(["b.yaml"], io)).message).toBe(
      "b.yaml:3:3: cannot parse YAML: Map keys must be unique (remove or rename one of them)",
    );
    expect((await loadError(["c.yaml"], io)).message).toMatch(
      /^c\.yaml:2:1: cannot parse YAML: Tabs are not allowed/,
    );
    expect((await loadError(["d.yaml"], io)).message).toBe(
      "d.yaml:1:1: the config must be a map of sections (api:, streams:, ...), got a list",
    );
  });
});

describe("loadConfig value forms", () => {
  it("parses durations and sizes, coerces numeric passwords keeping their text, accepts level aliases", async () => {
    const text = [
      "api:",
      "  username: 1234",
      "  password: 0123",
      "hls:",
      "  session_timeout: 1m30s",
      "  max_session_bytes: 2MiB",
      "record:",
      "  max_age: 7d",
      "  segment: 500ms",
      "  max_size: 1.5GB",
      "log:",
      "  level: WARNING",
      "  format: ''",
      "ffmpeg:",
      "  timeout: 10",
      "",
    ].join("\n");
    const { config, secrets } = await loadConfigText(text, memoryIo({}));
    expect(config.api.username).toBe("1234");
    expect(config.api.password).toBe("0123");
    expect(secrets).toContain("0123");
    expect(config.hls.session_timeout).toBe(90);
    expect(config.hls.max_session_bytes).toBe(2 * 1024 * 1024);
    expect(config.record.max_age).toBe(7 * 86400);
    expect(config.record.segment).toBe(0.5);
    expect(config.record.max_size).toBe(1_500_000_000);
    expect(config.log.level).toBe("warn");
    expect(config.log.format).toBe("auto");
    expect(config.ffmpeg.timeout).toBe(10);
  });

  it("treats an empty key as not set, so the default stays", async () => {
    const { config } = await loadConfigText("api:\n  listen:\nrtsp:\n", memoryIo({}));
    expect(config.api.listen).toBe(":1984");
    expect(config.rtsp.listen).toBe(":8554");
  });

  it("keeps an explicit empty listen (disabled) and an empty ice_servers list", async () => {
    const { config } = await loadConfigText('api:\n  listen: ""\nwebrtc:\n  ice_servers: []\n', memoryIo({}));
    expect(config.api.listen).toBe("");
    expect(config.webrtc.ice_servers).toEqual([]);
  });

  it("follows anchors, aliases and << merge keys", async () => {
    const text = [
      "x-common: &common",
      "  username: admin",
      "  password: pw",
      "api:",
      "  <<: *common",
      "  password: other",
      "rtsp: *common",
      "",
    ].join("\n");
    const { config, warnings } = await loadConfigText(text, memoryIo({}));
    expect(config.api.username).toBe("admin");
    expect(config.api.password).toBe("other");
    expect(config.rtsp.username).toBe("admin");
    expect(warnings.map((w) => w.path)).toEqual(["x-common"]);
  });

  it("loads users with roles and per-stream access, ice servers and filters", async () => {
    const text = [
      "api:",
      "  auth:",
      "    users:",
      "      admin: {password: a, role: admin}",
      "      kiosk:",
      "        password_hash: h",
      "        streams: front_*",
      "webrtc:",
      "  ice_servers:",
      "    - urls: stun:stun.example.com:3478",
      "    - urls: [turn:t.example.com:3478]",
      "      username: u",
      "      credential: c",
      "  filters:",
      "    networks: [udp4, tcp4]",
      "    udp_ports: [50000, 50100]",
      "",
    ].join("\n");
    const { config, secrets } = await loadConfigText(text, memoryIo({}));
    expect(config.api.auth.users).toEqual({
      admin: { password: "a", role: "admin", streams: [], publish: [] },
      kiosk: { password_hash: "h", role: "viewer", streams: ["front_*"], publish: [] },
    });
    expect(config.webrtc.ice_servers).toEqual([
      { urls: ["stun:stun.example.com:3478"] },
      { urls: ["turn:t.example.com:3478"], username: "u", credential: "c" },
    ]);
    expect(config.webrtc.filters).toEqual({ networks: ["udp4", "tcp4"], udp_ports: [50000, 50100] });
    expect(secrets.sort()).toEqual(["a", "c", "h"]);
  });
});

describe("loadConfig env substitution", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "strom-config-"));
    writeFileSync(join(dir, "CAM_PASS"), "from-credentials\n");
    writeFileSync(join(dir, "ONLY_CRED"), "cred-only");
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Real files through node:fs, environment from a map. */
  function fsIo(env: Record<string, string>): ConfigIo {
    return {
      readTextFile: (path) => readFile(path, "utf8"),
      writeTextFile: (path, text) => writeFile(path, text),
      getEnv: (name) => env[name],
    };
  }

  it("looks up env:, then the credentials directory, then the environment, then the default", async () => {
    const path = join(dir, "strom.yaml");
    writeFileSync(
      path,
      [
        "env:",
        "  HOST: 10.0.0.5",
        "  URL: rtsp://${HOST}/main",
        "streams:",
        "  a: rtsp://admin:${CAM_PASS}@${HOST}/1",
        "  b: rtsp://u:${ONLY_CRED}@x/1",
        "  c: rtsp://${PROC_ONLY}/1",
        "  d: rtsp://${MISSING:fallback.local}/1",
        "  e: ${URL}",
        "api:",
        "  listen: ${API_LISTEN::1984}",
        "",
      ].join("\n"),
    );
    const env = {
      CREDENTIALS_DIRECTORY: dir,
      CAM_PASS: "from-env",
      HOST: "from-env",
      PROC_ONLY: "proc-host",
    };
    const { config, warnings, secrets } = await loadConfig([path], fsIo(env));
    expect(warnings).toEqual([]);
    expect(config.streams).toEqual({
      a: ["rtsp://admin:from-credentials@10.0.0.5/1"],
      b: ["rtsp://u:cred-only@x/1"],
      c: ["rtsp://proc-host/1"],
      d: ["rtsp://fallback.local/1"],
      e: ["rtsp://10.0.0.5/main"],
    });
    expect(config.api.listen).toBe(":1984");
    expect(config.env).toEqual({ HOST: "10.0.0.5", URL: "rtsp://10.0.0.5/main" });
    expect(secrets.sort()).toEqual([
      "10.0.0.5",
      "cred-only",
      "from-credentials",
      "proc-host",
      "rtsp://10.0.0.5/main",
    ]);
  });

  it("uses env: from another source and leaves an unresolved variable as-is with a warning", async () => {
    const io = memoryIo({
      "main.yaml": "streams:\n  cam: rtsp://${USER_NAME}:${NOT_SET}@x/1\n  # old: ${ALSO_NOT_SET}\n",
      "secrets.yaml": "env:\n  USER_NAME: admin\n",
    });
    const { config, warnings } = await loadConfig(["main.yaml", "secrets.yaml"], io);
    expect(config.streams.cam).toEqual(["rtsp://admin:${NOT_SET}@x/1"]);
    expect(warnings.map((w) => w.message)).toEqual([
      "main.yaml:2: variable ${NOT_SET} is not set (not in env:, $CREDENTIALS_DIRECTORY or the environment); left as-is. Set it, or give a default: ${NOT_SET:value}",
    ]);
    expect(warnings[0].code).toBe("unresolved-variable");
  });

  it("substitutes before type checks, so a variable can hold a number", async () => {
    const { config } = await loadConfig(
      ["s.yaml"],
      memoryIo({ "s.yaml": "rtsp:\n  pkt_size: ${PKT}\n" }, { PKT: "1400" }),
    );
    expect(config.rtsp.pkt_size).toBe(1400);
  });

  it("finds an env: key however it is written (flow map, escaped), and the same errors with or without one", async () => {
    const flow = await loadConfig(
      ["a.yaml", "b.yaml"],
      memoryIo({ "a.yaml": 'streams: {cam: "rtsp://${A}@x/1"}\n', "b.yaml": "{ env: {A: one} }\n" }),
    );
    expect(flow.config.streams.cam).toEqual(["rtsp://one@x/1"]);
    // `\x65nv` is "env": a file without the word in it can still set variables.
    const escaped = await loadConfig(
      ["a.yaml", "b.yaml"],
      memoryIo({ "a.yaml": 'streams: {door: "rtsp://${B}@y/1"}\n', "b.yaml": '"\\x65nv": {B: two}\n' }),
    );
    expect(escaped.config.streams.door).toEqual(["rtsp://two@y/1"]);
    // The parse kept from the env: lookup gives the same error as a fresh one.
    const unclosed = "Flow sequence in block collection must be sufficiently indented and end with a ]";
    for (const [text, line] of [["env: {A: 1}\nstreams: [\n", 3], ["streams: [\n", 2]] as const) {
      const e = await loadError(["c.yaml"], memoryIo({ "c.yaml": text }));
      expect(e.message).toBe(`c.yaml:${line}:1: cannot parse YAML: ${unclosed}`);
    }
  });
});
