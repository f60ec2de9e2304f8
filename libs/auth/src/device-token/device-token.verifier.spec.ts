import { DEVICE_TOKEN_HEADER_TYP, DEVICE_TOKEN_TYP } from '@portcullis/contracts';
import { importJWK, SignJWT } from 'jose';
import { LocalJwks, makeKey, sign, TestKey, verdict } from '../../../../test/support/jwks';
import { DeviceTokenVerifier, DeviceTokenVerifierOptions } from './device-token.verifier';
import { RevocationMap } from './revocation-map';

const ISS = 'portcullis-device-auth-test';
const AUD = 'portcullis';
const T0 = 1_800_000_000;

/** Device tokens checked against device-auth's JWKS, served here over HTTP on 127.0.0.1 with keys made by jose. */
describe(DeviceTokenVerifier.name, () => {
  const jwks = new LocalJwks();
  let key: TestKey;
  let clock = T0;
  const now = () => clock * 1000;

  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: ISS,
    aud: AUD,
    sub: 'pi_kitchen',
    cid: 'acme',
    typ: DEVICE_TOKEN_TYP,
    gen: 1,
    jti: `j-${Math.random()}`,
    iat: clock,
    exp: clock + 900,
    ...extra,
  });
  const token = (extra: Record<string, unknown> = {}, k: TestKey = key, header: Record<string, unknown> = {}) =>
    sign(k, claims(extra), { typ: DEVICE_TOKEN_HEADER_TYP, ...header });
  const synced = () => {
    const m = new RevocationMap();
    m.load({ iss: ISS, entries: [], at: new Date().toISOString() });
    return m;
  };
  const make = (opts: Partial<DeviceTokenVerifierOptions> = {}, revocations = synced()) =>
    new DeviceTokenVerifier({ jwksUrl: jwks.url, issuer: ISS, audience: AUD, now, ...opts }, revocations);

  beforeAll(async () => {
    key = await makeKey('k1');
    await jwks.start();
  });
  beforeEach(() => {
    clock = T0;
    jwks.keys = [key];
    jwks.fetches = 0;
  });
  afterAll(() => jwks.stop());

  describe('claims', () => {
    it('answers who the token speaks for', async () => {
      await expect(make().verify(await token({ gen: 3, jti: 'j-1' }))).resolves.toEqual({
        kind: 'device',
        deviceId: 'pi_kitchen',
        customerId: 'acme',
        generation: 3,
        jti: 'j-1',
        issuedAt: T0,
        expiresAt: T0 + 900,
      });
    });

    it('refuses a wrong issuer, audience, header typ or token typ, and a missing or mistyped claim', async () => {
      const v = make();
      expect(await verdict(v.verify(await token({ iss: 'someone-else' })))).toBe('claim_mismatch');
      expect(await verdict(v.verify(await token({ aud: 'other' })))).toBe('claim_mismatch');
      expect(await verdict(v.verify(await token({}, key, { typ: 'JWT' })))).toBe('claim_mismatch');
      expect(await verdict(v.verify(await token({ typ: 'room_token' })))).toBe('claim_mismatch');
      expect(await verdict(v.verify(await token({ cid: undefined })))).toBe('claim_mismatch');
      expect(await verdict(v.verify(await token({ gen: 1.5 })))).toBe('claim_mismatch');
      expect(await verdict(v.verify(await token({ gen: '1' })))).toBe('claim_mismatch');
      expect(await verdict(v.verify(await token({ jti: undefined })))).toBe('claim_mismatch');
    });

    it('refuses expired and not-yet-valid tokens, within a few seconds of tolerance', async () => {
      const v = make();
      expect(await verdict(v.verify(await token({ iat: T0 - 1000, exp: T0 - 10 })))).toBe('expired');
      expect(await verdict(v.verify(await token({ iat: T0 - 1000, exp: T0 - 2 })))).toBe('accepted');
      expect(await verdict(v.verify(await token({ iat: T0 + 60, exp: T0 + 900 })))).toBe('not_yet_valid');
      expect(await verdict(v.verify(await token({ nbf: T0 + 60 })))).toBe('not_yet_valid');
    });

    it('refuses no token, a malformed one, another algorithm and a key it does not hold', async () => {
      const v = make();
      expect(await verdict(v.verify(undefined))).toBe('missing_token');
      expect(await verdict(v.verify('a.b.c'))).toBe('malformed_token');
      const hs = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', kid: 'k1', typ: DEVICE_TOKEN_HEADER_TYP })
        .sign(new TextEncoder().encode('s'.repeat(32)));
      expect(await verdict(v.verify(hs))).not.toBe('accepted');
      expect(await verdict(v.verify(await token({}, await makeKey('k1'))))).toBe('bad_signature');
    });
  });

  describe('lifetime cap', () => {
    it('refuses a token living longer than an hour, whatever the option asks', async () => {
      expect(await verdict(make().verify(await token({ exp: T0 + 3600 })))).toBe('accepted');
      expect(await verdict(make().verify(await token({ exp: T0 + 3601 })))).toBe('lifetime_exceeded');
      expect(await verdict(make({ maxLifetimeSeconds: 7200 }).verify(await token({ exp: T0 + 3601 })))).toBe(
        'lifetime_exceeded',
      );
    });

    it('applies a shorter cap when one is configured', async () => {
      const v = make({ maxLifetimeSeconds: 600 });
      expect(await verdict(v.verify(await token({ exp: T0 + 600 })))).toBe('accepted');
      expect(await verdict(v.verify(await token({ exp: T0 + 601 })))).toBe('lifetime_exceeded');
    });
  });

  describe('key refetch', () => {
    it('fetches the key set once and refetches it when a token names a kid it does not hold (a rotation)', async () => {
      const v = make();
      expect(await verdict(v.verify(await token()))).toBe('accepted');
      expect(jwks.fetches).toBe(1);
      const next = await makeKey('k2');
      jwks.keys = [next, key];
      expect(await verdict(v.verify(await token({}, next)))).toBe('accepted');
      expect(jwks.fetches).toBe(2);
    });

    it('shares one refetch between concurrent tokens with an unknown kid, and refuses a kid still absent', async () => {
      const v = make();
      expect(await verdict(v.verify(await token()))).toBe('accepted');
      const stranger = await makeKey('k-unknown');
      const tokens = await Promise.all(Array.from({ length: 5 }, () => token({}, stranger)));
      const reasons = await Promise.all(tokens.map((t) => verdict(v.verify(t))));
      expect(reasons).toEqual(Array(5).fill('unknown_key'));
      expect(jwks.fetches).toBe(2);
    });

    it('refetches on reloadKeys (a jwksUpdated event)', async () => {
      const v = make();
      await v.verify(await token());
      await v.reloadKeys();
      expect(jwks.fetches).toBe(2);
    });
  });

  describe('cache', () => {
    // A key function that counts signature checks, instead of the remote set.
    const counted = () => {
      const calls = { n: 0 };
      return { calls, keys: async () => (calls.n++, importJWK(key.publicJwk, 'ES256')) };
    };

    it('skips the signature check for a token verified before, yet still checks its expiry', async () => {
      const { calls, keys } = counted();
      const v = make({ jwksUrl: undefined, keys });
      const t = await token();
      await v.verify(t);
      await v.verify(t);
      expect(calls.n).toBe(1);
      clock = T0 + 960;
      expect(await verdict(v.verify(t))).toBe('expired');
    });

    it('checks every token afresh with cacheSize 0, and keeps at most cacheSize tokens', async () => {
      const none = counted();
      const v0 = make({ jwksUrl: undefined, keys: none.keys, cacheSize: 0 });
      const t = await token();
      await v0.verify(t);
      await v0.verify(t);
      expect(none.calls.n).toBe(2);

      const one = counted();
      const v1 = make({ jwksUrl: undefined, keys: one.keys, cacheSize: 1 });
      const [a, b] = [await token(), await token()];
      await v1.verify(a);
      await v1.verify(b);
      await v1.verify(a);
      expect(one.calls.n).toBe(3);
    });
  });

  describe('revocation', () => {
    it('refuses generations below the device floor, also for a token it had cached', async () => {
      const revocations = synced();
      const v = make({}, revocations);
      const old = await token({ gen: 1 });
      expect(await verdict(v.verify(old))).toBe('accepted');
      revocations.raise('pi_kitchen', 2);
      expect(await verdict(v.verify(old))).toBe('revoked');
      expect(await verdict(v.verify(await token({ gen: 2 })))).toBe('accepted');
      expect(await verdict(v.verify(await token({ gen: 1, sub: 'pi_hall' })))).toBe('accepted');
    });

    it('fails closed until the first revocation snapshot arrives', async () => {
      const revocations = new RevocationMap();
      const v = make({}, revocations);
      const t = await token();
      expect(await verdict(v.verify(t))).toBe('revocations_unsynced');
      revocations.load({
        iss: ISS,
        entries: [{ device_id: 'pi_other', min_generation: 2 }],
        at: new Date().toISOString(),
      });
      expect(await verdict(v.verify(t))).toBe('accepted');
    });

    it('accepts before any snapshot only when told not to wait for one (device-auth itself)', async () => {
      expect(await verdict(make({ requireSync: false }, new RevocationMap()).verify(await token()))).toBe('accepted');
    });
  });
});
