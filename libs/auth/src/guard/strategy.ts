import type { TokenFailure } from '../jwt/jwks-verifier';

/** Every credential kind a route can name in @Auth(). `internal` is the guard's own: see AuthGuard. */
export type AuthKind =
  | 'shared-secret'
  | 'signed-request'
  | 'device-token'
  | 'admin-key'
  | 'provider-key'
  | 'oidc'
  | 'dashboard-session'
  | 'internal';

/** Why a request was refused: a closed set of codes, for the audit log and metrics only. */
export type RejectReason =
  // shared secret
  | 'not_configured'
  | 'missing_credential'
  | 'invalid_credential'
  // signed request
  | 'missing_signature'
  | 'bad_timestamp'
  | 'stale_timestamp'
  | 'bad_nonce'
  | 'replayed_nonce'
  | 'nonce_store_unavailable'
  // device token / OIDC token
  | TokenFailure
  | 'registry_unavailable'
  // admin key
  | 'admin_key_unconfigured'
  | 'missing_key'
  | 'wrong_key'
  | 'previous_key_expired'
  // provider key
  | 'unknown_provider'
  | 'malformed_key'
  // dashboard session
  | 'no_session'
  | 'cross_origin'
  | 'csrf_token'
  // the guard itself
  | 'unmarked_route'
  | 'unknown_context'
  | 'no_strategy'
  | 'internal_only'
  | 'verifier_error';

export type HeaderBag = Record<string, string | string[] | undefined>;

/** A refusal body: `{"detail": ...}`, and for the admin key a hint on where the key lives. */
export interface RefusalBody {
  detail: string;
  hint?: string;
}

export const UNAUTHORIZED_BODY: RefusalBody = Object.freeze({ detail: 'unauthorized' });

/**
 * A refused credential. The reason goes to the audit log and metrics, never to the
 * caller. `status` and `body` are for the few strategies whose refusals must say more
 * than the fixed 401 (the provider key names the header it needs, the dashboard
 * answers 403 to a cross-site call); `outage` marks a check that could not be made
 * because a dependency is down, answered 503 rather than 401.
 */
export class AuthRejected extends Error {
  override readonly name = 'AuthRejected';
  readonly status: 400 | 401 | 403;
  readonly body?: RefusalBody;
  readonly outage?: unknown;

  constructor(
    readonly reason: RejectReason,
    opts: { status?: 400 | 401 | 403; body?: RefusalBody; outage?: unknown } = {},
  ) {
    super(`credential refused: ${reason}`);
    this.status = opts.status ?? 401;
    this.body = opts.body;
    this.outage = opts.outage;
  }
}

/** The request as every strategy sees it, whatever carried it (HTTP, a WebSocket upgrade, a NATS message). */
export interface AuthRequest {
  transport: 'http' | 'ws' | 'nats';
  /** The HTTP method; GET for an upgrade, empty for a message. */
  method: string;
  /** Route pattern (`/sessions/:pid`), upgrade path pattern, or message subject pattern. */
  route: string;
  /** Path with query exactly as sent (signed requests sign it). */
  pathWithQuery: string;
  headers: HeaderBag;
  /** The raw body bytes, when the app keeps them (signed requests hash them). */
  body?: Buffer | string;
  /** `http` or `https` as the app sees it (behind trusted proxies: as forwarded). */
  protocol?: string;
  clientIp?: string;
  requestId?: string;
}

/** What a route's @Auth() says, as the guard hands it to a strategy. */
export interface RouteAuth<O extends object = AuthOptions> {
  kinds: AuthKind[];
  options: O;
}

/** Route options any strategy may read. Strategies document the ones they use. */
export interface AuthOptions {
  /** The app's name for what the route does (bot-control: join, leave, delete, events, read). */
  route?: string;
  /** Device tokens: the route answers from the token alone, without the registry row (see DeviceTokenStrategy). */
  tokenSuffices?: boolean;
}

/**
 * How a route is guarded right now: `enforce` refuses a bad credential; `shadow` lets
 * the request through but records what would have been refused (`would_deny`);
 * `open` lets it through unchecked, as the app's configuration asks.
 */
export type RouteMode = 'enforce' | 'shadow' | 'open';

/** An accepted credential: the principal the handler gets, and what the audit log says about it. */
export interface Accepted<P> {
  principal: P;
  /** Audit principal: device id, key fingerprint, subject. Never a secret. */
  subject?: string;
  /** Reason code of the acceptance (`ok`, `ok_previous`, `signed`, `admin_key_current`...). */
  reason: string;
}

/**
 * One credential kind: how to find it on a request and how to check it. The guard
 * does everything else (route marks, mode, metrics, audit, the refusal, the principal).
 */
export abstract class AuthStrategy<C = unknown, P = unknown> {
  abstract readonly kind: Exclude<AuthKind, 'internal'>;

  /** Every allowed request of this kind is an admin action, audited like a mutation. */
  readonly adminActions: boolean = false;

  /** The credential on the request, or undefined when this kind is not presented at all. */
  abstract extract(request: AuthRequest): C | undefined;

  /** Checks a credential (undefined: none presented); resolves with the principal or rejects with AuthRejected. */
  abstract verify(credential: C | undefined, route: RouteAuth): Promise<Accepted<P>>;

  /** How this kind guards the route; `enforce` unless the app configured otherwise. */
  mode?(route: RouteAuth): RouteMode;

  /** The body of this kind's 401 (the fixed `{"detail":"unauthorized"}` unless a strategy must say more). */
  unauthorizedBody(): RefusalBody {
    return UNAUTHORIZED_BODY;
  }
}
