import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceTokenVerifier, RevocationMap } from '@portcullis/auth';
import { canary } from '../support/env';
import {
  createTestDatabase,
  sql,
  RunningDeviceAuth,
  startTestDeviceAuth,
  uniqueDeviceId,
} from '../support/device-auth';

describe('device-auth', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-da-main-'));
  const pepper = canary('pepper');
  const adminKey = canary('admin');
  const issued: string[] = [];

  // The rate limit has its own file; here many authentications come from one address.
  const start = () =>
    startTestDeviceAuth({ databaseUrl: db.url, dataDir, pepper, adminKey, env: { DEVICE_AUTH_RATE_LIMIT: '1000' } });

  beforeAll(async () => {
    db = await createTestDatabase('da_main');
    da = await start();
  });

  afterAll(async () => {
    await da?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function registered(label: string, customer = 'urbanjungle') {
    const id = uniqueDeviceId(label);
    const { device_secret } = await da.register(id, customer);
    issued.push(device_secret);
    return { id, secret: device_secret };
  }

  it('issues, refreshes and revokes device tokens', async () => {
    const { id, secret } = await registered('flow');
    expect(secret).toMatch(/^ds_[A-Za-z0-9_-]{43}$/);

    const auth = await da.authenticate(id, secret);
    expect(auth.status).toBe(200);
    expect(auth.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      customer_id: 'urbanjungle',
      device_info: { device_id: id, customer_id: 'urbanjungle', name: `${id} name`, active: true },
    });
    const token = auth.body.access_token as string;
    issued.push(token);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toEqual({ alg: 'ES256', kid: expect.any(String), typ: 'at+jwt' });
    expect(payload).toEqual({
      iss: 'portcullis-device-auth',
      aud: 'portcullis',
      sub: id,
      cid: 'urbanjungle',
      typ: 'device_access',
      gen: 1,
      jti: expect.any(String),
      iat: expect.any(Number),
      exp: payload.iat + 900,
    });

    const refreshed = await da.call('POST', '/device/refresh', { token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    expect(refreshed.body.access_token).not.toBe(token);

    const info = await da.call('GET', '/device/info', { token: refreshed.body.access_token });
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ device_id: id, customer_id: 'urbanjungle', active: true });

    const shown = await da.admin('GET', `/admin/devices/${id}`);
    expect(shown.body).toMatchObject({ device_id: id, active: true, last_seen_at: expect.any(String) });
    expect(JSON.stringify(shown.body)).not.toContain('secret_hash');

    const revoked = await da.admin('POST', `/admin/devices/${id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({
      device_id: id,
      active: false,
      token_generation: 2,
      revoked_at: expect.any(String),
    });

    for (const t of [token, refreshed.body.access_token]) {
      const r = await da.call('POST', '/device/refresh', { token: t });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ detail: 'unauthorized' });
      expect((await da.call('GET', '/device/info', { token: t })).status).toBe(401);
    }
  });

  it('answers unknown device, wrong secret and revoked device with the same 401, and records why', async () => {
    const good = await registered('same401');
    const revoked = await registered('same401r');
    await da.admin('POST', `/admin/devices/${revoked.id}/revoke`);
    const unknown = await da.authenticate(uniqueDeviceId('nobody'), good.secret);
    const wrong = await da.authenticate(good.id, `ds_${'A'.repeat(43)}`);
    const rev = await da.authenticate(revoked.id, revoked.secret);
    for (const r of [unknown, wrong, rev]) {
      expect(r.status).toBe(401);
      expect(r.text).toBe(unknown.text);
    }
    expect(unknown.body).toEqual({ detail: 'Invalid device credentials' });
    const audit = await da.admin('GET', `/admin/audit?limit=50`);
    const reasons = audit.body.events.map((e: { device_id: string; reason: string }) => `${e.device_id}:${e.reason}`);
    expect(reasons).toEqual(expect.arrayContaining([`${good.id}:wrong_secret`, `${revoked.id}:revoked`]));
    expect(audit.body.events.some((e: { reason: string }) => e.reason === 'unknown_device')).toBe(true);
    expect(audit.body.events[0]).toEqual(expect.objectContaining({ client_ip: da.clientIp, outcome: 'deny' }));
  });

  it('answers malformed bodies with 400', async () => {
    for (const json of [
      {},
      { device_id: 'x' },
      { device_id: 1, device_secret: 'y' },
      { device_id: 'x', device_secret: 'y', extra: 1 },
    ]) {
      expect((await da.call('POST', '/device/auth', { json })).status).toBe(400);
    }
    const r = await da.call('POST', '/device/auth', {
      headers: { 'content-type': 'application/json' },
      json: undefined,
    });
    expect(r.status).toBe(400);
  });

  it('rotates a device secret, keeping the old one valid only for the overlap window', async () => {
    const { id, secret: old } = await registered('rotate');
    const rotated = await da.admin('POST', `/admin/devices/${id}/rotate-secret`, { overlap_seconds: 2 });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.device_secret as string;
    issued.push(fresh);
    expect(fresh).not.toBe(old);
    expect(rotated.body.previous_secret_valid_until).toEqual(expect.any(String));
    expect((await da.authenticate(id, old)).status).toBe(200);
    expect((await da.authenticate(id, fresh)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await da.authenticate(id, old)).status).toBe(401);
    expect((await da.authenticate(id, fresh)).status).toBe(200);

    const again = await da.admin('POST', `/admin/devices/${id}/rotate-secret`, {});
    issued.push(again.body.device_secret);
    expect((await da.authenticate(id, fresh)).status).toBe(401);
    expect((await da.authenticate(id, again.body.device_secret)).status).toBe(200);
  });

  it('guards the admin API with X-Portcullis-API-Key and a fixed 401', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { 'x-portcullis-api-key': 'wrong' },
      { 'x-portcullis-api-key': `${adminKey}x` },
      { authorization: `Bearer ${adminKey}` },
    ];
    for (const headers of attempts) {
      const r = await da.call('GET', '/admin/devices', { headers });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ detail: 'unauthorized' });
    }
    const list = await da.admin('GET', '/admin/devices?limit=500');
    expect(list.status).toBe(200);
    expect(list.body.devices.length).toBeGreaterThan(0);
    expect((await da.admin('POST', '/admin/devices', { customer_id: 'c', device_id: '../etc' })).status).toBe(400);
    const dup = await registered('dup');
    expect((await da.admin('POST', '/admin/devices', { customer_id: 'c', device_id: dup.id })).status).toBe(409);
    expect((await da.admin('GET', '/admin/devices/pi_missing')).status).toBe(404);
  });

  it('rotates signing keys: the new key signs, the old one verifies, both survive a restart', async () => {
    const { id, secret } = await registered('keys');
    const before = (await da.authenticate(id, secret)).body.access_token as string;
    const revocations = new RevocationMap();
    revocations.load({ iss: da.cfg.issuer, entries: [], at: new Date().toISOString() });
    const verifier = new DeviceTokenVerifier(
      { jwksUrl: `${da.url}/.well-known/jwks.json`, issuer: da.cfg.issuer, audience: da.cfg.audience },
      revocations,
    );
    await expect(verifier.verify(before)).resolves.toMatchObject({ deviceId: id });

    const rot = await da.admin('POST', '/admin/signing-keys/rotate');
    expect(rot.status).toBe(200);
    expect(rot.body.kids).toHaveLength(2);
    const after = (await da.authenticate(id, secret)).body.access_token as string;
    const kidOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString()).kid;
    expect(kidOf(after)).toBe(rot.body.kid);
    expect(kidOf(before)).not.toBe(rot.body.kid);
    // The verifier has never seen the new kid: it refetches the JWKS.
    await expect(verifier.verify(after)).resolves.toMatchObject({ deviceId: id });

    await da.close();
    da = await start();
    for (const t of [before, after]) expect((await da.call('GET', '/device/info', { token: t })).status).toBe(200);
    expect(
      (await da.call('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid).sort(),
    ).toEqual([...rot.body.kids].sort());
  });

  it('keeps secrets out of the database, the logs and the answers', async () => {
    const { id, secret } = await registered('scan');
    issued.push((await da.authenticate(id, secret)).body.access_token);
    const [tables] = await sql<{ tablename: string }>(
      db.url,
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`,
    );
    expect(tables.length).toBeGreaterThanOrEqual(3);
    const rows = await sql(db.url, ...tables.map((t) => `SELECT * FROM "${t.tablename}"`));
    const dump = rows.map((r) => JSON.stringify(r));
    // And pg_dump's view of the whole database, where the tool exists.
    const pgDump = spawnSync('pg_dump', ['--data-only', '--no-owner', db.url], { encoding: 'utf8' });
    if (!pgDump.error) {
      expect(pgDump.status).toBe(0);
      expect(pgDump.stdout).toContain(id);
      dump.push(pgDump.stdout);
    }
    const all = dump.join('\n');
    expect(all).toContain(id);
    for (const s of [...issued, pepper, adminKey]) expect(all).not.toContain(s);
    const logs = da.logs.text;
    expect(logs).toContain(id);
    for (const s of [...issued, pepper, adminKey]) expect(logs).not.toContain(s);
    const metrics = (await da.call('GET', '/metrics')).text;
    expect(metrics.length).toBeGreaterThan(0);
    for (const s of [...issued, pepper, adminKey]) expect(metrics).not.toContain(s);
    // The JWKS publishes public keys only.
    const jwks = (await da.call('GET', '/.well-known/jwks.json')).body;
    for (const k of jwks.keys) expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  });
});
