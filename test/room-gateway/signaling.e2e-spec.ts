import { SignalingClose } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { SignalingRoomsService } from '../../apps/room-gateway/src/signaling/signaling-rooms.service';
import { TestDevice, TestPeer, SignalingStack, startSignalingStack } from '../support/signaling';
import { http, waitFor } from '../support/http';

/** room-gateway's signaling API and relay against real device-auth, Postgres and NATS. */
describe('signaling rooms and relay', () => {
  let s: SignalingStack;
  let owner: TestDevice;
  let worker: TestDevice;
  let client: TestDevice;
  let outsider: TestDevice;
  const peers: TestPeer[] = [];
  const open = async (roomId: string, token?: string, first?: string) => {
    const p = await TestPeer.open(`${s.wsBase}/signaling/rooms/${roomId}/ws`, token, first);
    peers.push(p);
    return p;
  };

  beforeAll(async () => {
    s = await startSignalingStack('sig');
    [owner, worker, client, outsider] = await Promise.all([
      s.device('owner'),
      s.device('worker'),
      s.device('client'),
      s.device('outsider'),
    ]);
  }, 60000);
  afterAll(async () => {
    for (const p of peers) p.ws.terminate();
    await s?.close();
  });

  async function roomWith(...members: Array<[TestDevice, 'worker' | 'client']>): Promise<string> {
    const room = await s.api('POST', '/signaling/rooms', owner.token, { name: 'lab' });
    expect(room.status).toBe(201);
    for (const [d, role] of members) {
      const inv = await s.api('POST', `/signaling/rooms/${room.body.room_id}/tokens`, owner.token, { role });
      expect(inv.status).toBe(201);
      expect((await s.api('POST', '/signaling/rooms/join', d.token, { room_token: inv.body.room_token })).body).toEqual(
        { room_id: room.body.room_id, role },
      );
    }
    return room.body.room_id;
  }

  it('requires a device token on every route; BYOK routes are unchanged', async () => {
    for (const [m, p] of [
      ['POST', '/signaling/rooms'],
      ['GET', '/signaling/rooms'],
      ['POST', '/signaling/rooms/join'],
      ['GET', '/signaling/rooms/rm_0/members'],
    ] as const) {
      const body = m === 'POST' ? {} : undefined;
      const r = await s.api(m, p, undefined, body);
      expect([r.status, r.body]).toEqual([401, { detail: 'unauthorized' }]);
      expect((await s.api(m, p, 'not.a.token', body)).status).toBe(401);
    }
    // BYOK still answers through its own guard: no provider key is its own 401.
    const byok = await s.api('POST', '/api/rooms/create', owner.token, { profile: 'conversation' });
    expect(byok.status).toBe(401);
  });

  it('creates rooms with unguessable ids, owned by the creator', async () => {
    const a = await s.api('POST', '/signaling/rooms', owner.token, {});
    const b = await s.api('POST', '/signaling/rooms', owner.token, {});
    expect(a.body.room_id).toMatch(/^rm_[0-9a-f]{32}$/);
    expect(a.body.room_id).not.toBe(b.body.room_id);
    expect(a.body.owner_id).toBe(owner.id);
    const members = await s.api('GET', `/signaling/rooms/${a.body.room_id}/members`, owner.token);
    expect(members.body).toEqual([expect.objectContaining({ device_id: owner.id, role: 'owner', connected: false })]);
    // Not a member: the room looks absent.
    expect((await s.api('GET', `/signaling/rooms/${a.body.room_id}/members`, outsider.token)).status).toBe(404);
  });

  it('issues room tokens to the owner only; single-use tokens work once (Postgres), for one device', async () => {
    const roomId = await roomWith([worker, 'worker']);
    expect((await s.api('POST', `/signaling/rooms/${roomId}/tokens`, worker.token, { role: 'client' })).status).toBe(
      403,
    );
    const inv = await s.api('POST', `/signaling/rooms/${roomId}/tokens`, owner.token, {
      role: 'client',
      single_use: true,
    });
    expect(inv.body).toMatchObject({ room_id: roomId, role: 'client', single_use: true });
    // Two devices race for the same single-use token: exactly one wins.
    const [r1, r2] = await Promise.all([
      s.api('POST', '/signaling/rooms/join', client.token, { room_token: inv.body.room_token }),
      s.api('POST', '/signaling/rooms/join', outsider.token, { room_token: inv.body.room_token }),
    ]);
    expect([r1.status, r2.status].sort()).toEqual([200, 409]);
    const winner = r1.status === 200 ? client : outsider;
    // The winner retrying is not a second use.
    expect(
      (await s.api('POST', '/signaling/rooms/join', winner.token, { room_token: inv.body.room_token })).status,
    ).toBe(200);
    const tampered = inv.body.room_token.slice(0, -3) + (inv.body.room_token.endsWith('AAA') ? 'BBB' : 'AAA');
    expect((await s.api('POST', '/signaling/rooms/join', worker.token, { room_token: tampered })).status).toBe(401);
    const other = await s.device('other_customer', 'cust_other');
    const inv2 = await s.api('POST', `/signaling/rooms/${roomId}/tokens`, owner.token, { role: 'client' });
    expect(
      (await s.api('POST', '/signaling/rooms/join', other.token, { room_token: inv2.body.room_token })).status,
    ).toBe(401);
  });

  it('admits members only, with the token in a header or the first message and never the URL', async () => {
    const roomId = await roomWith([worker, 'worker'], [client, 'client']);
    const base = `${s.wsBase}/signaling/rooms/${roomId}/ws`;
    peers.push(await TestPeer.open(base)); // opens, then must authenticate
    await expect(TestPeer.open(`${base}?access_token=${client.token}`)).rejects.toThrow('HTTP 400');
    await expect(TestPeer.open(base, outsider.token)).rejects.toThrow('HTTP 403');
    await expect(TestPeer.open(base, 'garbage')).rejects.toThrow('HTTP 401');
    const silent = await open(roomId);
    silent.send(undefined, 'hello');
    expect((await silent.waitClosed()).code).toBe(SignalingClose.unauthorized);
    const outsiderByMessage = await open(roomId, undefined, outsider.token);
    expect((await outsiderByMessage.waitClosed()).code).toBe(SignalingClose.notMember);

    const w = await open(roomId, worker.token);
    await w.next((f) => f.type === 'welcome');
    const c = await open(roomId, undefined, client.token);
    const welcome = await c.next((f) => f.type === 'welcome');
    expect(welcome).toMatchObject({
      room_id: roomId,
      peer_id: client.id,
      role: 'client',
      peers: [{ peer_id: worker.id, role: 'worker' }],
    });
    await w.next((f) => f.type === 'peer_joined' && f.peer.peer_id === client.id);
    const opaque = { anything: ['goes', 1, null], nested: { x: 'y' } };
    c.send(worker.id, opaque);
    expect(await w.next((f) => f.type === 'signal')).toEqual({
      type: 'signal',
      from: client.id,
      role: 'client',
      data: opaque,
    });
  });

  it('relays only within a room', async () => {
    const roomA = await roomWith([worker, 'worker'], [client, 'client']);
    const roomB = await roomWith([outsider, 'worker']);
    const wa = await open(roomA, worker.token);
    const ob = await open(roomB, outsider.token);
    const ca = await open(roomA, client.token);
    await ca.next((f) => f.type === 'welcome');
    ca.send(outsider.id, 'for another room');
    expect(await ca.next((f) => f.type === 'error')).toEqual({
      type: 'error',
      detail: 'peer not connected to this room',
    });
    ca.send(undefined, 'broadcast in A');
    await wa.next((f) => f.type === 'signal' && f.data === 'broadcast in A');
    await new Promise((r) => setTimeout(r, 200));
    expect(ob.frames.filter((f) => f.type === 'signal')).toEqual([]);
  });

  it('cuts off a removed member at once', async () => {
    const roomId = await roomWith([worker, 'worker'], [client, 'client']);
    const c = await open(roomId, client.token);
    await c.next((f) => f.type === 'welcome');
    expect((await s.api('DELETE', `/signaling/rooms/${roomId}/members/${client.id}`, worker.token)).status).toBe(403);
    expect((await s.api('DELETE', `/signaling/rooms/${roomId}/members/${client.id}`, owner.token)).body).toEqual({
      removed: client.id,
    });
    expect(await c.waitClosed(2000)).toEqual({ code: SignalingClose.removed, reason: 'removed from room' });
    await expect(TestPeer.open(`${s.wsBase}/signaling/rooms/${roomId}/ws`, client.token)).rejects.toThrow('HTTP 403');
  });

  it('a member removed through one replica is cut off on another (NATS event)', async () => {
    const roomId = await roomWith([client, 'client']);
    const other = await s.replica();
    try {
      const c = await TestPeer.open(`${other.wsBase}/signaling/rooms/${roomId}/ws`, client.token);
      peers.push(c);
      await c.next((f) => f.type === 'welcome');
      expect((await s.api('DELETE', `/signaling/rooms/${roomId}/members/${client.id}`, owner.token)).status).toBe(200);
      expect(await c.waitClosed(2000)).toEqual({ code: SignalingClose.removed, reason: 'removed from room' });
    } finally {
      await other.close();
    }
  });

  it('cuts off a revoked device at once (device-auth revocation over NATS)', async () => {
    const victim = await s.device('victim');
    const roomId = await roomWith([victim, 'client']);
    const v = await open(roomId, victim.token);
    await v.next((f) => f.type === 'welcome');
    const started = Date.now();
    expect((await s.deviceAuth.admin('POST', `/admin/devices/${victim.id}/revoke`)).status).toBe(200);
    expect((await v.waitClosed(3000)).code).toBe(SignalingClose.revoked);
    // The NATS event closes it at once (the 1 s sweep is the fallback); generous for a loaded machine.
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await s.api('GET', '/signaling/rooms', victim.token)).status).toBe(401);
    await expect(TestPeer.open(`${s.wsBase}/signaling/rooms/${roomId}/ws`, victim.token)).rejects.toThrow('HTTP 401');
  });

  it('is ready once Postgres answers; spent single-use tokens are purged after expiry', async () => {
    const ready = await http('GET', `${s.gatewayUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.text).toContain('postgres');
    const roomId = await roomWith();
    const ds = s.gateway.get(DataSource);
    await ds.query(
      `INSERT INTO signaling_room_token_uses (jti, room_id, device_id, expires_at) VALUES ('old', $1, 'x', now() - interval '1 minute'), ('live', $1, 'x', now() + interval '1 hour')`,
      [roomId],
    );
    await expect(s.gateway.get(SignalingRoomsService).purgeSpentTokens()).resolves.toBe(1);
    expect(
      (await ds.query('SELECT jti FROM signaling_room_token_uses WHERE room_id = $1', [roomId])).map(
        (r: { jti: string }) => r.jti,
      ),
    ).toEqual(['live']);
  });

  it('never logs device or room tokens', async () => {
    await waitFor(() => s.logs.lines.length > 0);
    for (const d of [owner, worker, client, outsider]) {
      expect(s.logs.text).not.toContain(d.token);
      expect(s.logs.text).not.toContain(d.secret);
    }
    expect(s.logs.text).not.toContain(s.roomTokenKey);
    expect(s.logs.text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  });
});
