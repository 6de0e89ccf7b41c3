/**
 * Writes an RTSP viewer's RTP and RTCP to its transport: interleaved on the RTSP connection
 * (RFC 2326 section 10.12, `$ channel length` before each packet) or over UDP.
 *
 * Every packet gets the payload type of our SDP, the track's SSRC, a sequence number that continues
 * without gaps, and a timestamp on the track's continuous timeline; the header is rewritten in the
 * serialized copy, so the source's packet (shared with every other viewer) is never modified. The
 * packets of one frame go out as ONE socket write.
 *
 * Frames that a viewer packetizes itself (`pkt_size`, frames without the source's packets) go out
 * through one frame buffer shared by every TCP viewer in the process: a viewer takes it, serializes
 * its frame into it and writes it; when the socket took the write whole (nothing queued), the runtime
 * holds no reference any more and the buffer goes back for the next viewer. The fan-out is
 * synchronous, so with 200 viewers of one camera this is one buffer the size of the largest frame
 * instead of 200 (a keyframe per viewer: ~170 KB x 200 = 34 MB at 1080p 4 Mbit/s). A buffer the
 * socket kept is simply left to it; the next write takes a fresh one.
 *
 * A source frame's packets (the usual case) are serialized once for every viewer: the first viewer that writes a
 * frame forwarded from the source (`frame.packets`, the same array for every viewer) lays out its
 * interleaved bytes in a template; each viewer then patches, in the template itself, only what is
 * its own in each header (channel, payload type, sequence number, timestamp, SSRC), and writes it.
 * Every one of those bytes is rewritten for each viewer, so what the previous viewer left there
 * does not matter, and nothing is copied per viewer (19 KB per frame at 4 Mbit/s, 100 KB for a
 * keyframe). Under the same rule as the frame buffer above: a socket that kept the template (its
 * write was queued) keeps it, and the template moves to a copy. The fan-out is synchronous, so one
 * template (the last frame) serves all viewers of a frame.
 *
 * @module
 */
import type { TcpConn } from "../../runtime/mod.ts";
import { type RtpPacket, rtpSize, writeRtp } from "../../rtp/packet.ts";
import { writeInterleavedHeader } from "./message.ts";
import { senderReport, type SenderReportInfo } from "./sender_report.ts";
import type { ViewerTrack } from "./viewer_track.ts";

let sharedFrameBuffer: Uint8Array | undefined;

// The template: the interleaved serialization (channel 0, the source's headers) of `tplKey`, the
// packets of the last source frame written; per packet in it, where its interleaved header starts
// and its source timestamp. Packets over 64 KiB cannot be interleaved and are left out.
let tplKey: readonly RtpPacket[] | undefined;
let tplBytes = new Uint8Array(0);
let tplView = tplBytes;
let tplCount = 0;
let tplOctets = 0;
let tplOffsets = new Int32Array(64);
let tplTimestamps = new Uint32Array(64);

/** Moves the template into a buffer of its own, leaving the old one to the socket that holds it. */
function detachTemplate(): void {
  const copy = new Uint8Array(Math.max(tplView.length, 4096));
  copy.set(tplView);
  tplBytes = copy;
  tplView = copy.subarray(0, tplView.length);
}

function buildTemplate(packets: readonly RtpPacket[]): void {
  const n = packets.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += 4 + rtpSize(packets[i]);
  if (tplBytes.length < total) tplBytes = new Uint8Array(Math.max(total, tplBytes.length * 2, 4096));
  if (tplOffsets.length < n) {
    tplOffsets = new Int32Array(Math.max(n, tplOffsets.length * 2));
    tplTimestamps = new Uint32Array(tplOffsets.length);
  }
  let off = 0;
  let count = 0;
  let octets = 0;
  for (let i = 0; i < n; i++) {
    const pkt = packets[i];
    const size = rtpSize(pkt);
    if (size > 0xffff) continue;
    writeInterleavedHeader(tplBytes, off, 0, size);
    writeRtp(pkt, tplBytes, off + 4);
    tplOffsets[count] = off;
    tplTimestamps[count] = pkt.timestamp;
    count++;
    off += 4 + size;
    octets += pkt.payload.length;
  }
  tplKey = packets;
  tplView = tplBytes.subarray(0, off);
  tplCount = count;
  tplOctets = octets;
}

