import { DependencyUnavailable } from '@portcullis/platform';
import type { AuthRequest } from '../guard/strategy';
import { MemoryNonceStore, NonceStore } from '../signing/nonce-store';
import { signRequest } from '../signing/request-signature';
import { SignedRequestStrategy } from './signed-request.strategy';

class DownNonces extends NonceStore {
  claim(): Promise<boolean> {
    return Promise.reject(new Error('NATS unavailable'));
  }
}

const body = '{"room_url":"https://x.daily.co/r"}';
const req = (headers: Record<string, string>, path = '/join'): AuthRequest => ({
  transport: 'http',
  method: 'POST',
  route: '/join',
  pathWithQuery: path,
  headers,
  body,
});
const sign = (secret: string, now = Date.now()) =>
  signRequest(secret, { method: 'POST', pathWithQuery: '/join', body }, now);
const outcome = (p: Promise<{ reason: string }>) =>
  p.then(
    (a) => `allow:${a.reason}`,
    (e: { reason: string; outage?: unknown }) =>
      `deny:${e.reason}${e.outage instanceof DependencyUnavailable ? '+503' : ''}`,
  );

describe('SignedRequestStrategy rules: signature × nonce store → decision', () => {
  const strategy = (nonces: NonceStore = new MemoryNonceStore(600_000)) =>
    new SignedRequestStrategy({ current: 'cur', previous: 'old', nonces, skewSeconds: 300 });

  it.each([
    ['current secret', () => sign('cur'), '/join', 'allow:signed'],
    ['previous secret', () => sign('old'), '/join', 'allow:signed_previous'],
    ['wrong secret', () => sign('nope'), '/join', 'deny:bad_signature'],
    ['another path', () => sign('cur'), '/join?x=1', 'deny:bad_signature'],
    ['stale timestamp', () => sign('cur', Date.now() - 3_600_000), '/join', 'deny:stale_timestamp'],
    ['no signature', () => ({}), '/join', 'deny:missing_signature'],
  ] as const)('%s: %s', async (_label, headers, path, expected) => {
    const s = strategy();
    expect(await outcome(s.verify(s.extract(req(headers(), path)) ?? undefined))).toBe(expected);
  });

  it('a nonce is good once', async () => {
    const s = strategy();
    const headers = sign('cur');
    expect(await outcome(s.verify(s.extract(req(headers))))).toBe('allow:signed');
    expect(await outcome(s.verify(s.extract(req(headers))))).toBe('deny:replayed_nonce');
  });

  it('a nonce store that cannot be reached is an outage (503), not a bad signature', async () => {
    const s = strategy(new DownNonces());
    expect(await outcome(s.verify(s.extract(req(sign('cur')))))).toBe('deny:nonce_store_unavailable+503');
  });
});
