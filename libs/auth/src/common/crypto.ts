import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * SHA-256 of `data`, written into `out` (32 bytes) and returned. crypto.hash
 * (Node >= 20.12) hands the digest back as a latin1 ("binary") string, copied into a
 * buffer that is reused: a Buffer made by the binding costs more than the
 * hash itself (node::Buffer::New sets a prototype, ~1 µs a call in a guard's
 * profile), and guards digest what a caller presents on every request.
 */
function sha256Into(data: string | Buffer, out: Buffer): Buffer {
  if (typeof nodeCrypto.hash === 'function') out.write(nodeCrypto.hash('sha256', data, 'binary'), 0, 'latin1');
  else createHash('sha256').update(data).digest().copy(out);
  return out;
}

// Reused by every comparison below. JavaScript runs one comparison at a time on a thread and nothing
// here awaits, so a buffer is never read by one call while another writes it; each worker thread has its own.
const digestA = Buffer.alloc(32);
const digestB = Buffer.alloc(32);

/**
 * Constant-time comparison of two strings of any length: both sides are
 * digested first so the comparison never short-circuits on length.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(sha256Into(a, digestA), sha256Into(b, digestB));
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
    dk = sha256Into(known, Buffer.alloc(32));
    knownDigests.set(known, dk);
  }
  return timingSafeEqual(sha256Into(presented, digestA), dk);
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const macA = Buffer.alloc(64);
const macB = Buffer.alloc(64);

/**
 * Constant-time comparison of a presented HMAC-SHA-256 (64 lowercase hex digits)
 * with the expected one. Both are already digests of one fixed length, so
 * timingSafeEqual compares them as they are; digesting them again, as safeEqual
 * must for secrets of any length, adds two hashes and no safety. A presented
 * value of any other shape is refused before the comparison: the shape of a
 * MAC is public, so refusing it early tells a caller nothing about the key.
 */
export function macEqualHex(presented: string, expected: string): boolean {
  if (!HEX_SHA256.test(presented) || !HEX_SHA256.test(expected)) return false;
  macA.write(presented, 0, 'latin1');
  macB.write(expected, 0, 'latin1');
  return timingSafeEqual(macA, macB);
}

export function hmacSha256Hex(key: string | Buffer, data: string | Buffer): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

export function sha256Hex(data: string | Buffer): string {
  // crypto.hash (Node >= 20.12) is one call into OpenSSL, without a Hash object per digest.
  return typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
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
