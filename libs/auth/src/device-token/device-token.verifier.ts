import { DEVICE_TOKEN_HEADER_TYP, DEVICE_TOKEN_MAX_TTL_SECONDS, DEVICE_TOKEN_TYP } from '@portcullis/contracts';
import { createRemoteJWKSet, errors, JWTPayload, JWTVerifyGetKey, jwtVerify } from 'jose';
import { TokenRejected, toRejection } from '../jwt/jwks-verifier';
import { RevocationMap } from './revocation-map';

/** Who a verified device token speaks for. */
export interface VerifiedDevice {
  kind: 'device';
  deviceId: string;
  customerId: string;
  generation: number;
  jti: string;
  issuedAt: number;
  expiresAt: number;
}

export interface DeviceTokenVerifierOptions {
  /** device-auth's `/.well-known/jwks.json`; or pass `keys` (device-auth itself uses its key ring). */
  jwksUrl?: string;
  keys?: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  /** Refuse tokens whose exp - iat exceeds this (default and cap: 3600 s). */
  maxLifetimeSeconds?: number;
  clockToleranceSeconds?: number;
  /** Refuse every token until the first revocation snapshot arrived (default true). */
  requireSync?: boolean;
  /** Verified tokens remembered (signature work skipped; expiry and revocation still checked). */
  cacheSize?: number;
  now?: () => number;
}

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

/**
 * Verifies device access tokens locally (ES256 only, `kid` looked up in the
 * cached JWKS, refetched on an unknown `kid`) and checks the revocation map.
 * Every failure is a TokenRejected whose reason is for the audit log only.
 */
export class DeviceTokenVerifier {
  readonly revocations: RevocationMap;
  private readonly keys: JWTVerifyGetKey;
  private readonly remote?: RemoteJwks;
  /**
   * Verified tokens, keyed by the whole token. Keying by the short signature
   * segment would hash less per request, but the hit would then need a string
   * compare whose time tells how much of a guessed header and payload matches
   * the cached token's: an oracle for the rest of a token whose signature leaked.
   */
  private readonly cache = new Map<string, VerifiedDevice>();
  private readonly cacheSize: number;
  private readonly maxLifetime: number;
  private readonly now: () => number;

  constructor(
    private readonly opts: DeviceTokenVerifierOptions,
    revocations = new RevocationMap(),
  ) {
    this.revocations = revocations;
    if (opts.keys) this.keys = opts.keys;
    else if (opts.jwksUrl) {
      this.remote = createRemoteJWKSet(new URL(opts.jwksUrl), {
        cooldownDuration: 1000,
        cacheMaxAge: 10 * 60 * 1000,
        timeoutDuration: 5000,
      });
      this.keys = this.remote;
    } else throw new Error('DeviceTokenVerifier needs jwksUrl or keys');
    this.cacheSize = opts.cacheSize ?? 10_000;
    this.maxLifetime = Math.min(opts.maxLifetimeSeconds ?? DEVICE_TOKEN_MAX_TTL_SECONDS, DEVICE_TOKEN_MAX_TTL_SECONDS);
    this.now = opts.now ?? Date.now;
  }

  get issuer(): string {
    return this.opts.issuer;
  }

  /** Refetch the key set (after a jwksUpdated event). */
  async reloadKeys(): Promise<void> {
    this.cache.clear();
    await this.remote?.reload();
  }

  /**
   * Signature, claims, expiry and the revocation map. A token verified before is
   * answered from the cache (expiry and revocation are still checked on every call).
   * Rejects with TokenRejected.
   */
  async verify(token: string | undefined): Promise<VerifiedDevice> {
    if (!token) throw new TokenRejected('missing_token');
    if ((this.opts.requireSync ?? true) && !this.revocations.synced) throw new TokenRejected('revocations_unsynced');
    const nowSec = Math.floor(this.now() / 1000);
    const cached = this.cache.get(token);
    if (cached && cached.expiresAt > nowSec) return this.notRevoked(token, cached);
    return this.notRevoked(token, await this.verifySignature(token, nowSec));
  }

  private notRevoked(token: string, principal: VerifiedDevice): VerifiedDevice {
    if (this.revocations.isRevoked(principal.deviceId, principal.generation)) {
      this.cache.delete(token);
      throw new TokenRejected('revoked');
    }
    return principal;
  }

  private async verifySignature(token: string, nowSec: number): Promise<VerifiedDevice> {
    let payload: JWTPayload;
    try {
      payload = await this.checkSignature(token, nowSec).catch(async (err: unknown) => {
        // A kid we do not hold while the key set was fetched moments ago (a rotation just
        // happened): refetch once the cooldown has passed, then try once more.
        if (!(err instanceof errors.JWKSNoMatchingKey) || !this.remote?.coolingDown) throw err;
        await this.refetchAfterCooldown();
        return this.checkSignature(token, nowSec);
      });
    } catch (err) {
      throw toRejection(err);
    }
    return this.toPrincipal(token, payload, nowSec);
  }

  private refetch?: Promise<void>;

  /** One refetch shared by every waiting request, so unknown kids cost at most one JWKS fetch per second. */
  private refetchAfterCooldown(): Promise<void> {
    this.refetch ??= new Promise<void>((r) => setTimeout(r, 1000))
      .then(() => this.remote?.reload())
      .finally(() => (this.refetch = undefined));
    return this.refetch;
  }

  private async checkSignature(token: string, nowSec: number): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, this.keys, {
      algorithms: ['ES256'],
      issuer: this.opts.issuer,
      audience: this.opts.audience,
      typ: DEVICE_TOKEN_HEADER_TYP,
      clockTolerance: this.opts.clockToleranceSeconds ?? 5,
      currentDate: new Date(nowSec * 1000),
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
    });
    return payload;
  }

  private toPrincipal(token: string, payload: JWTPayload, nowSec: number): VerifiedDevice {
    const p = payload as JWTPayload & { cid?: unknown; typ?: unknown; gen?: unknown };
    if (p.typ !== DEVICE_TOKEN_TYP || typeof p.cid !== 'string' || typeof p.sub !== 'string') {
      throw new TokenRejected('claim_mismatch');
    }
    if (typeof p.gen !== 'number' || !Number.isInteger(p.gen) || typeof p.jti !== 'string') {
      throw new TokenRejected('claim_mismatch');
    }
    const iat = p.iat as number;
    const exp = p.exp as number;
    if (iat > nowSec + (this.opts.clockToleranceSeconds ?? 5)) throw new TokenRejected('not_yet_valid');
    if (exp - iat > this.maxLifetime) throw new TokenRejected('lifetime_exceeded');
    const principal: VerifiedDevice = {
      kind: 'device',
      deviceId: p.sub,
      customerId: p.cid,
      generation: p.gen,
      jti: p.jti,
      issuedAt: iat,
      expiresAt: exp,
    };
    this.remember(token, principal);
    return principal;
  }

  private remember(token: string, principal: VerifiedDevice): void {
    if (this.cacheSize <= 0) return;
    if (this.cache.size >= this.cacheSize) {
      // Oldest insertion first: Map iteration order.
      const first = this.cache.keys().next().value;
      if (first !== undefined) this.cache.delete(first);
    }
    this.cache.set(token, principal);
  }
}
