/**
 * MPEG-TS demuxer: 188-byte packets in arbitrary chunks (HTTP, TCP, ffmpeg's stdout) to frames.
 *
 * - PAT -> first program's PMT -> elementary streams (H.264, H.265, AAC ADTS, Opus, Tapo PCMA);
 * - PES reassembly per PID: a PES ends when its length is reached or the next one starts;
 * - H.264/H.265 Annex-B -> AVCC (AUDs dropped), keyframe = IDR / IRAP; the codec's fmtp is filled
 *   from the first parameter sets;
 * - AAC: each ADTS frame becomes one frame; the codec's config comes from the first ADTS header.
 *
 * Robustness: it resynchronises on 0x47 after garbage, checks continuity counters (a gap drops the
 * PES being assembled), verifies PSI CRCs, bounds every buffer, and never throws out of `push`:
 * problems are counted in `errors`.
 *
 * Timestamps: video frames carry the DTS (90 kHz) and `cts` = PTS - DTS; audio frames the PTS in
 * the codec clock (the sample rate for AAC, 48 kHz for Opus). All derive from one 90 kHz clock, so
 * tracks share an origin (mux them with `timeBase: "shared"`). The 33-bit wrap is unfolded.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { adtsToAudioSpecificConfig, isAdts, parseAdtsHeader } from "../../codec/aac/adts.ts";
import { buildAacFmtp } from "../../codec/aac/fmtp.ts";
import { buildH264Fmtp } from "../../codec/h264/fmtp.ts";
import { annexbToAvcc } from "../../codec/annexb/annexb.ts";
import { buildH265Fmtp } from "../../codec/h265/fmtp.ts";
import { opusPacketDuration } from "../../codec/opus/toc.ts";
import { findDescriptor, parsePatSection, parsePmtSection } from "./ts_psi.ts";
import { readPesTimestamp, TS_PACKET_SIZE, TS_SYNC_BYTE, TsStreamType } from "./ts_packet.ts";

/** An elementary stream found in the PMT. */
export interface TsTrack {
  pid: number;
  streamType: number;
  kind: "video" | "audio";
  /**
   * The codec. For H.264/H.265 the fmtp (parameter sets) and for AAC the config, sample rate and
   * channels are filled in from the first frame: check {@link ready}.
   */
  codec: Codec;
  /** Whether the codec description is complete. */
  ready: boolean;
}

/** A frame out of the demuxer. */
export interface TsDemuxedFrame {
  track: TsTrack;
  frame: Frame;
}

/** Options of the {@link TsDemuxer}. */
export interface TsDemuxerOptions {
  /** Largest PES kept; bigger ones are dropped and counted. Default 16 MiB. */
  maxPesBytes?: number;
}

interface PesState {
  track: TsTrack;
  buf: Uint8Array;
  len: number;
  /** PES_packet_length + 6 when known, else 0. */
  expected: number;
  active: boolean;
  cc: number;
  /** Extended (unwrapped) timestamps. */
  lastPts: number;
  ptsBase: number;
  lastRawPts: number;
  /** ADTS bytes left over from the previous PES (a frame split across PES packets). */
  carry: Uint8Array | undefined;
  /** Video parameter sets seen (for the fmtp). */
  params: Map<number, Uint8Array>;
  /** Next audio timestamp when a PES carries no PTS. */
  nextAudioTs: number;
}

const SUPPORTED_TYPES = new Set<number>([
  TsStreamType.H264,
  TsStreamType.H265,
  TsStreamType.AAC_ADTS,
  TsStreamType.PRIVATE,
  TsStreamType.PCMA_TAPO,
]);

const WRAP33 = 0x200000000;

/**
 * MPEG-TS demuxer.
 *
 * @example
 * ```ts
 * const demux = new TsDemuxer();
 * for await (const chunk of body) {
 *   for (const { track, frame } of demux.push(chunk)) receivers.get(track.pid)?.push(frame);
 * }
 * ```
 */
export class TsDemuxer {
  /** Garbage/resync events, continuity gaps, bad PSI/PES: each counted once. */
  errors = 0;
  /** TS packets read. */
  packets = 0;
  /** Elementary streams of the current PMT (supported stream types only). */
  tracks: TsTrack[] = [];
  /** Increments whenever {@link tracks} changes (a new or updated PMT). */
  tracksVersion = 0;

