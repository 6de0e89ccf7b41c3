/**
 * String comparison whose time does not depend on where the strings differ, for passwords and
 * digests (a timing side channel would tell an attacker how much of a guess is right).
 *
 * @module
 */

/**
 * Whether two strings are equal, in time that depends only on their lengths.
 *
 * @example
 * ```ts
 * safeEqual(sent, account.password); // true or false, never early
 * ```
 */
export function safeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}
