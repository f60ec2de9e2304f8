import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { appUrl } from '@portcullis/platform';
import { connect, NatsConnection, Subscription } from 'nats';
import { randomBytes } from 'node:crypto';
import { loadRoomGatewayConfig, startRoomGateway } from '../../apps/room-gateway/src';
import { PROFILES } from '../../apps/room-gateway/src/byok/profiles';
import { canary, NATS_URL } from '../support/env';
import { FakeDaily, FakeLiveKit } from '../support/fake-providers';
import { http, HttpResult } from '../support/http';
import { LogCapture } from '../support/log-capture';

const DAILY_KEY = canary('daily');
const LK_KEY = `APIcanary${randomBytes(6).toString('hex')}`;
const LK_SECRET = canary('lksecret');
const daily = new FakeDaily([DAILY_KEY]);
const livekit = new FakeLiveKit({ [LK_KEY]: LK_SECRET });
const logs = new LogCapture();
// Requests arrive "through" a trusted proxy from an address of this file's own, so other files' limits never mix in.
const clientIp = `10.${randomBytes(3).join('.')}`;
const seen: HttpResult[] = [];
const natsSeen: string[] = [];
let app: NestFastifyApplication;
let base: string;
let nc: NatsConnection;
let sub: Subscription;

const dailyAuth = { 'x-provider-auth': `Bearer ${DAILY_KEY}`, 'x-provider': 'daily' };
const lkAuth = { 'x-provider-auth': `Bearer ${LK_KEY}:${LK_SECRET}`, 'x-provider': 'livekit' };

async function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  json?: unknown,
): Promise<HttpResult> {
  const r = await http(method, `${base}${path}`, { headers: { 'x-forwarded-for': clientIp, ...headers }, json });
  seen.push(r);
  return r;
}

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
  sub = nc.subscribe('>');
  void (async () => {
    for await (const m of sub) natsSeen.push(`${m.subject} ${Buffer.from(m.data).toString('latin1')}`);
  })();
  await daily.start();
  await livekit.start();
  const cfg = loadRoomGatewayConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'trace',
    NATS_URL,
    TRUSTED_PROXIES: '127.0.0.1',
    DAILY_API_BASE_URL: daily.baseUrl,
    LIVEKIT_API_BASE_URL: livekit.url.replace('http://', 'ws://'),
    ROOM_GATEWAY_PROVIDER_TIMEOUT_MS: '2000',
    ROOM_GATEWAY_RATE_LIMIT_PER_KEY: '10000',
    ROOM_GATEWAY_RATE_LIMIT_PER_IP: '10000',
  });
  app = await startRoomGateway(cfg, { logStream: logs });
  base = await appUrl(app);
});

afterAll(async () => {
  await app?.close();
  await daily.stop();
  await livekit.stop();
  sub?.unsubscribe();
  await nc?.close();
});

beforeEach(() => {
  daily.reset();
  livekit.reset();
});

