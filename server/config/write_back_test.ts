import { describe, expect, it } from "bun:test";
import { parse } from "yaml";
import { ConfigError } from "./errors.ts";
import { loadConfigText } from "./load.ts";
import { deleteIn, deleteStream, setIn, setStream } from "./write_back.ts";

const FILE = `# strom config
api:
  listen: ":1984"   # web UI
  origin: '*'

# cameras
streams:
  # the front door
  front_door: rtsp://admin:pw@192.168.1.10/stream1   # main
  garage:
    - rtsp://192.168.1.11/live
    - ffmpeg:garage#video=h264#audio=opus    # transcode
  doorbell:
  notes: >
    folded
    text

log:
  level: debug # trailing
`;

/** FILE with lines `from..to` (1-based, inclusive) replaced by `lines`. */
function fileWith(from: number, to: number, lines: string[]): string {
  const all = FILE.split("\n");
  all.splice(from - 1, to - from + 1, ...lines);
  return all.join("\n");
}

const noIo = {
  readTextFile: () => Promise.reject(new Error("no")),
  writeTextFile: () => Promise.resolve(),
  getEnv: () => undefined,
};

describe("setStream", () => {
  it("appends a new stream at the end of streams:, touching nothing else", () => {
    expect(setStream(FILE, "new", ["demo:"])).toBe(fileWith(16, 16, ["    text", '  new: "demo:"']));
  });

  it("replaces a one-source stream in place and keeps its trailing comment", () => {
    expect(setStream(FILE, "front_door", ["rtsp://10.0.0.9/1"])).toBe(
      fileWith(9, 9, ["  front_door: rtsp://10.0.0.9/1   # main"]),
    );
  });

  it("turns one source into a list, moving the comment to the key line", () => {
    expect(setStream(FILE, "front_door", ["rtsp://a", "rtsp://b"])).toBe(
      fileWith(9, 9, ["  front_door: # main", "    - rtsp://a", "    - rtsp://b"]),
    );
  });

  it("turns a list into one source, and into an empty (push-only) value", () => {
    expect(setStream(FILE, "garage", ["rtsp://c"])).toBe(fileWith(10, 12, ["  garage: rtsp://c"]));
    expect(setStream(FILE, "garage", null)).toBe(fileWith(10, 12, ["  garage:"]));
    expect(setStream(FILE, "garage", [])).toBe(fileWith(10, 12, ["  garage:"]));
  });

  it("fills an empty stream and replaces a block scalar", () => {
    expect(setStream(FILE, "doorbell", ["rtsp://d1", "rtsp://d2"])).toBe(
      fileWith(13, 13, ["  doorbell:", "    - rtsp://d1", "    - rtsp://d2"]),
    );
    expect(setStream(FILE, "notes", ["x"])).toBe(fileWith(14, 16, ["  notes: x"]));
  });

  it("keeps the quoting style of the value it replaces", () => {
    const text = "streams:\n  a: \"rtsp://old\"\n  b: 'rtsp://old'\n";
    expect(setStream(setStream(text, "a", ["rtsp://new"]), "b", ["rtsp://new"])).toBe(
      "streams:\n  a: \"rtsp://new\"\n  b: 'rtsp://new'\n",
    );
  });

  it("quotes values that YAML would misread", () => {
    const out = setStream("streams:\n  a: x\n", "b", ["demo:", "a: b", "#hash", "yes"]);
    expect(parse(out)).toEqual({ streams: { a: "x", b: ["demo:", "a: b", "#hash", "yes"] } });
  });

  it("creates a missing streams: section, keeping the rest of the file", () => {
    const text = '# my config\napi:\n  listen: ":1984"   # comment\n';
    expect(setStream(text, "cam", ["rtsp://x"])).toBe(`${text}streams:\n  cam: rtsp://x\n`);
    expect(setStream('api:\n  listen: ":1984"', "cam", ["rtsp://x"])).toBe(
      'api:\n  listen: ":1984"\nstreams:\n  cam: rtsp://x\n',
    );
  });

  it("fills an empty streams: section, an empty file and a comments-only file", () => {
    expect(setStream("streams:\nlog:\n  level: info\n", "cam", ["rtsp://x"])).toBe(
      "streams:\n  cam: rtsp://x\nlog:\n  level: info\n",
    );
    expect(setStream("", "cam", ["rtsp://x"])).toBe("streams:\n  cam: rtsp://x\n");
    expect(setStream("# nothing yet\n", "cam", ["a", "b"])).toBe(
      "# nothing yet\nstreams:\n  cam:\n    - a\n    - b\n",
    );
  });

  it("follows the file's indentation and list style", () => {
    expect(setStream("streams:\n    a: x\n", "b", ["y", "z"])).toBe(
      "streams:\n    a: x\n    b:\n        - y\n        - z\n",
    );
    expect(setStream("streams:\n  a:\n  - x\n  - y\n", "b", ["1", "2"])).toBe(
      'streams:\n  a:\n  - x\n  - y\n  b:\n  - "1"\n  - "2"\n',
    );
  });

  it("keeps Windows line endings", () => {
    expect(setStream("# c\r\nstreams:\r\n  a: x\r\n", "b", ["y"])).toBe(
      "# c\r\nstreams:\r\n  a: x\r\n  b: y\r\n",
    );
  });

  it("falls back to re-rendering flow-style sections, still keeping comments and data", () => {
    const out = setStream("# top\nstreams: {a: x} # inline\nlog: {level: info}\n", "cam", ["rtsp://x"]);
    expect(out).toContain("# top");
    expect(out).toContain("# inline");
    expect(parse(out)).toEqual({ streams: { a: "x", cam: "rtsp://x" }, log: { level: "info" } });
  });

  it("writes text the loader reads back as the same streams", async () => {
    let text = FILE;
    text = setStream(text, "a", ["rtsp://a"]);
    text = setStream(text, "b", ["rtsp://b1", "rtsp://b2"]);
    text = setStream(text, "c", null);
    text = setStream(text, "garage", ["rtsp://g"]);
    const { config } = await loadConfigText(text, noIo);
    expect(config.streams).toEqual({
      front_door: ["rtsp://admin:pw@192.168.1.10/stream1"],
      garage: ["rtsp://g"],
      doorbell: [],
      notes: ["folded text\n"],
      a: ["rtsp://a"],
      b: ["rtsp://b1", "rtsp://b2"],
      c: [],
    });
  });

  it("refuses to edit malformed YAML", () => {
    expect(() => setStream("streams:\n  a: b: c\n", "x", ["y"])).toThrow(ConfigError);
    expect(() => setStream("streams:\n  a: b: c\n", "x", ["y"])).toThrow(
      "<config file>:2:6: cannot edit the config file, it is not valid YAML: Nested mappings are not allowed in compact mappings",
    );
  });
});

