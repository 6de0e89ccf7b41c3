import { describe, expect, it } from "bun:test";
import { CentralError, CentralServer, CentralUrlError, MAX_CENTRAL_STREAMS } from "./central.ts";

/** A fetch that answers each path with JSON (or a status), and records the requests. */
function answering(routes: Record<string, unknown>) {
  const asked: { url: string; authorization: string | null }[] = [];
  const fetchFn = ((input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    asked.push({ url, authorization: new Headers(init?.headers).get("authorization") });
    const path = new URL(url).pathname.replace(/^\/prefix/, "");
    const body = routes[path];
    if (typeof body === "number") return Promise.resolve(new Response("no", { status: body }));
    if (body === undefined) return Promise.resolve(new Response("not found", { status: 404 }));
    return Promise.resolve(Response.json(body));
  }) as typeof fetch;
  return { fetch: fetchFn, asked };
}

describe("CentralServer", () => {
  it("pulls over RTSP from the port its /api reports, on the URL's host, with the URL's account", async () => {
    const f = answering({ "/api": { rtsp: { listen: ":8554" } } });
    const central = new CentralServer("http://edge:p%40ss@central.lan:1984/", { fetch: f.fetch });
    const media = await central.media();
    expect(media.kind).toBe("rtsp");
    expect(media.url("front door")).toBe("rtsp://edge:p%40ss@central.lan:8554/front%20door");
    expect(media.display).toBe("rtsp://central.lan:8554");
    // Credentials go in a header, never in the requested URL.
    expect(f.asked).toEqual([{
      url: "http://central.lan:1984/api",
      authorization: `Basic ${btoa("edge:p@ss")}`,
    }]);
  });

  it("keeps https media encrypted: RTSPS when the central reports tls_listen, else MPEG-TS over the API URL", async () => {
    const tls = new CentralServer("https://c.example.com:1984", {
      fetch: answering({ "/api": { rtsp: { listen: ":8554", tls_listen: ":8322" } } }).fetch,
    });
    expect((await tls.media()).url("cam")).toBe("rtsps://c.example.com:8322/cam");
    const plainOnly = new CentralServer("https://u:p@c.example.com/prefix", {
      fetch: answering({ "/api": { rtsp: { listen: ":8554" } } }).fetch,
    });
    const media = await plainOnly.media();
    expect(media.kind).toBe("mpegts");
    expect(media.url("a&b")).toBe("https://u:p@c.example.com/prefix/api/stream.ts?src=a%26b");
  });

  it("uses MPEG-TS for a central without an RTSP listener (go2rtc's /api shape, listen empty)", async () => {
    const central = new CentralServer("http://[::1]:1984", {
      fetch: answering({ "/api": { rtsp: { listen: "" } } }).fetch,
    });
    expect((await central.media()).url("cam")).toBe("http://[::1]:1984/api/stream.ts?src=cam");
  });

  it("lists the central's stream names, leaving out unusable ones and stopping at the cap", async () => {
    const many: Record<string, unknown> = { "bad\nname": {}, [`${"x".repeat(201)}`]: {} };
    for (let i = 0; i < MAX_CENTRAL_STREAMS + 5; i++) many[`cam${i}`] = {};
    const central = new CentralServer("http://c:1984", { fetch: answering({ "/api/streams": many }).fetch });
    const names = await central.streamNames();
    expect(names).toHaveLength(MAX_CENTRAL_STREAMS);
    expect(names[0]).toBe("cam0");
  });

  it("says what failed and how to fix it", async () => {
    const denied = new CentralServer("http://c:1984", { fetch: answering({ "/api": 401 }).fetch });
    await expect(denied.media()).rejects.toThrow(
      /central server http:\/\/c:1984\/api: answered HTTP 401 \(put an account/,
    );
    const list = new CentralServer("http://c:1984", { fetch: answering({ "/api/streams": ["cam"] }).fetch });
    await expect(list.streamNames()).rejects.toBeInstanceOf(CentralError);
    const down = new CentralServer("http://c:1984", {
      fetch: (() => Promise.reject(new TypeError("fetch failed"))) as typeof fetch,
    });
    await expect(down.media()).rejects.toThrow(
      "central server http://c:1984/api: cannot be reached (fetch failed)",
    );
    expect(() => new CentralServer("rtsp://c:8554")).toThrow(CentralUrlError);
    expect(() => new CentralServer("rtsp://c:8554")).toThrow(
      /not http or https \(an RTSP URL goes in edge.origin\)/,
    );
    expect(() => new CentralServer("https://u:secret@c:1984?x=1")).toThrow(
      /"https:\/\/\*\*\*@c:1984\?x=1" has a query/,
    );
  });
});
