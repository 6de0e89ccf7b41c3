import { describe, expect, it } from "bun:test";
import { parseTcpUrl } from "./producer.ts";

describe("parseTcpUrl", () => {
  it("host and port, IPv6 in brackets", () => {
    expect(parseTcpUrl("tcp://192.168.1.5:12345")).toEqual({ hostname: "192.168.1.5", port: 12345 });
    expect(parseTcpUrl("tcp://[::1]:9000/")).toEqual({ hostname: "::1", port: 9000 });
    expect(parseTcpUrl("TCP://cam.local:1#x")).toEqual({ hostname: "cam.local", port: 1 });
  });

  it("refuses a missing or out-of-range port", () => {
    expect(() => parseTcpUrl("tcp://cam")).toThrow("tcp://host:port");
    expect(() => parseTcpUrl("tcp://cam:70000")).toThrow("tcp://host:port");
  });
});
