import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A configured secret, encoded once (at boot, or when its source changes) so every
 * check compares bytes with bytes. See `secretMatches` for the comparison rule.
 */
export function encodeSecret(secret: string): Buffer {
  return Buffer.from(secret, 'utf8');
}

/**
 * Whether a presented secret equals a configured one, in time that does not depend
 * on where they differ: timingSafeEqual over the bytes. Lengths are compared first and
 * a different length answers at once; that tells a caller the length of the configured
 * secret at most, which is not what it protects (secrets are long random strings).
 */
export function secretMatches(presented: string | Buffer, known: Buffer): boolean {
  const given = typeof presented === 'string' ? Buffer.from(presented, 'utf8') : presented;
  return given.length === known.length && timingSafeEqual(given, known);
}

/**
 * Which of a current and a previous configured secret the presented one is. Both are
 * compared on every call, whichever matches, so the time taken does not say which one
 * matched or whether a previous secret is configured at all.
 */
export function matchCurrentOrPrevious(
  presented: string | Buffer,
  current: Buffer | undefined,
  previous: Buffer | undefined,
): 'current' | 'previous' | undefined {
  const isCurrent = current ? secretMatches(presented, current) : false;
  const isPrevious = previous ? secretMatches(presented, previous) : false;
  if (isCurrent) return 'current';
  if (isPrevious) return 'previous';
  return undefined;
}

/** Constant-time equality of two values neither of which is configured (a session's CSRF token, say). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return secretMatches(a, typeof b === 'string' ? encodeSecret(b) : b);
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Constant-time comparison of a presented HMAC-SHA-256 (64 lowercase hex digits)
 * with the expected one. A presented value of any other shape is refused before the
 * comparison: the shape of a MAC is public, so refusing it early tells a caller
 * nothing about the key.
 */
export function macEqualHex(presented: string, expected: string): boolean {
  if (!HEX_SHA256.test(presented) || !HEX_SHA256.test(expected)) return false;
  return timingSafeEqual(Buffer.from(presented, 'hex'), Buffer.from(expected, 'hex'));
}

export function hmacSha256Hex(key: string | Buffer, data: string | Buffer): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function randomHex(bytes = 32): string {
  return randomBytes(bytes).toString('hex');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * A short, non-reversible label for a secret, for logs and status output:
 * HMAC with a pepper when one is given, so the label cannot be brute-forced offline.
 */
export function fingerprint(secret: string, pepper = 'portcullis-fingerprint'): string {
  return `fp_${hmacSha256Hex(pepper, secret).slice(0, 16)}`;
}
