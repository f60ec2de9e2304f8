import { ManualClock } from './clock';
import { backoffDelay, DeviceClient, DeviceClientEvent, DeviceCredentialsRefused, retryAfterMs } from './device-client';

/** Answers the client's requests from a script, one status per sign-in; records when each came. */
function scripted(clock: ManualClock, answers: Array<{ status: number; retryAfter?: string }>) {
  const calls: Array<{ path: string; at: number }> = [];
  const fetch = (async (url: string) => {
    const path = new URL(url).pathname;
    calls.push({ path, at: clock.now() });
    const a = answers.shift() ?? { status: 599 };
    const body =
      a.status === 200
        ? { access_token: `tok-${calls.length}`, token_type: 'Bearer', expires_in: 900 }
        : { detail: 'no' };
    return new Response(JSON.stringify(body), {
      status: a.status,
      headers: a.retryAfter ? { 'retry-after': a.retryAfter } : {},
    });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

/** Lets the client's promise chains run (no time passes). */
const flush = () => new Promise((r) => setImmediate(r));

/** Advances to each pending timer in turn until `done()` or nothing is pending. */
async function runTimers(clock: ManualClock, done: () => boolean, max = 50): Promise<void> {
  for (let i = 0; i < max && !done(); i++) {
    await flush();
    const next = clock.nextTimerAt;
    if (next === undefined) {
      await flush();
      if (clock.nextTimerAt === undefined) return;
      continue;
    }
    clock.advance(next - clock.now());
    await flush();
  }
}

function client(
  clock: ManualClock,
  fetch: typeof globalThis.fetch,
  events: DeviceClientEvent[],
  extra: Partial<ConstructorParameters<typeof DeviceClient>[0]> = {},
) {
  return new DeviceClient({
    baseUrl: 'http://device-auth.test',
    deviceId: 'pi_1',
    deviceSecret: 'ds_x',
    clock,
    fetch,
    random: () => 0.5,
    onEvent: (e) => events.push(e),
    ...extra,
  });
}

describe(backoffDelay.name, () => {
  const opts = { baseMs: 5000, maxMs: 60_000 };
  it('doubles per failure up to the cap, with jitter between half and all of it', () => {
    const low = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { ...opts, random: () => 0 }));
    const high = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { ...opts, random: () => 0.999999 }));
    expect(low).toEqual([2500, 5000, 10000, 20000, 30000, 30000]);
    expect(high).toEqual([5000, 10000, 20000, 40000, 60000, 60000]);
  });

  it('never retries sooner than Retry-After, which it caps at an hour', () => {
    expect(backoffDelay(1, { ...opts, random: () => 0 }, 12_000)).toBe(12_000);
    expect(backoffDelay(1, { ...opts, random: () => 0 }, 1000)).toBe(2500);
    expect(backoffDelay(1, { ...opts, random: () => 0 }, 10 * 3600_000)).toBe(3600_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe('DeviceClient backoff', () => {
  it('start() retries after 503 and 429 with growing delays, honouring Retry-After, then signs in', async () => {
    const clock = new ManualClock();
    const events: DeviceClientEvent[] = [];
    const { fetch, calls } = scripted(clock, [
      { status: 503, retryAfter: '5' },
      { status: 503 },
      { status: 429, retryAfter: '40' },
      { status: 200 },
    ]);
    const c = client(clock, fetch, events);
    let started = false;
    const starting = c.start().then(() => (started = true));
    await runTimers(clock, () => started);
    await starting;
    const t0 = calls[0].at;
    // 5 s (Retry-After over a 3.75 s jittered first delay), then 7.5 s (second, jittered), then 40 s (Retry-After).
    expect(calls.map((x) => x.at - t0)).toEqual([0, 5000, 12_500, 52_500]);
    expect(events.filter((e) => e.type === 'retry_scheduled')).toEqual([
      { type: 'retry_scheduled', inMs: 5000, attempt: 1, status: 503 },
      { type: 'retry_scheduled', inMs: 7500, attempt: 2, status: 503 },
      { type: 'retry_scheduled', inMs: 40_000, attempt: 3, status: 429 },
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'authenticated' });
    c.stop();
  });

  it('stops for good after three sign-ins in a row refused with 401, and says so', async () => {
    const clock = new ManualClock();
    const events: DeviceClientEvent[] = [];
    const { fetch, calls } = scripted(clock, Array(10).fill({ status: 401 }));
    const c = client(clock, fetch, events);
    let outcome: unknown;
    const starting = c.start().catch((err: unknown) => (outcome = err));
    await runTimers(clock, () => outcome !== undefined);
    await starting;
    expect(outcome).toBeInstanceOf(DeviceCredentialsRefused);
    expect(calls).toHaveLength(3);
    const t0 = calls[0].at;
    expect(calls.map((x) => x.at - t0)).toEqual([0, 3750, 3750 + 7500]);
    expect(events.at(-1)).toEqual({ type: 'stopped', reason: 'credentials_refused', refusals: 3 });
    expect(c.stopped).toBe(true);
    // Nothing more is sent, now or later.
    await expect(c.token()).rejects.toBeInstanceOf(DeviceCredentialsRefused);
    clock.advance(24 * 3600_000);
    await flush();
    expect(calls).toHaveLength(3);
    expect(clock.pending).toBe(0);
  });

  it('does not count a 429 or a 503 as a refusal', async () => {
    const clock = new ManualClock();
    const events: DeviceClientEvent[] = [];
    const { fetch, calls } = scripted(clock, [
      { status: 401 },
      { status: 429, retryAfter: '1' },
      { status: 401 },
      { status: 503 },
      { status: 200 },
    ]);
    const c = client(clock, fetch, events);
    await Promise.all([c.start(), runTimers(clock, () => events.some((e) => e.type === 'authenticated'))]);
    expect(calls).toHaveLength(5);
    expect(c.stopped).toBe(false);
    c.stop();
  });

  it('backs off a failing background refresh instead of retrying every few seconds forever', async () => {
    const clock = new ManualClock();
    const events: DeviceClientEvent[] = [];
    // Signed in; then refresh and sign-in both answer 503 (device-auth's database is away).
    const { fetch, calls } = scripted(clock, [{ status: 200 }, ...Array(12).fill({ status: 503 })]);
    const c = client(clock, fetch, events, { maxRetryMs: 120_000 });
    await c.start();
    await runTimers(clock, () => events.filter((e) => e.type === 'retry_scheduled').length >= 6);
    const delays = events
      .filter((e): e is Extract<DeviceClientEvent, { type: 'retry_scheduled' }> => e.type === 'retry_scheduled')
      .map((e) => e.inMs);
    expect(delays).toEqual([3750, 7500, 15_000, 30_000, 60_000, 90_000]);
    expect(c.stopped).toBe(false);
    expect(calls[1].path).toBe('/device/refresh');
    c.stop();
    expect(clock.pending).toBe(0);
  });
});
