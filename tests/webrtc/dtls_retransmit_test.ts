/**
 * werift's DTLS client with a server that repeats its flight 4 (lib/protocol/webrtc/dtls_client_patch.ts).
 * A werift client and server talk over an in-memory link. The server's first flight 4 goes through
 * as sent; then its flight 6 (ChangeCipherSpec + Finished) reaches the client in one datagram behind
 * a copy of flight 4, as when the server retransmitted flight 4 while the client's flight 5 was on
 * its way. Unpatched, werift then builds a second flight 5 with a new key pair after the handshake,
 * and its keys no longer match the server's: seen with Chromium on Deno, where the browser got no
 * video. Both ends must export the same SRTP keys and exchange application data. The same harness
 * feeds each end records no DTLS 1.2 peer sends (unknown content types, an alert in the clear after
 * the handshake), which werift closed the transport on (lib/protocol/webrtc/dtls_server_patch.ts).
 */
import { describe, expect, test } from "bun:test";
import type * as Werift from "werift";
import { concatBytes } from "../../lib/core/bytes.ts";
import { loadWerift } from "../../lib/protocol/webrtc/werift.ts";

/** DTLS record header: content type, version (2), epoch (2), sequence (6), length (2). */
const RECORD_HEADER = 13;
const HANDSHAKE = 22;
const CHANGE_CIPHER_SPEC = 20;

/** Splits a datagram into its DTLS records. */
function records(datagram: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o + RECORD_HEADER <= datagram.length;) {
    const len = (datagram[o + 11] << 8) | datagram[o + 12];
    out.push(datagram.subarray(o, o + RECORD_HEADER + len));
    o += RECORD_HEADER + len;
  }
  return out;
}

interface Link {
  onData?: (buf: Uint8Array) => void;
  send(buf: Uint8Array): Promise<void>;
  close(): void;
}

async function handshake(werift: typeof Werift, repeatFlight4: boolean, repeatClientHello = false) {
  const { CipherContext, DtlsClient, DtlsServer } = werift as unknown as {
    CipherContext: {
      createSelfSignedCertificateWithKey(
        sh: { signature: number; hash: number },
        curve: number,
      ): Promise<{ certPem: string; keyPem: string; signatureHash: unknown }>;
    };
    DtlsClient: new (o: object) => DtlsEnd;
    DtlsServer: new (o: object) => DtlsEnd;
  };
  // ECDSA P-256 with SHA-256, as werift's RTCDtlsTransport makes.
  const make = () => CipherContext.createSelfSignedCertificateWithKey({ signature: 3, hash: 4 }, 23);
  const [clientCert, serverCert] = await Promise.all([make(), make()]);
  // Each end's transport sends to the other end's onData, a timer tick later, as a datagram would.
  const serverLink: Link = { send: (b) => Promise.resolve(deliver(clientLink, b)), close() {} };
  const clientLink: Link = { send: (b) => Promise.resolve(deliver(serverLink, b)), close() {} };
  let firstClientHello: Uint8Array | undefined;
  const deliver = (to: Link, b: Uint8Array) => {
    if (repeatClientHello && to === serverLink && !firstClientHello) firstClientHello = b.slice();
    if (repeatClientHello && to === clientLink && firstClientHello) {
      const first = records(b)[0];
      if (first[0] === HANDSHAKE && first[RECORD_HEADER] === 2) {
        // The server's ServerHello (flight 4) is out: a late copy of the first ClientHello comes in.
        const copy = firstClientHello;
        setTimeout(() => serverLink.onData?.(Buffer.from(copy)), 1);
      }
    }
    if (repeatFlight4 && to === clientLink) b = replayFlight4(b) as Uint8Array;
    if (b) setTimeout(() => to.onData?.(Buffer.from(b)), 1);
  };
  const flight4: Uint8Array[] = [];
  let held: Uint8Array | undefined;
  /** The server's datagram to pass on now (undefined: hold it). */
  const replayFlight4 = (b: Uint8Array): Uint8Array | undefined => {
    const first = records(b)[0];
    const epoch = (first[3] << 8) | first[4];
    if (first[0] === HANDSHAKE && epoch === 0 && first[RECORD_HEADER] !== 3) {
      flight4.push(b.slice()); // ServerHello ... ServerHelloDone (not a HelloVerifyRequest)
      return b;
    }
    if (first[0] === CHANGE_CIPHER_SPEC) {
      held = b.slice();
      return undefined;
    }
    if (held && epoch === 1) {
      // Flight 6's Finished: flight 4 again, then ChangeCipherSpec and Finished, in one datagram.
      const datagram = concatBytes([...flight4, held, b]);
      held = undefined;
      return datagram;
    }
    return b;
  };
  const profiles = [0x0001];
  const server = new DtlsServer({
    cert: serverCert.certPem,
    key: serverCert.keyPem,
    signatureHash: serverCert.signatureHash,
    transport: serverLink,
    srtpProfiles: profiles,
    extendedMasterSecret: true,
    certificateRequest: true,
  });
  const client = new DtlsClient({
    cert: clientCert.certPem,
    key: clientCert.keyPem,
    signatureHash: clientCert.signatureHash,
    transport: clientLink,
    srtpProfiles: profiles,
    extendedMasterSecret: true,
  });
  const connected = Promise.all([
    new Promise<void>((r) => client.onConnect.once(() => r())),
    new Promise<void>((r) => server.onConnect.once(() => r())),
  ]);
  await client.connect();
  const timedOut = await Promise.race([
    connected.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(true), 5000)),
  ]);
  if (timedOut) {
    client.close();
    server.close();
    throw new Error("the DTLS handshake did not complete within 5 s");
  }
  return { client, server, clientLink, serverLink };
}

