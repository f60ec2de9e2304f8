import { signRequest } from '@portcullis/auth';
import { randomUUID } from 'node:crypto';
import { runBotControl, Running } from '../support/apps';
import { canary, NATS_URL } from '../support/env';
import { http } from '../support/http';
import type { BotControlConfig } from '../../apps/bot-control/src';

/** Sends a request signed with `secret`, optionally altering what goes on the wire after signing. */
async function signed(
  base: string,
  secret: string,
  req: { method: string; path: string; body?: unknown },
  tamper: {
    method?: string;
    path?: string;
    body?: string;
    headers?: (h: Record<string, string>) => Record<string, string>;
  } = {},
  now = Date.now(),
) {
  const body = req.body === undefined ? '' : JSON.stringify(req.body);
  let headers = signRequest(secret, { method: req.method, pathWithQuery: req.path, body }, now);
  if (tamper.headers) headers = tamper.headers(headers);
  const sentBody = tamper.body ?? body;
  if (sentBody) headers['content-type'] = 'application/json';
  return {
    headers,
    res: await http(tamper.method ?? req.method, `${base}${tamper.path ?? req.path}`, {
      headers,
      body: sentBody || undefined,
    }),
  };
}

const join = () => ({
  method: 'POST',
  path: '/join',
  body: { room_url: `https://example.daily.co/sig-${randomUUID()}` },
});

describe('bot-control HMAC request signing (nonces shared through NATS JetStream)', () => {
  const secret = canary('sign-secret');
  const previous = canary('sign-prev');
  let a: Running<BotControlConfig>;
  let b: Running<BotControlConfig>;

  beforeAll(async () => {
    const env = {
      NATS_URL,
      BOT_CONTROL_SHARED_SECRET: secret,
      BOT_CONTROL_SHARED_SECRET_PREV: previous,
      BOT_CONTROL_AUTH_REQUIRED: '1',
      BOT_CONTROL_SIGNATURE_REQUIRED: '1',
      BOT_CONTROL_SIGNATURE_SKEW_SECONDS: '300',
    };
    // Two replicas sharing one NATS: a nonce used at one is spent at both.
    [a, b] = await Promise.all([runBotControl(env), runBotControl(env)]);
  });

  afterAll(async () => {
    const sessions = (await http('GET', `${a.url}/sessions`)).body as Array<{ pid: number }>;
    for (const s of sessions)
      await http('DELETE', `${a.url}/sessions/${s.pid}`, { headers: { 'x-bot-secret': secret } }).catch(
        () => undefined,
      );
    await Promise.all([a.close(), b.close()]);
    for (const app of [a, b]) {
      expect(app.logs.text).not.toContain(secret);
      expect(app.logs.text).not.toContain(previous);
    }
  });

  it('accepts a valid signature, and one made with the previous secret', async () => {
    expect((await signed(a.url, secret, join())).res.status).toBe(200);
    expect((await signed(a.url, previous, join())).res.status).toBe(200);
  });

  it('refuses the bare secret once signatures are required', async () => {
    const res = await http('POST', `${a.url}/join`, { headers: { 'x-bot-secret': secret }, json: join().body });
    expect(res.status).toBe(401);
    expect(a.logs.audits().some((e) => e.reason === 'missing_signature')).toBe(true);
  });

  it('refuses a replay, at the same replica and at a second one', async () => {
    const first = await signed(a.url, secret, join());
    expect(first.res.status).toBe(200);
    const req = join();
    const original = await signed(a.url, secret, req);
    expect(original.res.status).toBe(200);
    const body = JSON.stringify(req.body);
    const again = await http('POST', `${a.url}/join`, {
      headers: { ...original.headers, 'content-type': 'application/json' },
      body,
    });
    expect(again.status).toBe(401);
    expect(again.text).toBe('{"detail":"unauthorized"}');
    const elsewhere = await http('POST', `${b.url}/join`, {
      headers: { ...original.headers, 'content-type': 'application/json' },
      body,
    });
    expect(elsewhere.status).toBe(401);
    expect(b.logs.audits().some((e) => e.reason === 'replayed_nonce')).toBe(true);
  });

  it('refuses timestamps outside the skew window', async () => {
    expect((await signed(a.url, secret, join(), {}, Date.now() - 301_000)).res.status).toBe(401);
    // Timestamps are whole seconds (floored), so a future one needs more than a second of margin:
    // +301 s floored could land at +300.x and, after the request's own latency, inside the window.
    expect((await signed(a.url, secret, join(), {}, Date.now() + 305_000)).res.status).toBe(401);
    expect(a.logs.audits().filter((e) => e.reason === 'stale_timestamp')).toHaveLength(2);
  });

  it('refuses tampering with method, path, query or body', async () => {
    const { body } = await http('GET', `${a.url}/sessions`);
    const pid = (body as Array<{ pid: number }>)[0].pid;
    // Method: signed as leave (POST), sent as DELETE.
    const m = await signed(
      a.url,
      secret,
      { method: 'POST', path: `/sessions/${pid}/leave` },
      { method: 'DELETE', path: `/sessions/${pid}` },
    );
    expect(m.res.status).toBe(401);
    // Path: signed for another session.
    const p = await signed(a.url, secret, { method: 'DELETE', path: '/sessions/1' }, { path: `/sessions/${pid}` });
    expect(p.res.status).toBe(401);
    // Query: added after signing.
    const q = await signed(a.url, secret, join(), { path: '/join?extra=1' });
    expect(q.res.status).toBe(401);
    // Body: another room after signing.
    const bd = await signed(a.url, secret, join(), { body: JSON.stringify(join().body) });
    expect(bd.res.status).toBe(401);
    // Signature: one hex digit flipped.
    const s = await signed(a.url, secret, join(), {
      headers: (h) => ({ ...h, 'x-bot-signature': h['x-bot-signature'].replace(/.$/, (c) => (c === '0' ? '1' : '0')) }),
    });
    expect(s.res.status).toBe(401);
    // Wrong secret altogether.
    expect((await signed(a.url, canary('other'), join())).res.status).toBe(401);
    const badSigs = a.logs.audits().filter((e) => e.reason === 'bad_signature');
    expect(badSigs.length).toBeGreaterThanOrEqual(6);
    // The session is untouched by every refused request.
    expect((await http('GET', `${a.url}/sessions/${pid}`)).body.state).toBe('running');
  });

  it('a query string that is signed is accepted', async () => {
    const r = await signed(a.url, secret, { method: 'POST', path: '/join?source=test', body: join().body });
    expect(r.res.status).toBe(200);
  });
});
