/**
 * strom's own ICE credentials for a werift session (`a=ice-ufrag`, `a=ice-pwd`).
 *
 * werift makes a 4-hex-digit ufrag (16 bits) and a 22-hex-digit password (88 bits). RFC 8445 §5.3
 * asks for at least 24 and 128 bits of randomness. The shared ICE port (ice_mux.ts) routes a peer's
 * first check by that ufrag, so two sessions open at once must not share it: with 16 bits, 50
 * sessions share one with a probability of about 2 % (the birthday bound), and the second session
 * then never connects. A ufrag made here has 8 characters (47 bits) and is checked against the
 * ufrags in use; the password has 24 (142 bits).
 *
 * @module
 */
import type { RTCPeerConnection } from "werift";

/** Length of a ufrag made by {@link newIceUfrag}: 62^8, about 2^47.6 values. */
export const ICE_UFRAG_LENGTH = 8;
/** Length of a password made here: 62^24, about 2^142.9 values. */
export const ICE_PWD_LENGTH = 24;
/** Attempts {@link newIceUfrag} makes before it gives up (each collides with chance n/62^8). */
const MAX_ATTEMPTS = 16;

// ice-char (RFC 8839 §5.4) is ALPHA / DIGIT / "+" / "/"; letters and digits only here, so the
// ufrag can be used in URLs, logs and STUN USERNAMEs without escaping.
const CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * `length` random letters and digits from the Web Crypto generator, unbiased (bytes >= 248 are
 * drawn again).
 *
 * @example
 * ```ts
 * randomIceChars(8); // "q3ZkP0aL"
 * ```
 */
export function randomIceChars(length: number): string {
  let out = "";
  const bytes = new Uint8Array(length + 8);
  while (out.length < length) {
    crypto.getRandomValues(bytes);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      if (bytes[i] < 248) out += CHARS[bytes[i] % 62];
    }
  }
  return out;
}

/** Thrown when no free ufrag was found (only when `inUse` answers `true` for everything). */
export class IceUfragError extends Error {
  override name = "IceUfragError";
  readonly attempts: number;
  constructor(attempts: number) {
    super(
      `no free ICE ufrag after ${attempts} random tries: the check for ufrags in use answers "in use" ` +
        "for every value (a bug in that check)",
    );
    this.attempts = attempts;
  }
}

/**
 * A new random ufrag of {@link ICE_UFRAG_LENGTH} characters for which `inUse` is false.
 *
 * @throws {IceUfragError} after 16 tries that were all in use.
 * @example
 * ```ts
 * const ufrag = newIceUfrag((u) => mux.has(u));
 * ```
 */
export function newIceUfrag(inUse?: (ufrag: string) => boolean): string {
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const ufrag = randomIceChars(ICE_UFRAG_LENGTH);
    if (!inUse?.(ufrag)) return ufrag;
  }
  throw new IceUfragError(MAX_ATTEMPTS);
}

/** The part of werift's ICE `Connection` that holds our credentials. */
interface WeriftIceCredentials {
  localUsername: string;
  localPassword: string;
  /** ufrag -> password, consulted for incoming checks. */
  userHistory: Record<string, string>;
}

function iceConnection(transport: unknown): WeriftIceCredentials | undefined {
  const c = (transport as { connection?: Partial<WeriftIceCredentials> } | undefined)?.connection;
  if (!c || typeof c.localUsername !== "string" || typeof c.localPassword !== "string") return undefined;
  if (typeof c.userHistory !== "object" || c.userHistory === null) return undefined;
  return c as WeriftIceCredentials;
}

/**
 * Gives every ICE transport of `pc` that has not started gathering a new ufrag (free per `inUse`)
 * and password. Call it after the transports exist (after `setRemoteDescription` for an answer,
 * after `addTransceiver` for an offer) and before `createAnswer` / `createOffer`: werift puts the
 * transport's credentials in the local description and checks incoming requests against them.
 * Returns the ufrags given; transports werift shaped differently keep werift's own.
 *
 * @example
 * ```ts
 * await pc.setRemoteDescription(offer);
 * setIceCredentials(pc, (u) => mux.has(u));
 * await pc.setLocalDescription(await pc.createAnswer());
 * ```
 */
export function setIceCredentials(pc: RTCPeerConnection, inUse?: (ufrag: string) => boolean): string[] {
  const given: string[] = [];
  for (const transport of pc.iceTransports) {
    const c = iceConnection(transport);
    if (!c) continue;
    // A transport that started gathering announces its candidates with the ufrag it has.
    const gathering = (transport as unknown as { iceGather?: { gatheringState?: string } }).iceGather
      ?.gatheringState;
    if (gathering !== undefined && gathering !== "new") continue;
    const ufrag = newIceUfrag((u) => given.includes(u) || (inUse?.(u) ?? false));
    delete c.userHistory[c.localUsername];
    c.localUsername = ufrag;
    c.localPassword = randomIceChars(ICE_PWD_LENGTH);
    c.userHistory[ufrag] = c.localPassword;
    given.push(ufrag);
  }
  return given;
}
