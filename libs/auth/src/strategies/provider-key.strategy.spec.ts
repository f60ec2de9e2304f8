import type { AuthRequest } from '../guard/strategy';
import { ProviderKeyShape, ProviderKeyStrategy } from './provider-key.strategy';

const daily: ProviderKeyShape = {
  name: 'daily',
  parseKey: (k) => (k.length >= 8 ? { ok: true } : { ok: false, why: 'too short' }),
};
const livekit: ProviderKeyShape = {
  name: 'livekit',
  parseKey: (k) => (k.includes(':') ? { ok: true } : { ok: false, why: 'expected <api_key>:<api_secret>' }),
};
const s = new ProviderKeyStrategy({
  providers: {
    find: (n) => [daily, livekit].find((p) => p.name === n.toLowerCase()),
    names: () => ['daily', 'livekit'],
  },
  defaultProvider: 'daily',
  pepper: 'pepper',
});
const req = (headers: Record<string, string>): AuthRequest => ({
  transport: 'http',
  method: 'POST',
  route: '/api/rooms/create',
  pathWithQuery: '/',
  headers,
});

describe('ProviderKeyStrategy rules: headers → decision, status and body', () => {
  it.each([
    [{ 'x-provider-auth': 'Bearer daily-key-123' }, 'allow', 200, undefined],
    [{ 'x-provider-auth': 'daily-key-123' }, 'allow', 200, undefined],
    [{ 'x-provider-auth': 'a:b', 'x-provider': 'LiveKit' }, 'allow', 200, undefined],
    [{}, 'missing_key', 401, /missing X-Provider-Auth header/],
    [{ 'x-provider-auth': 'Bearer ' }, 'missing_key', 401, /missing X-Provider-Auth header/],
    [
      { 'x-provider-auth': 'daily-key-123', 'x-provider': 'zoom' },
      'unknown_provider',
      400,
      /supported providers: daily, livekit/,
    ],
    [{ 'x-provider-auth': 'short' }, 'malformed_key', 401, /not a valid daily key: too short/],
    [{ 'x-provider-auth': 'nocolon', 'x-provider': 'livekit' }, 'malformed_key', 401, /<api_key>:<api_secret>/],
  ] as const)('%j: %s %d', async (headers, decision, status, body) => {
    const result = await s.verify(s.extract(req(headers))).then(
      (a) => ({ decision: 'allow', status: 200, detail: undefined as string | undefined, subject: a.subject }),
      (e: { reason: string; status: number; body?: { detail: string } }) => ({
        decision: e.reason,
        status: e.status,
        detail: e.body?.detail,
        subject: undefined,
      }),
    );
    expect([result.decision, result.status]).toEqual([decision, status]);
    if (body) expect(result.detail).toMatch(body);
    else expect(result.subject).toMatch(/^fp_[0-9a-f]{16}$/);
    expect(JSON.stringify(result)).not.toContain('daily-key-123');
  });
});
