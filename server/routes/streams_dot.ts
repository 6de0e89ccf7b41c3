/**
 * `GET /api/streams.dot[?src=]`: a Graphviz graph of each stream's producers (sources), their
 * receivers (tracks, with byte counts) and the consumers reading them, for `net.html`-style views.
 *
 * ```
 *   [source rtsp://cam] -> [video H264 1.2 MB] -> [consumer #3 mse]
 *                       -> [audio AAC 80 kB]   -^
 * ```
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { StreamNotFoundError } from "../../lib/core/errors.ts";
import type { Stream, StreamInfo } from "../../lib/core/stream.ts";
import type { AppContext } from "../context.ts";
import { mayRead, requestUser } from "../auth.ts";
import { ApiError } from "../errors.ts";

interface TrackInfo {
  media: string;
  codec: string;
  bytes: number;
  frames: number;
  senders: number;
  drops: number;
}

interface ProducerInfo {
  url: string;
  state: string;
  connection?: { id?: number; format?: string; remoteAddr?: string; bytesIn?: number };
  tracks?: TrackInfo[];
}

interface ConsumerInfo {
  id?: number;
  format?: string;
  protocol?: string;
  remoteAddr?: string;
  userAgent?: string;
  medias?: string[];
  bytesOut?: number;
  drops?: number;
}

/**
 * Renders streams as one Graphviz `digraph`.
 *
 * @example
 * ```ts
 * streamsToDot([hub.get("cam")!]); // 'digraph { ... }'
 * ```
 */
export function streamsToDot(streams: Stream[]): string {
  const out: string[] = ["digraph {", '  rankdir="LR";', '  node [shape=box, fontname="sans-serif"];'];
  let n = 0;
  for (const stream of streams) {
    const info = stream.info() as StreamInfo;
    const streamId = `s${n++}`;
    out.push(`  ${streamId} [label=${quote(`stream ${info.name}`)}, shape=ellipse];`);
    const receivers: { id: string; kind: string }[] = [];
    for (const p of info.producers as ProducerInfo[]) {
      const prodId = `p${n++}`;
      const lines = [`source ${p.url}`, p.state];
      if (p.connection?.format) lines.push(p.connection.format);
      if (p.connection?.remoteAddr) lines.push(p.connection.remoteAddr);
      if (p.connection?.bytesIn !== undefined) lines.push(`in ${formatBytes(p.connection.bytesIn)}`);
      out.push(`  ${prodId} [label=${quote(lines.join("\n"))}];`);
      out.push(`  ${prodId} -> ${streamId};`);
      for (const t of p.tracks ?? []) {
        const recvId = `r${n++}`;
        const label = [`${t.media} ${t.codec}`, `${formatBytes(t.bytes)}, ${t.frames} frames`];
        if (t.drops) label.push(`${t.drops} dropped`);
        out.push(`  ${recvId} [label=${quote(label.join("\n"))}, shape=note];`);
        out.push(`  ${prodId} -> ${recvId} [label=${quote(formatBytes(t.bytes))}];`);
        if (t.senders > 0) receivers.push({ id: recvId, kind: t.media });
      }
    }
    for (const consumer of info.consumers as ConsumerInfo[]) {
      const consId = `c${n++}`;
      const lines = [`consumer${consumer.id !== undefined ? ` #${consumer.id}` : ""} ${consumer.format ?? ""}`.trim()];
      if (consumer.protocol) lines.push(consumer.protocol);
      if (consumer.remoteAddr) lines.push(consumer.remoteAddr);
      if (consumer.userAgent) lines.push(consumer.userAgent);
      if (consumer.bytesOut !== undefined) lines.push(`out ${formatBytes(consumer.bytesOut)}`);
      if (consumer.drops) lines.push(`${consumer.drops} dropped`);
      out.push(`  ${consId} [label=${quote(lines.join("\n"))}, shape=component];`);
      // Stream info does not say which sender belongs to which consumer: link by media kind.
      const kinds = consumer.medias?.map((m) => m.split(/[:,\s]/)[0].toLowerCase());
      const linked = receivers.filter((r) => !kinds || kinds.length === 0 || kinds.includes(r.kind));
      if (linked.length === 0) out.push(`  ${streamId} -> ${consId};`);
      for (const r of linked) out.push(`  ${r.id} -> ${consId};`);
    }
  }
  out.push("}");
  return out.join("\n") + "\n";
}

/**
 * Registers `GET /api/streams.dot`, and the same graph as `GET /api/connections.dot` (the go2rtc
 * seed article's name for it).
 *
 * @example
 * ```ts
 * streamsDotRoutes(app, ctx);
 * ```
 */
export function streamsDotRoutes(app: Hono, ctx: AppContext): void {
  const handler = (c: Context) => {
    const src = c.req.query("src");
    const user = requestUser(c);
    // A viewer sees only the streams it may watch; naming another one is refused.
    let streams = ctx.hub.streams().filter((s) => mayRead(user, s.name));
    if (src !== undefined) {
      const names = src.split(",");
      const denied = user && names.find((n) => ctx.hub.get(n) && !mayRead(user, n));
      if (user && denied) throw new ApiError(403, `User "${user.name}" may not access stream "${denied}".`, "Forbidden");
      streams = streams.filter((s) => names.includes(s.name));
      if (streams.length === 0) throw new StreamNotFoundError(src);
    }
    return c.body(streamsToDot(streams), 200, { "Content-Type": "text/vnd.graphviz; charset=utf-8" });
  };
  app.get("/api/streams.dot", handler);
  app.get("/api/connections.dot", handler);
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`;
}
