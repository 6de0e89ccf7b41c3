/**
 * The config schema: every section's keys, their types, defaults and a one-line description, declared
 * once and used for validation (`validate.ts`), defaults (`applyDefaults`) and the config reference
 * (`listConfigKeys` feeds the docs generator).
 *
 * It is a small tree of plain objects, no dependency:
 *
 * ```
 * object ─ keys ─┬─ string / number / boolean / enum / duration / bytes   (leaves)
 *                ├─ list ─ items                                           (YAML sequence)
 *                ├─ map ─ values                                           (user-chosen names)
 *                ├─ sources                                                (a stream's URL(s))
 *                └─ object ...                                             (nested section)
 *        └ extra  (schema for keys not listed, e.g. ffmpeg templates; without it they warn)
 * ```
 *
 * Section and key names follow go2rtc's `go2rtc.yaml`, so existing files load unchanged; `auth`,
 * `metrics`, `limits`, `record` and `hls` limits are strom's own.
 *
 * @module
 */
import { alertConditionProblem } from "../monitoring/condition.ts";

/** Keys every schema node has. */
interface NodeBase {
  /** One line for the config reference. */
  description: string;
  /** Applied when the key is absent (or empty) in every config source. */
  default?: unknown;
  /** Shown in type errors: `must be a string like ":1984"`, and in the docs. */
  example?: string;
  /** The key must be present whenever its section is (used inside list items). */
  required?: boolean;
  /**
   * Accepted (go2rtc compatibility, or a strom feature still being built) but without effect yet:
   * setting it gives a load-time warning with this text, and the docs say the same.
   */
  notImplemented?: string;
  /**
   * Another product's place for a key strom keeps elsewhere (dotted path from the same section):
   * the value is checked as this node and stored there, unless the config also sets it there.
   */
  movedTo?: string;
}

/**
 * A string value.
 * - `coerce`: accept a number or boolean and keep its source text (`password: 0123` -> `"0123"`);
 *   off by default so `listen: 1984` fails instead of silently meaning something else.
 * - `format`: a known shape checked after the type (`address`: `":1984"`, `"127.0.0.1:1984"`, or `""`;
 *   `webrtc-address` also allows a `/tcp` or `/udp` suffix; `url-path`: `""` or starts with `/`;
 *   `port-or-address`: also a bare port, `9090`).
 * - `secret`: the value is collected into `secrets` for masking in logs and API output.
 * - `ifNull`: the value an explicitly empty key gets (otherwise empty means "not set").
 */
export interface StringNode extends NodeBase {
  kind: "string";
  coerce?: boolean;
  format?: "address" | "webrtc-address" | "url-path" | "port-or-address";
  /** Checks a non-empty value beyond its type: returns what is wrong, or undefined when it is fine. */
  check?: (value: string) => string | undefined;
  secret?: boolean;
  ifNull?: string;
}

/** A number; `integer` rejects fractions; `min`/`max` are inclusive. */
export interface NumberNode extends NodeBase {
  kind: "number";
  integer?: boolean;
  min?: number;
  max?: number;
}

/** `true` or `false` (YAML 1.2: `yes`/`on` are strings, not booleans). */
export interface BooleanNode extends NodeBase {
  kind: "boolean";
}

/** One of `values` (matched case-insensitively); `aliases` map other spellings to a value. */
export interface EnumNode extends NodeBase {
  kind: "enum";
  values: readonly string[];
  aliases?: Record<string, string>;
}

/** Seconds as a number, or a string of `<n><unit>` parts: `500ms`, `30s`, `5m`, `1h30m`, `7d`. Loaded as seconds. */
export interface DurationNode extends NodeBase {
  kind: "duration";
}

/** Bytes as a number, or `<n><unit>`: `B`, `KB`/`MB`/`GB`/`TB` (powers of 1000), `KiB`/`MiB`/`GiB`/`TiB` (1024). Loaded as bytes. */
export interface BytesNode extends NodeBase {
  kind: "bytes";
  /** A bit rate in bits per second written with the same units ("4M"), not a size. */
  bitrate?: boolean;
}

/** A YAML sequence; `acceptSingle` also takes one bare item as a one-item list. */
export interface ListNode extends NodeBase {
  kind: "list";
  items: SchemaNode;
  acceptSingle?: boolean;
}

/** A section with fixed keys; `extra` validates keys not in `keys` (named `extraName` in the docs). */
export interface ObjectNode extends NodeBase {
  kind: "object";
  keys: Record<string, SchemaNode>;
  extra?: SchemaNode;
  extraName?: string;
  /**
   * Accepts a list of strings in place of the section (another product's form of it): returns the
   * section's value and what to warn about, each note a complete sentence.
   */
  fromList?: (items: string[]) => { value: Record<string, unknown>; notes: string[] };
}

/** A map from user-chosen names (`keyName` in the docs, e.g. `<stream>`) to `values`. */
export interface MapNode extends NodeBase {
  kind: "map";
  keyName: string;
  values: SchemaNode;
}

/**
 * A stream's sources, in any go2rtc form, loaded as a list of URLs:
 * `url`, `[url, url]`, empty (push-only: `[]`), or `{url: url | [url, ...]}`.
 */
export interface SourcesNode extends NodeBase {
  kind: "sources";
}

/** Any node of the schema tree. */
export type SchemaNode =
  | StringNode
  | NumberNode
  | BooleanNode
  | EnumNode
  | DurationNode
  | BytesNode
  | ListNode
  | ObjectNode
  | MapNode
  | SourcesNode;

// --- small builders keep the table below readable -------------------------------------------------

const str = (description: string, o: Omit<StringNode, "kind" | "description"> = {}): StringNode => ({
  kind: "string",
  description,
  ...o,
});
const listen = (description: string, def: string): StringNode =>
  str(description, { default: def, example: def || ":1935", format: "address" });
