/**
 * What a hook gets about an event: `STROM_*` environment variables for commands, a JSON body for
 * webhooks. Both carry the same facts.
 *
 * @module
 */
import type { StreamEvent } from "../../lib/core/events.ts";

/** The JSON body of a webhook request. */
export interface HookPayload {
  /** `ready`, `not_ready`, `read`, `unread`, `publish`, `unpublish`, `segment_complete`, `source_error`, `disabled`, `enabled`, `alert`. */
  event: StreamEvent["type"];
  stream: string;
  /** RFC 3339. */
  time: string;
  /** Source URL (secrets redacted): `ready`, `source_error`. */
  source?: string;
  /** `source_error`. */
  error?: string;
  /** The viewer or publisher: `read`, `unread`, `publish`, `unpublish`. */
  connection?: { id: number; format: string; protocol?: string; remote_addr?: string; user_agent?: string };
  /** `segment_complete`. */
  segment?: { path: string; start: string; duration: number };
  /** `disabled`: the reason given (may be empty). */
  reason?: string;
  /** `alert`: which alert, whether it fired or cleared, its condition, the measured value, the action. */
  alert?: { name: string; state: "firing" | "resolved"; condition: string; value: number; action: string };
}

/**
 * The JSON body of a webhook for an event.
 *
 * @example
 * ```ts
 * hookPayload({ type: "not_ready", stream: "cam", time: 0 });
 * // { event: "not_ready", stream: "cam", time: "1970-01-01T00:00:00.000Z" }
 * ```
 */
export function hookPayload(event: StreamEvent): HookPayload {
  const out: HookPayload = { event: event.type, stream: event.stream, time: new Date(event.time).toISOString() };
  switch (event.type) {
    case "ready":
      out.source = event.source;
      break;
    case "source_error":
      out.source = event.source;
      out.error = event.error;
      break;
    case "read":
    case "unread":
    case "publish":
    case "unpublish": {
      const c = event.connection;
      out.connection = { id: c.id, format: c.format };
      if (c.protocol) out.connection.protocol = c.protocol;
      if (c.remoteAddr) out.connection.remote_addr = c.remoteAddr;
      if (c.userAgent) out.connection.user_agent = c.userAgent;
      break;
    }
    case "segment_complete":
      out.segment = { path: event.path, start: new Date(event.start).toISOString(), duration: event.duration };
      break;
    case "disabled":
      out.reason = event.reason ?? "";
      break;
    case "alert":
      out.alert = { name: event.alert, state: event.state, condition: event.condition, value: event.value, action: event.action };
      break;
  }
  return out;
}

/**
 * The environment variables a hook command gets for an event (added to the server's own):
 *
 * | variable | events | value |
 * |---|---|---|
 * | `STROM_EVENT` | all | event name |
 * | `STROM_STREAM`, `STROM_PATH` | all | stream name (`STROM_PATH` as mediamtx's `MTX_PATH`) |
 * | `STROM_TIME` | all | RFC 3339 |
 * | `STROM_SOURCE` | ready, source_error | source URL, secrets redacted |
 * | `STROM_ERROR` | source_error | what failed |
 * | `STROM_CONN_ID`, `STROM_CONN_FORMAT`, `STROM_CONN_PROTOCOL`, `STROM_REMOTE_ADDR`, `STROM_USER_AGENT` | read, unread, publish, unpublish | the viewer or publisher |
 * | `STROM_SEGMENT_PATH`, `STROM_SEGMENT_START`, `STROM_SEGMENT_DURATION` | segment_complete | the file, its start (RFC 3339), seconds |
 * | `STROM_REASON` | disabled | the reason given, may be empty |
 * | `STROM_ALERT`, `STROM_ALERT_STATE`, `STROM_ALERT_CONDITION`, `STROM_ALERT_VALUE`, `STROM_ALERT_ACTION` | alert | name, `firing` or `resolved`, condition, measured value, action |
 *
 * @example
 * ```ts
 * hookEnv({ type: "not_ready", stream: "cam", time: 0 }).STROM_STREAM; // "cam"
 * ```
 */
export function hookEnv(event: StreamEvent): Record<string, string> {
  const p = hookPayload(event);
  const env: Record<string, string> = {
    STROM_EVENT: p.event,
    STROM_STREAM: p.stream,
    STROM_PATH: p.stream,
    STROM_TIME: p.time,
  };
  if (p.source !== undefined) env.STROM_SOURCE = p.source;
  if (p.error !== undefined) env.STROM_ERROR = p.error;
  if (p.connection) {
    env.STROM_CONN_ID = String(p.connection.id);
    env.STROM_CONN_FORMAT = p.connection.format;
    if (p.connection.protocol) env.STROM_CONN_PROTOCOL = p.connection.protocol;
    if (p.connection.remote_addr) env.STROM_REMOTE_ADDR = p.connection.remote_addr;
    if (p.connection.user_agent) env.STROM_USER_AGENT = p.connection.user_agent;
  }
  if (p.reason !== undefined) env.STROM_REASON = p.reason;
  if (p.alert) {
    env.STROM_ALERT = p.alert.name;
    env.STROM_ALERT_STATE = p.alert.state;
    env.STROM_ALERT_CONDITION = p.alert.condition;
    env.STROM_ALERT_VALUE = String(p.alert.value);
    env.STROM_ALERT_ACTION = p.alert.action;
  }
  if (p.segment) {
    env.STROM_SEGMENT_PATH = p.segment.path;
    env.STROM_SEGMENT_START = p.segment.start;
    env.STROM_SEGMENT_DURATION = String(p.segment.duration);
  }
  return env;
}
