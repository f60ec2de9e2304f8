import type { AuthRequest } from '../guard/strategy';
import { DashboardSessionStrategy, sameOrigin } from './dashboard-session.strategy';

const sessions = new Map([['sid-1', { csrfToken: 'csrf-1' }]]);
const s = new DashboardSessionStrategy({
  sessions: { get: (id) => (id ? sessions.get(id) : undefined) },
  cookie: 'portcullis_dashboard',
  csrfHeader: 'x-csrf-token',
});
const req = (method: string, headers: Record<string, string>): AuthRequest => ({
  transport: 'http',
  method,
  route: '/dashboard/api/devices',
  pathWithQuery: '/',
  headers: { host: 'localhost:8080', ...headers },
  protocol: 'http',
});

describe('DashboardSessionStrategy rules: method × cookie × origin × CSRF token → decision', () => {
  const cookie = 'portcullis_dashboard=sid-1';
  it.each([
    ['GET', { cookie }, 'allow'],
    ['GET', {}, 'no_session:401'],
    ['GET', { cookie: 'portcullis_dashboard=unknown' }, 'no_session:401'],
    ['POST', { cookie, 'x-csrf-token': 'csrf-1' }, 'allow'],
    [
      'POST',
      { cookie, 'x-csrf-token': 'csrf-1', origin: 'http://localhost:8080', 'sec-fetch-site': 'same-origin' },
      'allow',
    ],
    ['POST', { cookie }, 'csrf_token:403'],
    ['POST', { cookie, 'x-csrf-token': 'csrf-2' }, 'csrf_token:403'],
    ['DELETE', { cookie, 'x-csrf-token': 'csrf-1', origin: 'http://evil.test' }, 'cross_origin:403'],
    ['POST', { cookie, 'x-csrf-token': 'csrf-1', 'sec-fetch-site': 'cross-site' }, 'cross_origin:403'],
  ] as const)('%s %j: %s', async (method, headers, expected) => {
    const result = await s.verify(s.extract(req(method, headers))).then(
      () => 'allow',
      (e: { reason: string; status: number }) => `${e.reason}:${e.status}`,
    );
    expect(result).toBe(expected);
  });

  it('says "not signed in" on its 401', () => {
    expect(s.unauthorizedBody()).toEqual({ detail: 'not signed in' });
  });

  it('same origin: Origin must be this scheme://host when sent', () => {
    expect(sameOrigin({ host: 'a.test', origin: 'https://a.test' }, 'https')).toBe(true);
    expect(sameOrigin({ host: 'a.test', origin: 'http://a.test' }, 'https')).toBe(false);
    expect(sameOrigin({ host: 'a.test' }, 'https')).toBe(true);
  });
});
