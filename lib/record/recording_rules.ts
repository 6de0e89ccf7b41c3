/**
 * Which streams a `record:` config records, and with which settings: names or `*` patterns in
 * `streams`, and per-stream overrides matched the same way (an exact name beats a pattern).
 *
 * @module
 */

/** Settings of one stream's recording. */
export interface RecordSettings {
  /** Segment length, seconds. */
  segmentSeconds: number;
  /** Retention age, seconds; 0 keeps forever. */
  maxAgeSeconds: number;
  /** Size cap of the stream's folder, bytes; 0 = none. */
  maxBytes: number;
}

/** The `record:` config as {@link RecordRules} reads it. */
export interface RecordRulesConfig {
  streams: readonly string[];
  segment: number;
  max_age: number;
  max_size: number;
  overrides?: Record<string, { segment?: number; max_age?: number; max_size?: number }>;
}

/**
 * Whether a stream name matches a name or a `*` pattern (`*` is any run of characters).
 *
 * @example
 * ```ts
 * matchesPattern("front_door", "front_*"); // true
 * ```
 */
export function matchesPattern(name: string, pattern: string): boolean {
  if (!pattern.includes("*")) return name === pattern;
  const re = new RegExp(
    "^" + pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$",
  );
  return re.test(name);
}

/**
 * The recording rules of a config.
 *
 * @example
 * ```ts
 * const rules = new RecordRules({ streams: ["cam_*"], segment: 60, max_age: 0, max_size: 0 });
 * rules.records("cam_1"); // true
 * rules.settings("cam_1").segmentSeconds; // 60
 * ```
 */
export class RecordRules {
  readonly #config: RecordRulesConfig;

  constructor(config: RecordRulesConfig) {
    this.#config = config;
  }

  /** Whether the config records this stream. */
  records(name: string): boolean {
    return this.#config.streams.some((p) => matchesPattern(name, p));
  }

  /** The settings for a stream: the section's, with the first matching override applied. */
  settings(name: string): RecordSettings {
    const c = this.#config;
    const overrides = Object.entries(c.overrides ?? {});
    const o = overrides.find(([k]) => k === name)?.[1] ??
      overrides.find(([k]) => matchesPattern(name, k))?.[1] ?? {};
    return {
      segmentSeconds: o.segment ?? c.segment,
      maxAgeSeconds: o.max_age ?? c.max_age,
      maxBytes: o.max_size ?? c.max_size,
    };
  }
}