describe('Daily', () => {
  it.each(Object.keys(PROFILES))(
    'creates a %s room with the profile mapped to Daily room properties',
    async (profile) => {
      const before = Math.floor(Date.now() / 1000);
      const r = await call('POST', '/api/rooms/create', dailyAuth, { profile });
      expect(r.status).toBe(200);
      expect(daily.received).toHaveLength(1);
      const req = daily.received[0];
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/v1/rooms');
      expect(req.headers.authorization).toBe(`Bearer ${DAILY_KEY}`);
      const caps = PROFILES[profile].capabilities;
      const { exp, ...rest } = req.body.properties;
      const expected: Record<string, unknown> = {
        enable_chat: caps.chat,
        enable_screenshare: caps.screenshare,
        owner_only_broadcast: caps.owner_only_broadcast,
        start_video_off: caps.start_video_off,
        start_audio_off: caps.start_audio_off,
        enable_prejoin_ui: caps.prejoin,
        enable_knocking: caps.knocking,
        max_participants: caps.max_participants,
        eject_at_room_exp: true,
      };
      if (caps.recording) expected.enable_recording = 'cloud';
      expect(rest).toEqual(expected);
      expect(exp).toBeGreaterThanOrEqual(before + caps.expires_in_minutes! * 60);
      expect(exp).toBeLessThanOrEqual(before + caps.expires_in_minutes! * 60 + 5);
      expect(Object.keys(req.body).sort()).toEqual(['privacy', 'properties']);
      expect(req.body.privacy).toBe(caps.knocking ? 'private' : 'public');
      expect(r.body).toMatchObject({
        provider: 'daily',
        profile,
        room_name: 'auto1',
        room_id: 'id-auto1',
        room_url: 'https://example.daily.co/auto1',
        capabilities: caps,
        not_applied: [],
      });
    },
  );

  it('deep-merges overrides over the profile (broadcast without chat)', async () => {
    const r = await call('POST', '/api/rooms/create', dailyAuth, {
      profile: 'broadcast',
      overrides: { capabilities: { chat: false } },
    });
    expect(r.status).toBe(200);
    const props = daily.received[0].body.properties;
    expect(props.enable_chat).toBe(false);
    expect(props).toMatchObject({ owner_only_broadcast: true, enable_recording: 'cloud', max_participants: 1000 });
    expect(r.body.capabilities).toEqual({ ...PROFILES.broadcast.capabilities, chat: false });
  });

  it('applies a room name, numeric overrides and a room that never expires', async () => {
    const r = await call('POST', '/api/rooms/create', dailyAuth, {
      profile: 'conversation',
      name: 'team-sync',
      overrides: { capabilities: { max_participants: 4, expires_in_minutes: null } },
    });
    expect(r.status).toBe(200);
    expect(daily.received[0].body.name).toBe('team-sync');
    expect(daily.received[0].body.properties.max_participants).toBe(4);
    expect(daily.received[0].body.properties).not.toHaveProperty('exp');
    expect(daily.received[0].body.properties).not.toHaveProperty('eject_at_room_exp');
  });

  it('defaults to daily without X-Provider, takes any case, and accepts the raw key', async () => {
    expect(
      (
        await call(
          'POST',
          '/api/rooms/create',
          { 'x-provider-auth': `Bearer ${DAILY_KEY}` },
          { profile: 'conversation' },
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await call(
          'POST',
          '/api/rooms/create',
          { 'x-provider-auth': DAILY_KEY, 'x-provider': 'DAILY' },
          { profile: 'conversation' },
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await call(
          'POST',
          '/api/rooms/create',
          { 'x-provider-auth': `bearer ${DAILY_KEY}`, 'x-provider': 'Daily' },
          { profile: 'conversation' },
        )
      ).status,
    ).toBe(200);
    expect(daily.received.map((r) => r.headers.authorization)).toEqual(Array(3).fill(`Bearer ${DAILY_KEY}`));
  });

  it('gets and deletes a room with the exact Daily requests', async () => {
    await call('POST', '/api/rooms/create', dailyAuth, { profile: 'conversation', name: 'r1' });
    const got = await call('GET', '/api/rooms/get/r1', dailyAuth);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ provider: 'daily', room_name: 'r1', room_url: 'https://example.daily.co/r1' });
    const del = await call('DELETE', '/api/rooms/delete/r1', dailyAuth);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ provider: 'daily', room_name: 'r1', deleted: true });
    expect(
      daily.received.slice(1).map((r) => `${r.method} ${r.path} ${r.headers.authorization === `Bearer ${DAILY_KEY}`}`),
    ).toEqual(['GET /v1/rooms/r1 true', 'DELETE /v1/rooms/r1 true']);
    expect((await call('GET', '/api/rooms/get/r1', dailyAuth)).status).toBe(404);
    expect((await call('DELETE', '/api/rooms/delete/r1', dailyAuth)).status).toBe(404);
  });
});

