import { hmacSha256Hex, macEqualHex, randomToken, sha256Hex } from '../common/crypto';
import type { HeaderBag } from '../guard/strategy';
import type { NonceStore } from './nonce-store';

export const SIGNATURE_HEADERS = {
  timestamp: 'x-bot-timestamp',
  nonce: 'x-bot-nonce',
  signature: 'x-bot-signature',
} as const;

const SCHEME = 'PORTCULLIS-HMAC-SHA256';
const NONCE_RE = /^[A-Za-z0-9_-]{16,128}$/;

export interface SignableRequest {
  method: string;
  /** Path with query, exactly as sent on the request line. */
  pathWithQuery: string;
  body?: string | Buffer;
}

/**
 * The signed string: method, path with query, body hash, timestamp and nonce,
 * one per line, so changing any of them changes the signature.
 */
export function canonicalRequest(req: SignableRequest, timestamp: string, nonce: string): string {
  return [SCHEME, req.method.toUpperCase(), req.pathWithQuery, sha256Hex(req.body ?? ''), timestamp, nonce].join('\n');
}

export function signRequest(secret: string, req: SignableRequest, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const nonce = randomToken(18);
  const sig = hmacSha256Hex(secret, canonicalRequest(req, timestamp, nonce));
  return {
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: `v1=${sig}`,
  };
}

export type SignatureCheck =
  | { ok: true; which: 'current' | 'previous' }
  | {
      ok: false;
      reason:
        | 'not_configured'
        | 'missing_signature'
        | 'bad_timestamp'
        | 'stale_timestamp'
        | 'bad_nonce'
        | 'bad_signature'
        | 'replayed_nonce';
    };

function one(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function hasSignature(headers: HeaderBag): boolean {
  return Boolean(one(headers, SIGNATURE_HEADERS.signature));
}

export class RequestSignatureVerifier {
  constructor(
    private readonly secrets: { current?: string; previous?: string },
    private readonly nonces: NonceStore,
    private readonly skewSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(req: SignableRequest, headers: HeaderBag): Promise<SignatureCheck> {
    const { current, previous } = this.secrets;
    if (!current && !previous) return { ok: false, reason: 'not_configured' };
    const ts = one(headers, SIGNATURE_HEADERS.timestamp);
    const nonce = one(headers, SIGNATURE_HEADERS.nonce);
    const sig = one(headers, SIGNATURE_HEADERS.signature);
    if (!ts || !nonce || !sig) return { ok: false, reason: 'missing_signature' };
    if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'bad_timestamp' };
    if (Math.abs(this.now() / 1000 - Number(ts)) > this.skewSeconds) return { ok: false, reason: 'stale_timestamp' };
    if (!NONCE_RE.test(nonce)) return { ok: false, reason: 'bad_nonce' };
    const canonical = canonicalRequest(req, ts, nonce);
    const presented = sig.startsWith('v1=') ? sig.slice(3) : sig;
    const okCurrent = current ? macEqualHex(presented, hmacSha256Hex(current, canonical)) : false;
    const okPrevious = previous ? macEqualHex(presented, hmacSha256Hex(previous, canonical)) : false;
    if (!okCurrent && !okPrevious) return { ok: false, reason: 'bad_signature' };
    // Claimed only after the signature holds, so a forger cannot burn other callers' nonces.
    if (!(await this.nonces.claim(nonce))) return { ok: false, reason: 'replayed_nonce' };
    return { ok: true, which: okCurrent ? 'current' : 'previous' };
  }
}
