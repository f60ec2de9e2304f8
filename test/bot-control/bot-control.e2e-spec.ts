import { BOT_EVENT_SUBJECTS, BotSessionEvent } from '@portcullis/contracts';
import { connect, JSONCodec, NatsConnection } from 'nats';
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { runBotControl, Running } from '../support/apps';
import { canary, NATS_URL } from '../support/env';
import { http, processAlive, waitFor } from '../support/http';
import { freePort } from '../support/processes';
import { SseReader, WsReader } from '../support/streams';
import type { BotControlConfig } from '../../apps/bot-control/src';

const room = (label = 'r') => `https://example.daily.co/${label}-${randomUUID()}`;

/** A reaped child has no /proc entry; a zombie would still have one in state Z. */
function gone(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/status`)) return true;
  return !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8')) && !processAlive(pid);
}

describe('bot-control sessions (open mode, real bot processes, real NATS)', () => {
  let bc: Running<BotControlConfig>;
  let nc: NatsConnection;
  const natsEvents: BotSessionEvent[] = [];

  beforeAll(async () => {
    bc = await runBotControl({ NATS_URL, BOT_LEAVE_GRACE_MS: '2000' });
    nc = await connect({ servers: NATS_URL });
    const jc = JSONCodec<BotSessionEvent>();
    for (const subject of Object.values(BOT_EVENT_SUBJECTS)) {
      const sub = nc.subscribe(subject);
      void (async () => {
        for await (const m of sub) {
          // Nest's NATS transport wraps events as { pattern, data }.
          const raw = jc.decode(m.data) as unknown as { data?: BotSessionEvent } & BotSessionEvent;
          natsEvents.push(raw.data ?? raw);
        }
      })();
    }
    await nc.flush();
  });

  afterAll(async () => {
    await bc.close();
    await nc.close();
  });

  it('refuses a missing or non-https room_url with a clear 400', async () => {
    for (const body of [{}, { room_url: 'http://example.com/x' }, { room_url: 'not a url' }, { room_url: 42 }]) {
      const res = await http('POST', `${bc.url}/join`, { json: body });
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/room_url is required and must be an https:\/\/ URL/);
    }
    const unknown = await http('POST', `${bc.url}/join`, { json: { room_url: room(), extra: 1 } });
    expect(unknown.status).toBe(400);
  });

  it('joins with a real child process, reuses it for the same room, and leaves gracefully', async () => {
    const url = room('join');
    const first = await http('POST', `${bc.url}/join`, { json: { room_url: url, bot: 'pearl' } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ pid: expect.any(Number), reused: false });
    const pid = first.body.pid as number;
    expect(processAlive(pid)).toBe(true);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('bot-worker.js');

    const again = await http('POST', `${bc.url}/join`, { json: { room_url: url } });
    expect(again.body).toEqual({ pid, reused: true });

    const one = await http('GET', `${bc.url}/sessions/${pid}`);
    expect(one.body).toMatchObject({ pid, room_url: url, bot: 'pearl', state: 'running' });
    const all = await http('GET', `${bc.url}/sessions`);
    expect(all.body.map((s: { pid: number }) => s.pid)).toContain(pid);

    const leave = await http('POST', `${bc.url}/sessions/${pid}/leave`);
    expect(leave.status).toBe(202);
    expect(leave.body.state).toBe('leaving');
    await waitFor(() => gone(pid));
    await waitFor(async () => (await http('GET', `${bc.url}/sessions/${pid}`)).body.state === 'ended');

    // The room is free again: a new join starts a new bot.
    const fresh = await http('POST', `${bc.url}/join`, { json: { room_url: url } });
    expect(fresh.body.reused).toBe(false);
    expect(fresh.body.pid).not.toBe(pid);
    await http('DELETE', `${bc.url}/sessions/${fresh.body.pid}`);
  });

  it('DELETE stops a bot at once; unknown pids are 404', async () => {
    const { body } = await http('POST', `${bc.url}/join`, { json: { room_url: room('del') } });
    const res = await http('DELETE', `${bc.url}/sessions/${body.pid}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ pid: body.pid, state: 'ended', signal: 'SIGKILL' });
    expect(gone(body.pid)).toBe(true);
    expect((await http('DELETE', `${bc.url}/sessions/${body.pid}`)).status).toBe(404);
    expect((await http('POST', `${bc.url}/sessions/999999/leave`)).status).toBe(404);
    expect((await http('GET', `${bc.url}/sessions/999999`)).body).toEqual({ detail: 'session not found' });
    expect((await http('GET', `${bc.url}/sessions/abc`)).status).toBe(400);
  });

  it('a leave that is ignored ends in SIGKILL after the grace period', async () => {
    // A bot that ignores SIGTERM.
    const stubborn = await runBotControl({
      BOT_COMMAND: JSON.stringify([
        process.execPath,
        '-e',
        "process.on('SIGTERM',()=>{});console.log('ready');setInterval(()=>{},1000)",
        '--',
      ]),
      BOT_LEAVE_GRACE_MS: '300',
    });
    try {
      const { body } = await http('POST', `${stubborn.url}/join`, { json: { room_url: room('stubborn') } });
      // Wait until the bot says its SIGTERM handler is in place (its output reaches bot-control's debug log).
      await waitFor(() => stubborn.logs.parsed().some((l) => l.pid === body.pid && l.bot_output === 'ready'));
      await http('POST', `${stubborn.url}/sessions/${body.pid}/leave`);
      await waitFor(() => gone(body.pid), 3000);
      const s = await http('GET', `${stubborn.url}/sessions/${body.pid}`);
      expect(s.body).toMatchObject({ state: 'ended', signal: 'SIGKILL' });
    } finally {
      await stubborn.close();
    }
  });

  it('a bot that exits on its own is reaped and reported as failed', async () => {
    const crashy = await runBotControl({
      NATS_URL,
      BOT_COMMAND: JSON.stringify([process.execPath, '-e', 'setTimeout(()=>process.exit(3),150)', '--']),
    });
    const sse = new SseReader(`${crashy.url}/events`);
    await sse.ready;
    try {
      const url = room('crash');
      const { body } = await http('POST', `${crashy.url}/join`, { json: { room_url: url } });
      await waitFor(() => sse.events.some((e) => e.event === 'failed' && e.data.pid === body.pid));
      expect(gone(body.pid)).toBe(true);
      const s = await http('GET', `${crashy.url}/sessions/${body.pid}`);
      expect(s.body).toMatchObject({ state: 'failed', exit_code: 3 });
      await waitFor(() => natsEvents.some((e) => e.type === 'failed' && e.room_url === url));
    } finally {
      sse.close();
      await crashy.close();
    }
  });

  it('streams started, leaving and ended over SSE, WebSocket and NATS', async () => {
    const sse = new SseReader(`${bc.url}/events`);
    const ws = new WsReader(`${bc.url.replace('http', 'ws')}/ws/events`);
    await Promise.all([sse.ready, ws.opened]);
    const url = room('events');
    const { body } = await http('POST', `${bc.url}/join`, { json: { room_url: url } });
    await http('POST', `${bc.url}/sessions/${body.pid}/leave`);
    const want = ['started', 'leaving', 'ended'];
    await waitFor(() => want.every((t) => sse.events.some((e) => e.event === t && e.data.pid === body.pid)));
    await waitFor(() => want.every((t) => ws.messages.some((m) => m.type === t && m.pid === body.pid)));
    await waitFor(() => want.every((t) => natsEvents.some((e) => e.type === t && e.room_url === url)));
    expect(sse.events.find((e) => e.event === 'started')?.data).toMatchObject({
      pid: body.pid,
      room_url: url,
      type: 'started',
    });
    sse.close();
    ws.close();
  });

  it('leaves no bot behind on shutdown', async () => {
    const other = await runBotControl({});
    const pids: number[] = [];
    for (let i = 0; i < 3; i++)
      pids.push((await http('POST', `${other.url}/join`, { json: { room_url: room('shutdown') } })).body.pid);
    expect(pids.every(processAlive)).toBe(true);
    await other.close();
    expect(pids.every(gone)).toBe(true);
  });
});