describe('LiveKit', () => {
  it.each(Object.keys(PROFILES))(
    'creates a %s room through CreateRoom with a signed service token',
    async (profile) => {
      const r = await call('POST', '/api/rooms/create', lkAuth, { profile, name: `lk-${profile}` });
      expect(r.status).toBe(200);
      const req = livekit.received[0];
      expect(req.path).toBe('/twirp/livekit.RoomService/CreateRoom');
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.token!.header).toMatchObject({ alg: 'HS256' });
      const { iss, video, nbf, exp } = req.token!.claims;
      expect({ iss, video }).toEqual({ iss: LK_KEY, video: { roomCreate: true } });
      expect(exp - nbf).toBe(600);
      // The secret itself never leaves the gateway.
      expect(JSON.stringify(req)).not.toContain(LK_SECRET);
      const caps = PROFILES[profile].capabilities;
      expect(req.body).toEqual({
        name: `lk-${profile}`,
        maxParticipants: caps.max_participants,
        metadata: JSON.stringify({
          portcullis: {
            profile,
            capabilities: {
              chat: caps.chat,
              screenshare: caps.screenshare,
              owner_only_broadcast: caps.owner_only_broadcast,
              start_video_off: caps.start_video_off,
              start_audio_off: caps.start_audio_off,
            },
          },
        }),
      });
      const notApplied = (['recording', 'live_streaming', 'prejoin', 'knocking'] as const).filter((n) => caps[n]);
      expect(r.body).toMatchObject({
        provider: 'livekit',
        room_name: `lk-${profile}`,
        room_id: `RM_lk-${profile}`,
        room_url: null,
        created_at: '2026-01-01T00:00:00.000Z',
      });
      expect(r.body.not_applied).toEqual([...notApplied, 'expires_in_minutes']);
      for (const n of r.body.not_applied)
        expect(r.body.capabilities[n]).toBe(n === 'expires_in_minutes' ? null : false);
    },
  );

  it('gets through ListRooms and deletes through DeleteRoom with the grants the SDKs use', async () => {
    await call('POST', '/api/rooms/create', lkAuth, {
      profile: 'conversation',
      name: 'lk1',
      overrides: { capabilities: { chat: false } },
    });
    expect(JSON.parse(livekit.received[0].body.metadata).portcullis.capabilities.chat).toBe(false);
    const got = await call('GET', '/api/rooms/get/lk1', { ...lkAuth, 'x-provider': 'LiveKit' });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ provider: 'livekit', room_name: 'lk1', room_id: 'RM_lk1' });
    expect((await call('DELETE', '/api/rooms/delete/lk1', lkAuth)).body).toEqual({
      provider: 'livekit',
      room_name: 'lk1',
      deleted: true,
    });
    expect(livekit.received.slice(1).map((r) => [r.path, r.body, r.token!.claims.video])).toEqual([
      ['/twirp/livekit.RoomService/ListRooms', { names: ['lk1'] }, { roomList: true }],
      ['/twirp/livekit.RoomService/DeleteRoom', { room: 'lk1' }, { roomCreate: true }],
    ]);
    expect((await call('GET', '/api/rooms/get/lk1', lkAuth)).status).toBe(404);
    expect((await call('DELETE', '/api/rooms/delete/lk1', lkAuth)).status).toBe(404);
  });

  it('maps a wrong secret to 401 "provider rejected the key" and a key without a secret to 401', async () => {
    const wrong = await call(
      'POST',
      '/api/rooms/create',
      { ...lkAuth, 'x-provider-auth': `${LK_KEY}:${canary('wrong')}` },
      { profile: 'conversation' },
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ detail: 'provider rejected the key' });
    const malformed = await call(
      'POST',
      '/api/rooms/create',
      { ...lkAuth, 'x-provider-auth': `Bearer ${LK_KEY}` },
      { profile: 'conversation' },
    );
    expect(malformed.status).toBe(401);
    expect(malformed.body.detail).toMatch(/X-Provider-Auth .*<api_key>:<api_secret>/);
    expect(livekit.received).toHaveLength(1);
  });
});

describe('validation (422 naming the field)', () => {
  const bad = async (provider: Record<string, string>, body: unknown) => {
    const r = await call('POST', '/api/rooms/create', provider, body);
    expect(r.status).toBe(422);
    return r.body.detail as Array<{ loc: unknown[]; msg: string; type: string }>;
  };

  it('names an unknown capability, a wrong type and an unknown top-level field', async () => {
    expect(await bad(dailyAuth, { profile: 'conversation', overrides: { capabilities: { chats: false } } })).toEqual([
      { loc: ['body', 'overrides', 'capabilities', 'chats'], msg: 'unknown field', type: 'unknown_field' },
    ]);
    const wrongType = await bad(dailyAuth, {
      profile: 'conversation',
      overrides: { capabilities: { chat: 'no', max_participants: 0 } },
    });
    expect(wrongType.map((p) => p.loc)).toEqual([
      ['body', 'overrides', 'capabilities', 'chat'],
      ['body', 'overrides', 'capabilities', 'max_participants'],
    ]);
    expect(wrongType[0].msg).toMatch(/expected boolean/i);
    expect((await bad(dailyAuth, { profile: 'conversation', provider: 'livekit' }))[0].loc).toEqual([
      'body',
      'provider',
    ]);
    expect((await bad(dailyAuth, { profile: 'conversation', overrides: { name: 'x' } }))[0].loc).toEqual([
      'body',
      'overrides',
      'name',
    ]);
    expect((await bad(dailyAuth, { profile: 'party' }))[0]).toMatchObject({
      loc: ['body', 'profile'],
      type: 'invalid_enum_value',
    });
    expect(daily.received).toHaveLength(0);
  });

  it('refuses a capability the chosen provider cannot do, and allows turning it off', async () => {
    const problems = await bad(lkAuth, {
      profile: 'conversation',
      overrides: { capabilities: { recording: true, prejoin: true, chat: false } },
    });
    expect(problems).toEqual([
      {
        loc: ['body', 'overrides', 'capabilities', 'recording'],
        msg: 'livekit cannot do recording',
        type: 'unsupported_capability',
      },
      {
        loc: ['body', 'overrides', 'capabilities', 'prejoin'],
        msg: 'livekit cannot do prejoin',
        type: 'unsupported_capability',
      },
    ]);
    expect(livekit.received).toHaveLength(0);
    const off = await call('POST', '/api/rooms/create', lkAuth, {
      profile: 'conversation',
      overrides: { capabilities: { prejoin: false, expires_in_minutes: null } },
    });
    expect(off.status).toBe(200);
    expect(off.body.not_applied).toEqual([]);
  });

  it('names a bad room name in the path', async () => {
    const r = await call('GET', '/api/rooms/get/bad.name', dailyAuth);
    expect(r.status).toBe(422);
    expect(r.body.detail[0].loc).toEqual(['path', 'room_name']);
  });
});