/**
 * The writer of one viewer session (all its tracks share the connection and its bound).
 *
 * @example
 * ```ts
 * const writer = new ViewerRtpWriter(conn, 4 * 1024 * 1024);
 * const sent = writer.writeFrame(track, frame.packets!);
 * if (writer.mustWait) await conn.drained();
 * ```
 */
export class ViewerRtpWriter {
  /** Bytes written to the viewer (RTP and RTCP, interleaving headers included). */
  bytesOut = 0;
  /**
   * Set by {@link writeFrame}: the socket queued the frame and is above its high-water mark, so the
   * caller should wait for `conn.drained()` before the next frame.
   */
  mustWait = false;
  readonly #conn: TcpConn;
  readonly #maxBuffered: number;

  /** `maxBufferedBytes`: above it frames should wait ({@link overBound}) and reports are not sent. */
  constructor(conn: TcpConn, maxBufferedBytes: number) {
    this.#conn = conn;
    this.#maxBuffered = maxBufferedBytes;
  }

  /** Whether more than the bound waits in the socket (several tracks share it). */
  get overBound(): boolean {
    return this.#conn.bufferedAmount > this.#maxBuffered;
  }

  /**
   * Writes one frame's packets for a track that has a transport; returns how many packets went out
   * (packets over 64 KiB cannot be interleaved and are left out). Updates the track's counters.
   * `shared`: `packets` is the source frame's own array, the same for every viewer and never
   * changed, so its serialization is made once and shared (see the module docs).
   */
  writeFrame(t: ViewerTrack, packets: readonly RtpPacket[], shared = false): number {
    const transport = t.transport!;
    const n = packets.length;
    this.mustWait = false;
    if (transport.type === "tcp" && shared) {
      if (tplKey !== packets) buildTemplate(packets);
      // Patched in place: every byte a viewer owns is rewritten for each viewer, the rest is the
      // same for all (see the module docs).
      const buf = tplBytes;
      const total = tplView.length;
      const channel = transport.channel & 0xff;
      const pt = t.payloadType;
      const ssrc = t.ssrc;
      const timeline = t.timeline;
      let seq = t.nextSequence;
      let lastIn = -1;
      let ts = 0;
      const count = tplCount;
      for (let i = 0; i < count; i++) {
        const at = tplOffsets[i];
        buf[at + 1] = channel;
        const h = at + 4;
        buf[h + 1] = (buf[h + 1] & 0x80) | pt;
        buf[h + 2] = seq >> 8;
        buf[h + 3] = seq & 0xff;
        seq = (seq + 1) & 0xffff;
        const tsIn = tplTimestamps[i];
        if (tsIn !== lastIn) {
          ts = timeline.rewrite(tsIn);
          lastIn = tsIn;
        }
        buf[h + 4] = ts >>> 24;
        buf[h + 5] = (ts >>> 16) & 0xff;
        buf[h + 6] = (ts >>> 8) & 0xff;
        buf[h + 7] = ts & 0xff;
        buf[h + 8] = ssrc >>> 24;
        buf[h + 9] = (ssrc >>> 16) & 0xff;
        buf[h + 10] = (ssrc >>> 8) & 0xff;
        buf[h + 11] = ssrc & 0xff;
      }
      if (count > 0) t.lastRtpTimestamp = ts;
      t.nextSequence = seq;
      this.bytesOut += total;
      t.packetsSent += count;
      t.payloadOctetsSent += tplOctets;
      const accepted = this.#conn.write(tplView);
      const queued = this.#conn.bufferedAmount !== 0;
      // The socket kept a reference to the template: it is the socket's now, untouched from here on;
      // the next viewer and frame get a copy.
      if (queued) detachTemplate();
      this.mustWait = queued && !accepted; // as in #send
      // Not through #send: the template must never become the frame buffer the other path fills.
      return count;
    }
    if (transport.type === "tcp") {
      let total = 0;
      for (let i = 0; i < n; i++) total += 4 + rtpSize(packets[i]);
      let buf = sharedFrameBuffer;
      if (!buf || buf.length < total) buf = new Uint8Array(Math.max(total, 4096));
      sharedFrameBuffer = undefined;
      let off = 0;
      let written = 0;
      let octets = 0;
      for (let i = 0; i < n; i++) {
        const pkt = packets[i];
        const size = rtpSize(pkt);
        if (size > 0xffff) continue;
        writeInterleavedHeader(buf, off, transport.channel, size);
        writeRtp(pkt, buf, off + 4);
        rewriteHeader(t, buf, off + 4, pkt);
        off += 4 + size;
        written++;
        octets += pkt.payload.length;
      }
      this.bytesOut += off;
      t.packetsSent += written;
      t.payloadOctetsSent += octets;
      return this.#send(buf, off, written);
    }
    let total = 0;
    for (let i = 0; i < n; i++) total += rtpSize(packets[i]);
    const buf = new Uint8Array(total);
    let off = 0;
    let octets = 0;
    for (let i = 0; i < n; i++) {
      const pkt = packets[i];
      const size = writeRtp(pkt, buf, off);
      rewriteHeader(t, buf, off, pkt);
      transport.rtp.send(buf.subarray(off, off + size), transport.port, transport.host);
      off += size;
      octets += pkt.payload.length;
    }
    this.bytesOut += off;
    t.packetsSent += n;
    t.payloadOctetsSent += octets;
    return n;
  }