const int = (description: string, o: Omit<NumberNode, "kind" | "description"> = {}): NumberNode => ({
  kind: "number",
  integer: true,
  min: 0,
  description,
  ...o,
});
const bool = (description: string, def?: boolean): BooleanNode => ({
  kind: "boolean",
  description,
  default: def,
});
const duration = (description: string, def?: number | string): DurationNode => ({
  kind: "duration",
  description,
  default: def,
  example: "30s",
});
/** A bit rate: bits per second as a number or `<n>k`/`<n>M`/`<n>G` (powers of 1000); shown as "bit rate". */
const bitrate = (description: string): BytesNode => ({
  kind: "bytes",
  bitrate: true,
  description,
  example: "4M",
});
const bytes = (description: string, def?: number): BytesNode => ({
  kind: "bytes",
  description,
  default: def,
  example: "16MB",
});
const strings = (
  description: string,
  o: Omit<ListNode, "kind" | "description" | "items"> = {},
): ListNode => ({
  kind: "list",
  items: str("An entry."),
  description,
  ...o,
});
const section = (
  description: string,
  keys: Record<string, SchemaNode>,
  o: Partial<ObjectNode> = {},
): ObjectNode => ({
  kind: "object",
  description,
  keys,
  ...o,
});

/** The go2rtc seed article's metric names and the strom families that carry them. */
const SEED_METRICS: Record<string, string> = {
  stream_count: "strom_streams",
  connection_count: "strom_connections_open, strom_stream_consumers",
  bandwidth_in: "strom_track_bytes_total",
  bandwidth_out: "strom_stream_bytes_sent_total",
  cpu_usage: "strom_process_cpu_seconds_total",
  memory_usage: "strom_process_resident_memory_bytes",
};

/** `metrics:` written as the seed article's list of names: turns the metrics on, says where each name is. */
function seedMetricsList(items: string[]): { value: Record<string, unknown>; notes: string[] } {
  const found: string[] = [];
  const notes: string[] = [];
  for (const name of items) {
    if (!Object.hasOwn(SEED_METRICS, name)) {
      notes.push(`"${name}" is not a metric strom knows; its families are listed in docs/metrics.md.`);
    } else found.push(`${name} is ${SEED_METRICS[name]}`);
  }
  notes.unshift(
    `"metrics" as a list turns the metrics on (metrics: {enabled: true}); strom serves all its families` +
      (found.length > 0 ? `: ${found.join("; ")}.` : "."),
  );
  return { value: { enabled: true }, notes };
}

/** Hook events (`hooks.on_<event>`) and when they fire. */
export const HOOK_EVENTS: readonly (readonly [string, string])[] = [
  ["ready", "a stream gets a running source or publisher"],
  ["not_ready", "a stream's last running source or publisher stops"],
  ["read", "a viewer (or recorder, push destination) attaches to a stream"],
  ["unread", "a viewer detaches"],
  ["publish", "a publisher (RTSP ANNOUNCE, RTMP, WHIP) connects"],
  ["unpublish", "a publisher leaves"],
  ["segment_complete", "a recording finishes a segment file"],
  ["source_error", "a source cannot be dialed, fails, or fails to reconnect"],
  ["disabled", "a stream is disabled (privacy mode: `disabled:`, PUT /api/disabled)"],
  ["enabled", "a disabled stream is enabled again"],
  ["alert", "a `monitoring.alerts` entry fires or clears (no stream: `STROM_STREAM` is empty)"],
];

const hookList = (what: string): ListNode => ({
  kind: "list",
  description: `Hooks run when ${what}.`,
  default: [],
  items: section("One hook: a command, a webhook URL, or both.", {
    command: str(
      "Program and arguments (split on spaces, quotes group; no shell: write `sh -c '...'` for one). " +
        "Gets the event in STROM_* environment variables.",
    ),
    url: str("Webhook: gets the event as a JSON POST body.", { secret: true }),
    headers: {
      kind: "map",
      keyName: "<header>",
      values: str("Header value.", { secret: true }),
      default: {},
      description: "Extra HTTP headers of the webhook request (e.g. Authorization).",
    },
    streams: strings("Only for these streams (names or * wildcards); empty means every stream.", {
      default: [],
      acceptSingle: true,
    }),
    timeout: duration("This hook's timeout instead of hooks.timeout."),
  }),
});

/** Log levels accepted in `log.level` and per-module keys. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "disabled"] as const;

const level = (description: string, def?: string): EnumNode => ({
  kind: "enum",
  values: LOG_LEVELS,
  aliases: { warning: "warn", off: "disabled", fatal: "error", panic: "error" },
  description,
  default: def,
});

/** Modules whose log level can be set on its own under `log:`. */
export const LOG_MODULES = [
  "api",
  "streams",
  "rtsp",
  "rtmp",
  "webrtc",
  "mp4",
  "hls",
  "mjpeg",
  "exec",
  "onvif",
  "record",
  "metrics",
] as const;

const userSchema: ObjectNode = section("One account.", {
  password: str("Plaintext password; prefer `${VAR}` so it stays out of the file.", {
    coerce: true,
    secret: true,
  }),
  password_hash: str(
    "bcrypt hash (`$2a$`/`$2b$`/`$2y$`) checked instead of `password`; make one with `strom passwd`. " +
      "Such accounts log in with Basic auth (RTSP Digest needs a plain `password`).",
    { secret: true },
  ),
  role: {
    kind: "enum",
    values: ["viewer", "admin"],
    default: "viewer",
    description: "`viewer` may watch streams; `admin` may also add/delete streams and change the config.",
  },
  streams: strings("Stream names (`*` wildcards allowed) this user may access; empty means all.", {
    default: [],
    acceptSingle: true,
  }),
  publish: strings(
    "Stream names (`*` wildcards allowed) this user may publish into (RTSP ANNOUNCE, RTMP, WHIP, HTTP ingest); " +
      "empty means none. Admins may publish anywhere.",
    { default: [], acceptSingle: true },
  ),
});

const iceServerSchema: ObjectNode = section("One STUN/TURN server.", {
  urls: strings("`stun:host:port`, `turn:host:port` or `turns:...` URLs.", {
    acceptSingle: true,
    required: true,
  }),
  username: str("TURN username.", { coerce: true }),
  credential: str("TURN password.", { coerce: true, secret: true }),
});

/**
 * The strom config schema (root node). Exported for the docs generator and for tests.
 *
 * @example
 * ```ts
 * const listen = configSchema.keys.api.kind === "object" ? configSchema.keys.api.keys.listen : undefined;
 * console.log(listen?.default); // ":1984"
 * ```
 */
