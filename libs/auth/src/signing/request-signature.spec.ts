import { MemoryNonceStore } from './nonce-store';
import { RequestSignatureVerifier, signRequest } from './request-signature';

describe(RequestSignatureVerifier.name, () => {
  const req = { method: 'POST', pathWithQuery: '/join?a=1', body: '{"room_url":"https://x"}' };
  let now = 1_700_000_000_000;
  const clock = () => now;

  it('accepts once, refuses the replay, and forgets nonces after the window', async () => {
    const store = new MemoryNonceStore(600_000, clock);
    const v = new RequestSignatureVerifier({ current: 's1' }, store, 300, clock);
    const headers = signRequest('s1', req, now);
    await expect(v.verify(req, headers)).resolves.toEqual({ ok: true, which: 'current' });
    await expect(v.verify(req, headers)).resolves.toEqual({ ok: false, reason: 'replayed_nonce' });
    now += 601_000;
    // Past the window the timestamp is stale anyway, so the forgotten nonce cannot be reused.
    await expect(v.verify(req, headers)).resolves.toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('does not spend a nonce on a forged signature', async () => {
    const store = new MemoryNonceStore(600_000, clock);
    const v = new RequestSignatureVerifier({ current: 's1' }, store, 300, clock);
    const good = signRequest('s1', req, now);
    const forged = { ...good, 'x-bot-signature': signRequest('wrong', req, now)['x-bot-signature'] };
    await expect(v.verify(req, forged)).resolves.toEqual({ ok: false, reason: 'bad_signature' });
    await expect(v.verify(req, good)).resolves.toEqual({ ok: true, which: 'current' });
  });

  it('refuses malformed headers with their own reason codes', async () => {
    const v = new RequestSignatureVerifier({ current: 's1' }, new MemoryNonceStore(1000, clock), 300, clock);
    const h = signRequest('s1', req, now);
    await expect(v.verify(req, {})).resolves.toMatchObject({ reason: 'missing_signature' });
    await expect(v.verify(req, { ...h, 'x-bot-timestamp': 'soon' })).resolves.toMatchObject({
      reason: 'bad_timestamp',
    });
    await expect(v.verify(req, { ...h, 'x-bot-nonce': 'short' })).resolves.toMatchObject({ reason: 'bad_nonce' });
    await expect(
      new RequestSignatureVerifier({}, new MemoryNonceStore(1, clock), 300, clock).verify(req, h),
    ).resolves.toMatchObject({ reason: 'not_configured' });
  });
});
