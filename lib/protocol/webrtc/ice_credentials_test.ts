import { describe, expect, test } from "bun:test";
import {
  ICE_PWD_LENGTH,
  ICE_UFRAG_LENGTH,
  IceUfragError,
  newIceUfrag,
  randomIceChars,
  setIceCredentials,
} from "./ice_credentials.ts";
import { weriftIceConfig } from "./ice_policy.ts";
import { loadWerift } from "./werift.ts";

describe("ICE credentials", () => {
  test("random ice-chars: the length asked, letters and digits only, no repeats in 1000 ufrags", () => {
    for (const n of [1, 8, 24, 100]) expect(randomIceChars(n)).toMatch(new RegExp(`^[A-Za-z0-9]{${n}}$`));
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(newIceUfrag());
    expect(seen.size).toBe(1000);
  });

  test("a ufrag in use is never given; a check that says everything is in use fails clearly", () => {
    const refused: string[] = [];
    const ufrag = newIceUfrag((u) => {
      if (refused.length >= 3) return false;
      refused.push(u);
      return true;
    });
    expect(refused.length).toBe(3);
    expect(refused).not.toContain(ufrag);
    expect(ufrag).toHaveLength(ICE_UFRAG_LENGTH);
    let error: unknown;
    try {
      newIceUfrag(() => true);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IceUfragError);
    expect((error as IceUfragError).name).toBe("IceUfragError");
    expect((error as IceUfragError).attempts).toBe(16);
    expect(String((error as Error).message)).toContain("no free ICE ufrag");
  });

  test(
    "a werift answer carries strom's credentials (tests/webrtc/ice_mux_test.ts plays through them)",
    async () => {
      const { RTCPeerConnection } = await loadWerift();
      // Loopback only, no STUN server.
      const config = weriftIceConfig({ bindAddress: "127.0.0.1" });
      const offerer = new RTCPeerConnection(config);
      const answerer = new RTCPeerConnection(config);
      try {
        offerer.addTransceiver("audio", { direction: "recvonly" });
        await offerer.setLocalDescription(await offerer.createOffer());
        await answerer.setRemoteDescription(offerer.localDescription!);
        const given = setIceCredentials(answerer);
        expect(given).toHaveLength(1);
        await answerer.setLocalDescription(await answerer.createAnswer());
        const sdp = answerer.localDescription!.sdp;
        expect(/^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1]).toBe(given[0]);
        expect(/^a=ice-pwd:(\S+)/m.exec(sdp)?.[1]).toHaveLength(ICE_PWD_LENGTH);
        // Once gathering started the transport keeps what it announced.
        expect(setIceCredentials(answerer)).toEqual([]);
      } finally {
        // werift's close() leaves a DTLS transport's timers running; stop them too.
        for (const pc of [offerer, answerer]) {
          const dtls = new Set(pc.getTransceivers().map((t) => t.dtlsTransport).filter((d) => !!d));
          await pc.close();
          for (const d of dtls) await d.stop().catch(() => {});
        }
      }
    },
    30_000,
  );
});