describe('bot-control shared-secret auth', () => {
  const secret = canary('bot-secret');
  const previous = canary('bot-secret-prev');
  let enforced: Running<BotControlConfig>;
  let shadow: Running<BotControlConfig>;
  let changeOnly: Running<BotControlConfig>;

  beforeAll(async () => {
    enforced = await runBotControl({
      BOT_CONTROL_SHARED_SECRET: secret,
      BOT_CONTROL_SHARED_SECRET_PREV: previous,
      BOT_CONTROL_AUTH_REQUIRED: '1',
    });
    shadow = await runBotControl({ BOT_CONTROL_SHARED_SECRET: secret, BOT_CONTROL_AUTH_REQUIRED: '0' });
    changeOnly = await runBotControl({ BOT_CONTROL_SHARED_SECRET: secret, BOT_CONTROL_AUTH_REQUIRED_CHANGE: '1' });
  });

  afterAll(async () => {
    await Promise.all([enforced.close(), shadow.close(), changeOnly.close()]);
    for (const app of [enforced, shadow, changeOnly]) {
      expect(app.logs.text).not.toContain(secret);
      expect(app.logs.text).not.toContain(previous);
    }
  });

  it('enforced: missing and wrong credentials get exactly 401 {"detail":"unauthorized"}', async () => {
    const cases: Array<Record<string, string>> = [
      {},
      { 'x-bot-secret': 'wrong' },
      { authorization: 'Bearer wrong' },
      { authorization: secret },
      { 'x-bot-secret': `${secret}x` },
    ];
    for (const headers of cases) {
      const res = await http('POST', `${enforced.url}/join`, { headers, json: { room_url: room('auth') } });
      expect(res.status).toBe(401);
      expect(res.text).toBe('{"detail":"unauthorized"}');
    }
    for (const path of ['/sessions/1/leave']) {
      expect((await http('POST', `${enforced.url}${path}`)).status).toBe(401);
    }
    expect((await http('DELETE', `${enforced.url}/sessions/1`)).status).toBe(401);
    const reasons = enforced.logs
      .audits()
      .filter((a) => a.decision === 'deny')
      .map((a) => a.reason);
    expect(reasons).toEqual(expect.arrayContaining(['missing_credential', 'invalid_credential']));
  });

  it('enforced: current secret, previous secret and the Bearer form are accepted', async () => {
    for (const headers of [
      { 'x-bot-secret': secret },
      { 'x-bot-secret': previous },
      { authorization: `Bearer ${secret}` },
      { authorization: `bearer ${previous}` },
    ] as Array<Record<string, string>>) {
      const res = await http('POST', `${enforced.url}/join`, { headers, json: { room_url: room('ok') } });
      expect(res.status).toBe(200);
      const del = await http('DELETE', `${enforced.url}/sessions/${res.body.pid}`, { headers });
      expect(del.status).toBe(200);
    }
    expect(enforced.logs.audits().some((a) => a.decision === 'allow' && a.reason === 'ok_previous')).toBe(true);
    // Reads and health stay open by default.
    expect((await http('GET', `${enforced.url}/health`)).status).toBe(200);
    expect((await http('GET', `${enforced.url}/sessions`)).status).toBe(200);
  });

  it('shadow mode: refused-to-be requests pass, but are logged and counted as would_deny', async () => {
    const res = await http('POST', `${shadow.url}/join`, {
      headers: { 'x-bot-secret': 'nope' },
      json: { room_url: room('shadow') },
    });
    expect(res.status).toBe(200);
    await http('DELETE', `${shadow.url}/sessions/${res.body.pid}`);
    const audit = shadow.logs.audits().find((a) => a.decision === 'would_deny' && a.reason === 'invalid_credential');
    expect(audit).toMatchObject({ app: 'bot-control', action: 'POST /join' });
    const metrics = (await http('GET', `${shadow.url}/metrics`)).text;
    expect(metrics).toMatch(
      /portcullis_auth_decisions_total\{app="bot-control",route="\/join",decision="would_deny",reason="invalid_credential"\} 1/,
    );
    expect(metrics).toMatch(/decision="would_deny",reason="missing_credential"\} 1/);
    expect(metrics).not.toContain(secret);
  });

  it('BOT_CONTROL_AUTH_REQUIRED_CHANGE enforces the /sessions/* mutations only', async () => {
    const join = await http('POST', `${changeOnly.url}/join`, { json: { room_url: room('change') } });
    expect(join.status).toBe(200);
    expect((await http('POST', `${changeOnly.url}/sessions/${join.body.pid}/leave`)).status).toBe(401);
    expect((await http('DELETE', `${changeOnly.url}/sessions/${join.body.pid}`)).status).toBe(401);
    expect(
      (await http('POST', `${changeOnly.url}/sessions/${join.body.pid}/leave`, { headers: { 'x-bot-secret': secret } }))
        .status,
    ).toBe(202);
  });

  it('never echoes a presented secret into responses', async () => {
    const res = await http('POST', `${enforced.url}/join`, {
      headers: { 'x-bot-secret': secret },
      json: { room_url: 'http://bad', token: secret },
    });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain(secret);
  });
});

