import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createServer, Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { runInterfaceProxy, Running } from '../support/apps';
import { canary, NATS_URL } from '../support/env';
import { http, processAlive, waitFor } from '../support/http';
import { AppProcess, freePort, spawnApp } from '../support/processes';
import { SseReader } from '../support/streams';
import type { InterfaceProxyConfig } from '../../apps/interface-proxy/src';

const room = () => `https://example.daily.co/proxy-${randomUUID()}`;

describe('interface-proxy in front of a real bot-control process', () => {
  const secret = canary('proxy-secret');
  let bot: AppProcess;
  let proxy: Running<InterfaceProxyConfig>;

  beforeAll(async () => {
    bot = await spawnApp('bot-control', {
      NATS_URL,
      BOT_CONTROL_SHARED_SECRET: secret,
      BOT_CONTROL_AUTH_REQUIRED: '1',
      BOT_CONTROL_EVENTS_AUTH_REQUIRED: '1',
    });
    proxy = await runInterfaceProxy({ BOT_CONTROL_BASE_URL: bot.url, BOT_CONTROL_SHARED_SECRET: secret });
  });

  afterAll(async () => {
    await proxy.close();
    // Nest re-raises SIGTERM after its graceful shutdown, so a clean stop ends by that signal.
    expect(await bot.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(proxy.logs.text).not.toContain(secret);
    expect(bot.output.join('')).not.toContain(secret);
  });

  it('joins, reuses and leaves through the proxy, the secret attached server-side', async () => {
    const url = room();
    const first = await http('POST', `${proxy.url}/api/bot/join`, { json: { room_url: url } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ pid: expect.any(Number), reused: false });
    expect(first.text).not.toContain(secret);
    const again = await http('POST', `${proxy.url}/api/bot/join`, { json: { room_url: url } });
    expect(again.body).toEqual({ pid: first.body.pid, reused: true });
    const leave = await http('POST', `${proxy.url}/api/bot/leave`, { json: { pid: first.body.pid } });
    expect(leave.status).toBe(202);
    await waitFor(() => !processAlive(first.body.pid));
  });

  it('force-stops through the proxy', async () => {
    const { body } = await http('POST', `${proxy.url}/api/bot/join`, { json: { room_url: room() } });
    const res = await http('POST', `${proxy.url}/api/bot/leave`, { json: { pid: body.pid, force: true } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ state: 'ended', signal: 'SIGKILL' });
  });

  it('passes bot-control 4xx through without internals', async () => {
    const bad = await http('POST', `${proxy.url}/api/bot/join`, { json: { room_url: 'http://insecure' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ detail: 'room_url is required and must be an https:// URL' });
    const missing = await http('POST', `${proxy.url}/api/bot/leave`, { json: { pid: 999999 } });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ detail: 'session not found' });
    const invalid = await http('POST', `${proxy.url}/api/bot/leave`, { json: { pid: 'x' } });
    expect(invalid.status).toBe(400);
  });

  it('relays the event stream to browsers (events auth on upstream, secret added by the proxy)', async () => {
    const sse = new SseReader(`${proxy.url}/api/bot/events`);
    await sse.ready;
    expect(sse.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    const { body } = await http('POST', `${proxy.url}/api/bot/join`, { json: { room_url: room() } });
    await http('POST', `${proxy.url}/api/bot/leave`, { json: { pid: body.pid } });
    await waitFor(() =>
      ['started', 'leaving', 'ended'].every((t) => sse.events.some((e) => e.event === t && e.data.pid === body.pid)),
    );
    sse.close();
  });

  it('propagates the request id to bot-control', async () => {
    const id = `req-${randomUUID()}`;
    await http('POST', `${proxy.url}/api/bot/join`, { headers: { 'x-request-id': id }, json: { room_url: room() } });
    await waitFor(() => bot.output.join('').includes(id));
  });

  it('answers 502 when its own credentials are refused, without saying more', async () => {
    const wrong = await runInterfaceProxy({
      BOT_CONTROL_BASE_URL: bot.url,
      BOT_CONTROL_SHARED_SECRET: canary('wrong'),
    });
    try {
      const res = await http('POST', `${wrong.url}/api/bot/join`, { json: { room_url: room() } });
      expect(res.status).toBe(502);
      expect(res.body).toEqual({ detail: 'bot control rejected the proxy' });
    } finally {
      await wrong.close();
    }
  });
});

describe('interface-proxy when bot-control is down', () => {
  it('answers 502 with a clear message', async () => {
    const port = await freePort();
    const proxy = await runInterfaceProxy({ BOT_CONTROL_BASE_URL: `http://127.0.0.1:${port}` });
    try {
      const join = await http('POST', `${proxy.url}/api/bot/join`, { json: { room_url: room() } });
      expect(join.status).toBe(502);
      expect(join.body).toEqual({ detail: 'bot control server unavailable' });
      const events = await http('GET', `${proxy.url}/api/bot/events`);
      expect(events.status).toBe(502);
    } finally {
      await proxy.close();
    }
  });
});

describe('interface-proxy signing its calls to a signature-requiring bot-control', () => {
  it('works end to end with HMAC-signed requests and no secret on the wire', async () => {
    const secret = canary('signing-secret');
    const bot = await spawnApp('bot-control', {
      NATS_URL,
      BOT_CONTROL_SHARED_SECRET: secret,
      BOT_CONTROL_AUTH_REQUIRED: '1',
      BOT_CONTROL_SIGNATURE_REQUIRED: '1',
    });
    const proxy = await runInterfaceProxy({
      BOT_CONTROL_BASE_URL: bot.url,
      BOT_CONTROL_SHARED_SECRET: secret,
      BOT_CONTROL_SIGNATURE_REQUIRED: '1',
    });
    try {
      const { status, body } = await http('POST', `${proxy.url}/api/bot/join`, { json: { room_url: room() } });
      expect(status).toBe(200);
      expect((await http('POST', `${proxy.url}/api/bot/leave`, { json: { pid: body.pid, force: true } })).status).toBe(
        202,
      );
      await waitFor(() => bot.output.join('').includes('"reason":"signed"'));
    } finally {
      await proxy.close();
      await bot.stop();
    }
    expect(proxy.logs.text).not.toContain(secret);
  });
});

describe('interface-proxy caller authentication (INTERFACE_AUTH_REQUIRED=1, JWKS)', () => {
  let jwksServer: Server;
  let jwksUrl: string;
  let sign: (claims: Record<string, unknown>, opts?: { exp?: string; alg?: string }) => Promise<string>;
  let bot: AppProcess;
  let proxy: Running<InterfaceProxyConfig>;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwksServer = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', () => r()));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/.well-known/jwks.json`;
    sign = (claims, opts = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? '5m')
        .sign(privateKey);
    bot = await spawnApp('bot-control', {});
    proxy = await runInterfaceProxy({
      BOT_CONTROL_BASE_URL: bot.url,
      INTERFACE_AUTH_REQUIRED: '1',
      INTERFACE_JWKS_URL: jwksUrl,
      INTERFACE_JWT_ISSUER: 'https://issuer.test',
      INTERFACE_JWT_AUDIENCE: 'portcullis',
    });
  });

  afterAll(async () => {
    await proxy.close();
    await bot.stop();
    jwksServer.close();
  });

  it('refuses callers without a valid token and serves those with one', async () => {
    const url = `${proxy.url}/api/bot/join`;
    const json = { room_url: room() };
    expect((await http('POST', url, { json })).status).toBe(401);
    const wrongAud = await sign({ sub: 'd1', iss: 'https://issuer.test', aud: 'other' });
    expect((await http('POST', url, { json, headers: { authorization: `Bearer ${wrongAud}` } })).status).toBe(401);
    const wrongIss = await sign({ sub: 'd1', iss: 'https://evil.test', aud: 'portcullis' });
    expect((await http('POST', url, { json, headers: { authorization: `Bearer ${wrongIss}` } })).status).toBe(401);
    const tooLong = await sign({ sub: 'd1', iss: 'https://issuer.test', aud: 'portcullis' }, { exp: '2h' });
    expect((await http('POST', url, { json, headers: { authorization: `Bearer ${tooLong}` } })).status).toBe(401);
    const good = await sign({ sub: 'd1', iss: 'https://issuer.test', aud: 'portcullis' });
    const ok = await http('POST', url, { json, headers: { authorization: `Bearer ${good}` } });
    expect(ok.status).toBe(200);
    await http('POST', `${proxy.url}/api/bot/leave`, {
      json: { pid: ok.body.pid, force: true },
      headers: { authorization: `Bearer ${good}` },
    });
    expect((await http('GET', `${proxy.url}/health`)).status).toBe(200);
    const reasons = proxy.logs.audits().map((a) => a.reason);
    expect(reasons).toEqual(expect.arrayContaining(['missing_token', 'claim_mismatch', 'lifetime_exceeded', 'ok']));
    expect(proxy.logs.text).not.toContain(good);
  });
});
