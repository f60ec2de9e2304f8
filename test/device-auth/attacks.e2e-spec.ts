import { createHmac, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DeviceTokenVerifier, RevocationMap, TokenRejected } from '@portcullis/auth';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import { createTestDatabase, RunningDeviceAuth, startTestDeviceAuth, uniqueDeviceId } from '../support/device-auth';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function newKey(): { privateKey: KeyObject; pem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

/** Every attack on device credentials and tokens is a 401 from device-auth and a TokenRejected from a JWKS verifier; never a 5xx. */
describe('device-auth: JWT attacks', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;
  let jku: Server;
  const real = newKey();
  const attacker = newKey();
  let kid: string;
  let deviceId: string;
  let valid: string;
  let verifier: DeviceTokenVerifier;

  beforeAll(async () => {
    db = await createTestDatabase('da_attacks');
    da = await startTestDeviceAuth({ databaseUrl: db.url, env: { DEVICE_AUTH_SIGNING_KEY: real.pem } });
    kid = await calculateJwkThumbprint(await exportJWK(createPublicKey(real.privateKey)), 'sha256');
    deviceId = uniqueDeviceId('atk');
    const { device_secret } = await da.register(deviceId, 'cust_atk');
    valid = (await da.authenticate(deviceId, device_secret)).body.access_token;
    const attackerJwk = { ...(await exportJWK(createPublicKey(attacker.privateKey))), kid: 'attacker', alg: 'ES256' };
    jku = createServer((_req, res) => res.end(JSON.stringify({ keys: [attackerJwk] })));
    await new Promise<void>((r) => jku.listen(0, '127.0.0.1', r));
    const revocations = new RevocationMap();
    revocations.load({ iss: da.cfg.issuer, entries: [], at: new Date().toISOString() });
    verifier = new DeviceTokenVerifier(
      { jwksUrl: `${da.url}/.well-known/jwks.json`, issuer: da.cfg.issuer, audience: da.cfg.audience, cacheSize: 0 },
      revocations,
    );
  });

  afterAll(async () => {
    await new Promise((r) => jku?.close(r));
    await da?.close();
    await db?.drop();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({
    iss: da.cfg.issuer,
    aud: da.cfg.audience,
    sub: deviceId,
    cid: 'cust_atk',
    typ: 'device_access',
    jti: 'j-1',
    gen: 1,
    iat: now(),
    exp: now() + 600,
    ...over,
  });
  const sign = (
    payload: Record<string, unknown>,
    header: Record<string, unknown> = {},
    key: KeyObject = real.privateKey,
  ) => new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...header }).sign(key);

  async function expectRefused(token: string): Promise<void> {
    const r = await da.call('GET', '/device/info', { token });
    expect({ status: r.status, body: r.body }).toEqual({ status: 401, body: { detail: 'unauthorized' } });
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(TokenRejected);
  }

  it('accepts the genuine token and one the test signs correctly (the control)', async () => {
    expect((await da.call('GET', '/device/info', { token: valid })).status).toBe(200);
    const own = await sign(claims());
    expect((await da.call('GET', '/device/info', { token: own })).status).toBe(200);
    await expect(verifier.verify(own)).resolves.toMatchObject({ deviceId, customerId: 'cust_atk', generation: 1 });
  });

  it('refuses alg none in any case, stripped and empty signatures', async () => {
    const [h, p] = valid.split('.');
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await expectRefused(`${b64({ alg, typ: 'at+jwt', kid })}.${p}.`);
      await expectRefused(`${b64({ alg, typ: 'at+jwt' })}.${p}`);
    }
    await expectRefused(`${h}.${p}.`);
    await expectRefused(`${h}.${p}`);
    await expectRefused(`${h}.${p}.AAAA`);
  });

  it('refuses a payload changed under a kept signature', async () => {
    const [h, , s] = valid.split('.');
    const decoded = JSON.parse(Buffer.from(valid.split('.')[1], 'base64url').toString());
    await expectRefused(`${h}.${b64({ ...decoded, sub: 'pi_someone_else' })}.${s}`);
    await expectRefused(`${h}.${b64({ ...decoded, exp: decoded.exp + 3000 })}.${s}`);
  });

  it('does not let a cached token vouch for a payload changed under its signature', async () => {
    // A verifier that remembers verified tokens: the genuine token is cached first.
    const revocations = new RevocationMap();
    revocations.load({ iss: da.cfg.issuer, entries: [], at: new Date().toISOString() });
    const caching = new DeviceTokenVerifier(
      { jwksUrl: `${da.url}/.well-known/jwks.json`, issuer: da.cfg.issuer, audience: da.cfg.audience },
      revocations,
    );
    await expect(caching.verify(valid)).resolves.toMatchObject({ deviceId });
    const [h, p, s] = valid.split('.');
    const decoded = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${b64({ ...decoded, sub: 'pi_someone_else' })}.${s}`;
    // A miss: the signature is checked again, and fails.
    await expect(caching.verify(forged)).rejects.toBeInstanceOf(TokenRejected);
    // The genuine token is still accepted.
    await expect(caching.verify(valid)).resolves.toMatchObject({ deviceId });
  });

  it('refuses HS256 signed with the public key', async () => {
    const jwks = (await da.call('GET', '/.well-known/jwks.json')).body;
    const pub = createPublicKey({ key: jwks.keys[0], format: 'jwk' });
    const secrets = [
      pub.export({ format: 'pem', type: 'spki' }).toString(),
      JSON.stringify(jwks.keys[0]),
      pub.export({ format: 'der', type: 'spki' }),
    ];
    for (const secret of secrets) {
      const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid })}.${b64(claims())}`;
      await expectRefused(`${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`);
    }
  });

  it('refuses keys the token brings itself: embedded jwk, jku', async () => {
    const jwk = await exportJWK(createPublicKey(attacker.privateKey));
    await expectRefused(await sign(claims(), { jwk }, attacker.privateKey));
    await expectRefused(await sign(claims(), { jwk, kid: undefined }, attacker.privateKey));
    const port = (jku.address() as AddressInfo).port;
    await expectRefused(
      await sign(claims(), { jku: `http://127.0.0.1:${port}/jwks.json`, kid: 'attacker' }, attacker.privateKey),
    );
  });

  it('refuses unknown and path-like kids, and the attacker key under the real kid', async () => {
    for (const k of ['nope', '../../../../etc/passwd', '/dev/null', "' OR 1=1 --", '']) {
      await expectRefused(await sign(claims(), { kid: k }, attacker.privateKey));
      await expectRefused(await sign(claims(), { kid: k }));
    }
    await expectRefused(await sign(claims(), {}, attacker.privateKey));
  });

  it('refuses expired, not-yet-valid, wrong iss/aud/typ, and lifetimes over the cap', async () => {
    await expectRefused(await sign(claims({ iat: now() - 2000, exp: now() - 100 })));
    await expectRefused(await sign(claims({ nbf: now() + 600 })));
    await expectRefused(await sign(claims({ iat: now() + 600, exp: now() + 1200 })));
    await expectRefused(await sign(claims({ iss: 'https://evil.example' })));
    await expectRefused(await sign(claims({ aud: 'another-audience' })));
    await expectRefused(await sign(claims({ typ: 'refresh' })));
    await expectRefused(await sign(claims(), { typ: 'JWT' }));
    await expectRefused(await sign(claims({ exp: now() + 3601 + 60 })));
    await expectRefused(await sign(claims({ gen: undefined })));
    await expectRefused(await sign(claims({ jti: undefined })));
    // Only the registry knows a device's customer: device-auth refuses a token that names another.
    expect(
      (await da.call('GET', '/device/info', { token: await sign(claims({ cid: 'another_customer' })) })).status,
    ).toBe(401);
  });

  it('refuses garbage without a 5xx', async () => {
    for (const t of ['', 'a', 'a.b', 'a.b.c', '....', `${b64('{')}.${b64('}')}.x`, 'x'.repeat(8000)]) {
      const r = await da.call('GET', '/device/info', { headers: { authorization: `Bearer ${t}` } });
      expect(r.status).toBe(401);
    }
    expect((await da.call('GET', '/device/info', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    // A header over Node's limit is refused before any code of ours runs: 431, still not a 5xx.
    expect(
      (await da.call('GET', '/device/info', { headers: { authorization: `Bearer ${'x'.repeat(20000)}` } })).status,
    ).toBe(431);
  });
});