describe("deleteStream", () => {
  it("removes the stream and the comment lines directly above it", () => {
    expect(deleteStream(FILE, "garage")).toBe(fileWith(10, 12, []));
    expect(deleteStream(FILE, "front_door")).toBe(fileWith(8, 9, []));
    expect(deleteStream(FILE, "notes")).toBe(fileWith(14, 16, []));
  });

  it("leaves an empty map when the last stream goes", () => {
    expect(deleteStream("streams:\n  cam: x # c\nlog:\n  level: info\n", "cam")).toBe(
      "streams: {}\nlog:\n  level: info\n",
    );
  });

  it("returns the text unchanged when the stream or the section is missing", () => {
    expect(deleteStream(FILE, "nope")).toBe(FILE);
    expect(deleteStream("api: {}\n", "nope")).toBe("api: {}\n");
    expect(deleteStream("", "nope")).toBe("");
  });
});

describe("setIn / deleteIn", () => {
  it("creates nested maps on the way", () => {
    expect(setIn(FILE, ["api", "auth", "users", "bob", "role"], "viewer")).toBe(
      fileWith(4, 4, ["  origin: '*'", "  auth:", "    users:", "      bob:", "        role: viewer"]),
    );
  });

  it("sets scalars of any type and whole sections", () => {
    expect(setIn(FILE, ["log", "level"], "info")).toBe(fileWith(19, 19, ["  level: info # trailing"]));
    const out = setIn(FILE, ["metrics"], { enabled: true, path: "/metrics" });
    expect(out).toBe(`${FILE}metrics:\n  enabled: true\n  path: /metrics\n`);
    expect(setIn("rtsp:\n  pkt_size: 0\n", ["rtsp", "pkt_size"], 1200)).toBe("rtsp:\n  pkt_size: 1200\n");
  });

  it("deletes keys and ignores missing paths", () => {
    expect(deleteIn(FILE, ["api", "origin"])).toBe(fileWith(4, 4, []));
    expect(deleteIn(FILE, ["preload", "cam"])).toBe(FILE);
    expect(setIn(FILE, ["api", "origin"], undefined)).toBe(fileWith(4, 4, []));
  });
});