export const configSchema: ObjectNode = section("strom config file.", {
  app: section("Which modules start.", {
    modules: strings("Start only these modules (go2rtc compatible); empty starts all.", { default: [] }),
  }),
  api: section("HTTP API, web UI, WebSocket, WHEP/WHIP.", {
    listen: listen(
      'Address of the HTTP API and web UI, e.g. ":1984" or "127.0.0.1:1984"; "" disables it.',
      ":1984",
    ),
    username: str("Basic-auth username for the API (an admin account); empty means no auth.", {
      default: "",
      coerce: true,
    }),
    password: str("Basic-auth password for `username`.", { default: "", coerce: true, secret: true }),
    base_path: str('Serve everything under this path prefix, e.g. "/rtc".', {
      default: "",
      example: "/rtc",
      format: "url-path",
    }),
    static_dir: str("Serve the web UI from this folder instead of the built-in one.", { default: "" }),
    origin: str('CORS origin; "*" allows any origin (also for WebSocket). Default: same host only.', {
      default: "",
      example: "*",
    }),
    tls_listen: str('Address of the HTTPS listener, e.g. ":8443"; needs `tls_cert` and `tls_key`.', {
      default: "",
      example: ":8443",
      format: "address",
    }),
    tls_cert: str("TLS certificate chain for `tls_listen` and `rtsp.tls_listen`: a file path or inline PEM; re-read on SIGHUP.", {
      default: "",
    }),
    tls_key: str("TLS private key for `tls_cert`: a file path or inline PEM; re-read on SIGHUP.", { default: "", secret: true }),
    unix_listen: str("Also listen on this Unix socket path.", {
      default: "",
      example: "/run/strom.sock",
      notImplemented: "strom does not listen on Unix sockets yet; use api.listen",
    }),
    allow_paths: strings("Only these request paths are served (e.g. /api/streams); empty allows all.", {
      default: [],
    }),
    local_auth: bool(
      "Require auth from loopback and Unix-socket clients too (they skip it by default).",
      false,
    ),
    allow_exec_sources: bool(
      "Let the API (and every other network protocol) add or change sources that run programs " +
        "(`exec:`, `echo:`, `expr:`) or pass raw arguments to ffmpeg (`#raw=`, `#input=`, non-template " +
        "`#video=`/`#audio=`/`#drawtext=`, file/device inputs), and change the keys that choose programs " +
        "or files (`ffmpeg`, `exec`, `api.static_dir`, `log.output`, ...). Off: such requests get 403. " +
        "Only the config file can turn it on.",
      false,
    ),
    auth: section("Several accounts with roles and per-stream access (strom extension).", {
      username: str(
        "The go2rtc seed article's single API account: an admin for the HTTP API (as `api.username`), " +
          "with `password` or a bcrypt `password_hash`.",
        { default: "", coerce: true },
      ),
      password: str("Plain password of `api.auth.username`.", { default: "", coerce: true, secret: true }),
      password_hash: str(
        "bcrypt hash of `api.auth.username`'s password (`$2a$`/`$2b$`/`$2y$`, made by `strom passwd`), checked " +
          "instead of `password`.",
        { default: "", secret: true },
      ),
      token_secret: str(
        "Secret (at least 32 characters, e.g. `${STROM_TOKEN_SECRET}`) that signs bearer tokens (JWT, HS256); " +
          "`strom token` makes them. Tokens are accepted as `Authorization: Bearer`, `?token=`, or as the " +
          "password on RTSP/RTMP. Empty: no tokens.",
        { default: "", secret: true },
      ),
      max_failed_logins: int(
        "Wrong passwords or tokens allowed per client IP within a minute, on every protocol; beyond it the IP " +
          "gets 429 Too Many Requests for a minute. 0 turns the limit off.",
        { default: 10 },
      ),
      users: {
        kind: "map",
        keyName: "<username>",
        values: userSchema,
        default: {},
        description: "Accounts by username.",
      },
    }),
  }),
  rtsp: section("RTSP server.", {
    listen: listen('Address of the RTSP server; "" disables it.', ":8554"),
    username: str("RTSP username; empty means no auth.", { default: "", coerce: true }),
    password: str("RTSP password.", { default: "", coerce: true, secret: true }),
    auth: section("The go2rtc seed article's RTSP accounts: admins for RTSP and RTMP, as `rtsp.username`.", {
      enabled: bool("Whether the accounts below apply; false ignores them.", true),
      users: {
        kind: "list",
        description: "RTSP accounts.",
        default: [],
        items: section("One RTSP account.", {
          username: str("Username.", { required: true, coerce: true }),
          password: str("Plain password (RTSP Digest needs one).", { coerce: true, secret: true }),
          password_hash: str("bcrypt hash checked instead of `password` (Basic auth only).", { secret: true }),
        }),
      },
    }),
    default_query: str(
      'Media query used when a client gives none, e.g. "video&audio", "mp4", "video=all&audio=all".',
      {
        default: "video&audio",
      },
    ),
    pkt_size: int(
      "Largest RTP packet sent to RTSP viewers, header included (100-65535). When set, frames are " +
        "re-packetized at this size; 0 forwards the source's own packets. A viewer's ?pkt_size=N overrides it.",
      { default: 0, max: 65535 },
    ),
    udp: bool("Also offer RTP over UDP to RTSP clients (TCP interleaved is always offered).", false),
    tls_listen: str(
      'Address of an RTSPS server (RTSP over TLS, `rtsps://host:8322/<stream>`), e.g. ":8322"; uses api.tls_cert ' +
        'and api.tls_key and the same accounts. "" (the default) disables it.',
      { default: "", example: ":8322", format: "address" },
    ),
  }),
  rtmp: section("RTMP server: players (ffplay rtmp://host:1935/<stream>) and publishers (ffmpeg -f flv, OBS) into existing streams.", {
    listen: listen('Address of the RTMP server, e.g. ":1935"; "" (the default) disables it.', ""),
  }),
  onvif: section(
    "strom as an ONVIF device (`/onvif/device_service`, always on) and its WS-Discovery (strom extension).",
    {
      discovery: bool(
        "Answer WS-Discovery probes (UDP 239.255.255.250:3702) so NVRs that search the LAN for ONVIF cameras " +
          "find strom, at `http://<address on their subnet>:<api.listen port>/onvif/device_service`.",
        false,
      ),
      interfaces: strings(
        "Answer probes only on these network interfaces (names as `ip link` lists them, e.g. `eth0`); empty: " +
          "every interface with an IPv4 address but loopback.",
        { default: [] },
      ),
      rescan: duration(
        "How often the interfaces are looked at again while discovery runs: one that appears or gets a new " +
          "address later (DHCP, a VPN, a container network) is answered on and sent a Hello, one that is gone is " +
          "dropped. 0 looks only at start.",
        30,
      ),
    },
  ),
  webrtc: section("WebRTC (browser playback, WHEP/WHIP, two-way audio).", {
    listen: str(
      'The one port for ICE of every WebRTC peer, UDP and TCP on the same number, e.g. ":8555" (forward this ' +
        "port, UDP and TCP, for access from outside; TCP serves peers that cannot reach UDP, unless " +
        'filters.networks leaves tcp4/tcp6 out; ":8555/tcp" fixes only the TCP port and picks the UDP one). ' +
        'A host part ("192.168.1.10:8555", "127.0.0.1:8555") limits ICE to that local address. "" (or ' +
        "filters.udp_ports set) gives each peer its own UDP port instead; so does a port that is taken, with " +
        'a warning. ":0" picks a free port.',
      {
        default: ":8555",
        example: ":8555",
        format: "webrtc-address",
      },
    ),
    candidates: strings(
      'Extra host candidates to announce, earlier entries first: "ip", "ip:port" or "domain:port" (each ' +
        "peer's own UDP port is announced with it). \"stun:8555\" makes strom gather server-reflexive " +
        "candidates through the STUN servers in ice_servers.",
      {
        default: [],
        acceptSingle: true,
      },
    ),
    ice_servers: {
      kind: "list",
      items: iceServerSchema,
      default: [],
      description:
        "STUN/TURN servers for strom's own ICE gathering and for browsers. None by default (offline: " +
        "LAN peers connect with host candidates); go2rtc's default was Cloudflare's and Google's STUN.",
    },
    filters: section("Limit which ICE candidates are gathered and offered.", {
      candidates: strings("Announce only these candidates (host IPs or the `candidates` entries)."),
      loopback: bool("Include loopback interfaces."),
      interfaces: strings(
        "Announce only the addresses of these network interfaces (names as `ip link` lists them, e.g. " +
          "`eth0`; resolved at start). Naming the loopback interface includes loopback.",
      ),
      ips: strings("Use only these local IPs."),
      networks: {
        kind: "list",
        items: { kind: "enum", values: ["udp4", "udp6", "tcp4", "tcp6"], description: "A network type." },
        description: "Use only these network types: udp4, udp6, tcp4, tcp6.",
      },
      udp_ports: {
        kind: "list",
        items: int("A port.", { min: 1, max: 65535 }),
        description: "Port range [min, max] for ICE: each peer's UDP socket (and ICE-TCP listener) takes " +
          "a free port from it; forward this range through a NAT.",
        example: "[50000, 50100]",
      },
    }),
    bandwidth: section(
      "How fast WebRTC publishers (WHIP, a browser's camera over /api/ws?dst=) send video: written into the answer " +
        "as b=AS/b=TIAS and Chrome's x-google bit rates (the go2rtc seed article's keys). Viewers get the camera's " +
        "video as it was encoded, so these do not apply to them.",
      {
        min: bitrate("The least a publisher's encoder aims for, e.g. \"500k\" (Chrome)."),
        max: bitrate("The most a publisher may send, e.g. \"4M\" (b=AS and b=TIAS, which browsers honour; tested in Chromium)."),
        start: bitrate("The rate a publisher starts at before its bandwidth estimate, e.g. \"1M\" (Chrome)."),
      },
    ),
    jitter_buffer: duration(
      "How long viewers' browsers hold video before showing it (the go2rtc seed article's key), sent as the " +
        "playout-delay RTP header extension to browsers that offer it (Chrome, Edge): 0 shows each frame as soon " +
        "as it is decoded (the least latency, no smoothing); a value such as \"200ms\" holds every frame that " +
        "long (a steadier picture over Wi-Fi or mobile networks). At most 40.95s. Not set: the browser decides.",
    ),
    max_peers: int("WebRTC sessions at most at once (strom's own); further offers are refused.", {
      default: 100,
      min: 1,
    }),
    audio_transcode: bool(
      "Browsers take no AAC: for a stream whose audio is only AAC, WebRTC viewers get Opus from one ffmpeg " +
        "per stream (ffmpeg.bin, fixed arguments), started with the first such viewer and stopped a few seconds " +
        "after the last. false: such viewers get video only.",
      true,
    ),
  }),
  ffmpeg: section(
    "ffmpeg binary, global args and named templates/presets.",
    {
      bin: str("ffmpeg binary: a name looked up in PATH or a full path.", { default: "ffmpeg" }),
      global: str("Arguments before the input on every ffmpeg command line.", { default: "-hide_banner" }),
      timeout: duration("Input timeout; fills `{timeout}` in the rtsp input template.", 5),
      output: str(
        "go2rtc's output template for RTSP-publishing ffmpeg sources (must contain `{output}`). When set, " +
          "ffmpeg: sources publish to strom's RTSP server through it instead of writing MPEG-TS to a pipe.",
        { coerce: true },
      ),
    },
    {
      extra: str("An input/output template or codec preset, e.g. `h264: -c:v libx264 -preset superfast`.", {
        coerce: true,
      }),
      extraName: "<template>",
    },
  ),
  exec: section("exec: sources (they run commands; config file only, never through the API).", {
    allow_paths: strings(
      "Only these executables may be run by exec: sources (a name looked up in PATH or a full path; " +
        "compared after resolving both); empty allows any. ffmpeg: sources run `ffmpeg.bin` and are not limited by it.",
      { default: [] },
    ),
  }),
  streams: {
    kind: "map",
    keyName: "<stream>",
    values: {
      kind: "sources",
      description: "Source URL, list of URLs tried in order, {url: ...}, or empty for a push-only stream.",
      example: "rtsp://user:pass@192.168.1.10/stream1",
    },
    default: {},
    description: "Streams by name; each has one or more sources.",
  },
  publish: {
    kind: "map",
    keyName: "<stream>",
    values: strings("Destination URL or list of URLs (rtmp://, rtmps://, rtsp://, rtsps://).", { acceptSingle: true }),
    default: {},
    description:
      "Push streams to other servers from server start (YouTube, Twitch, another strom); a failed or dropped " +
      "publish is retried with backoff (1 s up to 30 s) and shown with its error in /api/streams.",
  },
  preload: {
    kind: "map",
    keyName: "<stream>",
    values: str('Media query to keep running, e.g. "video=h264&audio=opus"; empty means "video&audio".', {
      ifNull: "video&audio",
    }),
    default: {},
    description: "Streams kept running without viewers (instant start, warm GOP cache).",
  },
  disabled: {
    kind: "map",
    keyName: "<stream>",
    values: str('Why it is disabled, shown in /api/streams and /api/disabled (may be empty).', { ifNull: "" }),
    default: {},
    description:
      "Streams turned off (privacy mode): no viewers, no publishers, no snapshots, sources stopped, preload and " +
      "recording paused until enabled again; PUT and DELETE /api/disabled?src= change it and write it back here.",
  },
  log: section(
    "Logging.",
    {
      level: level("Default log level: trace, debug, info, warn, error or disabled.", "info"),
      format: {
        kind: "enum",
        values: ["auto", "color", "json", "text"],
        aliases: { "": "auto" },
        default: "auto",
        description: "Line format; auto is color on a terminal, text otherwise.",
      },
      output: str(
        'Where logs go: "stdout", "stderr", "file" (strom.log), "file:<path>" or a file path ' +
          '("/var/log/strom.log", as the go2rtc seed article writes it), or "" for memory only (GET /api/log).',
        {
          default: "stdout",
        },
      ),
      time: str('Timestamp format: "" (RFC 3339), "UNIXMS", "UNIXMICRO" or "UNIXNANO".', {
        default: "",
      }),
      rotation: section("Size-based rotation of the log file (`output: file:<path>`): <path>.1 is the newest old file.", {
        max_size: bytes('Start a new file when the current one would grow beyond this, e.g. "100MB"; 0 = never.', 0),
        max_files: int("Old files kept besides the current one (<path>.1 ... <path>.N); older ones are deleted.", {
          default: 10,
        }),
        compress: bool("Gzip the old files (<path>.1.gz ...).", false),
      }),
      ffmpeg: level("Level of ffmpeg's own stderr output (passed to ffmpeg as -v).", "error"),
      ...Object.fromEntries(
        LOG_MODULES.map((m) => [m, level(`Log level of the ${m} module (default: level).`)]),
      ),
    },
  ),
  debug: section("Debug output to the log (strom extension, names from the go2rtc seed article).", {
    dump_sdp: bool(
      "Log every SDP strom receives or sends (RTSP DESCRIBE answers of sources and of its server, ANNOUNCE " +
        "offers of publishers, WebRTC offers and answers) at info level, whatever log.level says.",
      false,
    ),
  }),
  hls: section("HLS output limits (segments are kept in memory, once per stream and container, shared by its sessions).", {
    max_sessions: int("Most concurrent HLS sessions; new ones are refused beyond it. 0 = unlimited.", {
      default: 50,
    }),
    session_timeout: duration(
      "Drop an HLS session after this long without a playlist or segment request.",
      30,
    ),
    max_session_bytes: bytes(
      "Most bytes of segments kept in memory per stream and container (all its HLS sessions share them).",
      16_000_000,
    ),
    variants: {
      kind: "list",
      items: str("A picture height: 480p or 480.", { coerce: true }),
      acceptSingle: true,
      description: "Adaptive bitrate (strom's own): lower-resolution versions listed next to the camera's own in " +
        "stream.m3u8's multivariant playlist, so a player on a slow link switches down instead of stalling, " +
        "e.g. [480p, 240p]. Only heights below the camera's are listed. Each is made by one ffmpeg per stream and " +
        "level (libx264, audio copied), started when a player first asks for it and stopped after its last " +
        "player left. Needs rtsp.listen (ffmpeg reads the stream from it); streams whose names hold other " +
        "characters than letters, digits and _.~- get none.",
      example: "[480p, 240p]",
    },
    max_bitrate: bitrate(
      "The most a made version's video may use, e.g. \"2M\" (default by height: 240p 400k, 360p 800k, " +
        "480p 1.2M, 720p 3M, 1080p 6M). The camera's own version is passed through as it is.",
    ),
  }),
  metrics: section(
    "Prometheus metrics (strom extension). The go2rtc seed article's list of names (`metrics: [stream_count, " +
      "connection_count, ...]`) is taken as `enabled: true`, with a warning naming the families that carry them.",
    {
      enabled: bool("Serve metrics in Prometheus text format on the API listener.", false),
      path: str("Path of the metrics endpoint.", { default: "/metrics", format: "url-path" }),
    },
    { fromList: seedMetricsList },
  ),
  monitoring: section(
    "Monitoring as in the go2rtc seed article (strom extension): Prometheus metrics and a health check on their own " +
      "port, and alerts on CPU, memory, streams and connections that notify (log, `hooks.on_alert`), restart or exit.",
    {
      enabled: bool("Turns monitoring on: metrics (as `metrics.enabled`), the health check, `metrics_port` and `alerts`.", false),
      metrics_port: str(
        "A listener of its own for the metrics (`metrics.path`) and the health check, e.g. 9090 or \"127.0.0.1:9090\"; " +
          "same accounts and `allow_paths` as the API. Empty: both on the API listener only.",
        { default: "", example: "9090", format: "port-or-address", coerce: true },
      ),
      health_check: str(
        "Path of the health check (the `/api/health` answer: 200 ok or degraded, 503 while stopping) on the API listener " +
          "and on `metrics_port`.",
        { default: "/health", format: "url-path" },
      ),
      interval: duration("How often alerts are checked (CPU is averaged over it).", 5),
      alerts: {
        kind: "list",
        description: "Alerts: a condition that must hold for `duration` before the action runs once; it runs again only " +
          "after the condition cleared. `strom_alert_firing{alert}` in the metrics and `alerts` in `/api/health` show them.",
        default: [],
        items: section("One alert.", {
          name: str("Name in logs, hooks and metrics.", { required: true }),
          condition: str(
            "`<measure> <op> <number>[unit] [per <window>]`: measures `cpu_percent` (% of one core), `memory` " +
              "(resident, bytes: 512MB), `memory_growth` (with `per 1h`), `streams_down`, `connections`; ops > >= < <=. " +
              'E.g. "cpu_percent > 80", "memory_growth > 100MB per 1h".',
            { required: true, check: alertConditionProblem },
          ),
          duration: duration("How long the condition must hold before the action (0: at the first check).", 0),
          action: {
            kind: "enum",
            values: ["notify", "restart", "exit"],
            default: "notify",
            description: "notify: a warning in the log and `hooks.on_alert`; restart: also restarts the server in-process " +
              "(as POST /api/restart; not in its first minute); exit: also stops the process with exit code 75 for a " +
              "supervisor to start it again (systemd `Restart=on-failure`, Docker `restart:`).",
          },
        }),
      },
    },
  ),
  limits: section("Connection limits and timeouts for HTTP (with WebSockets), RTSP and RTMP clients (strom extension).", {
    max_connections: int(
      "Most concurrent client connections across HTTP, RTSP and RTMP; more are refused (HTTP 503, RTSP 503). 0 = unlimited.",
      { default: 0 },
    ),
    max_connections_per_ip: int(
      "Most concurrent connections from one client IP address; more are refused (HTTP 429, RTSP 503). 0 = unlimited.",
      { default: 0 },
    ),
    max_connections_per_stream: int(
      "Most concurrent consumers of one stream (viewers of every protocol, preload and recording included); " +
        "more are refused (HTTP 503, RTSP 453, RTMP NetStream.Play.Failed). 0 = unlimited.",
      { default: 0 },
    ),
    connection_timeout: duration(
      "A client must send a complete request (HTTP headers; an RTSP request before it streams) within this long " +
        "after connecting or starting one; otherwise it is closed (half-open and slow clients).",
      30,
    ),
    idle_timeout: duration("Close an HTTP keep-alive connection that sends no new request for this long.", 60),
    write_timeout: duration(
      "Drop a viewer whose socket takes no bytes for this long while data waits for it (it stopped reading); " +
        "other viewers are not affected. 0 = never.",
      15,
    ),
    max_body_size: bytes(
      "Largest HTTP request body (config, streams, WebRTC offers); larger ones get 413. Media pushed to the " +
        "ingest routes (/api/stream*) is not limited by it.",
      1_000_000,
    ),
    max_ws_message: bytes("Largest message a client may send on /api/ws; a larger one closes the socket (1009).", 1_000_000),
    shutdown_timeout: duration(
      "On SIGTERM/SIGINT, how long to wait for sessions, recordings and child processes to finish before exiting anyway.",
      10,
    ),
  }),
  record: section("Continuous recording into fragmented MP4 segment files (strom extension).", {
    dir: str("Folder for recordings; one subfolder per stream.", { default: "recordings" }),
    streams: strings(
      'Streams to record, by name or with * wildcards ("front_*", "*"); empty records none. ' +
        "A recorded stream's sources are kept running.",
      { default: [], acceptSingle: true },
    ),
    segment: duration("Length of one segment file (cut at the next keyframe).", 60),
    max_age: duration('Delete segments older than this, e.g. "7d"; 0 keeps them forever.', 0),
    max_size: bytes(
      "Delete a stream's oldest segments when its folder grows beyond this; 0 = no cap.",
      0,
    ),
    overrides: {
      kind: "map",
      keyName: "<stream>",
      values: section("Settings for the streams matching this name or * pattern.", {
        segment: duration("Segment length for these streams."),
        max_age: duration("Retention age for these streams."),
        max_size: bytes("Size cap per stream folder for these streams."),
      }),
      default: {},
      description: "Per-stream settings that replace segment, max_age or max_size (first matching key wins).",
    },
  }),
  hooks: section(
    "Event hooks (strom extension, like mediamtx's runOn*): commands run and/or webhooks called when " +
      "something happens to a stream. They run in the background (never delaying media), at most " +
      "max_running at once; further events wait in a queue of max_queued and are dropped (logged) beyond it. " +
      "Commands cannot be added or changed through the API unless api.allow_exec_sources is true.",
    {
      timeout: duration("Kill a hook command, or abort a webhook request, after this long.", 10),
      max_running: int("Most hooks running at once.", { default: 4, min: 1 }),
      max_queued: int("Most hooks waiting to run; events beyond it are dropped and logged.", { default: 256 }),
      ...Object.fromEntries(
        HOOK_EVENTS.map(([event, what]) => [`on_${event}`, hookList(what)]),
      ),
    },
  ),
  cluster: section(
    "Several strom nodes sharing cameras: each camera is pulled by one node and every node serves every stream. " +
      "Members either find each other through NATS JetStream (`nats`) or are listed in `nodes` and check each " +
      "other's health over HTTP (the go2rtc seed article's form). Off without either.",
    {
    enabled: bool("`false` turns clustering off while keeping the rest of the section. Default: on when `nats` or `nodes` is set."),
    node: str(
      "This node's name, unique in the cluster (required with `nats`). With `nodes`, the entry that is this node; " +
        "empty: the entry whose `address` has this node's `api.listen` port and one of its addresses.",
      { default: "", example: "node-1" },
    ),
    nodes: {
      kind: "list",
      description: "Every node of a cluster without NATS, the same list on each (the go2rtc seed article's form). Each " +
        "node polls the others' `load_balancer.health_check` every `check_interval`; one that fails `failover_threshold` " +
        "checks in a row is down and its cameras move to the others.",
      default: [],
      items: section("One node.", {
        name: str("The node's name, unique in the list.", { required: true }),
        address: str('Where its HTTP API answers: "10.0.0.2:1984" or "http(s)://10.0.0.2:1984".', { required: true }),
        weight: int("Relative capacity: weight 2 is given twice the cameras and viewers of weight 1.", { default: 1, min: 1 }),
      }),
    },
    load_balancer: section("How a cluster listed in `nodes` checks its members, and how any cluster balances viewers.", {
      algorithm: {
        kind: "enum",
        values: ["least-connections", "round-robin", "none"],
        default: "none",
        description: "Sends each new HTTP viewer (stream.mp4, .m3u8, .ts, .flv, .mjpeg, .aac, frame.jpeg/.mp4), WHEP " +
          "and RTSP viewer to a node chosen this way, with a redirect (HTTP 307, RTSP 302) when it is another node; a " +
          "WebRTC offer over /api/ws gets that node's session through this one: " +
          "`least-connections` the node with the fewest viewers per unit of weight, `round-robin` each node in turn " +
          "(weight 2 twice as often). `none` serves every viewer where it arrives. MSE over /api/ws is never moved, " +
          "nor is another strom reading over RTSP (an edge or relay). On NATS the load is what each node announces.",
      },
      health_check: str("Path polled on every other node; any 2xx answer is healthy.", { default: "/api/health", format: "url-path" }),
      check_interval: duration("How often each node is checked.", 10),
      failover_threshold: int("Failed checks in a row after which a node is down.", { default: 3, min: 1 }),
    }),
    session_sticky: bool(
      "With a `load_balancer.algorithm`: a client (by IP address) goes on to the node it was first sent to while that " +
        "node is up, until `session_timeout` after its last request.",
      false,
    ),
    session_timeout: duration("How long a sticky client is remembered after its last request.", 3600),
    nats: strings('NATS server URL(s) with JetStream enabled, e.g. "nats://10.0.0.1:4222"; empty turns clustering off.', {
      default: [],
      acceptSingle: true,
    }),
    username: str(
      "NATS username. With `nodes`: the account this node uses on the other nodes' API (health checks, WebRTC " +
        "viewers balanced there over /api/ws) and RTSP (relays).",
      { default: "", coerce: true },
    ),
    password: str("The password of `username`.", { default: "", coerce: true, secret: true }),
    token: str("NATS token (instead of username/password).", { default: "", secret: true }),
    advertise: section("How other nodes reach this one.", {
      api: str('Base URL of this node\'s HTTP API, e.g. "http://10.0.0.2:1984". Default: 127.0.0.1 and the api.listen port.', {
        default: "",
      }),
      rtsp: str(
        'Base URL of this node\'s RTSP server, e.g. "rtsp://10.0.0.2:8554" (add user:pass@ when RTSP needs auth). ' +
          "Default: 127.0.0.1 and the rtsp.listen port.",
        { default: "" },
      ),
    }),
    weight: int("Relative capacity: a node of weight 2 is given streams until it carries twice the load of weight 1.", {
      default: 1,
      min: 1,
    }),
    heartbeat: duration("How often the node announces itself and checks owners.", 1),
    node_ttl: duration("A node whose announcement is older than this is gone; its streams move to others.", 5),
    bucket: str("Prefix of the JetStream KV buckets (`<bucket>_nodes`, `<bucket>_owners`); one per cluster.", {
      default: "strom",
    }),
    },
  ),
  edge: section("Edge mode: pull every stream from a central strom (or go2rtc) instead of its own sources.", {
    enabled: bool("`false` turns edge mode off while keeping the rest of the section. Default: on when `origin` or `central_server` is set."),
    origin: str(
      'The origin\'s RTSP base URL ("rtsp://central:8554", with user:pass@ when it needs auth) or, in a cluster, ' +
        "a node name. Every stream under `streams:` is pulled from `<origin>/<stream>`; empty turns edge mode off " +
        "unless `central_server` is set.",
      { default: "" },
    ),
    central_server: strings(
      'The central server\'s HTTP API, as the go2rtc seed article has it ("https://user:pass@central:1984"; strom or ' +
        "go2rtc), or a list of them (see `routing`). The edge asks its `GET /api` for its RTSP port and pulls each " +
        "stream from there (rtsps:// when this URL is https and the central has `rtsp.tls_listen`; MPEG-TS over this " +
        "URL when it has no RTSP listener). When `streams:` lists none, the edge serves every stream of the central's " +
        "`GET /api/streams`, re-read every `refresh`. With `origin` set too, media comes from `origin` and only the " +
        "stream list from here.",
      { acceptSingle: true },
    ),
    routing: section("Which of several `central_server`s the edge uses. It stays with one while it answers.", {
      strategy: {
        kind: "enum",
        values: ["nearest", "first"],
        default: "nearest",
        description: "At start: `nearest` the central that answers `GET /api` fastest, `first` the first listed that answers.",
      },
      fallback: {
        kind: "enum",
        values: ["round-robin", "nearest"],
        default: "round-robin",
        description: "When the central in use stops answering (checked at once when one of its streams fails, and every " +
          "`refresh`): `round-robin` the next listed after it that answers, wrapping around; `nearest` the fastest of " +
          "the others. Viewers stay attached and go on with the new central's frames.",
      },
    }),
    refresh: duration("How often the edge reads the central server's stream list and RTSP port again (`central_server`).", 30),
    cache: section("Keeping streams pulled after their last viewer, so a returning viewer starts at once without " +
      "the edge dialing the central again (the go2rtc seed article's edge cache).", {
      enabled: bool("Keep each stream pulled for `ttl` after its last viewer leaves (otherwise 5 s).", false),
      size: bytes(
        'Bytes of cached pictures (each stream\'s last GOP) that streams kept without viewers may hold together, e.g. "1GB"; ' +
          "past it, the stream idle the longest stops first. 0: no bound.",
        256_000_000,
      ),
      ttl: duration("How long a stream stays pulled after its last viewer left.", 300),
    }),
    offline_mode: bool(
      "While the central is unreachable, new viewers get the last picture and stay attached for up to `hold` " +
        "(the seed article's `buffer_duration`); `false` refuses them at once (503), as `hold: 0` does.",
      true,
    ),
    buffer_duration: {
      ...duration("The go2rtc seed article's place for `edge.hold` (which wins when both are set)."),
      movedTo: "edge.hold",
    },
    bandwidth: section(
      "The go2rtc seed article's adaptive bitrate for the edge's viewers: with `adaptive: true`, HLS players get " +
        "`quality_levels` as lower-resolution versions next to the central's own (as hls.variants, which wins " +
        "when set; made at the edge by ffmpeg, only while played), each held to `max_bitrate`.",
      {
        adaptive: bool("Offer quality_levels to HLS players (hls.variants).", false),
        max_bitrate: bitrate("The most a made version's video may use (as hls.max_bitrate, which wins when set)."),
        quality_levels: {
          kind: "list",
          items: str("A picture height: 480p or 480.", { coerce: true }),
          acceptSingle: true,
          description: "The versions to offer, e.g. [240p, 480p, 720p]; heights at or above the stream's own are left out.",
          example: "[240p, 480p, 720p]",
        },
      },
    ),
    hold: duration(
      "While the origin is down, new viewers of a stream the edge was serving get its last picture (the cached GOP) " +
        "at once and stay attached for the live frames when the origin is back, for up to this long after the drop; " +
        "later they are refused (503) as for any source that is down. 0 refuses them at once.",
      30,
    ),
  }),
  max_connections: int("The go2rtc seed article's place for `limits.max_connections` (which wins when both are set).", {
    movedTo: "limits.max_connections",
  }),
  connection_timeout: {
    ...duration("The go2rtc seed article's place for `limits.connection_timeout` (which wins when both are set)."),
    movedTo: "limits.connection_timeout",
  },
  env: {
    kind: "map",
    keyName: "<NAME>",
    values: str("Value for ${NAME} in config files.", { coerce: true, secret: true }),
    default: {},
    description:
      "Variables for ${NAME} substitution; looked up before $CREDENTIALS_DIRECTORY and the environment.",
  },
});

