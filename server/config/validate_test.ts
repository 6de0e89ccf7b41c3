import { describe, expect, it } from "bun:test";
import { Scalar, YAMLMap, YAMLSeq } from "yaml";
import { closest, describeNode, expected, parseBytes, parseDuration } from "./validate.ts";

describe("parseDuration", () => {
  it("reads seconds and unit strings", () => {
    expect(parseDuration("30")).toBe(30);
    expect(parseDuration("2.5")).toBe(2.5);
    expect(parseDuration("500ms")).toBe(0.5);
    expect(parseDuration("30s")).toBe(30);
    expect(parseDuration("5m")).toBe(300);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("7d")).toBe(604800);
    expect(parseDuration("2w")).toBe(1209600);
  });

  it("rejects anything else", () => {
    for (const s of ["", "s", "5x", "5m x", "-5s", "1h 30m", "soon"]) {
      expect(parseDuration(s)).toBeUndefined();
    }
  });
});

describe("parseBytes", () => {
  it("reads SI and binary units", () => {
    expect(parseBytes("512")).toBe(512);
    expect(parseBytes("512B")).toBe(512);
    expect(parseBytes("16MB")).toBe(16_000_000);
    expect(parseBytes("16 mb")).toBe(16_000_000);
    expect(parseBytes("2KiB")).toBe(2048);
    expect(parseBytes("1.5GiB")).toBe(1.5 * 1024 ** 3);
    expect(parseBytes("1T")).toBe(1e12);
  });

  it("rejects unknown units", () => {
    for (const s of ["", "MB", "5 parsecs", "-1MB"]) expect(parseBytes(s)).toBeUndefined();
  });
});

describe("closest", () => {
  it("suggests a near key and nothing for a far one", () => {
    expect(closest("udpp", ["listen", "udp", "username"])).toBe("udp");
    expect(closest("strams", ["api", "streams", "rtsp"])).toBe("streams");
    expect(closest("Listen", ["listen"])).toBe("listen");
    expect(closest("homekit", ["api", "streams", "rtsp"])).toBeUndefined();
    expect(closest("x", ["y"])).toBeUndefined();
  });
});

describe("messages", () => {
  it("describe what was expected and what was found", () => {
    expect(expected({ kind: "string", description: "", example: ":1984" })).toBe('a string like ":1984"');
    expect(
      expected({
        kind: "list",
        description: "",
        items: { kind: "string", description: "" },
        acceptSingle: true,
      }),
    )
      .toBe("a string or a list of strings");
    expect(describeNode(new Scalar(1984))).toBe("a number");
    expect(describeNode(new Scalar(true))).toBe("a boolean");
    expect(describeNode(new Scalar("yes"))).toBe('the string "yes"');
    expect(describeNode(new Scalar(null))).toBe("an empty value");
    expect(describeNode(new YAMLMap())).toBe("a map");
    expect(describeNode(new YAMLSeq())).toBe("a list");
  });
});
