/**
 * The config strom runs with when it is given none: the three default listeners and the built-in
 * `demo:` test stream, so a first `strom serve` shows a working player. `strom init` can write this
 * text out as a starting `strom.yaml`.
 *
 * @module
 */

/** The file name strom looks for and writes by default. */
export const DEFAULT_CONFIG_FILE = "strom.yaml";

/**
 * The embedded default config (YAML, go2rtc-compatible).
 *
 * @example
 * ```ts
 * const { config } = await loadConfig([], io); // uses DEFAULT_CONFIG_YAML
 * config.streams.demo; // ["demo:"]
 * ```
 */
export const DEFAULT_CONFIG_YAML =
  `# strom configuration (go2rtc-compatible; see docs/config.md for every key).
# Values may use \${VAR} or \${VAR:default}: VAR is looked up under env:, then in
# $CREDENTIALS_DIRECTORY/VAR (systemd credentials), then in the environment.

api:
  listen: ":1984" # HTTP API and web UI; "" disables it

rtsp:
  listen: ":8554" # RTSP server: rtsp://host:8554/<stream>

streams:
  # A built-in test pattern. Add your cameras the same way, e.g.
  #   front_door: rtsp://user:\${CAM_PASS}@192.168.1.10:554/stream1
  #   garage: [rtsp://192.168.1.11/main, "ffmpeg:garage#video=h264"]
  demo: "demo:"
`;
