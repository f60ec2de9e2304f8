import { safeEqual } from '../common/crypto';
import { Accepted, AuthRejected, AuthRequest, AuthStrategy, HeaderBag, RefusalBody } from '../guard/strategy';

/** The app's session store: a session proves someone presented the admin key; it holds no key. */
interface DashboardSessionStore<S extends { csrfToken: string } = { csrfToken: string }> {
  get(id: string | undefined): S | undefined;
}

export interface DashboardSessionOptions<S extends { csrfToken: string }> {
  sessions: DashboardSessionStore<S>;
  cookie: string;
  csrfHeader: string;
}

export interface DashboardPrincipal<S = unknown> {
  kind: 'dashboard-session';
  session: S;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const REFUSED: RefusalBody = { detail: 'request refused: reload the dashboard and try again' };

export function readCookie(headers: HeaderBag, name: string): string | undefined {
  const raw = headers.cookie;
  const text = Array.isArray(raw) ? raw.join(';') : raw;
  if (!text) return undefined;
  for (const part of text.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * A state-changing request must come from this origin: Origin, when sent, must equal
 * the request's own scheme://host, and Sec-Fetch-Site, when sent, must be same-origin.
 * Browsers send at least one of them on every fetch POST/DELETE; a non-browser client
 * sending neither still needs the session and CSRF token.
 */
export function sameOrigin(headers: HeaderBag, protocol: string | undefined): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  const host = headers.host;
  if (!host || Array.isArray(origin)) return false;
  return origin.toLowerCase() === `${protocol ?? 'http'}://${String(host)}`.toLowerCase();
}

interface SessionCredential {
  id: string;
  method: string;
  sameOrigin: boolean;
  csrf?: string;
}

/**
 * The operator dashboard's session cookie on every call, and on every state change a
 * same-origin request carrying the session's CSRF token. No session: 401 `not signed
 * in`; a cross-site or token-less change: 403. Every allowed call is an admin action.
 */
export class DashboardSessionStrategy<S extends { csrfToken: string } = { csrfToken: string }> extends AuthStrategy<
  SessionCredential,
  DashboardPrincipal<S>
> {
  readonly kind = 'dashboard-session';
  override readonly adminActions = true;

  constructor(private readonly opts: DashboardSessionOptions<S>) {
    super();
  }

  extract(request: AuthRequest): SessionCredential | undefined {
    const id = readCookie(request.headers, this.opts.cookie);
    if (!id) return undefined;
    const raw = request.headers[this.opts.csrfHeader];
    return {
      id,
      method: request.method,
      sameOrigin: sameOrigin(request.headers, request.protocol),
      csrf: Array.isArray(raw) ? raw[0] : raw,
    };
  }

  async verify(credential: SessionCredential | undefined): Promise<Accepted<DashboardPrincipal<S>>> {
    const session = credential && this.opts.sessions.get(credential.id);
    if (!credential || !session) throw new AuthRejected('no_session');
    if (!SAFE_METHODS.has(credential.method)) {
      if (!credential.sameOrigin) throw new AuthRejected('cross_origin', { status: 403, body: REFUSED });
      if (!credential.csrf || !safeEqual(credential.csrf, session.csrfToken))
        throw new AuthRejected('csrf_token', { status: 403, body: REFUSED });
    }
    return { principal: { kind: 'dashboard-session', session }, subject: 'dashboard', reason: 'ok' };
  }

  override unauthorizedBody(): RefusalBody {
    return { detail: 'not signed in' };
  }
}
