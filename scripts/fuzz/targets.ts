/**
 * The fuzz targets: every parser that reads bytes from the network or from a user, each with real
 * seed inputs (the fixtures under lib/* /testdata, a fragmented MP4 made by ffmpeg in
 * scripts/fuzz/corpus) and the limits it is configured with (small ones, so an allocation sized by
 * an unchecked length field shows up).
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAudioSpecificConfig } from "../../lib/codec/aac/config.ts";
import { parseAdtsHeader } from "../../lib/codec/aac/adts.ts";
import { parseStreamMuxConfig } from "../../lib/codec/aac/latm.ts";
import { AacDepacketizer } from "../../lib/codec/aac/rtp.ts";
import { splitAnnexb } from "../../lib/codec/annexb/annexb.ts";
import { H264Depacketizer } from "../../lib/codec/h264/depacketizer.ts";
import { parseH264Sps } from "../../lib/codec/h264/sps.ts";
import { H265Depacketizer } from "../../lib/codec/h265/depacketizer.ts";
import { parseH265Sps } from "../../lib/codec/h265/sps.ts";
import { parseSdp } from "../../lib/core/media.ts";
import { decodeAmf0, encodeAmf0 } from "../../lib/format/flv/amf0.ts";
import { FlvDemuxer } from "../../lib/format/flv/flv_demuxer.ts";
import { MultipartParser } from "../../lib/format/mjpeg/multipart_parser.ts";
import { Fmp4Demuxer } from "../../lib/format/mp4/fmp4_demuxer.ts";
import { TsDemuxer } from "../../lib/format/mpegts/ts_demuxer.ts";
import { answerOnvif, type OnvifDevice, readUsernameToken } from "../../lib/protocol/onvif/server.ts";
import { envelope } from "../../lib/protocol/onvif/soap.ts";
import { buildProbe, buildProbeMatches, ONVIF_DEVICE_TYPES, readProbe, readProbeMatches } from "../../lib/protocol/onvif/ws_discovery.ts";
import { ChunkReader } from "../../lib/protocol/rtmp/chunk_reader.ts";
import { decodeCommand } from "../../lib/protocol/rtmp/messages.ts";
import { RtspMessageParser } from "../../lib/protocol/rtsp/message.ts";
import { parseCameraSdp } from "../../lib/protocol/rtsp/sdp_fix.ts";
import { readRtpCapture } from "../../lib/rtp/capture.ts";
import { parseRtp } from "../../lib/rtp/packet.ts";
import { parseRtcp } from "../../lib/rtp/rtcp.ts";
import { loadConfigText } from "../../server/config/mod.ts";
import { runtimeIo } from "../../server/load.ts";
import type { FuzzTarget } from "./harness.ts";
import { randomChunks } from "./mutate.ts";
import { wsTarget } from "./ws_target.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => new Uint8Array(readFileSync(ROOT + path));
const files = (dir: string, ext: string) =>
  readdirSync(ROOT + dir).filter((f) => f.endsWith(ext)).sort().map((f) => read(`${dir}/${f}`));
const text = (s: string) => new TextEncoder().encode(s);
const latin1 = (b: Uint8Array) => {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return s;
};
const utf8 = new TextDecoder();

const SDP_FILES = [
  "lib/codec/aac/testdata",
  "lib/codec/g711/testdata",
  "lib/codec/h264/testdata",
  "lib/codec/h265/testdata",
  "lib/codec/mjpeg/testdata",
  "lib/codec/opus/testdata",
  "lib/rtp/testdata",
];
const RTP_CAPTURES = SDP_FILES;

/** The first NAL units of a type (by `typeOf`) in Annex B files. */
function nals(dir: string, ext: string, want: (nal: Uint8Array) => boolean, max = 8): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of files(dir, ext)) {
    for (const nal of splitAnnexb(f)) {
      if (want(nal)) {
        out.push(nal.slice());
        break;
      }
    }
    if (out.length >= max) break;
  }
  return out;
}

/** A few datagrams of every RTP capture. */
function rtpPackets(max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const dir of RTP_CAPTURES) {
    for (const f of readdirSync(ROOT + dir).filter((f) => f.endsWith(".rtp")).sort()) {
      out.push(...readRtpCapture(read(`${dir}/${f}`)).slice(0, max));
    }
  }
  return out;
}