  // One write of a frame's bytes (buf[0, length)); returns `written` (the packets in it).
  #send(buf: Uint8Array, length: number, written: number): number {
    const conn = this.#conn;
    const accepted = conn.write(buf.subarray(0, length));
    // Nothing queued means the bytes went to the kernel and the runtime holds no reference to buf
    // (checked on Node, Deno and Bun: consumer_test.ts "shares one frame buffer").
    const queued = conn.bufferedAmount !== 0;
    if (!queued) sharedFrameBuffer = buf;
    // write() says "above the high-water mark" for any chunk larger than the mark (Node's
    // Writable compares before writing), even when the socket took it whole. Nothing queued
    // means nothing to wait for: waiting would cost a promise per frame per viewer and delay
    // the next frame to the 'drain' event.
    this.mustWait = queued && !accepted;
    return written;
  }

  /**
   * Sends one SR + SDES compound packet for a track, on its RTCP channel (RTP channel + 1) over TCP
   * or from our RTCP socket to the client's RTCP port over UDP. Its own write from its own buffer,
   * never inside a frame. A viewer that stopped reading gets no more reports piled up behind its
   * frames: returns false then.
   */
  writeSenderReport(t: ViewerTrack, info: SenderReportInfo, cname: string): boolean {
    const transport = t.transport!;
    if (transport.type === "tcp") {
      if (this.overBound) return false;
      const out = senderReport(info, cname, 4);
      writeInterleavedHeader(out, 0, transport.channel + 1, out.length - 4);
      this.#conn.write(out);
      this.bytesOut += out.length;
    } else {
      const out = senderReport(info, cname);
      transport.rtcp.send(out, transport.rtcpPort, transport.host);
      this.bytesOut += out.length;
    }
    return true;
  }
}

// Rewrites PT, sequence number, timestamp and SSRC in a serialized header.
function rewriteHeader(t: ViewerTrack, buf: Uint8Array, at: number, pkt: RtpPacket): void {
  buf[at + 1] = (buf[at + 1] & 0x80) | t.payloadType;
  const seq = t.nextSequence;
  t.nextSequence = (seq + 1) & 0xffff;
  buf[at + 2] = seq >> 8;
  buf[at + 3] = seq & 0xff;
  const ts = t.timeline.rewrite(pkt.timestamp);
  t.lastRtpTimestamp = ts;
  buf[at + 4] = ts >>> 24;
  buf[at + 5] = (ts >>> 16) & 0xff;
  buf[at + 6] = (ts >>> 8) & 0xff;
  buf[at + 7] = ts & 0xff;
  const ssrc = t.ssrc;
  buf[at + 8] = ssrc >>> 24;
  buf[at + 9] = (ssrc >>> 16) & 0xff;
  buf[at + 10] = (ssrc >>> 8) & 0xff;
  buf[at + 11] = ssrc & 0xff;
}
