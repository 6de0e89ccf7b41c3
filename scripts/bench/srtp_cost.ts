/**
 * What one WebRTC packet costs strom per viewer, piece by piece, on the runtime it runs on: werift's
 * SRTP encryption of a 1200-byte RTP packet (AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM, the
 * profiles browsers negotiate), the same bytes through one bulk AES-128-CTR + HMAC-SHA1 pass of
 * node:crypto (the throughput floor of the cipher itself), strom's own SRTP sender (lib/protocol/srtp/:
 * one reused AES-128-ECB cipher for the keystream, HMAC-SHA1 either per packet through node:crypto or
 * in TypeScript with precomputed pads) and its pieces, and one UDP send to loopback through the
 * socket strom uses (lib/runtime/udp.ts). Prints microseconds per packet.
 *
 *   node --import tsx scripts/bench/srtp_cost.ts
 *   node_modules/.bin/deno run -A --unstable-net scripts/bench/srtp_cost.ts
 *   node_modules/.bin/bun scripts/bench/srtp_cost.ts
 *
 * @module
 */
import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtpHeader,
  SrtpSession,
} from "werift";
import { udpBind } from "../../lib/runtime/udp.ts";
import { aes128EcbEncryptor, hmacSha1Native, sha1OneShot } from "../../lib/runtime/crypto.ts";
import { allocUnfilled } from "../../lib/runtime/node_buffer.ts";
import { HmacSha1, SRTP_AUTH_TAG_LENGTH, SrtpProtector, type SrtpProtectorOptions } from "../../lib/protocol/srtp/mod.ts";

const PAYLOAD = 1200 - 12;
const N = 20_000;
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

function perPacket(label: string, n: number, fn: (i: number) => void, packetsPerCall = 1): number {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const us = ((performance.now() - t0) * 1000) / (n * packetsPerCall);
  console.log(`${runtime}: ${label}: ${us.toFixed(2)} us per packet`);
  return us;
}

function session(profile: number): SrtpSession {
  const keyLen = 16;
  const saltLen = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  return new SrtpSession({
    keys: {
      localMasterKey: randomBytes(keyLen),
      localMasterSalt: randomBytes(saltLen),
      remoteMasterKey: randomBytes(keyLen),
      remoteMasterSalt: randomBytes(saltLen),
    },
    profile: profile as never,
  });
}

const payload = randomBytes(PAYLOAD);
for (
  const [name, profile] of [
    ["werift SRTP AES_CM_128_HMAC_SHA1_80", ProtectionProfileAes128CmHmacSha1_80],
    ["werift SRTP AEAD_AES_128_GCM", ProtectionProfileAeadAes128Gcm],
  ] as const
) {
  const s = session(profile);
  perPacket(name, N, (i) => {
    const header = new RtpHeader({
      payloadType: 96,
      sequenceNumber: i & 0xffff,
      timestamp: i * 3600,
      ssrc: 1234,
    });
    s.encrypt(payload, header);
  });
}

// Bulk: 1000 packets' worth of bytes in one cipher and one HMAC call, per packet.
const bulk = randomBytes(PAYLOAD * 1000);
const key = randomBytes(16);
perPacket("node:crypto bulk AES-128-CTR + HMAC-SHA1 (1000 packets per call), per packet's bytes", 50, () => {
  const c = createCipheriv("aes-128-ctr", key, randomBytes(16));
  const enc = c.update(bulk);
  createHmac("sha1", key).update(enc).digest();
}, 1000);
// Per packet with node:crypto directly (a new cipher and HMAC each time, as werift does).
perPacket("node:crypto per packet: new AES-128-CTR + HMAC-SHA1 each", N, () => {
  const c = createCipheriv("aes-128-ctr", key, randomBytes(16));
  const enc = c.update(payload);
  createHmac("sha1", key).update(enc).digest();
});

// strom's SRTP sender and its pieces.
const authKey = randomBytes(20);
const packet = new Uint8Array(12 + PAYLOAD + SRTP_AUTH_TAG_LENGTH);
packet.set(payload, 12);
const roc = new Uint8Array(4);
perPacket("HMAC-SHA1 of a packet: node:crypto createHmac per packet", N, () => {
  hmacSha1Native(authKey, [packet.subarray(0, 12 + PAYLOAD), roc]);
});
const ts = new HmacSha1(authKey);
perPacket(
  "HMAC-SHA1 of a packet: TypeScript, precomputed pads, no allocation (lib/protocol/srtp/sha1.ts)",
  N,
  () => {
    ts.macWithTrailer(packet, 0, 12 + PAYLOAD, 0, packet, 12 + PAYLOAD, SRTP_AUTH_TAG_LENGTH);
  },
);
const ecb = aes128EcbEncryptor(key);
const counters = new Uint8Array(Math.ceil(PAYLOAD / 16) * 16);
perPacket("AES-CM keystream of a packet: one reused AES-128-ECB cipher (lib/runtime/crypto.ts)", N, () => {
  ecb.encryptBlocks(counters);
});
const stromModes: { name: string; options: SrtpProtectorOptions; headroom: number }[] = [
  { name: "TypeScript HMAC", options: { nativeHmac: false, oneShotHash: false }, headroom: 0 },
  { name: "createHmac", options: { nativeHmac: true, oneShotHash: false }, headroom: 0 },
  ...(sha1OneShot
    ? [{ name: "one-shot crypto.hash in 64 bytes of headroom", options: { oneShotHash: true }, headroom: 64 }]
    : []),
  { name: "this runtime's default, 64 bytes of headroom, as fast_srtp.ts sends", options: {}, headroom: 64 },
];
for (const { name, options, headroom } of stromModes) {
  const protector = new SrtpProtector(randomBytes(16), randomBytes(14), options);
  perPacket(
    `strom SRTP AES_CM_128_HMAC_SHA1_80 (lib/protocol/srtp, ${name}), output buffer + payload copy`,
    N,
    (i) => {
      const out = allocUnfilled(headroom + 12 + PAYLOAD + SRTP_AUTH_TAG_LENGTH);
      out[headroom] = 0x80;
      out[headroom + 1] = 96;
      out[headroom + 2] = (i >>> 8) & 0xff;
      out[headroom + 3] = i & 0xff;
      out.set(payload, headroom + 12);
      protector.protect(out, 12, PAYLOAD, 1234, i & 0xffff, headroom);
    },
  );
}
perPacket("werift RtpHeader: new + serialize (what strom's sender avoids)", N, (i) => {
  const header = new RtpHeader({
    payloadType: 96,
    sequenceNumber: i & 0xffff,
    timestamp: i * 3600,
    ssrc: 1234,
  });
  header.serialize(header.serializeSize);
});

const a = await udpBind({ hostname: "127.0.0.1", port: 0 });
const b = await udpBind({ hostname: "127.0.0.1", port: 0 });
b.onMessage = () => {};
const pkt = new Uint8Array(1200);
perPacket(
  "UDP send to loopback (lib/runtime/udp.ts), the synchronous part only (Deno: queued, dropped past 2048 in flight)",
  N,
  () => {
    a.send(pkt, b.addr.port, "127.0.0.1");
  },
);
await new Promise((r) => setTimeout(r, 300));
a.close();
b.close();
process.exit(0);
