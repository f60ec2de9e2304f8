import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** One-shot SHA-256 (crypto.hash, Node >= 20.12, skips the Hash object), else the streaming API. */
const sha256 = (data: string | Buffer): Buffer =>
  typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash('sha256', data, 'buffer') : createHash('sha256').update(data).digest();

/**
 * Constant-time comparison of two strings of any length: both sides are
 * digested first so the comparison never short-circuits on length.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

const knownDigests = new Map<string, Buffer>();

/**
 * safeEqual against a configured secret, whose digest is computed once: the
 * check on every request then hashes only what the caller presented.
 */
export function safeEqualKnown(presented: string, known: string): boolean {
  let dk = knownDigests.get(known);
  if (!dk) {
    // Only configured secrets come here, so the map stays tiny; the cap is a guard against misuse.
    if (knownDigests.size >= 64) knownDigests.clear();
    dk = sha256(known);
    knownDigests.set(known, dk);
  }
  return timingSafeEqual(sha256(presented), dk);
}

/** Constant-time comparison of two equal-purpose digests (e.g. HMAC outputs). */
export function safeEqualHex(a: string, b: string): boolean {
  return safeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
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