describe('errors', () => {
  it('answers 401 naming the header when X-Provider-Auth is missing or empty', async () => {
    for (const headers of [{}, { 'x-provider-auth': '' }, { 'x-provider-auth': 'Bearer ' }] as Array<
      Record<string, string>
    >) {
      const r = await call('POST', '/api/rooms/create', headers, { profile: 'conversation' });
      expect(r.status).toBe(401);
      expect(r.body.detail).toMatch(/missing X-Provider-Auth header/);
    }
    expect((await call('GET', '/api/rooms/get/x', {})).status).toBe(401);
    expect((await call('DELETE', '/api/rooms/delete/x', {})).status).toBe(401);
  });

  it('answers 400 listing the supported providers for an unknown one', async () => {
    const r = await call(
      'POST',
      '/api/rooms/create',
      { ...dailyAuth, 'x-provider': 'zoom' },
      { profile: 'conversation' },
    );
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ detail: 'unsupported X-Provider; supported providers: daily, livekit' });
  });

  it.each([
    [401, 401, 'provider rejected the key'],
    [403, 401, 'provider rejected the key'],
    [404, 404, /^room not found at daily/],
    [500, 502, /^daily failed \(HTTP 500\)/],
    [503, 502, /^daily failed \(HTTP 503\)/],
  ])('maps the provider answering %i to %i', async (status, expected, detail) => {
    daily.force({ status, body: { error: 'x', info: `something about Bearer ${DAILY_KEY} and ${DAILY_KEY}` } });
    const r = await call('GET', '/api/rooms/get/r1', dailyAuth);
    expect(r.status).toBe(expected);
    expect(r.body.detail).toEqual(expect.stringMatching(detail));
  });

  it('passes on a provider 429 with its Retry-After', async () => {
    daily.force({ status: 429, body: { error: 'rate-limit' }, headers: { 'retry-after': '17' } });
    const r = await call('POST', '/api/rooms/create', dailyAuth, { profile: 'conversation' });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('17');
    livekit.force({
      status: 429,
      body: { code: 'resource_exhausted', msg: 'slow down' },
      headers: { 'retry-after': '3' },
    });
    const lk = await call('GET', '/api/rooms/get/a', lkAuth);
    expect([lk.status, lk.headers.get('retry-after'), lk.body.detail]).toEqual([
      429,
      '3',
      'livekit rate limit reached: slow down',
    ]);
  });

  it('answers 502 when the provider hangs up or is not there', async () => {
    daily.force({ status: 0, hangUp: true });
    const r = await call('POST', '/api/rooms/create', dailyAuth, { profile: 'conversation' });
    expect(r.status).toBe(502);
    expect(r.body).toEqual({ detail: 'daily is unreachable' });
    livekit.force({ status: 502, body: 'not json' });
    expect((await call('GET', '/api/rooms/get/a', lkAuth)).status).toBe(502);
  });

  it('answers 502 when the provider does not answer within the timeout', async () => {
    daily.force({ status: 200, body: {}, delayMs: 2500 });
    const r = await call('GET', '/api/rooms/get/slow', dailyAuth);
    expect(r.status).toBe(502);
    expect(r.body).toEqual({ detail: 'daily is unreachable (timed out)' });
  });

  it('passes a provider refusal on with the key scrubbed from its text', async () => {
    daily.force({
      status: 400,
      body: {
        error: 'invalid-request-error',
        info: `key ${DAILY_KEY} (Bearer ${DAILY_KEY}) ${encodeURIComponent(DAILY_KEY)} is not allowed to use "foo"`,
      },
    });
    const r = await call('POST', '/api/rooms/create', dailyAuth, { profile: 'conversation' });
    expect(r.status).toBe(400);
    expect(r.body.detail).toMatch(
      /^daily refused the request: key \[redacted\] \(Bearer \[redacted\]\) \[redacted\] is not allowed to use "foo"$/,
    );
    livekit.force({ status: 400, body: { code: 'invalid_argument', msg: `bad ${LK_SECRET.slice(0, 30)} ${LK_KEY}` } });
    const lk = await call('GET', '/api/rooms/get/a', lkAuth);
    expect(lk.body.detail).toBe('livekit refused the request: bad [redacted] [redacted]');
  });
});

