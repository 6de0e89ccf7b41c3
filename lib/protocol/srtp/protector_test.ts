import { describe, expect, test } from "bun:test";
import { hmacSha1Native, sha1OneShot } from "../../runtime/crypto.ts";
import { asNodeBuffer } from "../../runtime/node_buffer.ts";
import { loadWerift } from "../webrtc/werift.ts";
import {
  deriveSrtpKeys,
  HmacSha1,
  SRTP_AUTH_TAG_LENGTH,
  SRTP_HMAC_HEADROOM,
  SRTP_KEYSTREAM_BATCH,
  SrtpKeyError,
  SrtpProtector,
  type SrtpProtectorOptions,
} from "./mod.ts";

const hex = (s: string) => Uint8Array.from(s.replace(/\s/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();

/** A protector and werift's SRTP receiver under the same master key and salt. */
async function protectorAndReceiver(options: SrtpProtectorOptions) {
  const { SrtpSession, ProtectionProfileAes128CmHmacSha1_80, RtpPacket } = await loadWerift();
  const masterKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
  const masterSalt = hex("0EC675AD498AFEEBB6960B3AABE6");
  const protector = new SrtpProtector(masterKey, masterSalt, options);
  const receiver = new SrtpSession({
    keys: {
      localMasterKey: new Uint8Array(16) as never,
      localMasterSalt: new Uint8Array(14) as never,
      remoteMasterKey: masterKey as never,
      remoteMasterSalt: masterSalt as never,
    },
    profile: ProtectionProfileAes128CmHmacSha1_80,
  });
  return { protector, receiver, RtpPacket };
}

/**
 * A 12-byte RTP header and `payload` written into `buffer` at `offset`; returns the packet with room
 * for the tag after it.
 */
function writeRtp(
  buffer: Uint8Array,
  offset: number,
  ssrc: number,
  seq: number,
  payload: Uint8Array,
): Uint8Array {
  const packet = buffer.subarray(offset, offset + 12 + payload.length + SRTP_AUTH_TAG_LENGTH);
  packet[0] = 0x80;
  packet[1] = 96;
  packet[2] = seq >>> 8;
  packet[3] = seq & 0xff;
  new DataView(buffer.buffer).setUint32(offset + 4, seq * 3000);
  new DataView(buffer.buffer).setUint32(offset + 8, ssrc);
  packet.set(payload, 12);
  return packet;
}

describe("SRTP AES_CM_128_HMAC_SHA1_80", () => {
  test("key derivation: RFC 3711 Appendix B.3", () => {
    const keys = deriveSrtpKeys(hex("E1F97A0D3E018BE0D64FA32C06DE4139"), hex("0EC675AD498AFEEBB6960B3AABE6"));
    expect(toHex(keys.encryptionKey)).toBe("C61E7A93744F39EE10734AFE3FF7A087");
    expect(toHex(keys.salt)).toBe("30CBBC08863D8C85D49DB34A9AE1");
    expect(toHex(keys.authKey)).toBe("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4");
  });

  test("AES-CM keystream: RFC 3711 Appendix B.2 (SSRC 0, ROC 0, SEQ 0)", () => {
    const protector = new SrtpProtector({
      encryptionKey: hex("2B7E151628AED2A6ABF7158809CF4F3C"),
      salt: hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"),
      authKey: new Uint8Array(20),
    });
    // An all-zero payload encrypts to the keystream itself; the B.2 table runs to block 0xFF01.
    const blocks = 0xff02;
    const packet = new Uint8Array(12 + blocks * 16 + SRTP_AUTH_TAG_LENGTH);
    protector.protect(packet, 12, blocks * 16, 0, 0);
    const block = (j: number) => toHex(packet.subarray(12 + j * 16, 12 + (j + 1) * 16));
    expect(block(0)).toBe("E03EAD0935C95E80E166B16DD92B4EB4");
    expect(block(1)).toBe("D23513162B02D0F72A43A2FE4A5F97AB");
    expect(block(2)).toBe("41E95B3BB0A2E8DD477901E4FCA894C0");
    expect(block(0xfeff)).toBe("EC8CDF7398607CB0F2D21675EA9EA1E4");
    expect(block(0xff00)).toBe("362B7C3C6773516318A077D7FC5073AE");
    expect(block(0xff01)).toBe("6A2CC3787889374FBEB4C81B17BA6C44");
  });

  test("HMAC-SHA1 in TypeScript equals the runtime's for every length around the block edges", () => {
    const key = hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4");
    const mac = new HmacSha1(key);
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff);
    const out = new Uint8Array(20);
    for (let len = 0; len < 300; len++) {
      const roc = (len * 0x01010101) >>> 0;
      mac.macWithTrailer(data, 1, len - 1 < 0 ? 0 : len - 1, roc, out, 0, 20);
      const trailer = new Uint8Array([roc >>> 24, (roc >>> 16) & 255, (roc >>> 8) & 255, roc & 255]);
      expect(toHex(out)).toBe(toHex(hmacSha1Native(key, [data.subarray(1, Math.max(1, len)), trailer])));
    }
  });

  test("wrong key lengths are refused with the lengths named", () => {
    expect(() => new SrtpProtector(new Uint8Array(15), new Uint8Array(14))).toThrow(SrtpKeyError);
    expect(() => new SrtpProtector(new Uint8Array(16), new Uint8Array(12))).toThrow(
      /14-byte master salt, got 12/,
    );
  });

  const modes: { name: string; options: SrtpProtectorOptions; offset: number }[] = [
    { name: "TypeScript HMAC", options: { nativeHmac: false, oneShotHash: false }, offset: 0 },
    { name: "runtime HMAC object", options: { nativeHmac: true, oneShotHash: false }, offset: 0 },
    // Aligned: the payload is XORed four bytes at a time; 3 bytes further, byte by byte.
    { name: "one-shot hash in the headroom", options: { oneShotHash: true }, offset: SRTP_HMAC_HEADROOM },
    {
      name: "one-shot hash, unaligned packet",
      options: { oneShotHash: true },
      offset: SRTP_HMAC_HEADROOM + 3,
    },
    { name: "default choice, headroom", options: {}, offset: SRTP_HMAC_HEADROOM },
    { name: "no headroom: TypeScript HMAC", options: { nativeHmac: false }, offset: 0 },
  ];
  for (const { name, options, offset } of modes) {
    const needsOneShot = options.oneShotHash === true;
    test.skipIf(needsOneShot && !sha1OneShot)(
      `werift's SrtpSession decrypts it (${name}): two SSRCs, a sequence wrap (ROC 0 -> 1), a retransmission${
        needsOneShot ? " (needs crypto.hash)" : ""
      }`,
      async () => {
        const { protector, receiver, RtpPacket } = await protectorAndReceiver(options);
        const sent: { ssrc: number; seq: number; payload: Uint8Array }[] = [];
        for (let i = 0; i < 12; i++) {
          for (const [ssrc, first] of [[0x11223344, 65530], [0xfedcba98, 100]] as const) {
            const seq = (first + i) & 0xffff;
            sent.push({
              ssrc,
              seq,
              payload: Uint8Array.from({ length: 50 + i * 97 }, (_, j) => (j + i + ssrc) & 0xff),
            });
          }
        }
        // A retransmission of a packet from before the wrap, sent after it.
        sent.push(sent.find((p) => p.ssrc === 0x11223344 && p.seq === 65534)!);
        sent.push({ ssrc: 0x11223344, seq: 6, payload: new Uint8Array(1188).fill(9) });
        for (const { ssrc, seq, payload } of sent) {
          const buffer = new Uint8Array(offset + 12 + payload.length + SRTP_AUTH_TAG_LENGTH);
          const packet = writeRtp(buffer, offset, ssrc, seq, payload);
          const n = protector.protect(buffer, 12, payload.length, ssrc, seq, offset);
          expect(n).toBe(packet.length);
          const clear = RtpPacket.deSerialize(receiver.decrypt(asNodeBuffer(packet) as never));
          expect(clear.header.ssrc).toBe(ssrc);
          expect(clear.header.sequenceNumber).toBe(seq);
          expect(toHex(new Uint8Array(clear.payload))).toBe(toHex(payload));
        }
      },
    );
  }
});

describe("SrtpProtector keystream batches", () => {
  test("packets computed ahead, NACK resends from before and inside the batch, a larger payload and a sequence wrap all decrypt", async () => {
    const { protector, receiver, RtpPacket } = await protectorAndReceiver({});
    const video = 0x0a0b0c0d, audio = 0x01020304;
    const order: { ssrc: number; seq: number; size: number }[] = [];
    // 3 batches of video crossing the wrap, audio in between, the last packet of a "frame" short.
    for (let i = 0; i < 3 * SRTP_KEYSTREAM_BATCH; i++) {
      const seq = (65530 + i) & 0xffff;
      order.push({ ssrc: video, seq, size: i % 7 === 6 ? 301 : 1188 });
      if (i % 5 === 0) order.push({ ssrc: audio, seq: 40 + i, size: 120 + i });
    }
    // NACKs: from two batches back (before the wrap), from inside the current batch.
    order.push({ ssrc: video, seq: 65532, size: 1188 });
    order.push({ ssrc: video, seq: (65530 + 3 * SRTP_KEYSTREAM_BATCH - 2) & 0xffff, size: 1188 });
    // A payload larger than any before, then the run goes on, then a large one (no batch).
    order.push({ ssrc: video, seq: (65530 + 3 * SRTP_KEYSTREAM_BATCH) & 0xffff, size: 1400 });
    order.push({ ssrc: video, seq: (65530 + 3 * SRTP_KEYSTREAM_BATCH + 1) & 0xffff, size: 1188 });
    order.push({ ssrc: video, seq: (65530 + 3 * SRTP_KEYSTREAM_BATCH + 2) & 0xffff, size: 5000 });
    order.push({ ssrc: video, seq: (65530 + 3 * SRTP_KEYSTREAM_BATCH + 3) & 0xffff, size: 1188 });
    const offset = SRTP_HMAC_HEADROOM;
    // One buffer for every packet, as strom's WebRTC sender reuses one.
    const buffer = new Uint8Array(offset + 12 + 5000 + SRTP_AUTH_TAG_LENGTH);
    for (const [n, { ssrc, seq, size }] of order.entries()) {
      const payload = Uint8Array.from({ length: size }, (_, j) => (j * 7 + n) & 0xff);
      const packet = writeRtp(buffer, offset, ssrc, seq, payload);
      const length = protector.protect(buffer, 12, size, ssrc, seq, offset);
      expect(length).toBe(packet.length);
      const clear = RtpPacket.deSerialize(receiver.decrypt(asNodeBuffer(packet.slice()) as never));
      expect(clear.header.sequenceNumber).toBe(seq);
      expect(toHex(new Uint8Array(clear.payload))).toBe(toHex(payload));
    }
  });
});
