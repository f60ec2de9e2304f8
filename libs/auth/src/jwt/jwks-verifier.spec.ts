import { SignJWT } from 'jose';
import { LocalJwks, makeKey, sign, TestKey, verdict } from '../../../../test/support/jwks';
import { JwksTokenVerifier } from './jwks-verifier';

const ISS = 'https://issuer.test';
const AUD = 'portcullis-test';

/** OIDC-style bearer tokens verified against a JWKS served over HTTP on 127.0.0.1. */
describe(JwksTokenVerifier.name, () => {
  const jwks = new LocalJwks();
  let key: TestKey;
  let verifier: JwksTokenVerifier;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: ISS,
    aud: AUD,
    sub: 'user-1',
    iat: now(),
    exp: now() + 300,
    ...extra,
  });

  beforeAll(async () => {
    key = await makeKey('k1');
    jwks.keys = [key];
    await jwks.start();
    verifier = new JwksTokenVerifier({ jwksUrl: jwks.url, issuer: ISS, audience: AUD, maxLifetimeSeconds: 3600 });
  });
  afterAll(() => jwks.stop());

  it('accepts a token signed by a key in the set, with its claims', async () => {
    await expect(verifier.verify(await sign(key, claims({ scope: 'bot' })))).resolves.toMatchObject({
      sub: 'user-1',
      scope: 'bot',
      iss: ISS,
    });
  });

  it('refuses an expired token (past the clock tolerance)', async () => {
    expect(await verdict(verifier.verify(await sign(key, claims({ iat: now() - 600, exp: now() - 60 }))))).toBe(
      'expired',
    );
  });

  it('refuses a token that is not valid yet (nbf ahead)', async () => {
    expect(await verdict(verifier.verify(await sign(key, claims({ nbf: now() + 120 }))))).toBe('not_yet_valid');
  });

  it('refuses a wrong issuer and a wrong audience', async () => {
    expect(await verdict(verifier.verify(await sign(key, claims({ iss: 'https://evil.test' }))))).toBe(
      'claim_mismatch',
    );
    expect(await verdict(verifier.verify(await sign(key, claims({ aud: 'another-api' }))))).toBe('claim_mismatch');
  });

  it('refuses a token missing a required claim, or living longer than allowed', async () => {
    const { sub: _sub, ...noSub } = claims();
    expect(await verdict(verifier.verify(await sign(key, noSub)))).toBe('claim_mismatch');
    expect(await verdict(verifier.verify(await sign(key, claims({ exp: now() + 3601 }))))).toBe('lifetime_exceeded');
  });

  it('refuses a token signed by a key outside the set, another algorithm, or no token', async () => {
    const stranger = await makeKey('k1');
    expect(await verdict(verifier.verify(await sign(stranger, claims())))).toBe('bad_signature');
    const hs = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect(await verdict(verifier.verify(hs))).not.toBe('accepted');
    expect(await verdict(verifier.verify(undefined))).toBe('missing_token');
    expect(await verdict(verifier.verify('not.a.jwt'))).toBe('malformed_token');
  });
});