  readonly #maxPes: number;
  #rest = new Uint8Array(TS_PACKET_SIZE);
  #restLen = 0;
  #inSync = true;
  #pmtPid = -1;
  #pmtVersion = -1;
  #pes = new Map<number, PesState>();
  /** PSI section assembly per PID. */
  #psi = new Map<number, { buf: Uint8Array; len: number }>();
  #out: TsDemuxedFrame[] = [];

  constructor(options: TsDemuxerOptions = {}) {
    this.#maxPes = options.maxPesBytes ?? 16 * 1024 * 1024;
  }

  /** Whether the PMT is known and every track's codec is complete. */
  get ready(): boolean {
    return this.tracks.length > 0 && this.tracks.every((t) => t.ready);
  }

  /**
   * Feeds bytes; returns the frames completed by them. Never throws on bad input.
   *
   * @example
   * ```ts
   * const frames = demux.push(chunk);
   * ```
   */
  push(chunk: Uint8Array): TsDemuxedFrame[] {
    const out: TsDemuxedFrame[] = [];
    this.#out = out;
    let p = 0;
    if (this.#restLen > 0) {
      const need = TS_PACKET_SIZE - this.#restLen;
      const n = Math.min(need, chunk.length);
      this.#rest.set(chunk.subarray(0, n), this.#restLen);
      this.#restLen += n;
      p = n;
      if (this.#restLen < TS_PACKET_SIZE) return out;
      this.#restLen = 0;
      this.#packet(this.#rest, 0);
    }
    const end = chunk.length;
    while (p < end) {
      if (
        chunk[p] !== TS_SYNC_BYTE || (p + TS_PACKET_SIZE < end && chunk[p + TS_PACKET_SIZE] !== TS_SYNC_BYTE)
      ) {
        // Resync: next 0x47 that is followed by another one a packet later (or the end of the chunk).
        if (this.#inSync) this.errors++;
        this.#inSync = false;
        p++;
        continue;
      }
      if (p + TS_PACKET_SIZE > end) {
        this.#rest.set(chunk.subarray(p, end), 0);
        this.#restLen = end - p;
        break;
      }
      this.#inSync = true;
      this.#packet(chunk, p);
      p += TS_PACKET_SIZE;
    }
    return out;
  }

  /**
   * Ends the stream: PES packets of unknown length still being assembled are emitted.
   *
   * @example
   * ```ts
   * const last = demux.flush();
   * ```
   */
  flush(): TsDemuxedFrame[] {
    const out: TsDemuxedFrame[] = [];
    this.#out = out;
    for (const st of this.#pes.values()) {
      if (st.active) this.#finishPes(st);
    }
    return out;
  }

  #packet(d: Uint8Array, p: number): void {
    this.packets++;
    const b1 = d[p + 1];
    if (b1 & 0x80) {
      this.errors++; // transport_error_indicator
      return;
    }
    const pusi = (b1 & 0x40) !== 0;
    const pid = ((b1 & 0x1f) << 8) | d[p + 2];
    const b3 = d[p + 3];
    if (pid === 0x1fff) return; // null packet
    const afc = (b3 >> 4) & 3;
    let q = p + 4;
    if (afc & 2) {
      const afLen = d[q];
      if (afLen > 183) {
        this.errors++;
        return;
      }
      q += 1 + afLen;
    }
    if (!(afc & 1) || q >= p + TS_PACKET_SIZE) return;
    const payload = d.subarray(q, p + TS_PACKET_SIZE);
    if (pid === 0 || pid === this.#pmtPid) {
      this.#psiPacket(pid, pusi, payload);
      return;
    }
    const st = this.#pes.get(pid);
    if (!st) return;
    const cc = b3 & 0x0f;
    if (st.cc >= 0) {
      const expected = (st.cc + 1) & 0x0f;
      if (cc === st.cc) return; // duplicate packet (allowed once by 2.4.3.3)
      if (cc !== expected && st.active) {
        this.errors++;
        st.active = false; // the PES lost data
        st.len = 0;
      }
    }
    st.cc = cc;
    if (pusi) {
      if (st.active) this.#finishPes(st);
      st.active = true;
      st.len = 0;
      st.expected = 0;
    } else if (!st.active) {
      return; // waiting for the start of a PES
    }
    this.#append(st, payload);
    if (st.expected === 0 && st.len >= 6) {
      const pesLen = (st.buf[4] << 8) | st.buf[5];
      st.expected = pesLen ? pesLen + 6 : -1;
    }
    if (st.expected > 0 && st.len >= st.expected) this.#finishPes(st);
  }

  #append(st: PesState, data: Uint8Array): void {
    const need = st.len + data.length;
    if (need > this.#maxPes) {
      this.errors++;
      st.active = false;
      st.len = 0;
      return;
    }
    if (need > st.buf.length) {
      let size = st.buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(st.buf.subarray(0, st.len));
      st.buf = next;
    }
    st.buf.set(data, st.len);
    st.len = need;
  }

