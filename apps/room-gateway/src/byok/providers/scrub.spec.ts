import { scrub } from './scrub';

describe(scrub.name, () => {
  const key = 'dk_0123456789abcdef0123456789abcdef';

  it('cuts out the key, its URL-encoded form and anything credential-shaped', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJrZXkifQ.c2lnbmF0dXJl';
    const out = scrub(
      `bad key ${key} / ${encodeURIComponent('a b' + key)} / token ${jwt} / Authorization: Bearer abc.def`,
      [key, 'a b' + key],
    );
    expect(out).not.toContain(key);
    expect(out).not.toContain('abc.def');
    expect(out).not.toContain('eyJ');
    expect(out).toBe('bad key [redacted] / [redacted] / token [redacted] / Authorization: Bearer [redacted]');
  });

  it('removes a partial or transformed long key the provider may echo', () => {
    expect(scrub(`key ${key.slice(3, 30)}... invalid`, [key])).toBe('key [redacted] invalid');
  });

  it('keeps ordinary text, strips control characters and bounds the length', () => {
    expect(scrub('room "foo" not found\n\u0007', [key])).toBe('room "foo" not found');
    expect(scrub('x '.repeat(1000), []).length).toBeLessThanOrEqual(301);
  });
});