interface DtlsEnd {
  connect(): Promise<void>;
  close(): void;
  send(buf: Uint8Array): Promise<void>;
  onConnect: { once(fn: () => void): void };
  onClose: { subscribe(fn: () => void): void };
  onData: { subscribe(fn: (buf: Uint8Array) => void): void };
  dtls: { flight: number };
  extractSessionKeys(
    keyLength: number,
    saltLength: number,
  ): { localKey: Uint8Array; localSalt: Uint8Array; remoteKey: Uint8Array; remoteSalt: Uint8Array };
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Both ends export the same SRTP keys, and `message` sent by the client reaches the server. */
async function expectSameKeysAndData(client: DtlsEnd, server: DtlsEnd, message: string): Promise<void> {
  const c = client.extractSessionKeys(16, 14);
  const s = server.extractSessionKeys(16, 14);
  expect(hex(c.localKey)).toBe(hex(s.remoteKey));
  expect(hex(c.localSalt)).toBe(hex(s.remoteSalt));
  expect(hex(c.remoteKey)).toBe(hex(s.localKey));
  const got = new Promise<string>((r) => server.onData.subscribe((b) => r(new TextDecoder().decode(b))));
  await client.send(new TextEncoder().encode(message));
  expect(await Promise.race([got, new Promise((r) => setTimeout(() => r("nothing"), 2000))])).toBe(message);
}

describe("werift DTLS with repeated handshake flights", () => {
  test("both ends keep the same keys and exchange data", async () => {
    const werift = await loadWerift();
    const { client, server } = await handshake(werift, true);
    try {
      // Let the copy's handlers (each record in its own promise) run to the end.
      await new Promise((r) => setTimeout(r, 300));
      expect(client.dtls.flight).toBe(7);
      await expectSameKeysAndData(client, server, "after the repeat");
    } finally {
      client.close();
      server.close();
    }
  }, 20_000);

  test("a late copy of the client's first ClientHello does not reset the server (werift as DTLS server)", async () => {
    const werift = await loadWerift();
    const { client, server } = await handshake(werift, false, true);
    try {
      await new Promise((r) => setTimeout(r, 300));
      await expectSameKeysAndData(client, server, "after the late ClientHello");
    } finally {
      client.close();
      server.close();
    }
  }, 20_000);

  test("records no DTLS 1.2 peer sends close neither end: unknown content types, a clear alert", async () => {
    const werift = await loadWerift();
    const { client, server, clientLink, serverLink } = await handshake(werift, false);
    let closed = 0;
    client.onClose.subscribe(() => void closed++);
    server.onClose.subscribe(() => void closed++);
    const record = (type: number, epoch: number, body: number[]) =>
      Buffer.from([type, 0xfe, 0xfd, 0, epoch, 0, 0, 0, 0, 0, 9, 0, body.length, ...body]);
    try {
      for (const link of [clientLink, serverLink]) {
        link.onData?.(record(24, 1, [1, 2, 3])); // werift: "alert", and closes
        link.onData?.(record(63, 0, []));
        link.onData?.(record(21, 0, [1, 0])); // close_notify, unencrypted after the handshake
        // A valid record followed by an invalid one in the same datagram: the datagram goes.
        link.onData?.(Buffer.concat([record(23, 1, [0]), record(40, 1, [0])]));
        // Truncated: shorter than a record header, a header whose length runs past the datagram,
        // a whole record with a few stray bytes after it (werift reads past the end on these).
        link.onData?.(Buffer.from([23, 0xfe, 0xfd, 0, 1]));
        link.onData?.(record(23, 1, [1, 2, 3]).subarray(0, 14));
        link.onData?.(Buffer.concat([record(22, 1, [0]), Buffer.from([22, 0xfe])]));
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(closed).toBe(0);
      await expectSameKeysAndData(client, server, "after the invalid records");
    } finally {
      client.close();
      server.close();
    }
  }, 20_000);

  test("without a repeat the same link agrees too (control)", async () => {
    const werift = await loadWerift();
    const { client, server } = await handshake(werift, false);
    try {
      expect(hex(client.extractSessionKeys(16, 14).localKey)).toBe(hex(server.extractSessionKeys(16, 14).remoteKey));
    } finally {
      client.close();
      server.close();
    }
  }, 20_000);
});
