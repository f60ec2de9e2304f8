import { ReloadingAdminKeySource } from './admin-key.source';

describe(ReloadingAdminKeySource.name, () => {
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  const c = 'c'.repeat(64);

  it('accepts the new key at once and the old one only until the grace window ends', () => {
    let now = 1_000_000;
    const src = new ReloadingAdminKeySource(a, '/etc/portcullis.toml', 60_000, () => now);
    expect(src.accepts(a)).toBe(true);
    const change = src.rotate(b)!;
    expect(change.previousValidUntil?.getTime()).toBe(now + 60_000);
    expect(JSON.stringify(change)).not.toContain(a);
    expect(JSON.stringify(change)).not.toContain(b);
    expect(src.accepts(b)).toBe(true);
    expect(src.accepts(a)).toBe(true);
    now += 59_999;
    expect(src.accepts(a)).toBe(true);
    now += 1;
    expect(src.accepts(a)).toBe(false);
    expect(src.previousFingerprint()).toBeUndefined();
    expect(src.accepts(b)).toBe(true);
    expect(src.accepts(undefined)).toBe(false);
    expect(src.accepts('')).toBe(false);
  });

  it('a second change replaces the previous key; the same key again changes nothing; grace 0 refuses the old key at once', () => {
    const src = new ReloadingAdminKeySource(a, '/p', 60_000);
    src.rotate(b);
    src.rotate(c);
    expect(src.accepts(a)).toBe(false);
    expect(src.accepts(b)).toBe(true);
    expect(src.rotate(c)).toBeUndefined();
    const strict = new ReloadingAdminKeySource(a, '/p', 0);
    strict.rotate(b);
    expect(strict.accepts(a)).toBe(false);
  });

  it('describes where its key lives, for 401 messages, without the key', () => {
    const src = new ReloadingAdminKeySource(a, '/home/op/.config/portcullis/portcullis.toml', 1000);
    expect(src.describe()).toBe('[daemon] api_key in /home/op/.config/portcullis/portcullis.toml');
    expect(src.fingerprint()).toMatch(/^fp_[0-9a-f]{16}$/);
  });
});
