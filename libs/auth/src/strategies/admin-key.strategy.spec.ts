import {
  MutableAdminKeySource,
  StaticAdminKeySource,
  AdminKeySource,
  AdminKeySet,
} from '../admin-key/admin-key.source';
import { ADMIN_UNAUTHORIZED_BODY, AdminKeyStrategy, adminUnauthorizedBody, checkAdminKey } from './admin-key.strategy';

describe('checkAdminKey rules: key set × presented key → decision', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const later = new Date('2026-06-01T01:00:00Z');
  const earlier = new Date('2026-05-31T23:00:00Z');
  it.each([
    ['k-current', { current: 'k-current' }, { ok: true, which: 'current' }],
    ['k-curren', { current: 'k-current' }, { ok: false, reason: 'wrong_key' }],
    [undefined, { current: 'k-current' }, { ok: false, reason: 'missing_key' }],
    ['', { current: 'k-current' }, { ok: false, reason: 'missing_key' }],
    ['k-old', { current: 'k-new', previous: { key: 'k-old', validUntil: later } }, { ok: true, which: 'previous' }],
    [
      'k-old',
      { current: 'k-new', previous: { key: 'k-old', validUntil: earlier } },
      { ok: false, reason: 'previous_key_expired' },
    ],
    ['anything', {}, { ok: false, reason: 'admin_key_unconfigured' }],
  ] as Array<[string | undefined, AdminKeySet, object]>)('%j against %j', (presented, set, expected) => {
    expect(checkAdminKey(presented, set, now)).toEqual(expected);
  });

  it('reads a mutable source afresh on every check', () => {
    const source = new MutableAdminKeySource({ current: 'a' });
    expect(checkAdminKey('a', source.keys(), now).ok).toBe(true);
    source.update({ current: 'b', previous: { key: 'a', validUntil: later } });
    expect(checkAdminKey('b', source.keys(), now)).toEqual({ ok: true, which: 'current' });
    expect(checkAdminKey('a', source.keys(), now)).toEqual({ ok: true, which: 'previous' });
  });
});

describe(AdminKeyStrategy.name, () => {
  class FileSource extends AdminKeySource {
    keys(): AdminKeySet {
      return { current: 'k'.repeat(64) };
    }
    override describe(): string {
      return '[daemon] api_key in /etc/portcullis.toml';
    }
  }

  it('accepts the key from X-Portcullis-API-Key as an admin action, audited by fingerprint', async () => {
    const s = new AdminKeyStrategy(new StaticAdminKeySource({ current: 'the-key' }));
    const accepted = await s.verify(
      s.extract({
        transport: 'http',
        method: 'GET',
        route: '/x',
        pathWithQuery: '/x',
        headers: { 'x-portcullis-api-key': 'the-key' },
      }),
    );
    expect(accepted.reason).toBe('admin_key_current');
    expect(accepted.subject).toMatch(/^fp_[0-9a-f]{16}$/);
    expect(s.adminActions).toBe(true);
    await expect(s.verify(undefined)).rejects.toMatchObject({ reason: 'missing_key' });
  });

  it('answers the fixed body, or for a described source where the key lives, never the key', () => {
    expect(adminUnauthorizedBody(new StaticAdminKeySource({ current: 'x' }))).toBe(ADMIN_UNAUTHORIZED_BODY);
    const body = new AdminKeyStrategy(new FileSource()).unauthorizedBody();
    expect(body).toEqual({
      detail: 'unauthorized',
      hint: 'X-Portcullis-API-Key missing or not accepted; this server reads its key from [daemon] api_key in /etc/portcullis.toml',
    });
    expect(JSON.stringify(body)).not.toContain('k'.repeat(64));
  });
});
