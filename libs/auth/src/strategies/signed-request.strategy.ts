import { DependencyUnavailable } from '@portcullis/platform';
import { Accepted, AuthRejected, AuthRequest, AuthStrategy } from '../guard/strategy';
import { NonceStore } from '../signing/nonce-store';
import { hasSignature, RequestSignatureVerifier, SignableRequest } from '../signing/request-signature';
import type { SharedSecretPrincipal } from './shared-secret.strategy';

export interface SignedRequestOptions {
  current?: string;
  previous?: string;
  nonces: NonceStore;
  /** How far a request's timestamp may be from now, either side. */
  skewSeconds: number;
  now?: () => number;
}

type SignedCredential = SignableRequest & { headers: AuthRequest['headers'] };

/**
 * An HMAC-SHA-256 signature of the request (method, path and query, body hash,
 * timestamp, nonce) with the shared secret, so the secret itself never travels; each
 * nonce is good once across replicas. A nonce store that cannot be reached is an
 * outage (503), never a bad signature.
 */
export class SignedRequestStrategy extends AuthStrategy<SignedCredential, SharedSecretPrincipal> {
  readonly kind = 'signed-request';
  private readonly signatures: RequestSignatureVerifier;

  constructor(opts: SignedRequestOptions) {
    super();
    this.signatures = new RequestSignatureVerifier(
      { current: opts.current, previous: opts.previous },
      opts.nonces,
      opts.skewSeconds,
      opts.now,
    );
  }

  extract(request: AuthRequest): SignedCredential | undefined {
    if (!hasSignature(request.headers)) return undefined;
    return {
      method: request.method,
      pathWithQuery: request.pathWithQuery,
      body: request.body,
      headers: request.headers,
    };
  }

  async verify(credential: SignedCredential | undefined): Promise<Accepted<SharedSecretPrincipal>> {
    const signed = credential ?? { method: '', pathWithQuery: '', headers: {} };
    let check: Awaited<ReturnType<RequestSignatureVerifier['verify']>>;
    try {
      check = await this.signatures.verify(signed, signed.headers);
    } catch (err) {
      throw new AuthRejected('nonce_store_unavailable', {
        outage:
          err instanceof DependencyUnavailable ? err : new DependencyUnavailable('NATS', undefined, { cause: err }),
      });
    }
    if (!check.ok) throw new AuthRejected(check.reason);
    return {
      principal: { kind: 'shared-secret', which: check.which },
      subject: `shared_secret:${check.which}`,
      reason: check.which === 'current' ? 'signed' : 'signed_previous',
    };
  }
}
