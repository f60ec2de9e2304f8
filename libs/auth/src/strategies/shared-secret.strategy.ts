import { encodeSecret, matchCurrentOrPrevious } from '../common/crypto';
import { Accepted, AuthRejected, AuthRequest, AuthStrategy, HeaderBag, RouteAuth, RouteMode } from '../guard/strategy';

export const BOT_SECRET_HEADER = 'x-bot-secret';

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The two forms: `X-Bot-Secret: SECRET` or `Authorization: Bearer SECRET`. */
function extractSharedSecret(headers: HeaderBag): string | undefined {
  const direct = header(headers, BOT_SECRET_HEADER);
  if (direct) return direct.trim();
  const auth = header(headers, 'authorization');
  const m = auth?.match(/^Bearer\s+(.+)$/i);
  return m ? m[1].trim() : undefined;
}

export interface SharedSecretPrincipal {
  kind: 'shared-secret';
  which: 'current' | 'previous';
}

export interface SharedSecretOptions {
  current?: string;
  /** Accepted as well while the secret is rotated. */
  previous?: string;
  /**
   * The app's route table: the mode of each route name (@Auth(kind, { route })).
   * `shadow` records would-deny and lets the request through; `open` does not check.
   * A route name missing from the table is enforced.
   */
  routeModes?: Readonly<Record<string, RouteMode>>;
  /** Route names whose requests must be signed (signed-request): the secret itself is refused there. */
  signedOnly?: readonly string[];
}

/**
 * A shared secret in `X-Bot-Secret` or `Authorization: Bearer`, compared with the
 * configured current and previous secrets (encoded once, here; both compared on every
 * check, see matchCurrentOrPrevious).
 */
export class SharedSecretStrategy extends AuthStrategy<string, SharedSecretPrincipal> {
  readonly kind = 'shared-secret';
  private readonly current?: Buffer;
  private readonly previous?: Buffer;

  constructor(private readonly opts: SharedSecretOptions) {
    super();
    this.current = opts.current ? encodeSecret(opts.current) : undefined;
    this.previous = opts.previous ? encodeSecret(opts.previous) : undefined;
  }

  extract(request: AuthRequest): string | undefined {
    return extractSharedSecret(request.headers) || undefined;
  }

  override mode(route: RouteAuth): RouteMode {
    const name = route.options.route;
    return (name !== undefined && this.opts.routeModes?.[name]) || 'enforce';
  }

  async verify(secret: string | undefined, route: RouteAuth): Promise<Accepted<SharedSecretPrincipal>> {
    if (!this.current && !this.previous) throw new AuthRejected('not_configured');
    const name = route.options.route;
    if (name !== undefined && this.opts.signedOnly?.includes(name)) throw new AuthRejected('missing_signature');
    if (!secret) throw new AuthRejected('missing_credential');
    const which = matchCurrentOrPrevious(secret, this.current, this.previous);
    if (!which) throw new AuthRejected('invalid_credential');
    return {
      principal: { kind: 'shared-secret', which },
      subject: `shared_secret:${which}`,
      reason: which === 'current' ? 'ok' : 'ok_previous',
    };
  }
}
