import {
  PskBinding,
  PskClientSession,
  PskMessage,
  PskOutcome,
  pskResponse,
  PskTimers,
  PskWorkerSession,
} from './psk.protocol';

const binding: PskBinding = { roomId: 'rm_a', workerId: 'pi_worker', clientId: 'pi_client' };
const SECRET = 'a'.repeat(64);

/** A fake clock: timers fire only when the test advances it. */
function fakeTimers(): PskTimers & { advance(ms: number): void } {
  let now = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  let id = 0;
  return {
    set: (fn, ms) => (pending.set(++id, { at: now + ms, fn }), id),
    clear: (h) => pending.delete(h as number),
    advance(ms) {
      now += ms;
      for (const [k, t] of [...pending])
        if (t.at <= now) {
          pending.delete(k);
          t.fn();
        }
    },
  };
}

/** Wires a worker and a client session back to back, as a relay would. */
function pair(workerSecret: string | undefined, clientSecret: string | undefined, clientBinding = binding) {
  const timers = fakeTimers();
  const log: Array<{ from: string; msg: PskMessage }> = [];
  const done: { worker?: PskOutcome; client?: PskOutcome } = {};
  let client!: PskClientSession;
  const worker = new PskWorkerSession({
    secret: workerSecret,
    binding,
    timers,
    send: (msg) => (log.push({ from: 'worker', msg }), client.accept(msg)),
    onDone: (o) => (done.worker = o),
  });
  client = new PskClientSession({
    secret: clientSecret,
    binding: clientBinding,
    timers,
    send: (msg) => (log.push({ from: 'client', msg }), worker.accept(msg)),
    onDone: (o) => (done.client = o),
  });
  return { worker, client, log, done, timers };
}

