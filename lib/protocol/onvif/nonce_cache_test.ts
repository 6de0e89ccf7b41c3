import { describe, expect, it } from "bun:test";
import { NonceCache } from "./nonce_cache.ts";
import { USERNAME_TOKEN_WINDOW_MS, type UsernameToken } from "./server.ts";

const T0 = Date.parse("2026-12-06T10:00:00Z");

function digest(nonce: string, created = "2026-12-06T10:00:00Z", username = "admin"): UsernameToken {
  return { username, password: "digest", type: "digest", nonce, created };
}

// A cache on a clock the test moves.
function cache(maxEntries?: number): { nonces: NonceCache; clock: { now: number } } {
  const clock = { now: T0 };
  return { nonces: new NonceCache({ maxEntries, now: () => clock.now }), clock };
}

describe("NonceCache", () => {
  it("refuses a nonce already used, with the reason and the fix; other nonces pass", async () => {
    const { nonces } = cache();
    expect(await nonces.record(digest("AAECAwQFBgcICQoLDA0ODw=="))).toBe(true);
    const replay = await nonces.record(digest("AAECAwQFBgcICQoLDA0ODw=="));
    expect(replay).toContain("the token was replayed (its Nonce was already used in the last 300 s)");
    expect(replay).toContain("the client must send a fresh Nonce and Created with every request");
    expect(await nonces.record(digest("EBESExQVFhcYGRobHB0eHw=="))).toBe(true);
    expect(nonces.size).toBe(2);
  });

  it("refuses a token replayed under another account (the digest does not cover the user name)", async () => {
    const { nonces } = cache();
    expect(await nonces.record(digest("AAECAwQFBgcICQoLDA0ODw==", undefined, "admin"))).toBe(true);
    expect(await nonces.record(digest("AAECAwQFBgcICQoLDA0ODw==", undefined, "guest"))).toContain(
      "the token was replayed",
    );
    // Without a Nonce: the same Created and digest under another name is the same token...
    expect(await nonces.record(digest("", "2026-12-06T10:00:05Z", "admin"))).toBe(true);
    expect(await nonces.record(digest("", "2026-12-06T10:00:05Z", "guest"))).toContain(
      "the token was replayed",
    );
    // ...while another account's own token of the same second (another password) passes.
    const other: UsernameToken = { ...digest("", "2026-12-06T10:00:05Z", "guest"), password: "other-digest" };
    expect(await nonces.record(other)).toBe(true);
  });

  it("knows a nonce by its bytes (white space, padding bits) and a nonce-less token by its Created", async () => {
    const { nonces } = cache();
    expect(await nonces.record(digest("AAECAwQF"))).toBe(true);
    expect(await nonces.record(digest("AAEC AwQF"))).not.toBe(true);
    // "AB==" and "AA==" both decode to the single byte 0x00.
    expect(await nonces.record(digest("AA=="))).toBe(true);
    expect(await nonces.record(digest("AB=="))).not.toBe(true);
    expect(await nonces.record(digest(""))).toBe(true);
    expect(await nonces.record(digest(""))).not.toBe(true);
    expect(await nonces.record(digest("", "2026-12-06T10:00:01Z"))).toBe(true);
  });

  it("forgets a nonce once its Created leaves the window, counted from Created (also ahead of the clock)", async () => {
    const { nonces, clock } = cache();
    expect(await nonces.record(digest("AAAA"))).toBe(true);
    // Made 4 min ahead of this clock: it could pass the clock check until 9 min from now.
    expect(await nonces.record(digest("BBBB", "2026-12-06T10:04:00Z"))).toBe(true);
    clock.now = T0 + USERNAME_TOKEN_WINDOW_MS;
    expect(await nonces.record(digest("AAAA"))).not.toBe(true);
    clock.now = T0 + USERNAME_TOKEN_WINDOW_MS + 1;
    expect(await nonces.record(digest("AAAA"))).toBe(true);
    expect(await nonces.record(digest("BBBB", "2026-12-06T10:04:00Z"))).not.toBe(true);
    clock.now = T0 + 4 * 60_000 + USERNAME_TOKEN_WINDOW_MS + 1;
    expect(await nonces.record(digest("CCCC", "2026-12-06T10:09:00Z"))).toBe(true);
    // Both older entries expired and were pruned on that use.
    expect(nonces.size).toBe(1);
  });

  it("holds at most maxEntries, dropping the oldest first", async () => {
    const { nonces } = cache(3);
    for (const n of ["AAAA", "BBBB", "CCCC", "DDDD", "EEEE"]) {
      expect(await nonces.record(digest(n))).toBe(true);
    }
    expect(nonces.size).toBe(3);
    expect(await nonces.record(digest("EEEE"))).not.toBe(true);
    expect(await nonces.record(digest("CCCC"))).not.toBe(true);
    // The oldest two were dropped (so they pass again, and push out the next oldest).
    expect(await nonces.record(digest("AAAA"))).toBe(true);
    expect(nonces.size).toBe(3);

    const flood = cache(100);
    for (let i = 0; i < 1000; i++) await flood.nonces.record(digest(btoa(`nonce ${i}`)));
    expect(flood.nonces.size).toBe(100);
  });

  it("of two requests with one nonce at the same time, one passes", async () => {
    const { nonces } = cache();
    const results = await Promise.all([nonces.record(digest("AAAA")), nonces.record(digest("AAAA"))]);
    expect(results.filter((r) => r === true)).toHaveLength(1);
  });

  it("leaves PasswordText tokens alone", async () => {
    const { nonces } = cache();
    const text: UsernameToken = { username: "admin", password: "pw", type: "text", nonce: "", created: "" };
    expect(await nonces.record(text)).toBe(true);
    expect(await nonces.record(text)).toBe(true);
    expect(nonces.size).toBe(0);
  });
});
