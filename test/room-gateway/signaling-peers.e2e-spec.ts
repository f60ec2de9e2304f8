import { PSK_ERROR_TEXT, roomSecretEnvName } from '@portcullis/auth';
import { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, NatsConnection } from 'nats';
import { BIN, CliResult, Sandbox } from '../support/cli';
import { canary, NATS_URL } from '../support/env';
import { waitFor } from '../support/http';
import { SignalingStack, startSignalingStack, TestDevice, TestPeer } from '../support/signaling';

/**
 * Signaling rooms and PSK end to end: the real `portcullis worker` / `portcullis client` / `portcullis room`
 * as subprocesses, over real room-gateway + device-auth + Postgres + NATS.
 */
describe('P2P PSK between CLI peers', () => {
  let s: SignalingStack;
  let owner: TestDevice;
  const workerHome = new Sandbox();
  const clientHome = new Sandbox();
  const SECRET = canary('psk');
  const natsSeen: string[] = [];
  let nc: NatsConnection;
  let natsSub: ReturnType<NatsConnection['subscribe']>;
  const workers: ChildProcess[] = [];
  const testPeers: TestPeer[] = [];

  const peerEnv = (d: TestDevice, extra: Record<string, string | undefined> = {}) => ({
    PORTCULLIS_DEVICE_ID: d.id,
    PORTCULLIS_DEVICE_SECRET: d.secret,
    PORTCULLIS_DEVICE_AUTH_URL: s.deviceAuth.url,
    PORTCULLIS_SIGNALING_URL: s.gatewayUrl,
    ...extra,
  });
  const cli = (
    sb: Sandbox,
    d: TestDevice,
    args: string[],
    env: Record<string, string | undefined> = {},
  ): Promise<CliResult> => sb.run(args, { env: peerEnv(d, env), timeoutMs: 40000 });
  const client = (d: TestDevice, roomId: string, extra: string[] = [], env: Record<string, string | undefined> = {}) =>
    cli(clientHome, d, ['client', '--room', roomId, '--job', 'sum', '--arg', '2', '--arg', '40', ...extra], env);

  async function startWorker(
    d: TestDevice,
    roomId: string,
    extra: string[] = [],
    env: Record<string, string | undefined> = {},
  ) {
    const p = workerHome.spawnDaemon([BIN, 'worker', '--room-id', roomId, ...extra], { env: peerEnv(d, env) });
    workers.push(p.child);
    await waitFor(
      () => {
        if (p.child.exitCode !== null) throw new Error(`worker exited: ${p.out()}`);
        return p.out().includes('ready in room');
      },
      20000,
      25,
    );
    const exited = new Promise<number | null>((r) =>
      p.child.exitCode !== null ? r(p.child.exitCode) : p.child.once('exit', (c) => r(c)),
    );
    return { ...p, exited };
  }

  async function room(...members: Array<[TestDevice, 'worker' | 'client']>): Promise<string> {
    const r = await s.api('POST', '/signaling/rooms', owner.token, {});
    for (const [d, role] of members) {
      const inv = await s.api('POST', `/signaling/rooms/${r.body.room_id}/tokens`, owner.token, { role });
      expect((await s.api('POST', '/signaling/rooms/join', d.token, { room_token: inv.body.room_token })).status).toBe(
        200,
      );
    }
    return r.body.room_id;
  }
  const writeSecretFile = (sb: Sandbox, roomId: string, value: string, mode = 0o600) => {
    mkdirSync(join(sb.home, '.portcullis', 'secrets'), { recursive: true });
    writeFileSync(join(sb.home, '.portcullis', 'secrets', roomId), `${value}\n`, { mode });
    chmodSync(join(sb.home, '.portcullis', 'secrets', roomId), mode);
  };
  const openPeer = async (roomId: string, d: TestDevice) => {
    const p = await TestPeer.open(`${s.wsBase}/signaling/rooms/${roomId}/ws`, d.token);
    testPeers.push(p);
    await p.next((f) => f.type === 'welcome');
    return p;
  };

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    const sub = (natsSub = nc.subscribe('>'));
    void (async () => {
      for await (const m of sub) natsSeen.push(`${m.subject} ${new TextDecoder().decode(m.data)}`);
    })();
    s = await startSignalingStack('peers');
    owner = await s.device('owner');
  }, 60000);

  afterAll(async () => {
    for (const p of testPeers) p.ws.terminate();
    for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
    await Promise.all([workerHome.cleanup(), clientHome.cleanup()]);
    await s?.close();
    natsSub?.unsubscribe();
    await nc?.drain();
  });

  it('room commands: create, invite (single use), join, members, remove; as a device, not the admin key', async () => {
    const [o, w] = await Promise.all([s.device('cli_owner'), s.device('cli_worker')]);
    const created = await cli(clientHome, o, ['--json', 'room', 'create', '--name', 'lab']);
    expect(created.code).toBe(0);
    const roomId = JSON.parse(created.stdout).room_id as string;
    expect(roomId).toMatch(/^rm_[0-9a-f]{32}$/);
    const inv = await cli(clientHome, o, ['room', 'invite', '--room', roomId, '--role', 'worker', '--single-use']);
    expect(inv.code).toBe(0);
    const token = inv.stdout.trim();
    expect(await cli(clientHome, w, ['room', 'join', '--token', token])).toMatchObject({
      code: 0,
      stdout: `joined ${roomId} as worker\n`,
    });
    const again = await cli(clientHome, o, ['room', 'join', '--token', token]);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('room token already used');
    const members = await cli(clientHome, w, ['--json', 'room', 'members', '--room', roomId]);
    expect(JSON.parse(members.stdout).map((m: { device_id: string; role: string }) => [m.device_id, m.role])).toEqual([
      [o.id, 'owner'],
      [w.id, 'worker'],
    ]);
    expect((await cli(clientHome, w, ['room', 'remove', '--room', roomId, '--device', o.id])).code).toBe(2);
    expect(await cli(clientHome, o, ['room', 'remove', '--room', roomId, '--device', w.id])).toMatchObject({
      code: 0,
      stdout: `removed ${w.id} from ${roomId}\n`,
    });
    // One sign-in serves the run of commands: the token is cached at 0600, keyed by device (never printed).
    const cache = join(clientHome.home, '.portcullis', 'device-tokens.json');
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect(Object.keys(JSON.parse(readFileSync(cache, 'utf8')))).toEqual(
      expect.arrayContaining([`${s.deviceAuth.url} ${o.id}`, `${s.deviceAuth.url} ${w.id}`]),
    );
    // Revoked: the cached token is refused, the CLI signs in afresh, and device-auth refuses the device.
    expect((await s.deviceAuth.admin('POST', `/admin/devices/${w.id}/revoke`)).status).toBe(200);
    await waitFor(async () => (await s.api('GET', '/signaling/rooms', w.token)).status === 401, 5000, 20);
    const revoked = await cli(clientHome, w, ['room', 'list']);
    expect(revoked.code).toBe(2);
    expect(revoked.stderr).toContain(`device-auth refused device ${w.id}`);
    const noCreds = await clientHome.run(['room', 'create'], { env: { PORTCULLIS_SIGNALING_URL: s.gatewayUrl } });
    expect(noCreds.code).toBe(1);
    expect(noCreds.stderr).toContain('no device id');
  });

  it('matching secrets: the worker (secret file, joined with --token) runs the job for the client (env var)', async () => {
    const [w, c] = await Promise.all([s.device('w_ok'), s.device('c_ok')]);
    const roomId = await room([c, 'client']);
    const inv = await s.api('POST', `/signaling/rooms/${roomId}/tokens`, owner.token, {
      role: 'worker',
      single_use: true,
    });
    writeSecretFile(workerHome, roomId, SECRET);
    const worker = await startWorker(w, roomId, ['--token', inv.body.room_token]);
    expect(worker.out()).toContain(`room secret from file: ${join(workerHome.home, '.portcullis', 'secrets', roomId)}`);
    const r = await client(c, roomId, [], { [roomSecretEnvName(roomId)]: SECRET });
    expect(r).toMatchObject({ code: 0, stdout: '42\n' });
    expect(worker.out()).toContain(`client ${c.id} authenticated`);
    expect(worker.out()).toContain(`client ${c.id} ran sum`);
    const echo = await cli(clientHome, c, [
      'client',
      '--room',
      roomId,
      '--job',
      'echo',
      '--arg',
      'hello',
      '--arg',
      'room',
      '--room-secret',
      SECRET,
    ]);
    expect(echo).toMatchObject({ code: 0, stdout: 'hello room\n' });
  });

  describe('with one PSK worker', () => {
    let w: TestDevice;
    let c: TestDevice;
    let roomId: string;
    let worker: Awaited<ReturnType<typeof startWorker>>;
    beforeAll(async () => {
      [w, c] = await Promise.all([s.device('w_psk'), s.device('c_psk')]);
      roomId = await room([w, 'worker'], [c, 'client']);
      worker = await startWorker(w, roomId, ['--room-secret', SECRET]);
    }, 30000);

    it('a wrong secret fails with "Invalid credentials" and the hint', async () => {
      const r = await client(c, roomId, ['--room-secret', canary('wrong')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`${PSK_ERROR_TEXT.invalid_credentials}\n`);
      expect(r.stderr).toBe(
        'ERROR: P2P authentication failed: Invalid credentials\nEnsure the room secret matches between worker and client.\n',
      );
      expect(r.stdout).toBe('');
      await waitFor(() =>
        worker.out().includes(`client ${c.id}: ERROR: P2P authentication failed: Invalid credentials`),
      );
    });

    it('a client without a secret fails with "No secret configured" and the hint', async () => {
      const r = await client(c, roomId);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        'ERROR: P2P authentication failed: No secret configured\nConfigure the room secret using --room-secret, environment variable, or credentials file.\n',
      );
    });

    it('a command sent before success is refused and never run', async () => {
      const sneaky = await s.device('sneaky');
      const inv = await s.api('POST', `/signaling/rooms/${roomId}/tokens`, owner.token, { role: 'client' });
      await s.api('POST', '/signaling/rooms/join', sneaky.token, { room_token: inv.body.room_token });
      const p = await openPeer(roomId, sneaky);
      p.send(w.id, { type: 'COMMAND', id: '1', job: 'echo', args: ['pwned'] });
      expect((await p.next((f) => f.type === 'signal')).data).toEqual({
        type: 'AUTH_FAILURE',
        reason: 'not_authenticated',
      });
      p.send(w.id, { type: 'HELLO' });
      await p.next((f) => f.data?.type === 'AUTH_CHALLENGE');
      p.send(w.id, { type: 'COMMAND', id: '2', job: 'echo', args: ['pwned'] });
      await waitFor(() => p.frames.filter((f) => f.data?.type === 'AUTH_FAILURE').length === 2);
      p.send(w.id, { type: 'COMMAND', id: '3', job: 'echo', args: ['pwned'] });
      await new Promise((r) => setTimeout(r, 300));
      expect(p.frames.some((f) => f.data?.type === 'RESULT')).toBe(false);
      expect(worker.out()).not.toContain(`client ${sneaky.id} ran`);
    });

    it('timeout: a client that never answers is failed after 10 s; a CLI client whose worker never answers prints Timeout', async () => {
      const [mute, fakeWorker] = await Promise.all([s.device('mute'), s.device('fake_worker')]);
      const inv = await s.api('POST', `/signaling/rooms/${roomId}/tokens`, owner.token, { role: 'client' });
      await s.api('POST', '/signaling/rooms/join', mute.token, { room_token: inv.body.room_token });
      const quietRoom = await room([fakeWorker, 'worker'], [c, 'client']);
      const silentWorker = await openPeer(quietRoom, fakeWorker);
      const p = await openPeer(roomId, mute);
      const started = Date.now();
      p.send(w.id, { type: 'HELLO' });
      const [failure, r] = await Promise.all([
        p.next((f) => f.data?.type === 'AUTH_FAILURE', 15000),
        client(c, quietRoom, ['--room-secret', SECRET]),
      ]);
      expect(failure.data).toEqual({ type: 'AUTH_FAILURE', reason: 'timeout' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(9900);
      await waitFor(() => worker.out().includes(`client ${mute.id}: ERROR: P2P authentication failed: Timeout`));
      expect([r.code, r.stderr]).toEqual([2, 'ERROR: P2P authentication failed: Timeout\n']);
      expect(silentWorker.frames.find((f) => f.type === 'signal')?.data).toEqual({ type: 'HELLO' });
    }, 30000);

    /**
     * Mallory holds two devices: M1 poses as a worker to the honest client, M2 as a client to
     * the real worker. She forwards the real worker's challenge to the client and the client's
     * response back. The response is bound to M1 (and, across rooms, to the other room), so it fails.
     */
    it.each(['second worker', 'second room'])('a response replayed to a %s is refused', async (variant) => {
      const [m1, m2] = await Promise.all([s.device('mallory1'), s.device('mallory2')]);
      const inv = await s.api('POST', `/signaling/rooms/${roomId}/tokens`, owner.token, { role: 'client' });
      await s.api('POST', '/signaling/rooms/join', m2.token, { room_token: inv.body.room_token });
      // The same secret in both rooms: the worst case for replay across rooms.
      const lureRoom = variant === 'second room' ? await room([m1, 'worker'], [c, 'client']) : roomId;
      if (variant === 'second worker') {
        const invW = await s.api('POST', `/signaling/rooms/${roomId}/tokens`, owner.token, { role: 'worker' });
        await s.api('POST', '/signaling/rooms/join', m1.token, { room_token: invW.body.room_token });
      }
      const face = await openPeer(lureRoom, m1);
      const back = await openPeer(roomId, m2);
      face.ws.on('message', (raw) => {
        const f = JSON.parse(raw.toString());
        if (f.type !== 'signal') return;
        if (f.data?.type === 'HELLO') back.send(w.id, { type: 'HELLO' });
        if (f.data?.type === 'AUTH_RESPONSE') back.send(w.id, f.data);
      });
      back.ws.on('message', (raw) => {
        const f = JSON.parse(raw.toString());
        // The challenge goes to the client; so does the worker's verdict, as a real relay-in-the-middle would.
        if (f.type === 'signal' && (f.data?.type === 'AUTH_CHALLENGE' || f.data?.type === 'AUTH_FAILURE'))
          face.send(c.id, f.data);
      });
      const r = await client(c, lureRoom, ['--worker', m1.id, '--room-secret', SECRET]);
      // The client did answer (the relay carried only the HMAC), and the worker refused it.
      const verdict = await back.next((f) => f.data?.type === 'AUTH_FAILURE' || f.data?.type === 'AUTH_SUCCESS');
      expect(verdict.data).toEqual({ type: 'AUTH_FAILURE', reason: 'invalid_credentials' });
      expect([r.code, r.stderr]).toEqual([2, `${PSK_ERROR_TEXT.invalid_credentials}\n`]);
      // All Mallory (in the relay's position) got from the client is an HMAC: never the secret.
      expect(face.frames.some((f) => f.data?.type === 'AUTH_RESPONSE' && /^[0-9a-f]{64}$/.test(f.data.hmac))).toBe(
        true,
      );
      expect(JSON.stringify(face.frames)).not.toContain(SECRET);
      back.send(w.id, { type: 'COMMAND', id: 'x', job: 'echo', args: ['pwned'] });
      await new Promise((res) => setTimeout(res, 200));
      expect(back.frames.some((f) => f.data?.type === 'RESULT')).toBe(false);
    });
  });

  it('legacy mode: a worker without a secret sends no challenge and accepts clients (warning a client that has one)', async () => {
    const [w, c] = await Promise.all([s.device('w_legacy'), s.device('c_legacy')]);
    const roomId = await room([w, 'worker'], [c, 'client']);
    const worker = await startWorker(w, roomId);
    expect(worker.out()).toContain('legacy mode');
    expect(await client(c, roomId)).toMatchObject({ code: 0, stdout: '42\n', stderr: '' });
    const withSecret = await client(c, roomId, ['--room-secret', SECRET]);
    expect(withSecret).toMatchObject({ code: 0, stdout: '42\n' });
    expect(withSecret.stderr).toContain('does not require P2P authentication (legacy mode');
    const p = await openPeer(roomId, c);
    p.send(w.id, { type: 'HELLO' });
    expect((await p.next((f) => f.type === 'signal')).data).toEqual({ type: 'READY', auth: 'none' });
  });

  it('a removed member and a revoked device are cut off at once', async () => {
    const [w1, w2] = await Promise.all([s.device('w_removed'), s.device('w_revoked')]);
    const roomId = await room([w1, 'worker'], [w2, 'worker']);
    const removed = await startWorker(w1, roomId, ['--room-secret', SECRET]);
    const revoked = await startWorker(w2, roomId, ['--room-secret', SECRET]);
    // Timed from the API call (the CLI's `room remove` is covered above; its own start-up is not the point here).
    let t = Date.now();
    expect((await s.api('DELETE', `/signaling/rooms/${roomId}/members/${w1.id}`, owner.token)).status).toBe(200);
    expect(await removed.exited).toBe(2);
    expect(Date.now() - t).toBeLessThan(3000);
    expect(removed.out()).toContain('room-gateway closed the connection: removed from the room');
    t = Date.now();
    expect((await s.deviceAuth.admin('POST', `/admin/devices/${w2.id}/revoke`)).status).toBe(200);
    expect(await revoked.exited).toBe(2);
    expect(Date.now() - t).toBeLessThan(3000);
    expect(revoked.out()).toContain('room-gateway closed the connection: device revoked');
  });

  it('secret resolution: each source wins over the ones after it; the value is never shown', async () => {
    const sb = new Sandbox();
    try {
      const roomId = 'abc-123-def';
      const run = (args: string[], env: Record<string, string> = {}) =>
        sb.run(['room', ...args, '--room', roomId], { env });
      expect(await run(['secret-source'])).toMatchObject({
        code: 0,
        stdout: `none: no secret configured for ${roomId} (legacy mode: no P2P authentication)\n`,
      });
      const saved = await run(['create-secret', '--save']);
      expect(saved.code).toBe(0);
      const creds = join(sb.home, '.portcullis', 'credentials.json');
      const value = JSON.parse(readFileSync(creds, 'utf8')).room_secrets[roomId] as string;
      expect(value).toMatch(/^[0-9a-f]{64}$/);
      expect(statSync(creds).mode & 0o777).toBe(0o600);
      expect(saved.stdout).not.toContain(value);
      const shown = await run(['create-secret', '--no-save']);
      expect(shown.stdout).toMatch(/^Generated secret: [0-9a-f]{64}\n$/);
      expect(JSON.parse(readFileSync(creds, 'utf8')).room_secrets[roomId]).toBe(value);
      expect((await run(['secret-source'])).stdout).toBe(`credentials: ${creds} -> room_secrets.${roomId}\n`);
      writeSecretFile(sb, roomId, 'file-secret', 0o644);
      const file = await run(['secret-source']);
      expect(file.stdout).toBe(`file: ${join(sb.home, '.portcullis', 'secrets', roomId)}\n`);
      expect(file.stderr).toContain('is readable by other users');
      const env = { PORTCULLIS_ROOM_SECRET_ABC_123_DEF: 'env-secret' };
      expect((await run(['secret-source'], env)).stdout).toBe('env: PORTCULLIS_ROOM_SECRET_ABC_123_DEF\n');
      const flag = await run(['secret-source', '--room-secret', 'flag-secret'], env);
      expect(flag.stdout).toBe('flag: --room-secret\n');
      for (const out of sb.output)
        for (const v of [value, 'file-secret', 'env-secret', 'flag-secret']) expect(out).not.toContain(v);
    } finally {
      await sb.cleanup();
    }
    expect(existsSync(join(clientHome.home, '.portcullis', 'credentials.json'))).toBe(false);
  });

  it('no secret (PSK, device secret, device or room token) in logs, NATS messages or metrics', async () => {
    const metrics = await fetch(`${s.gatewayUrl}/metrics`).then((r) => r.text());
    const nats = natsSeen.join('\n');
    for (const where of [s.logs.text, nats, metrics, s.deviceAuth.logs.text]) {
      expect(where).not.toContain(SECRET);
      expect(where).not.toContain(owner.secret);
      expect(where).not.toContain(owner.token);
      expect(where).not.toContain(s.roomTokenKey);
      expect(where).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);
    }
    // Connections are counted by route pattern, never by which room: a label per room would be a series per room.
    // An allowed connection is a read: counted by the guard's decision counter, not an audit event.
    expect(metrics).toMatch(
      /portcullis_auth_decisions_total\{[^}]*route="\/signaling\/rooms\/:room_id\/ws",decision="allow"/,
    );
    expect(metrics).not.toMatch(/rm_[0-9a-fN]{8,}/);
    // The peers print it nowhere either (the client got it by flag and env, the worker by file and flag).
    for (const out of [...workerHome.output, ...clientHome.output]) expect(out).not.toContain(SECRET);
  });
});
