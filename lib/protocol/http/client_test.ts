import { describe, expect, it } from "bun:test";
import { SourceError } from "../../core/errors.ts";
import { parseHttpSourceUrl, requestScope } from "./client.ts";

describe("parseHttpSourceUrl", () => {
  it("takes credentials and #header= options out of the URL that is fetched", () => {
    const u = parseHttpSourceUrl(
      "http://ad%40min:p%3Ass@cam:8080/video.cgi?ch=1#header=X-Token: 42#header=Cookie: a=b",
    );
    expect(u.url).toBe("http://cam:8080/video.cgi?ch=1");
    expect(u.username).toBe("ad@min");
    expect(u.password).toBe("p:ss");
    expect(u.headers).toEqual([["X-Token", "42"], ["Cookie", "a=b"]]);
    expect(u.display).toBe(
      "http://ad%40min:p%3Ass@cam:8080/video.cgi?ch=1#header=X-Token: ***#header=Cookie: ***",
    );
  });

  it("rejects a malformed header and a non-HTTP URL", () => {
    expect(() => parseHttpSourceUrl("http://cam/x#header=novalue")).toThrow(SourceError);
    expect(() => parseHttpSourceUrl("http://cam/x#header=Bad Name: v")).toThrow('is not "Name: value"');
    expect(() => parseHttpSourceUrl("ftp://cam/x")).toThrow("http:// and https://");
    expect(() => parseHttpSourceUrl("http://")).toThrow("not a valid URL");
  });
});

describe("requestScope", () => {
  it("follows the parent, times out, and detaches on done()", async () => {
    const parent = new AbortController();
    const a = requestScope(parent.signal, 10_000);
    parent.abort(new Error("stopped"));
    expect(a.signal.aborted).toBe(true);
    expect((a.signal.reason as Error).message).toBe("stopped");
    a.done();

    const b = requestScope(new AbortController().signal, 20);
    await new Promise((r) => setTimeout(r, 60));
    expect(b.signal.aborted).toBe(true);
    expect((b.signal.reason as Error).message).toBe("no answer within 20 ms");

    const other = new AbortController();
    const c = requestScope(other.signal, 10_000);
    c.done();
    other.abort();
    expect(c.signal.aborted).toBe(false);
  });
});
