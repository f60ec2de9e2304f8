import { OidcStrategy } from './oidc.strategy';

describe('OidcStrategy rules', () => {
  it('is open without an issuer, enforced with one', () => {
    expect(new OidcStrategy(undefined).mode()).toBe('open');
    expect(new OidcStrategy({ jwksUrl: 'http://127.0.0.1:1/jwks.json', issuer: 'i', audience: 'a' }).mode()).toBe(
      'enforce',
    );
  });

  it.each([
    [undefined, 'missing_token'],
    ['not-a-jwt', 'malformed_token'],
  ])('refuses %j as %s before any key is fetched', async (token, reason) => {
    const s = new OidcStrategy({ jwksUrl: 'http://127.0.0.1:1/jwks.json', issuer: 'i', audience: 'a' });
    await expect(s.verify(token)).rejects.toMatchObject({ reason });
  });
});
