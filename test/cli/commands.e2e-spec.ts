import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { canary } from '../support/env';
import { Sandbox, freePortsToml, writeText } from '../support/cli';

/**
 * The resource commands and their exit codes against a real daemon (room-gateway
 * and bot-control; device commands are covered by the scenario and README tests).
 * Daily is a local fake on 127.0.0.1 that records the key it receives.
 */
describe('portcullis commands and exit codes', () => {
  const sb = new Sandbox();
  const rooms = new Map<string, Record<string, unknown>>();
  const seenAuth: string[] = [];
  let daily: Server;
  const providerKey = canary('daily-key');

  beforeAll(async () => {
    daily = createServer((req, res) => {
      seenAuth.push(String(req.headers.authorization));
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const send = (status: number, obj: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
        const name = decodeURIComponent((req.url ?? '').split('/')[2] ?? '');
        if (req.headers.authorization !== `Bearer ${providerKey}`) return send(401, { error: 'authentication-error' });
        if (req.method === 'POST' && req.url === '/rooms') {
          const b = JSON.parse(body || '{}');
          const room = {
            id: `id-${rooms.size + 1}`,
            name: b.name ?? `room-${rooms.size + 1}`,
            url: `https://fake.daily.co/${b.name}`,
            privacy: b.privacy ?? 'public',
            config: b.properties ?? {},
            created_at: new Date().toISOString(),
          };
          rooms.set(room.name, room);
          return send(200, room);
        }
        const room = rooms.get(name);
        if (!room) return send(404, { error: 'not-found', info: `room ${name} not found` });
        if (req.method === 'GET') return send(200, room);
        if (req.method === 'DELETE') {
          rooms.delete(name);
          return send(200, { deleted: true, name });
        }
        send(405, {});
      });
    });
    await new Promise<void>((r) => daily.listen(0, '127.0.0.1', r));
    const dailyUrl = `http://127.0.0.1:${(daily.address() as AddressInfo).port}`;
    writeText(
      join(sb.cwd, 'portcullis.toml'),
      freePortsToml(
        `[suite]\napps = ["bot-control", "room-gateway"]\nsignaling = false\nlog_level = "warn"\n\n[env.room-gateway]\nDAILY_API_BASE_URL = "${dailyUrl}"\n`,
      ),
    );
  });
  afterAll(async () => {
    await sb.cleanup();
    await new Promise((r) => daily.close(r));
  });

  it('usage and help: exit 1 for bad usage, 0 for --help with examples; 3 when the suite is not running', async () => {
    const help = await sb.run(['device', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('portcullis device register --customer acme');
    expect((await sb.run(['frobnicate'])).code).toBe(1);
    expect((await sb.run(['device', 'register'])).code).toBe(1); // --customer is required
    const down = await sb.run(['bot', 'sessions']);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('Start it with `portcullis start`');
    const noKey = await sb.run(['device', 'list']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('Run `portcullis start`: it generates one and saves it there');
  });

  it('rooms create/get/delete send the caller key only to the provider, never print it; 404 is exit 4', async () => {
    expect((await sb.run(['start'], { timeoutMs: 90000 })).code).toBe(0);
    const env = { PORTCULLIS_PROVIDER_KEY: providerKey };

    const noProviderKey = await sb.run(['rooms', 'get', 'x']);
    expect(noProviderKey.code).toBe(2);
    expect(noProviderKey.stderr).toContain('PORTCULLIS_PROVIDER_KEY');

    const created = await sb.run(['--json', 'rooms', 'create', '--profile', 'conversation'], { env });
    expect(created.code).toBe(0);
    const room = JSON.parse(created.stdout);
    const name = (room.name ?? room.room_name) as string;
    expect(rooms.has(name)).toBe(true);

    const got = await sb.run(['rooms', 'get', name], { env });
    expect(got.code).toBe(0);
    expect(got.stdout).toContain(name);
    expect((await sb.run(['rooms', 'delete', name], { env })).code).toBe(0);
    expect(rooms.has(name)).toBe(false);
    const missing = await sb.run(['rooms', 'get', name], { env });
    expect(missing.code).toBe(4);

    const wrong = await sb.run(['rooms', 'get', name], { env: { PORTCULLIS_PROVIDER_KEY: canary('wrong') } });
    expect(wrong.code).toBe(2);
    expect(seenAuth.filter((a) => a === `Bearer ${providerKey}`).length).toBeGreaterThanOrEqual(4);

    expect((await sb.run(['rooms', 'create', '--profile', 'conversation', '--overrides', '{nope'], { env })).code).toBe(
      1,
    );
    expect(sb.output.join('\n')).not.toContain(providerKey);
  }, 120000);

  it('bot commands use the saved bot-control secret; an unknown session is exit 4', async () => {
    const sessions = await sb.run(['--json', 'bot', 'sessions']);
    expect(sessions.code).toBe(0);
    expect(JSON.parse(sessions.stdout)).toEqual([]);
    const leave = await sb.run(['bot', 'leave', '999999']);
    expect(leave.code).toBe(4);
    expect(leave.stderr).toContain('portcullis bot sessions');
    expect((await sb.run(['bot', 'leave', 'abc'])).code).toBe(1);

    // join -> listed -> leave, with the room token passed through the environment, never argv or output.
    const roomToken = canary('room-token');
    const joined = await sb.run(
      [
        '--json',
        'bot',
        'join',
        '--room-url',
        'https://example.daily.co/standup',
        '--bot',
        'pearl',
        '--token-env',
        'ROOM_TOKEN',
      ],
      { env: { ROOM_TOKEN: roomToken } },
    );
    expect(joined.code).toBe(0);
    const { pid } = JSON.parse(joined.stdout) as { pid: number };
    const listed = JSON.parse((await sb.run(['--json', 'bot', 'sessions'])).stdout) as Array<{
      pid: number;
      bot: string;
      state: string;
    }>;
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ pid, bot: 'pearl', state: 'running' })]));
    const table = await sb.run(['bot', 'sessions']);
    expect(table.stdout).toMatch(new RegExp(`PID\\s+ROOM_URL[\\s\\S]*${pid}\\s+https://example.daily.co/standup`));
    expect((await sb.run(['bot', 'leave', String(pid)])).code).toBe(0);
    expect(
      (await sb.run(['bot', 'join', '--room-url', 'https://example.daily.co/x', '--token-env', 'UNSET_VAR'])).code,
    ).toBe(1);
    expect((await sb.run(['bot', 'join', '--room-url', 'http://insecure.example/x'])).code).toBe(5);
    expect(sb.output.join('\n')).not.toContain(roomToken);

    // A wrong shared secret is refused with exit 2 and a message saying where the secret lives.
    const path = join(sb.cwd, 'portcullis.toml');
    const other = join(sb.root, 'other.toml');
    writeText(
      other,
      readFileSync(path, 'utf8').replace(/shared_secret = "[^"]+"/, `shared_secret = "${'c'.repeat(64)}"`),
    );
    const refused = await sb.run(['--config', other, 'bot', 'sessions']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('[bot_control] shared_secret');

    expect((await sb.run(['stop'])).code).toBe(0);
    const secret = /shared_secret = "([^"]+)"/.exec(readFileSync(path, 'utf8'))![1];
    expect(sb.output.join('\n')).not.toContain(secret);
  }, 60000);
});
