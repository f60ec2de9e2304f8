import type { AuthRequest, RouteAuth } from '../guard/strategy';
import { SharedSecretStrategy } from './shared-secret.strategy';

const req = (headers: Record<string, string>): AuthRequest => ({
  transport: 'http',
  method: 'POST',
  route: '/join',
  pathWithQuery: '/join',
  headers,
});
const route = (name?: string): RouteAuth => ({ kinds: ['shared-secret'], options: { route: name } });
const outcome = (p: Promise<{ reason: string }>) =>
  p.then(
    (a) => `allow:${a.reason}`,
    (e: { reason: string }) => `deny:${e.reason}`,
  );

describe('SharedSecretStrategy rules: configured secrets × route × presented credential → decision', () => {
  const s = new SharedSecretStrategy({
    current: 'cur-secret',
    previous: 'old-secret',
    routeModes: { join: 'shadow', events: 'open' },
    signedOnly: ['leave'],
  });
  it.each([
    // headers, route name, expected
    [{ 'x-bot-secret': 'cur-secret' }, 'join', 'allow:ok'],
    [{ authorization: 'Bearer cur-secret' }, 'join', 'allow:ok'],
    [{ 'x-bot-secret': 'old-secret' }, 'join', 'allow:ok_previous'],
    [{ 'x-bot-secret': 'cur-secreT' }, 'join', 'deny:invalid_credential'],
    [{ 'x-bot-secret': 'cur-secret-longer' }, 'join', 'deny:invalid_credential'],
    [{}, 'join', 'deny:missing_credential'],
    [{ 'x-bot-secret': 'cur-secret' }, 'leave', 'deny:missing_signature'],
  ] as const)('%j on %s: %s', async (headers, name, expected) => {
    expect(await outcome(s.verify(s.extract(req(headers)), route(name)))).toBe(expected);
  });

  it('refuses everything when no secret is configured', async () => {
    const none = new SharedSecretStrategy({});
    expect(await outcome(none.verify('anything', route('join')))).toBe('deny:not_configured');
  });

  it.each([
    ['join', 'shadow'],
    ['events', 'open'],
    ['delete', 'enforce'],
    [undefined, 'enforce'],
  ] as const)('route %s runs in %s mode', (name, mode) => {
    expect(s.mode(route(name))).toBe(mode);
  });
});