  #psiPacket(pid: number, pusi: boolean, payload: Uint8Array): void {
    let asm = this.#psi.get(pid);
    if (pusi) {
      const pointer = payload[0];
      if (1 + pointer >= payload.length) {
        this.errors++;
        return;
      }
      asm = { buf: new Uint8Array(1024), len: 0 };
      this.#psi.set(pid, asm);
      payload = payload.subarray(1 + pointer);
    } else if (!asm) {
      return;
    }
    if (asm.len + payload.length > 4096 + TS_PACKET_SIZE) {
      this.errors++;
      this.#psi.delete(pid);
      return;
    }
    if (asm.len + payload.length > asm.buf.length) {
      const next = new Uint8Array(asm.buf.length * 2 + payload.length);
      next.set(asm.buf.subarray(0, asm.len));
      asm.buf = next;
    }
    asm.buf.set(payload, asm.len);
    asm.len += payload.length;
    if (asm.len < 3) return;
    if (asm.buf[0] === 0xff) {
      this.#psi.delete(pid); // stuffing only
      return;
    }
    const total = 3 + (((asm.buf[1] & 0x0f) << 8) | asm.buf[2]);
    if (asm.len < total) return;
    this.#psi.delete(pid);
    const section = asm.buf.subarray(0, total);
    try {
      if (pid === 0) {
        const programs = parsePatSection(section);
        const first = programs.values().next();
        if (!first.done && first.value !== this.#pmtPid) {
          this.#pmtPid = first.value;
          this.#pmtVersion = -1;
        }
      } else {
        this.#onPmt(section);
      }
    } catch {
      this.errors++;
    }
  }

  #onPmt(section: Uint8Array): void {
    const pmt = parsePmtSection(section);
    if (pmt.version === this.#pmtVersion && this.tracks.length) return;
    this.#pmtVersion = pmt.version;
    const next = new Map<number, PesState>();
    const tracks: TsTrack[] = [];
    for (const s of pmt.streams) {
      const streamType = s.streamType;
      if (streamType === TsStreamType.PRIVATE) {
        const reg = findDescriptor(s.descriptors, 0x05);
        const isOpus = reg && reg.length >= 4 &&
          String.fromCharCode(reg[0], reg[1], reg[2], reg[3]) === "Opus";
        if (!isOpus) continue;
      } else if (!SUPPORTED_TYPES.has(streamType)) {
        continue;
      }
      const old = this.#pes.get(s.pid);
      if (old && old.track.streamType === streamType) {
        next.set(s.pid, old);
        tracks.push(old.track);
        continue;
      }
      const track = makeTrack(s.pid, streamType, s.descriptors);
      tracks.push(track);
      next.set(s.pid, {
        track,
        buf: new Uint8Array(track.kind === "video" ? 64 * 1024 : 4096),
        len: 0,
        expected: 0,
        active: false,
        cc: -1,
        lastPts: 0,
        ptsBase: 0,
        lastRawPts: -1,
        carry: undefined,
        params: new Map(),
        nextAudioTs: -1,
      });
    }
    this.#pes = next;
    this.tracks = tracks;
    this.tracksVersion++;
  }

  /** Parses the PES header and emits its frame(s). */
  #finishPes(st: PesState): void {
    st.active = false;
    const b = st.buf;
    const len = st.expected > 0 ? Math.min(st.len, st.expected) : st.len;
    st.len = 0;
    if (len < 9 || b[0] !== 0 || b[1] !== 0 || b[2] !== 1) {
      this.errors++;
      return;
    }
    const flags = b[7];
    const headerEnd = 9 + b[8];
    if (headerEnd > len) {
      this.errors++;
      return;
    }
    let pts = -1;
    let dts = -1;
    if (flags & 0x80 && headerEnd >= 14) pts = this.#unwrap(st, readPesTimestamp(b, 9));
    if ((flags & 0xc0) === 0xc0 && headerEnd >= 19) {
      dts = pts - ((readPesTimestamp(b, 9) - readPesTimestamp(b, 14) + WRAP33) % WRAP33);
    }
    if (dts < 0 || dts > pts) dts = pts;
    const es = b.subarray(headerEnd, len);
    try {
      switch (st.track.streamType) {
        case TsStreamType.H264:
        case TsStreamType.H265:
          this.#video(st, es, pts, dts);
          break;
        case TsStreamType.AAC_ADTS:
          this.#aac(st, es, pts);
          break;
        case TsStreamType.PRIVATE:
          this.#opus(st, es, pts);
          break;
        case TsStreamType.PCMA_TAPO:
          this.#pcma(st, es, pts);
          break;
      }
    } catch {
      this.errors++;
    }
  }

  /** Unfolds the 33-bit PTS into a monotonic number (per PID). */
  #unwrap(st: PesState, raw: number): number {
    if (st.lastRawPts < 0) {
      st.lastRawPts = raw;
      st.lastPts = raw;
      return raw;
    }
    let delta = raw - st.lastRawPts;
    if (delta < -WRAP33 / 2) delta += WRAP33;
    else if (delta > WRAP33 / 2) delta -= WRAP33;
    st.lastRawPts = raw;
    st.lastPts += delta;
    return st.lastPts;
  }

  #video(st: PesState, es: Uint8Array, pts: number, dts: number): void {
    if (pts < 0) {
      this.errors++;
      return;
    }
    const h264 = st.track.streamType === TsStreamType.H264;
    const avcc = annexbToAvcc(es);
    // Drop AUDs in place by compacting; note keyframes and parameter sets.
    let keyframe = false;
    let w = 0;
    let p = 0;
    while (p + 4 <= avcc.length) {
      const n = ((avcc[p] << 24) | (avcc[p + 1] << 16) | (avcc[p + 2] << 8) | avcc[p + 3]) >>> 0;
      const end = p + 4 + n;
      if (end > avcc.length || n === 0) break;
      const type = h264 ? avcc[p + 4] & 0x1f : (avcc[p + 4] >> 1) & 0x3f;
      const aud = h264 ? type === 9 : type === 35;
      if (!aud) {
        if (h264 ? type === 5 : type >= 16 && type <= 21) keyframe = true;
        if (h264 ? type === 7 || type === 8 : type >= 32 && type <= 34) {
          this.#learnParam(st, type, avcc.subarray(p + 4, end));
        }
        if (w !== p) avcc.copyWithin(w, p, end);
        w += end - p;
      }
      p = end;
    }
    if (w === 0) return;
    const frame: Frame = { timestamp: dts, keyframe, data: w === avcc.length ? avcc : avcc.subarray(0, w) };
    if (pts !== dts) frame.cts = pts - dts;
    this.#out.push({ track: st.track, frame });
  }

  #learnParam(st: PesState, type: number, nal: Uint8Array): void {
    if (st.track.ready) return;
    if (!st.params.has(type)) st.params.set(type, nal.slice());
    const t = st.track;
    if (t.streamType === TsStreamType.H264) {
      const sps = st.params.get(7);
      const pps = st.params.get(8);
      if (sps && pps) {
        t.codec = { ...t.codec, fmtp: buildH264Fmtp({ sps, pps }) };
        t.ready = true;
      }
    } else {
      const vps = st.params.get(32);
      const sps = st.params.get(33);
      const pps = st.params.get(34);
      if (vps && sps && pps) {
        t.codec = { ...t.codec, fmtp: buildH265Fmtp({ vps, sps, pps }) };
        t.ready = true;
      }
    }
  }

  #aac(st: PesState, es: Uint8Array, pts: number): void {
    let data = es;
    if (st.carry) {
      data = new Uint8Array(st.carry.length + es.length);
      data.set(st.carry);
      data.set(es, st.carry.length);
      st.carry = undefined;
    }
    const t = st.track;
    let p = 0;
    let i = 0;
    while (p + 7 <= data.length) {
      if (!isAdts(data, p)) {
        this.errors++;
        // Skip to the next syncword.
        let q = p + 1;
        while (q + 7 <= data.length && !isAdts(data, q)) q++;
        p = q;
        continue;
      }
      const h = parseAdtsHeader(data, p);
      if (p + h.frameLength > data.length) break;
      if (!t.ready) {
        const config = adtsToAudioSpecificConfig(h);
        const channels = h.channelConfiguration === 7 ? 8 : h.channelConfiguration;
        t.codec = { name: "MPEG4-GENERIC", clockRate: h.sampleRate, channels, fmtp: buildAacFmtp(config) };
        t.ready = true;
      }
      const rate = t.codec.clockRate;
      let ts: number;
      if (pts >= 0) ts = Math.round((pts * rate) / 90000) + i * 1024;
      else ts = st.nextAudioTs >= 0 ? st.nextAudioTs : 0;
      if (h.rawDataBlocks === 1) {
        this.#out.push({
          track: t,
          frame: { timestamp: ts, keyframe: true, data: data.slice(p + h.headerLength, p + h.frameLength) },
        });
      } else {
        this.errors++; // several raw data blocks need a decoder to split
      }
      st.nextAudioTs = ts + 1024;
      p += h.frameLength;
      i++;
    }
    if (p < data.length) st.carry = data.slice(p, Math.min(data.length, p + 8192));
  }

  #opus(st: PesState, es: Uint8Array, pts: number): void {
    let p = 0;
    let ts = pts >= 0 ? Math.round((pts * 48000) / 90000) : Math.max(0, st.nextAudioTs);
    while (p + 2 <= es.length) {
      // opus_control_header: 0x3FF (11 bits) | start_trim | end_trim | control_extension | 2 reserved
      if (es[p] !== 0x7f || (es[p + 1] & 0xe0) !== 0xe0) {
        this.errors++;
        return;
      }
      const startTrim = es[p + 1] & 0x10;
      const endTrim = es[p + 1] & 0x08;
      const ext = es[p + 1] & 0x04;
      p += 2;
      let size = 0;
      for (;;) {
        if (p >= es.length) return;
        const v = es[p++];
        size += v;
        if (v !== 0xff) break;
      }
      if (startTrim) p += 2;
      if (endTrim) p += 2;
      if (ext) {
        if (p >= es.length) return;
        p += 1 + es[p];
      }
      if (p + size > es.length) {
        this.errors++;
        return;
      }
      const packet = es.slice(p, p + size);
      p += size;
      this.#out.push({ track: st.track, frame: { timestamp: ts, keyframe: true, data: packet } });
      ts += opusPacketDuration(packet);
    }
    st.nextAudioTs = ts;
  }

  #pcma(st: PesState, es: Uint8Array, pts: number): void {
    const ts = pts >= 0 ? Math.round((pts * 8000) / 90000) : Math.max(0, st.nextAudioTs);
    this.#out.push({ track: st.track, frame: { timestamp: ts, keyframe: true, data: es.slice() } });
    st.nextAudioTs = ts + es.length;
  }
}

function makeTrack(pid: number, streamType: number, descriptors: Uint8Array): TsTrack {
  switch (streamType) {
    case TsStreamType.H264:
      return { pid, streamType, kind: "video", codec: { name: "H264", clockRate: 90000 }, ready: false };
    case TsStreamType.H265:
      return { pid, streamType, kind: "video", codec: { name: "H265", clockRate: 90000 }, ready: false };
    case TsStreamType.AAC_ADTS:
      return { pid, streamType, kind: "audio", codec: { name: "MPEG4-GENERIC", clockRate: 0 }, ready: false };
    case TsStreamType.PCMA_TAPO:
      return { pid, streamType, kind: "audio", codec: { name: "PCMA", clockRate: 8000 }, ready: true };
    default: {
      // Opus: channel_config_code from the extension descriptor (0x7F, tag 0x80), when present.
      const ext = findDescriptor(descriptors, 0x7f);
      const channels = ext && ext.length >= 2 && ext[0] === 0x80 && ext[1] >= 1 && ext[1] <= 8 ? ext[1] : 2;
      return {
        pid,
        streamType,
        kind: "audio",
        codec: { name: "OPUS", clockRate: 48000, channels },
        ready: true,
      };
    }
  }
}
