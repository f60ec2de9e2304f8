import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time comparison of two strings of any length: both sides are
 * digested first so the comparison never short-circuits on length.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
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