describe('bot-control events restricted to authenticated callers', () => {
  const secret = canary('events-secret');
  let bc: Running<BotControlConfig>;

  beforeAll(async () => {
    bc = await runBotControl({ BOT_CONTROL_SHARED_SECRET: secret, BOT_CONTROL_EVENTS_AUTH_REQUIRED: '1' });
  });
  afterAll(() => bc.close());

  it('refuses /events, /ws/events and reads without a header credential and serves them with one', async () => {
    const denied = new SseReader(`${bc.url}/events`);
    await denied.ready;
    expect(denied.status).toBe(401);
    expect((await http('GET', `${bc.url}/sessions`)).status).toBe(401);
    // Query-string credentials are not a thing: the secret never goes in a URL.
    expect((await http('GET', `${bc.url}/sessions?secret=${secret}`)).status).toBe(401);

    const wsDenied = new WsReader(`${bc.url.replace('http', 'ws')}/ws/events`);
    expect(await wsDenied.closed).toBe(1008);

    const sse = new SseReader(`${bc.url}/events`, { 'x-bot-secret': secret });
    const ws = new WsReader(`${bc.url.replace('http', 'ws')}/ws/events`, { authorization: `Bearer ${secret}` });
    await Promise.all([sse.ready, ws.opened]);
    expect(sse.status).toBe(200);
    const { body } = await http('POST', `${bc.url}/join`, { json: { room_url: room('ev') } });
    await waitFor(() => sse.events.some((e) => e.data.pid === body.pid) && ws.messages.some((m) => m.pid === body.pid));
    sse.close();
    ws.close();
    expect(bc.logs.text).not.toContain(secret);
  });
});

describe('bot-control readiness follows NATS', () => {
  it('starts live but not ready while NATS is unreachable', async () => {
    const closed = `nats://127.0.0.1:${await freePort()}`;
    const bc = await runBotControl({ NATS_URL: closed });
    try {
      expect((await http('GET', `${bc.url}/health`)).status).toBe(200);
      const ready = await http('GET', `${bc.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'error', error: { nats: { status: 'down' } } });
    } finally {
      await bc.close();
    }
  });
});
