import { checkAdminKey } from './admin-key.guard';
import { MutableAdminKeySource } from './admin-key.source';

describe(checkAdminKey.name, () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const later = new Date('2026-06-01T01:00:00Z');
  const earlier = new Date('2026-05-31T23:00:00Z');

  it('accepts the current key and refuses anything else', () => {
    expect(checkAdminKey('k-current', { current: 'k-current' }, now)).toEqual({ ok: true, which: 'current' });
    expect(checkAdminKey('k-curren', { current: 'k-current' }, now)).toEqual({ ok: false, reason: 'wrong_key' });
    expect(checkAdminKey(undefined, { current: 'k-current' }, now)).toEqual({ ok: false, reason: 'missing_key' });
    expect(checkAdminKey('', { current: 'k-current' }, now)).toEqual({ ok: false, reason: 'missing_key' });
  });

  it('accepts the previous key only until its time', () => {
    expect(checkAdminKey('k-old', { current: 'k-new', previous: { key: 'k-old', validUntil: later } }, now)).toEqual({ ok: true, which: 'previous' });
    expect(checkAdminKey('k-old', { current: 'k-new', previous: { key: 'k-old', validUntil: earlier } }, now)).toEqual({ ok: false, reason: 'previous_key_expired' });
  });

  it('refuses everything when no key is configured', () => {
    expect(checkAdminKey('anything', {}, now)).toEqual({ ok: false, reason: 'admin_key_unconfigured' });
  });

  it('reads a mutable source afresh on every check', () => {
    const source = new MutableAdminKeySource({ current: 'a' });
    expect(checkAdminKey('a', source.keys(), now).ok).toBe(true);
    source.update({ current: 'b', previous: { key: 'a', validUntil: later } });
    expect(checkAdminKey('b', source.keys(), now)).toEqual({ ok: true, which: 'current' });
    expect(checkAdminKey('a', source.keys(), now)).toEqual({ ok: true, which: 'previous' });
  });
});
