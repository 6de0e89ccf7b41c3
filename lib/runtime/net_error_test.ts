import { describe, expect, it } from "bun:test";
import { NetError, toNetError } from "./net_error.ts";

describe("toNetError", () => {
  it("maps node errno codes", () => {
    const cases: [string, string][] = [
      ["EADDRINUSE", "AddrInUse"],
      ["ECONNREFUSED", "ConnectionRefused"],
      ["ETIMEDOUT", "TimedOut"],
      ["ECONNRESET", "ConnectionReset"],
      ["EPIPE", "BrokenPipe"],
      ["ENOTFOUND", "NotFound"],
      ["EACCES", "PermissionDenied"],
    ];
    for (const [errno, code] of cases) {
      const e = toNetError(Object.assign(new Error(errno), { code: errno }), "connect to", "10.0.0.5:554");
      expect(e.code).toBe(code);
      expect(e.address).toBe("10.0.0.5:554");
      expect(e.message.startsWith("Cannot connect to 10.0.0.5:554: ")).toBe(true);
    }
  });

  it("maps Deno error class names", () => {
    const err = new Error("refused");
    err.name = "ConnectionRefused";
    expect(toNetError(err, "connect to").code).toBe("ConnectionRefused");
  });

  it("keeps unknown errors as Other with their message and cause", () => {
    const cause = new Error("weird");
    const e = toNetError(cause, "listen on", "0.0.0.0:1");
    expect(e).toBeInstanceOf(NetError);
    expect(e.name).toBe("NetError");
    expect(e.code).toBe("Other");
    expect(e.message).toBe("Cannot listen on 0.0.0.0:1: weird");
    expect(e.cause).toBe(cause);
  });

  it("hints at rejectUnauthorized for certificate errors", () => {
    const e = toNetError(
      Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
      "connect to",
    );
    expect(e.message).toContain("rejectUnauthorized: false");
  });

  it("passes NetError through", () => {
    const e = new NetError("TimedOut", "x");
    expect(toNetError(e, "connect to")).toBe(e);
  });
});
