import type { JWTPayload } from 'jose';
import { Accepted, AuthRequest, AuthStrategy, RouteMode } from '../guard/strategy';
import { bearerToken, JwksTokenVerifier, JwksVerifierOptions } from '../jwt/jwks-verifier';

export interface OidcPrincipal {
  kind: 'oidc';
  sub?: string;
  claims: JWTPayload;
}

/**
 * A caller's `Authorization: Bearer <JWT>` from the configured OIDC issuer (ES256,
 * the issuer's JWKS, issuer and audience, at most an hour's lifetime). Without an
 * issuer configured the app's routes of this kind are open (interface-proxy without
 * INTERFACE_AUTH_REQUIRED): the guard then lets them through unchecked.
 */
export class OidcStrategy extends AuthStrategy<string, OidcPrincipal> {
  readonly kind = 'oidc';
  private readonly verifier?: JwksTokenVerifier;

  constructor(opts: JwksVerifierOptions | undefined) {
    super();
    if (opts) this.verifier = new JwksTokenVerifier({ maxLifetimeSeconds: 3600, ...opts });
  }

  override mode(): RouteMode {
    return this.verifier ? 'enforce' : 'open';
  }

  extract(request: AuthRequest): string | undefined {
    return bearerToken(request.headers.authorization);
  }

  async verify(token: string | undefined): Promise<Accepted<OidcPrincipal>> {
    const claims = await this.verifier!.verify(token);
    return { principal: { kind: 'oidc', sub: claims.sub, claims }, subject: claims.sub, reason: 'ok' };
  }
}
