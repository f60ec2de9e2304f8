import { createRemoteJWKSet, errors, JWTPayload, jwtVerify } from 'jose';
import { AuthRejected } from '../guard/strategy';

export interface JwksVerifierOptions {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Expected `typ` header, when the issuer sets one. */
  typ?: string;
  /** Refuse tokens whose exp - iat exceeds this many seconds. */
  maxLifetimeSeconds?: number;
  clockToleranceSeconds?: number;
}

export type TokenFailure =
  | 'missing_token'
  | 'malformed_token'
  | 'bad_signature'
  | 'unknown_key'
  | 'expired'
  | 'not_yet_valid'
  | 'claim_mismatch'
  | 'lifetime_exceeded'
  | 'revoked'
  | 'revocations_unsynced'
  | 'jwks_unavailable';

/** A refused token; the reason is for the audit log, never for the caller. */
export class TokenRejected extends AuthRejected {
  declare readonly reason: TokenFailure;

  constructor(reason: TokenFailure) {
    super(reason);
  }
}

export function bearerToken(authorization: string | string[] | undefined): string | undefined {
  const v = Array.isArray(authorization) ? authorization[0] : authorization;
  const m = v?.match(/^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i);
  return m?.[1];
}

/**
 * Verifies ES256 JWTs against a remote JWKS, locally: the key set is fetched
 * once, cached, and refetched when a token names a `kid` it does not hold.
 * Only ES256 is accepted, so `alg: none`, HS256-with-the-public-key and
 * header-supplied keys (`jwk`, `jku`) are refused by construction.
 */
export class JwksTokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly opts: JwksVerifierOptions) {
    this.jwks = createRemoteJWKSet(new URL(opts.jwksUrl), {
      cooldownDuration: 1000,
      cacheMaxAge: 10 * 60 * 1000,
      timeoutDuration: 5000,
    });
  }

  async verify(token: string | undefined): Promise<JWTPayload> {
    if (!token) throw new TokenRejected('missing_token');
    try {
      const { payload } = await jwtVerify(token, this.jwks, {
        algorithms: ['ES256'],
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        typ: this.opts.typ,
        clockTolerance: this.opts.clockToleranceSeconds ?? 5,
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      const max = this.opts.maxLifetimeSeconds;
      if (
        max &&
        typeof payload.exp === 'number' &&
        typeof payload.iat === 'number' &&
        payload.exp - payload.iat > max
      ) {
        throw new TokenRejected('lifetime_exceeded');
      }
      return payload;
    } catch (err) {
      throw toRejection(err);
    }
  }
}

export function toRejection(err: unknown): TokenRejected {
  if (err instanceof TokenRejected) return err;
  if (err instanceof errors.JWTExpired) return new TokenRejected('expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new TokenRejected(err.claim === 'nbf' || err.claim === 'iat' ? 'not_yet_valid' : 'claim_mismatch');
  }
  if (err instanceof errors.JWKSNoMatchingKey) return new TokenRejected('unknown_key');
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenRejected('bad_signature');
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid)
    return new TokenRejected('jwks_unavailable');
  if ((err as { code?: string })?.code === 'ERR_JOSE_GENERIC' || err instanceof TypeError)
    return new TokenRejected('jwks_unavailable');
  return new TokenRejected('malformed_token');
}
