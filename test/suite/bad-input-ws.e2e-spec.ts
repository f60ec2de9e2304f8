import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, Sandbox, apiKeyIn, freePortsToml, readDaemonState, writeText } from '../support/cli';
import { createTestDatabase } from '../support/device-auth';
import { NATS_URL } from '../support/env';
import { http, waitFor } from '../support/http';
import { FrameOptions, OP, RawWs, frame } from '../support/raw-ws';

/** Every WebSocket endpoint refuses frames bigger than this (the relay's and the daemon's maxPayload, and bot-control's). */
const MAX_FRAME = 64 * 1024;

/** Frames that break RFC 6455, each with the close code ws answers it with. */
const ATTACKS: Array<{ name: string; bytes: () => Buffer; code: number }> = [
  { name: 'a reserved data opcode', bytes: () => frame(0x3, 'x'), code: 1002 },
  { name: 'a reserved control opcode', bytes: () => frame(0xb, 'x'), code: 1002 },
  { name: 'an unmasked client frame', bytes: () => frame(OP.text, 'hello', { mask: false }), code: 1002 },
  { name: 'RSV bits with no extension agreed', bytes: () => frame(OP.text, 'hello', { rsv: 0b100 }), code: 1002 },
  {
    name: 'a frame over maxPayload',
    bytes: () => frame(OP.binary, Buffer.alloc(16), { announcedLength: MAX_FRAME + 1 }),
    code: 1009,
  },
  {
    name: 'a text frame that is not UTF-8',
    bytes: () => frame(OP.text, Buffer.from([0xc3, 0x28, 0xff, 0xfe])),
    code: 1007,
  },
  { name: 'a continuation frame with nothing to continue', bytes: () => frame(OP.continuation, 'tail'), code: 1002 },
  { name: 'a fragmented ping', bytes: () => frame(OP.ping, 'p', { fin: false }), code: 1002 },
  {
    name: 'a new message inside a fragmented one',
    bytes: () => Buffer.concat([frame(OP.text, 'a', { fin: false }), frame(OP.text, 'b')]),
    code: 1002,
  },
  {
    name: 'fragments that add up to more than maxPayload',
    bytes: () =>
      Buffer.concat([
        frame(OP.binary, Buffer.alloc(MAX_FRAME - 10), { fin: false }),
        frame(OP.continuation, Buffer.alloc(100)),
      ]),
    code: 1009,
  },
  {
    name: 'fragments whose joined text is not UTF-8',
    bytes: () =>
      Buffer.concat([
        frame(OP.text, Buffer.from([0xe2, 0x82]), { fin: false }),
        frame(OP.continuation, Buffer.from([0x28])),
      ]),
    code: 1007,
  },
  { name: 'a close frame with a reserved code', bytes: () => frame(OP.close, Buffer.from([0x03, 0xe7])), code: 1002 },
];

interface Endpoint {
  name: string;
  base: () => string;
  path: () => string;
  headers: () => Record<string, string>;
  /** The same request with a credential the endpoint refuses. */
  wrong: Record<string, string>;
  /** Resolves once the server has admitted the socket (its first frame, if it sends one). */
  admitted: (ws: RawWs) => Promise<unknown>;
}

/**
 * Hand-built, broken WebSocket traffic against every WebSocket endpoint of the
 * all-in-one runner (`portcullis start --foreground`: every app and the daemon
 * in one process). Each case must end with that one connection closed (or its
 * upgrade refused with a 4xx), and every app and the daemon still answering.
 */