/**
 * Keys of the go2rtc seed article's config examples that strom has no key for, with what to use
 * instead: they are warned about with this hint rather than as a bare unknown key.
 */
export const SEED_KEY_HINTS: Readonly<Record<string, string>> = (() => {
  const webrtc = "strom passes WebRTC video through without re-encoding and resends lost packets (NACK) and " +
    "keyframes on request (PLI) on its own; for viewers on lossy networks, webrtc.jitter_buffer (e.g. 200ms) " +
    "gives their browsers time to get lost packets again before the frame is due";
  return {
    "rtsp.timeout": "a half-sent RTSP request is closed after limits.connection_timeout; a camera's own timeout " +
      "is #timeout=<seconds> on its URL",
    "rtsp.buffer_size": "strom sizes its RTSP buffers itself; a reader that falls behind skips to the next " +
      "keyframe and limits.write_timeout drops one that stalls",
    "debug.enabled": "debug output is chosen by kind: debug.dump_sdp, and log.level: debug (or per module, " +
      "e.g. log.rtsp: debug)",
    "debug.dump_rtp": "RTP is not logged packet by packet; capture it with tcpdump or Wireshark",
    "debug.trace_connections": "/api/streams lists each stream's connections, and hooks.on_read/on_unread and " +
      "on_publish/on_unpublish report each one as it comes and goes",
    "webrtc.packet_loss": webrtc,
  };
})();

