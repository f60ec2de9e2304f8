import { DashboardSessions } from './dashboard-sessions';
import type { InterfaceProxyConfig } from '../config';

const cfg = { dashboard: { sessionTtlSeconds: 60 } } as unknown as InterfaceProxyConfig;

describe(DashboardSessions.name, () => {
  it('finds a session by its id until it expires, then never again', () => {
    const store = new DashboardSessions(cfg);
    const t0 = 1_000_000;
    const { id, session } = store.create(t0);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.csrfToken).not.toBe(id);
    expect(store.get(id, t0 + 59_999)).toBe(session);
    expect(store.get(id, t0 + 60_000)).toBeUndefined();
    expect(store.get(id, t0)).toBeUndefined();
  });

  it('forgets a destroyed session and knows no made-up id', () => {
    const store = new DashboardSessions(cfg);
    const { id } = store.create();
    expect(store.get(`${id}x`)).toBeUndefined();
    expect(store.get(undefined)).toBeUndefined();
    store.destroy(id);
    expect(store.get(id)).toBeUndefined();
  });

  it('blocks sign-in after 10 failures from one address for five minutes', () => {
    const store = new DashboardSessions(cfg);
    const t0 = 5_000_000;
    for (let i = 0; i < 9; i++) store.signInFailed('198.51.100.7', t0);
    expect(store.signInBlocked('198.51.100.7', t0)).toBe(false);
    store.signInFailed('198.51.100.7', t0);
    expect(store.signInBlocked('198.51.100.7', t0 + 1000)).toBe(true);
    expect(store.signInBlocked('198.51.100.8', t0 + 1000)).toBe(false);
    expect(store.signInBlocked('198.51.100.7', t0 + 5 * 60_000 + 1)).toBe(false);
  });
});