describe('docs', () => {
  it('serves Swagger UI and the OpenAPI document with both headers on every operation', async () => {
    const ui = await call('GET', '/docs', {});
    expect(ui.status).toBe(200);
    expect(ui.text).toMatch(/swagger/i);
    const bundle = await http('GET', `${base}/docs/swagger-ui-bundle.js`);
    expect([bundle.status, bundle.headers.get('content-type')]).toEqual([200, 'application/javascript; charset=utf-8']);
    expect((await http('GET', `${base}/docs/..%2Fpackage.json`)).status).toBe(404);
    const doc = await call('GET', '/docs-json', {});
    expect(doc.status).toBe(200);
    const ops = [
      doc.body.paths['/api/rooms/create'].post,
      doc.body.paths['/api/rooms/get/{room_name}'].get,
      doc.body.paths['/api/rooms/delete/{room_name}'].delete,
    ];
    for (const op of ops) {
      const headers = op.parameters.filter((p: { in: string }) => p.in === 'header');
      expect(headers.map((h: { name: string; required: boolean }) => [h.name, h.required])).toEqual([
        ['X-Provider-Auth', true],
        ['X-Provider', false],
      ]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '422', '429', '502']));
    }
  });

  it('keeps /health open', async () => {
    expect((await call('GET', '/health', {})).body).toMatchObject({ status: 'healthy', app: 'room-gateway' });
  });
});

describe('key hygiene', () => {
  it('never shows the keys in any log line, response, header, metric or NATS message', async () => {
    // One more pass that logs at every level: a rejected key, a provider error, a success.
    daily.force({ status: 500, body: { info: DAILY_KEY } });
    await call('POST', '/api/rooms/create', dailyAuth, { profile: 'conversation' });
    await call(
      'POST',
      '/api/rooms/create',
      { ...dailyAuth, 'x-provider-auth': `Bearer ${DAILY_KEY}x` },
      { profile: 'conversation' },
    );
    await call('POST', '/api/rooms/create', dailyAuth, { profile: 'conversation' });
    const metrics = await call('GET', '/metrics', {});
    expect(metrics.text).toMatch(/portcullis_auth_decisions_total\{[^}]*reason="provider_rejected"/);
    await nc.flush();
    const secrets = [DAILY_KEY, LK_SECRET, LK_SECRET.slice(-24), DAILY_KEY.slice(-24)];
    const responses = seen.map((r) => `${r.status} ${JSON.stringify([...r.headers.entries()])} ${r.text}`);
    expect(logs.lines.length).toBeGreaterThan(50);
    // Trace-level request logs were written and the header was redacted in them.
    expect(logs.text).toContain('"x-provider-auth":"[redacted]"');
    expect(natsSeen.length).toBeGreaterThan(0);
    for (const s of secrets) {
      expect(logs.text).not.toContain(s);
      for (const r of responses) expect(r).not.toContain(s);
      for (const m of natsSeen) expect(m).not.toContain(s);
    }
    // Audit lines carry the fingerprint, not the key.
    const audits = logs.audits();
    expect(audits.some((a) => a.reason === 'provider_rejected' && /^fp_[0-9a-f]{16}$/.test(String(a.principal)))).toBe(
      true,
    );
  });
});