/**
 * Top-level sections of go2rtc that strom does not implement: they get a clearer warning than an
 * unknown key ("go2rtc feature ... ignored").
 */
export const GO2RTC_ONLY_SECTIONS: readonly string[] = [
  "echo",
  "hass",
  "homekit",
  "ngrok",
  "pinggy",
  "srtp",
  "webtorrent",
  "wyoming",
  "wyze",
  "xiaomi",
  "ring",
  "nest",
  "roborock",
  "tuya",
  "gopro",
];

/** One line of the config reference. */
export interface ConfigKeyDoc {
  /** Dotted path; `<stream>`-style segments stand for user-chosen names, `[]` for list items. */
  path: string;
  /** Human-readable type, e.g. `string`, `duration`, `list of string`, `section`. */
  type: string;
  description: string;
  /** The default as YAML would show it, when there is one. */
  default?: unknown;
  example?: string;
  /** Allowed values of an enum. */
  values?: readonly string[];
  /** Set when the key is accepted but has no effect yet (see {@link NodeBase.notImplemented}). */
  notImplemented?: string;
}

/**
 * Flattens the schema into one entry per key (sections included), in declaration order, for the
 * docs generator.
 *
 * @example
 * ```ts
 * for (const k of listConfigKeys()) console.log(`| ${k.path} | ${k.type} | ${k.default ?? ""} | ${k.description} |`);
 * ```
 */
