import { describe, expect, it } from "bun:test";
import { isLoopbackUrl, viewerApiBase } from "./point.ts";

describe("viewerApiBase (a node's announced API address as a redirect target)", () => {
  it("keeps http(s) URLs without credentials, query or whitespace, without their trailing slash", () => {
    expect(viewerApiBase("http://10.0.0.2:1984/")).toBe("http://10.0.0.2:1984");
    expect(viewerApiBase("https://node-2.example.com/strom")).toBe("https://node-2.example.com/strom");
    expect(viewerApiBase("http://[fd00::2]:1984")).toBe("http://[fd00::2]:1984");
  });

  it("refuses anything else", () => {
    for (const bad of ["http://u:p@10.0.0.2:1984", "javascript:alert(1)", "rtsp://10.0.0.2:8554", "http://10.0.0.2/?x=1", "http://a b", 42, undefined]) {
      expect(viewerApiBase(bad)).toBeUndefined();
    }
  });
});

describe("isLoopbackUrl", () => {
  it("is true for 127/8, ::1 and localhost, false otherwise", () => {
    expect(["http://127.0.0.1:1984", "http://127.1.2.3", "http://[::1]:1984", "http://LOCALHOST:1"].map(isLoopbackUrl)).toEqual([true, true, true, true]);
    expect(["http://10.0.0.2:1984", "http://[fd00::1]", "not a url"].map(isLoopbackUrl)).toEqual([false, false, false]);
  });
});
