// Config keys as the go2rtc seed article writes them: top-level max_connections/connection_timeout
// go to limits:, and keys strom has no place for are warned about with what to use instead.
import { describe, expect, it } from "bun:test";
import { runtimeIo } from "../load.ts";
import { checkStreamSchemes, registerBuiltinSources } from "../sources.ts";
import { loadConfigText } from "./load.ts";

describe("the seed article's config forms", () => {
  it("top-level max_connections and connection_timeout are limits.max_connections and limits.connection_timeout", async () => {
    const top = await loadConfigText("max_connections: 50\nconnection_timeout: 45s\n", runtimeIo, "s.yaml");
    expect(top.config.limits).toMatchObject({ max_connections: 50, connection_timeout: 45 });
    expect(Object.keys(top.config)).not.toContain("max_connections");
    expect(top.warnings).toEqual([]);
    // limits: wins wherever it is written.
    for (const text of ["limits:\n  max_connections: 7\nmax_connections: 50\n", "max_connections: 50\nlimits:\n  max_connections: 7\n  idle_timeout: 5\n"]) {
      const both = await loadConfigText(text, runtimeIo, "s.yaml");
      expect(both.config.limits.max_connections).toBe(7);
    }
    const bad = await loadConfigText("max_connections: lots\n", runtimeIo, "s.yaml").then(() => undefined, (e) => e as Error);
    expect(bad?.message).toContain('"max_connections" must be');
  });

  it("keys strom has no place for say what to use instead", async () => {
    const loaded = await loadConfigText(
      "webrtc:\n  packet_loss: 15%\n  jitter_buffer: 0\ndebug:\n  dump_rtp: true\n",
      runtimeIo,
      "s.yaml",
    );
    const messages = loaded.warnings.map((w) => w.message);
    expect(messages).toEqual([
      expect.stringMatching(
        /^s\.yaml:2: "webrtc\.packet_loss" \(from the go2rtc seed article\) is not a strom key and has no effect: .*without re-encoding.*webrtc\.jitter_buffer/,
      ),
      expect.stringMatching(/^s\.yaml:5: "debug\.dump_rtp" .*tcpdump/),
    ]);
    // The article's jitter_buffer is a key now (the playout delay sent to browsers).
    expect(loaded.config.webrtc?.jitter_buffer).toBe(0);
  });
  it("webrtc.jitter_buffer takes durations and numbers of seconds", async () => {
    const loaded = await loadConfigText("webrtc:\n  jitter_buffer: 250ms\n", runtimeIo, "s.yaml");
    expect(loaded.config.webrtc?.jitter_buffer).toBe(0.25);
    expect(loaded.warnings).toEqual([]);
    const bad = await loadConfigText("webrtc:\n  jitter_buffer: soon\n", runtimeIo, "s.yaml").then(() => undefined, (e) => e as Error);
    expect(bad?.message).toContain('"webrtc.jitter_buffer" must be a duration');
  });
  it("the seed article's edge block loads as written, with no warning", async () => {
    const loaded = await loadConfigText(
      [
        "edge:",
        "  enabled: true",
        "  central_server: https://central.example.com:1984",
        "  cache:",
        "    enabled: true",
        "    size: 1GB",
        "    ttl: 5m",
        "  offline_mode: true",
        "  buffer_duration: 30s",
        "  routing:",
        "    strategy: nearest",
        "    fallback: round-robin",
        "  bandwidth:",
        "    adaptive: true",
        "    max_bitrate: 2M",
        "    quality_levels: [240p, 480p, 720p]",
        "",
      ].join("\n"),
      runtimeIo,
      "s.yaml",
    );
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.edge).toMatchObject({
      enabled: true,
      central_server: ["https://central.example.com:1984"],
      cache: { enabled: true, size: 1_000_000_000, ttl: 300 },
      offline_mode: true,
      hold: 30,
      routing: { strategy: "nearest", fallback: "round-robin" },
      // Adaptive bitrate for the edge's HLS players (see server/routes/hls_abr.ts).
      bandwidth: { adaptive: true, max_bitrate: 2_000_000, quality_levels: ["240p", "480p", "720p"] },
    });
    // edge.hold wins over the article's buffer_duration when both are set.
    const both = await loadConfigText("edge:\n  hold: 10s\n  buffer_duration: 30s\n", runtimeIo, "s.yaml");
    expect(both.config.edge?.hold).toBe(10);
  });
  it("the seed article's cluster block loads as written, with no warning", async () => {
    const loaded = await loadConfigText(
      [
        "cluster:",
        "  enabled: true",
        "  nodes:",
        "    - name: node-1",
        "      address: 192.168.1.101:1984",
        "      weight: 1",
        "    - name: node-2",
        "      address: 192.168.1.102:1984",
        "      weight: 1",
        "    - name: node-3",
        "      address: 192.168.1.103:1984",
        "      weight: 2",
        "  load_balancer:",
        "    algorithm: least-connections",
        "    health_check: /api/health",
        "    check_interval: 10s",
        "    failover_threshold: 3",
        "  session_sticky: true",
        "  session_timeout: 1h",
        "",
      ].join("\n"),
      runtimeIo,
      "s.yaml",
    );
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.cluster).toMatchObject({
      enabled: true,
      nodes: [
        { name: "node-1", address: "192.168.1.101:1984", weight: 1 },
        { name: "node-2", address: "192.168.1.102:1984", weight: 1 },
        { name: "node-3", address: "192.168.1.103:1984", weight: 2 },
      ],
      load_balancer: { algorithm: "least-connections", health_check: "/api/health", check_interval: 10, failover_threshold: 3 },
      session_sticky: true,
      session_timeout: 3600,
    });
  });
  it("a pool of sources inside a stream's list gives its URLs as sources; a strategy is said to have no effect", async () => {
    const loaded = await loadConfigText(
      "streams:\n  pool:\n    - rtsp://a/1\n    - name: camera_pool\n      urls:\n        - rtsp://b/1\n        - rtsp://c/1\n" +
        "      strategy: round-robin\n",
      runtimeIo,
      "s.yaml",
    );
    expect(loaded.config.streams.pool).toEqual(["rtsp://a/1", "rtsp://b/1", "rtsp://c/1"]);
    expect(loaded.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/^s\.yaml:4: "streams\.pool\[1\]\.strategy: round-robin" has no effect: .*first that has it/),
    ]);
    const empty = await loadConfigText("streams:\n  pool:\n    - name: x\n", runtimeIo, "s.yaml").then(() => undefined, (e) => e as Error);
    expect(empty?.message).toContain('"streams.pool[0]" needs "urls"');
  });
  it("source options a scheme does not read are named, with what to do instead", () => {
    registerBuiltinSources();
    const warnings = checkStreamSchemes({
      low_latency: [
        "rtsp://user:secret@camera/1#transport=udp#tcp_mode=passive#timeout=5",
        "ffmpeg:low_latency#video=h264#preset=ultrafast#hardware",
      ],
      living_room: ["ffmpeg:living_room#backchannel=0"],
      fine: ["rtsp://cam/2#backchannel=0#media=video", "ffmpeg:fine#video=h264#width=640#filter_complex=x", "demo:"],
    });
    expect(warnings).toEqual([
      'streams.low_latency: option #tcp_mode of "rtsp://user:***@camera/1#transport=udp#tcp_mode=passive#timeout=5" has no ' +
      "effect: rtsp: sources read only #transport, #timeout, #backchannel, #media.",
      expect.stringMatching(/^streams\.low_latency: option #preset of .* go in a template, e\.g\. ffmpeg: \{h264\/fast: /),
      "streams.living_room: option #backchannel of \"ffmpeg:living_room#backchannel=0\" has no effect: ffmpeg: sources have " +
      "no backchannel; put #backchannel=0 on the camera's rtsp:// source.",
    ]);
  });
});
