import { safeEqualKnown } from '../common/crypto';

export type HeaderBag = Record<string, string | string[] | undefined>;

export const BOT_SECRET_HEADER = 'x-bot-secret';

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The two accepted forms: `X-Bot-Secret: SECRET` or `Authorization: Bearer SECRET`. */
export function extractSharedSecret(headers: HeaderBag): string | undefined {
  const direct = header(headers, BOT_SECRET_HEADER);
  if (direct) return direct.trim();
  const auth = header(headers, 'authorization');
  const m = auth?.match(/^Bearer\s+(.+)$/i);
  return m ? m[1].trim() : undefined;
}

export type SecretCheck =
  | { ok: true; which: 'current' | 'previous' }
  | { ok: false; reason: 'not_configured' | 'missing_credential' | 'invalid_credential' };

/**
 * Checks a presented secret against the current and the previous secret
 * (both accepted during rotation). Both comparisons always run so the time
 * taken does not say which one matched.
 */
export function checkSharedSecret(presented: string | undefined, current?: string, previous?: string): SecretCheck {
  if (!current && !previous) return { ok: false, reason: 'not_configured' };
  if (!presented) return { ok: false, reason: 'missing_credential' };
  const matchCurrent = current ? safeEqualKnown(presented, current) : false;
  const matchPrevious = previous ? safeEqualKnown(presented, previous) : false;
  if (matchCurrent) return { ok: true, which: 'current' };
  if (matchPrevious) return { ok: true, which: 'previous' };
  return { ok: false, reason: 'invalid_credential' };
}