describe('broken WebSocket input never takes the suite down', () => {
  const sb = new Sandbox();
  const botSecret = randomBytes(32).toString('hex');
  let db: { url: string; drop(): Promise<void> };
  let daemon: ReturnType<Sandbox['spawnDaemon']>;
  let apps: Record<string, string>;
  let controlUrl: string;
  let adminKey: string;
  let deviceToken: string;
  let roomId: string;

  beforeAll(async () => {
    db = await createTestDatabase('badws');
    const dataDir = join(sb.root, 'data');
    const config = join(sb.cwd, 'portcullis.toml');
    // A bot that writes garbage to every descriptor it was given beyond stdio (an IPC channel would be fd 3).
    const bot = [
      'const fs = require("fs");',
      'for (const fd of [3, 4]) { try { fs.writeSync(fd, "this is not json\\n"); } catch {} }',
      'process.stdout.write(Buffer.from([0xff, 0xfe, 0x0a]));',
      'console.log("garbage written");',
      'setInterval(() => {}, 1000);',
    ].join(' ');
    const botCommand = JSON.stringify([process.execPath, '-e', bot, '--']);
    writeText(
      config,
      freePortsToml(
        `[suite]\ndata_dir = "${dataDir}"\nlog_level = "debug"\n\n[bot_control]\nshared_secret = "${botSecret}"\n\n[env.bot-control]\nBOT_COMMAND = '${botCommand}'\n`,
      ),
    );
    daemon = sb.spawnDaemon([BIN, 'start', '--foreground'], { env: { DATABASE_URL: db.url, NATS_URL } });
    const state = await waitFor(
      () => {
        if (daemon.child.exitCode !== null) throw new Error(`daemon exited: ${daemon.out()}`);
        const s = readDaemonState(dataDir);
        return s?.ready ? s : undefined;
      },
      60000,
      100,
    );
    apps = Object.fromEntries(state.apps.map((a) => [a.name, a.url]));
    controlUrl = state.control_url;
    adminKey = apiKeyIn(readFileSync(config, 'utf8'))!;

    // A device that owns a signaling room, for the relay's authenticated path.
    const deviceId = `pi_badws_${randomBytes(5).toString('hex')}`;
    const reg = await http('POST', `${apps['device-auth']}/admin/devices`, {
      headers: { 'x-portcullis-api-key': adminKey },
      json: { device_id: deviceId, customer_id: 'cust_badws', name: 'badws' },
    });
    expect(reg.status).toBe(201);
    const auth = await http('POST', `${apps['device-auth']}/device/auth`, {
      json: { device_id: deviceId, device_secret: reg.body.device_secret },
    });
    deviceToken = auth.body.access_token;
    // room-gateway accepts device tokens once the revocation snapshot has arrived.
    const room = await waitFor(
      async () => {
        const r = await http('POST', `${apps['room-gateway']}/signaling/rooms`, {
          headers: { authorization: `Bearer ${deviceToken}` },
          json: { name: 'badws' },
        });
        return r.status === 201 ? r : undefined;
      },
      15000,
      100,
    );
    roomId = room.body.room_id;
  }, 90000);

  afterAll(async () => {
    await sb.cleanup();
    await db?.drop();
  });

  const ENDPOINTS: Endpoint[] = [
    {
      name: 'room-gateway /signaling/rooms/:id/ws without Authorization (auth first message)',
      base: () => apps['room-gateway'],
      path: () => `/signaling/rooms/${roomId}/ws`,
      headers: () => ({}),
      wrong: { authorization: 'Bearer not.a.token' },
      admitted: async () => undefined,
    },
    {
      name: 'room-gateway /signaling/rooms/:id/ws with Authorization',
      base: () => apps['room-gateway'],
      path: () => `/signaling/rooms/${roomId}/ws`,
      headers: () => ({ authorization: `Bearer ${deviceToken}` }),
      wrong: { authorization: 'Bearer not.a.token' },
      admitted: (ws) => waitFor(() => ws.texts().some((t) => t.includes('"welcome"'))),
    },
    {
      name: 'bot-control /ws/events',
      base: () => apps['bot-control'],
      path: () => '/ws/events',
      headers: () => ({ 'x-bot-secret': botSecret }),
      wrong: { 'x-bot-secret': 'wrong' },
      admitted: () => new Promise((r) => setTimeout(r, 100)),
    },
    {
      name: 'daemon /daemon/events',
      base: () => controlUrl,
      path: () => '/daemon/events',
      headers: () => ({ 'x-portcullis-api-key': adminKey }),
      wrong: { 'x-portcullis-api-key': 'wrong' },
      admitted: (ws) => waitFor(() => ws.texts().some((t) => t.includes('"hello"'))),
    },
  ];

  /** Every app and the daemon answer GET /health, and the process is still the one we started. */
  async function everythingAnswers(): Promise<void> {
    const died = () => new Error(`the all-in-one process died: ${daemon.out().slice(-3000)}`);
    for (const url of [...Object.values(apps), controlUrl]) {
      const r = await http('GET', `${url}/health`).catch(async (err: Error) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        throw daemon.child.exitCode !== null ? died() : err;
      });
      if (r.status !== 200)
        throw new Error(
          `${url}/health answered ${r.status}; fatal lines: ${daemon
            .out()
            .split('\n')
            .filter((l) => l.includes('"level":60'))
            .join('\n')}`,
        );
    }
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) throw died();
  }

  async function opened(e: Endpoint, trailing?: Buffer): Promise<RawWs> {
    const ws = await RawWs.open(e.base(), e.path(), { headers: e.headers(), trailing });
    expect(ws.status).toBe(101);
    return ws;
  }

  describe.each(ENDPOINTS)('$name', (e) => {
    it.each(ATTACKS)('closes the connection on $name ($code)', async (a) => {
      const ws = await opened(e);
      await e.admitted(ws);
      ws.send(a.bytes());
      expect(await ws.closedWith()).toBe(a.code);
      await everythingAnswers();
    });

    it('treats bytes sent right behind the upgrade request as frames, and closes on garbage', async () => {
      const ws = await opened(e, Buffer.from('garbage that is not a frame\r\n\r\n'));
      // 'g' (0x67) reads as a frame with RSV2 and RSV3 set.
      expect(await ws.closedWith()).toBe(1002);
      await everythingAnswers();
    });

    it('shrugs off a half-sent frame followed by a close, and a reset in mid-frame', async () => {
      const half = (o: FrameOptions) => frame(OP.text, Buffer.alloc(100, 0x61), o).subarray(0, 30);
      const a = await opened(e);
      await e.admitted(a);
      a.send(half({}));
      a.socket.end();
      await waitFor(() => a.ended);
      const b = await opened(e);
      await e.admitted(b);
      b.send(half({ announcedLength: 1000 }));
      b.reset();
      await everythingAnswers();
    });

    it('survives a client that resets the connection before the server answers the upgrade', async () => {
      for (let i = 0; i < 5; i++) {
        const ws = await RawWs.open(e.base(), e.path(), {
          headers: e.headers(),
          trailing: frame(0x3, 'x'),
          wait: false,
        });
        ws.reset();
      }
      // ... and one whose credentials are refused, so the server writes its refusal to a dead socket.
      for (let i = 0; i < 5; i++) (await RawWs.open(e.base(), e.path(), { headers: e.wrong, wait: false })).reset();
      await new Promise((r) => setTimeout(r, 300));
      await everythingAnswers();
    });
  });

  it('the relay closes a socket whose first message is not an auth frame (4401), before and after garbage', async () => {
    const e = ENDPOINTS[0];
    const text = await opened(e);
    text.send(frame(OP.text, '{"type":"signal","data":1}'));
    expect(await text.closedWith()).toBe(4401);
    const binary = await opened(e);
    binary.send(frame(OP.binary, randomBytes(64)));
    expect(await binary.closedWith()).toBe(4401);
    // A protocol error in the frame right after a valid-looking one.
    const both = await opened(e);
    both.send(Buffer.concat([frame(OP.text, 'not json'), frame(0x3, 'x')]));
    expect([4401, 1002]).toContain(await both.closedWith());
    await everythingAnswers();
  });

  it('refuses bad %-escapes, queries and unknown paths in upgrade requests with a 4xx, never a 5xx', async () => {
    const relay = apps['room-gateway'];
    const token = { authorization: `Bearer ${deviceToken}` };
    const cases: Array<[string, string, Record<string, string>, number[]]> = [
      [relay, '/signaling/rooms/%E0%A4%A/ws', {}, [400]],
      [relay, '/signaling/rooms/%E0%A4%A/ws', token, [400]],
      [relay, '/signaling/rooms/%/ws', token, [400]],
      [relay, '/signaling/rooms/%C0%AF/ws', {}, [400]],
      [relay, `/signaling/rooms/${roomId}/ws?token=x`, {}, [400]],
      [relay, '/signaling/rooms/%72m_0/ws', token, [403]],
      [relay, '/nope%zz', {}, [404]],
      [controlUrl, '/daemon/events%zz', { 'x-portcullis-api-key': adminKey }, [404]],
      [controlUrl, '/daemon/%E0%A4%A', {}, [404]],
      // bot-control's WebSocket adapter drops an upgrade for any other path without an answer.
      [apps['bot-control'], '/ws/events%E0%A4%A', { 'x-bot-secret': botSecret }, [0, 404]],
      [apps['bot-control'], '/ws/events', { 'x-bot-secret': botSecret, host: '[bad' }, [400]],
    ];
    for (const [base, path, headers, want] of cases) {
      const ws = await RawWs.open(base, path, { headers });
      expect([path, want.includes(ws.status)]).toEqual([path, true]);
      ws.destroy();
    }
    // A handshake ws itself refuses (no version it speaks) is a 400 too.
    const old = await RawWs.open(relay, `/signaling/rooms/${roomId}/ws`, {
      headers: { 'sec-websocket-version': '12' },
    });
    expect(old.status).toBe(400);
    old.destroy();
    await everythingAnswers();
  });

  it('a bot writing garbage to its pipes and descriptors does not take bot-control or the suite down', async () => {
    const headers = { 'x-bot-secret': botSecret };
    const joined = await http('POST', `${apps['bot-control']}/join`, {
      headers,
      json: { room_url: 'https://example.daily.co/badws' },
    });
    expect(joined.status).toBe(200);
    await waitFor(() => daemon.out().includes('garbage written'), 10000);
    await new Promise((r) => setTimeout(r, 200));
    await everythingAnswers();
    expect((await http('DELETE', `${apps['bot-control']}/sessions/${joined.body.pid}`, { headers })).status).toBe(200);
  });

  it('logs no socket protocol error above debug, and nothing reached uncaughtException', () => {
    const lines = daemon
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const loud = lines.filter(
      (l) => /Invalid WebSocket frame|WS_ERR_|ECONNRESET|EPIPE|URIError|uncaught/i.test(l) && JSON.parse(l).level > 20,
    );
    expect(loud).toEqual([]);
    expect(lines.some((l) => /Invalid WebSocket frame|WS_ERR_/.test(l) && JSON.parse(l).level === 20)).toBe(true);
    expect(daemon.out()).not.toMatch(/uncaughtException|Unhandled 'error' event/);
  });
});
