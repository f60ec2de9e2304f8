import { fingerprint } from '../common/crypto';
import { Accepted, AuthRejected, AuthRequest, AuthStrategy, HeaderBag } from '../guard/strategy';

const PROVIDER_AUTH_HEADER = 'x-provider-auth';
const PROVIDER_HEADER = 'x-provider';

/** What the strategy needs of a provider adapter: its name and a shape check of its keys. */
export interface ProviderKeyShape {
  readonly name: string;
  parseKey(key: string): { ok: true } | { ok: false; why: string };
}

export interface ProviderKeyOptions<A extends ProviderKeyShape> {
  /** The app's providers (room-gateway's registry). */
  providers: { find(name: string): A | undefined; names(): string[] };
  defaultProvider: string;
  /** Server pepper of the key fingerprint that logs and rate limits see. */
  pepper: string;
}

/** Who is calling: the request's own provider key, for this request's provider client only. */
export interface ProviderCredential<A extends ProviderKeyShape = ProviderKeyShape> {
  kind: 'provider-key';
  provider: A;
  key: string;
  /** HMAC of provider and key with the server pepper. */
  fingerprint: string;
}

const first = (headers: HeaderBag, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Bring-your-own-key: `X-Provider-Auth` (`Bearer <key>` or the raw key) and
 * `X-Provider` (default daily, case-insensitive). The key is checked for shape only;
 * the provider decides whether it is valid. Its refusals name the header, since the
 * caller's own key is the only credential and the answer tells no secret.
 */
export class ProviderKeyStrategy<A extends ProviderKeyShape = ProviderKeyShape> extends AuthStrategy<
  { key: string; provider?: string },
  ProviderCredential<A>
> {
  readonly kind = 'provider-key';

  constructor(private readonly opts: ProviderKeyOptions<A>) {
    super();
  }

  extract(request: AuthRequest): { key: string; provider?: string } | undefined {
    const key = first(request.headers, PROVIDER_AUTH_HEADER)
      ?.trim()
      .replace(/^bearer(\s+|$)/i, '')
      .trim();
    return key ? { key, provider: first(request.headers, PROVIDER_HEADER) } : undefined;
  }

  async verify(credential: { key: string; provider?: string } | undefined): Promise<Accepted<ProviderCredential<A>>> {
    if (!credential)
      throw new AuthRejected('missing_key', {
        body: { detail: 'missing X-Provider-Auth header: send your provider API key as "Bearer <key>"' },
      });
    const provider = this.opts.providers.find(credential.provider ?? this.opts.defaultProvider);
    if (!provider) {
      throw new AuthRejected('unknown_provider', {
        status: 400,
        body: { detail: `unsupported X-Provider; supported providers: ${this.opts.providers.names().join(', ')}` },
      });
    }
    const shape = provider.parseKey(credential.key);
    if (!shape.ok)
      throw new AuthRejected('malformed_key', {
        body: { detail: `X-Provider-Auth is not a valid ${provider.name} key: ${shape.why}` },
      });
    const fp = fingerprint(`${provider.name}:${credential.key}`, this.opts.pepper);
    return {
      principal: { kind: 'provider-key', provider, key: credential.key, fingerprint: fp },
      subject: fp,
      reason: 'key_present',
    };
  }
}