describe(PskWorkerSession.name, () => {
  it('accepts a client with the same secret, then passes commands through', () => {
    const p = pair(SECRET, SECRET);
    p.client.start();
    expect(p.log.map((l) => l.msg.type)).toEqual(['HELLO', 'AUTH_CHALLENGE', 'AUTH_RESPONSE', 'AUTH_SUCCESS']);
    expect(p.done).toEqual({ worker: { ok: true, legacy: false }, client: { ok: true, legacy: false } });
    expect(p.worker.accept({ type: 'COMMAND', job: 'echo' })).toBe(true);
    // A PSK message after success is not a command.
    expect(p.worker.accept({ type: 'AUTH_RESPONSE', hmac: '00' })).toBe(false);
  });

  it('sends a fresh 32-byte nonce per challenge', () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const p = pair(SECRET, SECRET);
      p.client.start();
      const c = p.log.find((l) => l.msg.type === 'AUTH_CHALLENGE')!.msg as { nonce: string };
      expect(c.nonce).toMatch(/^[0-9a-f]{64}$/);
      nonces.add(c.nonce);
    }
    expect(nonces.size).toBe(20);
  });

  it('refuses a wrong secret with AUTH_FAILURE(invalid_credentials) on both sides', () => {
    const p = pair(SECRET, 'b'.repeat(64));
    p.client.start();
    expect(p.log.at(-1)!.msg).toEqual({ type: 'AUTH_FAILURE', reason: 'invalid_credentials' });
    expect(p.done).toEqual({
      worker: { ok: false, reason: 'invalid_credentials' },
      client: { ok: false, reason: 'invalid_credentials' },
    });
    expect(p.worker.accept({ type: 'COMMAND' })).toBe(false);
  });

  it.each([
    ['room', { ...binding, roomId: 'rm_b' }],
    ['worker', { ...binding, workerId: 'pi_other_worker' }],
    ['client', { ...binding, clientId: 'pi_other_client' }],
  ])('refuses a response computed for another %s', (_label, other) => {
    const p = pair(SECRET, SECRET, other);
    p.client.start();
    expect(p.done.worker).toEqual({ ok: false, reason: 'invalid_credentials' });
  });

  it('refuses a response replayed to a later challenge', () => {
    const first = pair(SECRET, SECRET);
    first.client.start();
    const hmac = (first.log.find((l) => l.msg.type === 'AUTH_RESPONSE')!.msg as { hmac: string }).hmac;
    const sent: PskMessage[] = [];
    let outcome: PskOutcome | undefined;
    const w = new PskWorkerSession({
      secret: SECRET,
      binding,
      timers: fakeTimers(),
      send: (m) => sent.push(m),
      onDone: (o) => (outcome = o),
    });
    w.accept({ type: 'HELLO' });
    w.accept({ type: 'AUTH_RESPONSE', hmac });
    expect(outcome).toEqual({ ok: false, reason: 'invalid_credentials' });
  });

  it('times out after 10 s without a response and tells the client', () => {
    const timers = fakeTimers();
    const sent: PskMessage[] = [];
    let outcome: PskOutcome | undefined;
    const w = new PskWorkerSession({
      secret: SECRET,
      binding,
      timers,
      send: (m) => sent.push(m),
      onDone: (o) => (outcome = o),
    });
    w.accept({ type: 'HELLO' });
    timers.advance(9_999);
    expect(outcome).toBeUndefined();
    timers.advance(1);
    expect(outcome).toEqual({ ok: false, reason: 'timeout' });
    expect(sent.at(-1)).toEqual({ type: 'AUTH_FAILURE', reason: 'timeout' });
    // A late response changes nothing.
    expect(w.accept({ type: 'AUTH_RESPONSE', hmac: pskResponse(SECRET, binding, 'x') })).toBe(false);
    expect(w.authenticated).toBe(false);
  });

  it('refuses a command sent before success and ends the session', () => {
    const sent: PskMessage[] = [];
    let outcome: PskOutcome | undefined;
    const w = new PskWorkerSession({
      secret: SECRET,
      binding,
      timers: fakeTimers(),
      send: (m) => sent.push(m),
      onDone: (o) => (outcome = o),
    });
    w.accept({ type: 'HELLO' });
    expect(w.accept({ type: 'COMMAND', job: 'echo' })).toBe(false);
    expect(outcome).toEqual({ ok: false, reason: 'not_authenticated' });
    expect(sent.at(-1)).toEqual({ type: 'AUTH_FAILURE', reason: 'not_authenticated' });
  });

  it('refuses a command before HELLO too', () => {
    let outcome: PskOutcome | undefined;
    const w = new PskWorkerSession({
      secret: SECRET,
      binding,
      timers: fakeTimers(),
      send: () => undefined,
      onDone: (o) => (outcome = o),
    });
    expect(w.accept({ type: 'COMMAND' })).toBe(false);
    expect(outcome).toEqual({ ok: false, reason: 'not_authenticated' });
  });

  it('runs in legacy mode when the worker has no secret: READY, no challenge', () => {
    const p = pair(undefined, undefined);
    p.client.start();
    expect(p.log.map((l) => l.msg.type)).toEqual(['HELLO', 'READY']);
    expect(p.done).toEqual({ worker: { ok: true, legacy: true }, client: { ok: true, legacy: true } });
    expect(p.worker.accept({ type: 'COMMAND' })).toBe(true);
  });
});

describe(PskClientSession.name, () => {
  it('fails with no_secret when challenged without a secret, sending nothing', () => {
    const p = pair(SECRET, undefined);
    p.client.start();
    expect(p.done.client).toEqual({ ok: false, reason: 'no_secret' });
    expect(p.log.map((l) => l.msg.type)).toEqual(['HELLO', 'AUTH_CHALLENGE']);
  });

  it('times out when the worker never answers', () => {
    const timers = fakeTimers();
    let outcome: PskOutcome | undefined;
    const c = new PskClientSession({
      secret: SECRET,
      binding,
      timers,
      send: () => undefined,
      onDone: (o) => (outcome = o),
    });
    c.start();
    timers.advance(10_000);
    expect(outcome).toEqual({ ok: false, reason: 'timeout' });
  });

  it('does not trust AUTH_SUCCESS that was not earned by a response', () => {
    let outcome: PskOutcome | undefined;
    const c = new PskClientSession({
      secret: SECRET,
      binding,
      timers: fakeTimers(),
      send: () => undefined,
      onDone: (o) => (outcome = o),
    });
    c.start();
    c.accept({ type: 'AUTH_SUCCESS' });
    expect(outcome).toEqual({ ok: false, reason: 'invalid_credentials' });
  });
});