const RTSP_SEEDS = [
  "OPTIONS rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: fuzz\r\n\r\n",
  "DESCRIBE rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\nAuthorization: Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"rtsp://h/\", response=\"00\"\r\n\r\n",
  "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 54\r\n\r\nv=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n",
  "SETUP rtsp://h/cam/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
  "ANNOUNCE rtsp://h/cam RTSP/1.0\r\nCSeq: 4\r\nContent-Length: 10\r\n\r\nv=0\r\ns=-\r\n",
  "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm=\"cam\", nonce=\"abc\"\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\r\n",
].map(text);

function interleaved(channel: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  out.set([0x24, channel, payload.length >> 8, payload.length & 0xff]);
  out.set(payload, 4);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** RTMP chunks (fmt 0 header then fmt 3 continuations) carrying one message. */
function rtmpChunks(csid: number, type: number, streamId: number, payload: Uint8Array, chunkSize = 128): Uint8Array {
  const parts: Uint8Array[] = [];
  const h = new Uint8Array(12);
  h[0] = csid & 0x3f;
  h[4] = (payload.length >> 16) & 0xff;
  h[5] = (payload.length >> 8) & 0xff;
  h[6] = payload.length & 0xff;
  h[7] = type;
  h[8] = streamId & 0xff;
  parts.push(h);
  for (let p = 0; p < payload.length; p += chunkSize) {
    if (p > 0) parts.push(new Uint8Array([0xc0 | (csid & 0x3f)]));
    parts.push(payload.subarray(p, p + chunkSize));
  }
  return concat(parts);
}

function amfSeeds(): Uint8Array[] {
  return [
    encodeAmf0(["connect", 1, { app: "live", tcUrl: "rtmp://127.0.0.1/live", flashVer: "FMLE/3.0", objectEncoding: 0 }]),
    encodeAmf0(["publish", 5, null, "cam?token=x", "live"]),
    encodeAmf0(["onMetaData", { width: 640, height: 360, videocodecid: 7, audiocodecid: 10, list: [1, "a", true] }]),
    encodeAmf0(["_result", 1, { fmsVer: "FMS/3,0,1,123" }, { code: "NetConnection.Connect.Success", level: "status" }]),
  ];
}

/** Top-level boxes of an MP4 file: the init segment (ftyp+moov) and each moof+mdat pair. */
function fmp4Parts(file: Uint8Array): { init: Uint8Array; segments: Uint8Array[] } {
  const boxes: { type: string; start: number; end: number }[] = [];
  for (let p = 0; p + 8 <= file.length;) {
    const size = ((file[p] << 24) | (file[p + 1] << 16) | (file[p + 2] << 8) | file[p + 3]) >>> 0;
    const type = String.fromCharCode(...file.subarray(p + 4, p + 8));
    if (size < 8 || p + size > file.length) break;
    boxes.push({ type, start: p, end: p + size });
    p += size;
  }
  const moov = boxes.find((b) => b.type === "moov");
  if (!moov) return { init: file, segments: [] };
  const segments: Uint8Array[] = [];
  for (let i = 0; i < boxes.length; i++) {
    if (boxes[i].type === "moof" && boxes[i + 1]?.type === "mdat") segments.push(file.subarray(boxes[i].start, boxes[i + 1].end));
  }
  return { init: file.subarray(0, moov.end), segments };
}

const FMP4 = "scripts/fuzz/corpus/ffmpeg_h264_aac.fmp4";
const MIB = 1024 * 1024;

/** Every fuzz target, in the order of the report. */
// strom's ONVIF device as the route sets it up (two streams, RTSP on).
const ONVIF_DEVICE: OnvifDevice = {
  streams: ["cam", "door one"],
  serviceUrl: "http://10.0.0.2:1984/onvif/device_service",
  streamUri: (name) => `rtsp://10.0.0.2:8554/${encodeURIComponent(name)}`,
  snapshotUri: (name) => `http://10.0.0.2:1984/api/frame.jpeg?src=${encodeURIComponent(name)}`,
  info: { manufacturer: "strom", model: "strom", firmwareVersion: "1", serialNumber: "strom", hardwareId: "strom" },
  now: new Date(0),
};

const SOAP_SEEDS = [
  envelope("", `<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>`),
  envelope(
    `<s:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` +
      `<wsse:UsernameToken><wsse:Username>admin</wsse:Username><wsse:Password Type="x#PasswordDigest">AAAA</wsse:Password>` +
      `<wsse:Nonce>AAAAAAAAAAAAAAAAAAAAAA==</wsse:Nonce><wsu:Created>1970-01-01T00:00:00Z</wsu:Created></wsse:UsernameToken>` +
      `</wsse:Security></s:Header>`,
    `<trt:GetProfiles xmlns:trt="http://www.onvif.org/ver10/media/wsdl"/>`,
  ),
  envelope("", `<GetStreamUri xmlns="http://www.onvif.org/ver10/media/wsdl"><ProfileToken>door one</ProfileToken></GetStreamUri>`),
  envelope("", `<tds:GetCapabilities xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><tds:Category>All</tds:Category></tds:GetCapabilities>`),
  buildProbe("urn:uuid:1"),
  buildProbeMatches({
    relatesTo: "urn:uuid:1",
    match: { endpoint: "urn:uuid:2", types: [...ONVIF_DEVICE_TYPES], scopes: ["onvif://www.onvif.org/name/x"], xaddrs: ["http://10.0.0.2/onvif/device_service"], metadataVersion: 1 },
    instanceId: 1,
    messageNumber: 1,
  }),
  // Shapes that made the earlier regular-expression scanner quadratic (seconds per 64 KiB).
  "<s:Body " + "<Body ".repeat(40_000),
  "<s:Envelope><s:Body>" + "<a ".repeat(80_000) + "</s:Body></s:Envelope>",
  "<s:Body " + 'a="'.repeat(80_000) + ">x</s:Body>",
  "<a:Action>Probe</a:Action><Probe><Types>" + "<".repeat(200_000) + "</Types></Probe>",
].map(text);

export const targets: FuzzTarget[] = [
  {
    name: "onvif_soap",
    description: "ONVIF device requests (SOAP, WS-Security UsernameToken) and WS-Discovery datagrams",
    maxAllocBytes: MIB,
    seeds: () => SOAP_SEEDS,
    run(input) {
      const xml = utf8.decode(input);
      readUsernameToken(xml);
      answerOnvif(xml, ONVIF_DEVICE);
      readProbe(xml);
      readProbeMatches(xml);
    },
  },
  {
    name: "rtsp",
    description: "RTSP request/response/interleaved-frame parser (RtspMessageParser), split at random points",
    maxAllocBytes: 64 * 1024,
    seeds: () => [
      ...RTSP_SEEDS,
      concat([RTSP_SEEDS[0], interleaved(0, rtpPackets(1)[0]), RTSP_SEEDS[2], interleaved(1, new Uint8Array([0x80, 200, 0, 6, ...new Uint8Array(24)]))]),
    ],
    run(input, rng) {
      const parser = new RtspMessageParser({ maxHeaderBytes: 8192, maxBodyBytes: 32 * 1024 });
      for (const chunk of randomChunks(rng, input)) {
        parser.push(chunk);
        for (let i = 0; i < 100_000; i++) {
          const ev = parser.next();
          if (!ev) break;
          if (ev.type === "error" && ev.error.fatal) return;
        }
      }
    },
  },
  {
    name: "sdp",
    description: "SDP parser (parseSdp) and the camera-quirk layer over it (parseCameraSdp)",
    maxAllocBytes: 64 * 1024,
    seeds: () => SDP_FILES.flatMap((d) => files(d, ".sdp")),
    run(input) {
      const s = utf8.decode(input);
      try {
        parseSdp(s);
      } finally {
        parseCameraSdp(s);
      }
    },
  },
  {
    name: "rtp",
    description: "RTP packet parser, then the H.264, H.265 and AAC depacketizers on what parses",
    maxAllocBytes: 2 * MIB,
    seeds: () => rtpPackets(40),
    run(input, rng) {
      const pkt = parseRtp(input);
      const kind = rng.int(3);
      if (kind === 0) {
        const d = new H264Depacketizer({ maxFrameSize: MIB });
        d.push(pkt);
        d.push({ ...pkt, marker: true, sequenceNumber: (pkt.sequenceNumber + 1) & 0xffff });
        d.flush();
      } else if (kind === 1) {
        const d = new H265Depacketizer({ maxFrameSize: MIB });
        d.push(pkt);
        d.push({ ...pkt, marker: true, sequenceNumber: (pkt.sequenceNumber + 1) & 0xffff });
        d.flush();
      } else {
        const fmtp = rng.chance(0.5)
          ? "streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210"
          : "profile-level-id=15;object=2;cpresent=0;config=400024203fc0";
        new AacDepacketizer({ onFrame: () => {}, fmtp, clockRate: 44100 }).push(pkt);
      }
    },
  },
  {
    name: "rtcp",
    description: "RTCP compound packet parser (SR, RR, SDES, BYE, others raw)",
    maxAllocBytes: 64 * 1024,
    seeds: () => [
      ...readRtpCapture(read("lib/rtp/testdata/ffmpeg_pcma_rtcp.rtcp")),
      new Uint8Array([0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]),
      new Uint8Array([0x81, 203, 0, 1, 0, 0, 0, 7]),
    ],
    run(input) {
      parseRtcp(input);
    },
  },
  {
    name: "h264_sps",
    description: "H.264 SPS parser (with VUI) on SPS NAL units of the ffmpeg fixtures",
    maxAllocBytes: 64 * 1024,
    seeds: () => nals("lib/codec/h264/testdata", ".h264", (n) => (n[0] & 0x1f) === 7),
    run(input) {
      parseH264Sps(input);
    },
  },
  {
    name: "h265_sps",
    description: "H.265 SPS parser on SPS NAL units of the ffmpeg fixtures",
    maxAllocBytes: 64 * 1024,
    seeds: () => nals("lib/codec/h265/testdata", ".hevc", (n) => ((n[0] >> 1) & 0x3f) === 33),
    run(input) {
      parseH265Sps(input);
    },
  },
  {
    name: "aac_config",
    description: "AudioSpecificConfig, LATM StreamMuxConfig and ADTS header parsers",
    maxAllocBytes: 64 * 1024,
    seeds: () => [
      new Uint8Array([0x12, 0x10]),
      new Uint8Array([0x11, 0x90]),
      new Uint8Array([0x13, 0x08, 0x56, 0xe5, 0x00]), // HE-AAC explicit SBR
      new Uint8Array([0x40, 0x00, 0x24, 0x20, 0x3f, 0xc0]),
      new Uint8Array([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc]),
    ],
    run(input, rng) {
      const which = rng.int(3);
      if (which === 0) parseAudioSpecificConfig(input);
      else if (which === 1) parseStreamMuxConfig(input);
      else parseAdtsHeader(input, 0);
    },
  },
  {
    name: "rtmp_chunks",
    description: "RTMP chunk stream reader and the AMF0 command decoder on each message",
    maxAllocBytes: MIB,
    seeds: () => {
      const [connect, publish, meta] = amfSeeds();
      return [
        concat([
          rtmpChunks(3, 20, 0, connect),
          rtmpChunks(2, 1, 0, new Uint8Array([0, 0, 0x10, 0])), // set chunk size 4096
          rtmpChunks(4, 20, 1, publish, 4096),
          rtmpChunks(5, 18, 1, meta, 4096),
          rtmpChunks(6, 9, 1, new Uint8Array([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f]), 4096),
        ]),
        rtmpChunks(3, 20, 0, connect),
      ];
    },
    run(input, rng) {
      const reader = new ChunkReader((msg) => {
        if (msg.type === 20 || msg.type === 18) {
          try {
            decodeCommand(msg.type, msg.payload);
          } catch (error) {
            if (!(error instanceof Error) || ["TypeError", "RangeError", "Error"].includes(error.name)) throw error;
          }
        }
      }, { maxMessageBytes: MIB, maxChunkSize: 64 * 1024, maxChunkStreams: 64, maxPendingBytes: 2 * MIB });
      for (const chunk of randomChunks(rng, input)) reader.push(chunk);
    },
  },
  {
    name: "amf0",
    description: "AMF0 value decoder (objects, ECMA arrays, strict arrays, nesting)",
    maxAllocBytes: 64 * 1024,
    seeds: amfSeeds,
    run(input) {
      decodeAmf0(input);
    },
  },
  {
    name: "flv",
    description: "FLV demuxer (header, tags, AVC/HEVC/AAC config and frames, script data)",
    maxAllocBytes: MIB,
    seeds: () => [read("lib/format/flv/testdata/ffmpeg_h264_aac.flv").subarray(0, 48 * 1024)],
    run(input, rng) {
      const flv = new FlvDemuxer({ maxTagBytes: MIB });
      for (const chunk of randomChunks(rng, input)) flv.push(chunk);
    },
  },
  {
    name: "mpegts",
    description: "MPEG-TS demuxer (PAT/PMT, PES, H.264/H.265/AAC/Opus/PCMA elementary streams)",
    maxAllocBytes: 2 * MIB,
    seeds: () => files("lib/format/mpegts/testdata", ".mpegts").map((f) => f.subarray(0, 188 * 200)),
    run(input, rng) {
      const ts = new TsDemuxer({ maxPesBytes: MIB });
      for (const chunk of randomChunks(rng, input)) ts.push(chunk);
      ts.flush();
    },
  },
  {
    name: "mp4",
    description: "fragmented MP4: init segment (moov, sample entries, avcC/esds) and moof+mdat demuxing",
    maxAllocBytes: MIB,
    seeds: () => {
      const { init, segments } = fmp4Parts(read(FMP4));
      return [concat([init, ...segments.slice(0, 2)])];
    },
    run(input) {
      // The input is an init segment followed by fragments; split it where the moov ends.
      const parts = fmp4Parts(input);
      const demuxer = new Fmp4Demuxer(parts.init);
      for (const s of parts.segments) demuxer.push(s);
      if (!parts.segments.length) demuxer.push(input.subarray(parts.init.length));
    },
  },
  {
    name: "multipart",
    description: "multipart/x-mixed-replace parser (MJPEG over HTTP)",
    maxAllocBytes: MIB,
    seeds: () => [read("lib/format/mjpeg/testdata/ffmpeg_mjpeg.multipart").subarray(0, 64 * 1024)],
    run(input, rng) {
      const parser = new MultipartParser({ maxPartBytes: 512 * 1024, maxHeaderBytes: 8192 });
      for (const chunk of randomChunks(rng, input)) parser.push(chunk);
      parser.flush();
    },
  },
  wsTarget,
  {
    name: "yaml_config",
    description: "config loader: YAML parsing, schema checks, ${VAR} substitution",
    maxAllocBytes: MIB,
    seeds: () => [
      text(readFileSync(ROOT + "server/config/default.ts", "utf8").split("`")[1] ?? "api:\n  listen: :1984\n"),
      text(
        "api:\n  listen: \"127.0.0.1:1984\"\n  auth:\n    users:\n      v: {password: pw, streams: [cam*], role: viewer}\nrtsp:\n  listen: :8554\nstreams:\n  cam:\n    - rtsp://admin:pw@10.0.0.5/1#backchannel=0\n    - ffmpeg:cam#video=h264\nlog:\n  level: debug\n  rtsp: trace\n  rotation: {max_size: 10MB, max_files: 3}\nrecord:\n  streams: [cam]\n  segment: 60s\nenv:\n  A: b\n",
      ),
      // Shapes that crashed the process (nesting into the stack limit) or took seconds (a map's
      // keys each compared with all earlier ones) before server/config/yaml_parse.ts.
      text("[".repeat(200_000)),
      text("- ".repeat(100_000)),
      text("streams:\n" + Array.from({ length: 18_000 }, (_, i) => ` c${i}:\n`).join("")),
    ],
    run(input) {
      return loadConfigText(latin1(input), runtimeIo, "fuzz.yaml").then(() => {}, (error) => {
        if (!(error instanceof Error) || ["TypeError", "RangeError", "Error", "ReferenceError"].includes(error.name)) throw error;
      });
    },
  },
];
