import { MutableAdminKeySource } from '@portcullis/auth';
import { SignalingClose } from '@portcullis/contracts';
import { http } from '../support/http';
import { canary } from '../support/env';
import { TestDevice, TestPeer, SignalingStack, startSignalingStack } from '../support/signaling';

/**
 * room-gateway's operator routes (/admin/signaling/rooms, X-Portcullis-API-Key) against real
 * device-auth, Postgres and NATS: what the dashboard's Rooms tab calls.
 */
describe('signaling rooms for the operator (admin key)', () => {
  let s: SignalingStack;
  let owner: TestDevice;
  let worker: TestDevice;
  let client: TestDevice;
  const peers: TestPeer[] = [];
  const roomTokens: string[] = [];
  const open = async (roomId: string, token: string) => {
    const p = await TestPeer.open(`${s.wsBase}/signaling/rooms/${roomId}/ws`, token);
    peers.push(p);
    await p.next((f) => f.type === 'welcome');
    return p;
  };

  beforeAll(async () => {
    s = await startSignalingStack('sigadm');
    [owner, worker, client] = await Promise.all([
      s.device('owner', 'cust_adm'),
      s.device('worker', 'cust_adm'),
      s.device('client', 'cust_adm'),
    ]);
  }, 60000);
  afterAll(async () => {
    for (const p of peers) p.ws.terminate();
    await s?.close();
  });

  async function roomWith(name: string, ...members: Array<[TestDevice, 'worker' | 'client']>): Promise<string> {
    const room = await s.api('POST', '/signaling/rooms', owner.token, { name });
    expect(room.status).toBe(201);
    for (const [d, role] of members) {
      const inv = await s.api('POST', `/signaling/rooms/${room.body.room_id}/tokens`, owner.token, { role });
      roomTokens.push(inv.body.room_token);
      expect((await s.api('POST', '/signaling/rooms/join', d.token, { room_token: inv.body.room_token })).status).toBe(
        200,
      );
    }
    return room.body.room_id;
  }

  const routes = (roomId: string) =>
    [
      ['GET', '/admin/signaling/rooms', undefined],
      ['GET', `/admin/signaling/rooms/${roomId}/members`, undefined],
      ['DELETE', `/admin/signaling/rooms/${roomId}/members/${worker.id}`, undefined],
      ['POST', `/admin/signaling/rooms/${roomId}/tokens`, { role: 'client' }],
    ] as const;

  it('refuses a missing or wrong key, and a device token, with the fixed body; the reason goes to the audit log', async () => {
    const roomId = await roomWith('locked', [worker, 'worker']);
    const before = s.logs.audits().length;
    for (const [m, p, body] of routes(roomId)) {
      for (const key of [null, 'wrong-key', `${s.adminKey}x`, '']) {
        const r = await s.admin(m, p, body, key);
        expect([r.status, r.body]).toEqual([401, { detail: 'unauthorized' }]);
      }
      // A device token is not an operator credential, not even the owner's.
      const asOwner = await s.api(m, p, owner.token, body);
      expect([asOwner.status, asOwner.body]).toEqual([401, { detail: 'unauthorized' }]);
    }
    const denials = s.logs
      .audits()
      .slice(before)
      .filter((a) => a.decision === 'deny');
    expect(new Set(denials.map((a) => a.reason))).toEqual(new Set(['missing_key', 'wrong_key']));
    expect(denials.map((a) => a.action)).toContain('DELETE /admin/signaling/rooms/:room_id/members/:device_id');
    // Nothing was changed by the refused calls.
    expect(
      (await s.api('GET', `/signaling/rooms/${roomId}/members`, owner.token)).body.map(
        (m: { device_id: string }) => m.device_id,
      ),
    ).toEqual([owner.id, worker.id]);
  });

  it("lists every room with its owner, and a room's members (who is connected), as the owner sees them", async () => {
    const roomId = await roomWith('lab', [worker, 'worker'], [client, 'client']);
    const other = await s.device('other_owner', 'cust_other');
    const foreign = await s.api('POST', '/signaling/rooms', other.token, { name: 'elsewhere' });
    await open(roomId, worker.token);

    const list = await s.admin('GET', '/admin/signaling/rooms');
    expect(list.status).toBe(200);
    const mine = (await s.api('GET', '/signaling/rooms', owner.token)).body.find(
      (r: { room_id: string }) => r.room_id === roomId,
    );
    expect(list.body).toEqual(expect.arrayContaining([mine, foreign.body]));
    expect(mine).toMatchObject({ room_id: roomId, name: 'lab', owner_id: owner.id });
    // Newest first.
    expect(list.body[0]).toEqual(foreign.body);

    const members = await s.admin('GET', `/admin/signaling/rooms/${roomId}/members`);
    expect(members.status).toBe(200);
    const ownerView = await s.api('GET', `/signaling/rooms/${roomId}/members`, owner.token);
    expect(members.body).toEqual({ room_id: roomId, owner_id: owner.id, members: ownerView.body });
    expect(
      members.body.members.map((m: { device_id: string; role: string; connected: boolean }) => [
        m.device_id,
        m.role,
        m.connected,
      ]),
    ).toEqual([
      [owner.id, 'owner', false],
      [worker.id, 'worker', true],
      [client.id, 'client', false],
    ]);

    expect((await s.admin('GET', `/admin/signaling/rooms/rm_${'0'.repeat(32)}/members`)).body).toEqual({
      detail: 'room not found',
    });
    expect((await s.admin('GET', '/admin/signaling/rooms/not-a-room/members')).status).toBe(404);
  });

  it('removes a member and closes its open socket at once; the owner cannot be removed', async () => {
    const roomId = await roomWith('cut', [worker, 'worker'], [client, 'client']);
    const c = await open(roomId, client.token);
    const w = await open(roomId, worker.token);
    const removed = await s.admin('DELETE', `/admin/signaling/rooms/${roomId}/members/${client.id}`);
    expect([removed.status, removed.body]).toEqual([200, { removed: client.id }]);
    // Closed during the DELETE call, exactly as when the owner removes a member.
    expect(await c.waitClosed(2000)).toEqual({ code: SignalingClose.removed, reason: 'removed from room' });
    await w.next((f) => f.type === 'peer_left' && f.peer_id === client.id);
    expect(w.closed).toBeUndefined();
    await expect(TestPeer.open(`${s.wsBase}/signaling/rooms/${roomId}/ws`, client.token)).rejects.toThrow('HTTP 403');
    expect(
      (await s.api('GET', `/signaling/rooms/${roomId}/members`, owner.token)).body.map(
        (m: { device_id: string }) => m.device_id,
      ),
    ).toEqual([owner.id, worker.id]);

    const again = await s.admin('DELETE', `/admin/signaling/rooms/${roomId}/members/${client.id}`);
    expect([again.status, again.body]).toEqual([404, { detail: 'no such member' }]);
    const ownerGone = await s.admin('DELETE', `/admin/signaling/rooms/${roomId}/members/${owner.id}`);
    expect([ownerGone.status, ownerGone.body]).toEqual([409, { detail: 'the owner cannot be removed' }]);

    const audits = s.logs
      .audits()
      .filter((a) => a.principal === 'admin' && String(a.action).startsWith('admin.room.remove'));
    expect(audits.map((a) => [a.decision, a.reason])).toEqual([
      ['allow', 'ok'],
      ['deny', 'no_member'],
      ['deny', 'owner'],
    ]);
  });

  it("issues the owner's kind of room token: a device of the owner's customer joins with it, once when single-use", async () => {
    const roomId = await roomWith('invite');
    const joiner = await s.device('joiner', 'cust_adm');
    const second = await s.device('second', 'cust_adm');
    const inv = await s.admin('POST', `/admin/signaling/rooms/${roomId}/tokens`, {
      role: 'worker',
      single_use: true,
      ttl_seconds: 600,
    });
    expect(inv.status).toBe(201);
    roomTokens.push(inv.body.room_token);
    expect(inv.body).toMatchObject({ room_id: roomId, role: 'worker', single_use: true });
    const ttl = Date.parse(inv.body.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);

    expect(
      (await s.api('POST', '/signaling/rooms/join', joiner.token, { room_token: inv.body.room_token })).body,
    ).toEqual({ room_id: roomId, role: 'worker' });
    const reused = await s.api('POST', '/signaling/rooms/join', second.token, { room_token: inv.body.room_token });
    expect([reused.status, reused.body]).toEqual([409, { detail: 'room token already used' }]);
    await open(roomId, joiner.token);
    const members = await s.admin('GET', `/admin/signaling/rooms/${roomId}/members`);
    expect(
      members.body.members.map((m: { device_id: string; connected: boolean }) => [m.device_id, m.connected]),
    ).toEqual([
      [owner.id, false],
      [joiner.id, true],
    ]);

    expect((await s.admin('POST', `/admin/signaling/rooms/${roomId}/tokens`, { role: 'owner' })).status).toBe(400);
    expect(
      (await s.admin('POST', `/admin/signaling/rooms/rm_${'f'.repeat(32)}/tokens`, { role: 'client' })).status,
    ).toBe(404);
  });

  it('refuses everything when room-gateway has no admin key; BYOK and device routes still work', async () => {
    const bare = await s.replica({ env: { PORTCULLIS_ADMIN_API_KEY: undefined } });
    try {
      for (const key of [s.adminKey, '', 'anything']) {
        const r = await http('GET', `${bare.url}/admin/signaling/rooms`, { headers: { 'x-portcullis-api-key': key } });
        expect([r.status, r.body]).toEqual([401, { detail: 'unauthorized' }]);
      }
      expect(
        (await http('GET', `${bare.url}/signaling/rooms`, { headers: { authorization: `Bearer ${owner.token}` } }))
          .status,
      ).toBe(200);
      expect(s.logs.audits().some((a) => a.decision === 'deny' && a.reason === 'admin_key_unconfigured')).toBe(true);
    } finally {
      await bare.close();
    }
  });

  it("reads the key from a given key source on every request (the runner's hot-reloaded one)", async () => {
    const first = canary('src-key-a');
    const next = canary('src-key-b');
    const source = new MutableAdminKeySource({ current: first });
    const app = await s.replica({ adminKeySource: source });
    const get = (key: string) =>
      http('GET', `${app.url}/admin/signaling/rooms`, { headers: { 'x-portcullis-api-key': key } });
    try {
      expect((await get(first)).status).toBe(200);
      // The environment's key is not consulted while a source is given.
      expect((await get(s.adminKey)).status).toBe(401);
      source.update({ current: next });
      expect((await get(next)).status).toBe(200);
      expect((await get(first)).status).toBe(401);
    } finally {
      await app.close();
    }
    for (const logs of [s.logs.text, s.deviceAuth.logs.text]) {
      expect(logs).not.toContain(first);
      expect(logs).not.toContain(next);
    }
  });

  it('never logs the admin key or a room token', () => {
    expect(s.logs.audits().some((a) => a.decision === 'allow' && a.reason === 'admin_key_current')).toBe(true);
    expect(roomTokens.length).toBeGreaterThan(5);
    for (const logs of [s.logs.text, s.deviceAuth.logs.text]) {
      expect(logs).not.toContain(s.adminKey);
      for (const t of roomTokens) expect(logs).not.toContain(t);
    }
  });
});