export function listConfigKeys(root: ObjectNode = configSchema): ConfigKeyDoc[] {
  const out: ConfigKeyDoc[] = [];
  const visit = (node: SchemaNode, path: string) => {
    const entry: ConfigKeyDoc = { path, type: typeName(node), description: node.description };
    if (node.default !== undefined) entry.default = node.default;
    if (node.example !== undefined) entry.example = node.example;
    if (node.kind === "enum") entry.values = node.values;
    if (node.notImplemented) entry.notImplemented = node.notImplemented;
    if (path) out.push(entry);
    const prefix = path ? `${path}.` : "";
    if (node.kind === "object") {
      for (const [key, child] of Object.entries(node.keys)) visit(child, prefix + key);
      if (node.extra) visit(node.extra, prefix + (node.extraName ?? "<key>"));
    } else if (node.kind === "map") {
      visit(node.values, prefix + node.keyName);
    } else if (node.kind === "list" && (node.items.kind === "object" || node.items.kind === "map")) {
      visit(node.items, `${path}[]`);
    }
  };
  visit(root, "");
  return out;
}

/**
 * A schema node's type in words, as the docs show it.
 *
 * @example
 * ```ts
 * typeName({ kind: "list", items: { kind: "string", description: "" }, description: "" }); // "list of string"
 * ```
 */
export function typeName(node: SchemaNode): string {
  switch (node.kind) {
    case "number":
      return node.integer ? "integer" : "number";
    case "enum":
      return "enum";
    case "list":
      return `list of ${typeName(node.items)}`;
    case "object":
      return "section";
    case "map":
      return `map of ${node.keyName} to ${typeName(node.values)}`;
    case "sources":
      return "source URL(s)";
    case "bytes":
      return node.bitrate ? "bit rate" : "bytes";
    default:
      return node.kind;
  }
}
