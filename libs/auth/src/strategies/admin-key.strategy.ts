import { encodeSecret, fingerprint, matchCurrentOrPrevious } from '../common/crypto';
import { AdminKeySet, AdminKeySource } from '../admin-key/admin-key.source';
import { Accepted, AuthRejected, AuthRequest, AuthStrategy, RefusalBody, UNAUTHORIZED_BODY } from '../guard/strategy';

export const ADMIN_KEY_HEADER = 'x-portcullis-api-key';
export const ADMIN_UNAUTHORIZED_BODY = UNAUTHORIZED_BODY;

/** The same body for every refusal; with a described source it also says where the accepted key lives. */
export function adminUnauthorizedBody(source: AdminKeySource): RefusalBody {
  const where = source.describe();
  if (!where) return ADMIN_UNAUTHORIZED_BODY;
  return {
    detail: 'unauthorized',
    hint: `X-Portcullis-API-Key missing or not accepted; this server reads its key from ${where}`,
  };
}

export type AdminKeyDecision =
  | { ok: true; which: 'current' | 'previous' }
  | { ok: false; reason: 'admin_key_unconfigured' | 'missing_key' | 'wrong_key' | 'previous_key_expired' };

/**
 * Checks a presented admin key against a key set. The set is read afresh on every
 * check (a source may be hot-reloaded), so its keys are encoded here; the current and
 * the previous key are both compared every time (matchCurrentOrPrevious), so timing
 * says nothing about which one matched or whether a previous key exists.
 */
export function checkAdminKey(presented: string | undefined, set: AdminKeySet, now = new Date()): AdminKeyDecision {
  if (!set.current) return { ok: false, reason: 'admin_key_unconfigured' };
  if (!presented) return { ok: false, reason: 'missing_key' };
  const which = matchCurrentOrPrevious(
    presented,
    encodeSecret(set.current),
    set.previous ? encodeSecret(set.previous.key) : undefined,
  );
  if (which === 'current') return { ok: true, which };
  if (which === 'previous')
    return set.previous!.validUntil.getTime() > now.getTime()
      ? { ok: true, which }
      : { ok: false, reason: 'previous_key_expired' };
  return { ok: false, reason: 'wrong_key' };
}

export interface AdminKeyPrincipal {
  kind: 'admin-key';
  which: 'current' | 'previous';
  fingerprint: string;
}

/**
 * The operator's `X-Portcullis-API-Key`. Every call it allows is an admin action and
 * audited. Its 401 is `{"detail":"unauthorized"}`, plus a hint naming where the key
 * lives when the source describes itself (the CLI daemon's config file), never the key.
 */
export class AdminKeyStrategy extends AuthStrategy<string, AdminKeyPrincipal> {
  readonly kind = 'admin-key';
  override readonly adminActions = true;

  constructor(private readonly source: AdminKeySource) {
    super();
  }

  extract(request: AuthRequest): string | undefined {
    const raw = request.headers[ADMIN_KEY_HEADER];
    return (Array.isArray(raw) ? raw[0] : raw) || undefined;
  }

  async verify(presented: string | undefined): Promise<Accepted<AdminKeyPrincipal>> {
    const decision = checkAdminKey(presented, this.source.keys());
    if (!decision.ok) throw new AuthRejected(decision.reason);
    const fp = fingerprint(presented as string);
    return {
      principal: { kind: 'admin-key', which: decision.which, fingerprint: fp },
      subject: fp,
      reason: `admin_key_${decision.which}`,
    };
  }

  override unauthorizedBody(): RefusalBody {
    return adminUnauthorizedBody(this.source);
  }
}
