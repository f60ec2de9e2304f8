import { AuditLog, httpAction, isoNow } from './audit';

describe('AuditLog', () => {
  it('stamps events with the current time as ISO 8601, to the millisecond', async () => {
    const before = Date.now();
    const first = isoNow();
    expect(first).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(first)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(first)).toBeLessThanOrEqual(Date.now());
    await new Promise((r) => setTimeout(r, 5));
    // Formatted once per millisecond, never stale across one.
    expect(Date.parse(isoNow())).toBeGreaterThan(Date.parse(first));
  });

  it('builds every event with the format fields only, whatever the caller passes', () => {
    const sunk: unknown[] = [];
    const log = new AuditLog('spec-audit');
    log.addSink((e) => sunk.push(e));
    const extra = { action: 'GET /x', decision: 'allow' as const, reason: 'ok', principal: 'pi_1', request_id: 'r1', client_ip: '127.0.0.1', device_secret: 'ds_never' };
    const event = log.record(extra);
    expect(JSON.parse(JSON.stringify(event))).toEqual({ time: event.time, app: 'spec-audit', principal: 'pi_1', action: 'GET /x', decision: 'allow', reason: 'ok', request_id: 'r1', client_ip: '127.0.0.1' });
    expect(sunk).toEqual([event]);
  });

  it('names an HTTP action METHOD route, the same for the same pair however it was built', () => {
    const route = ['/sessions', ':pid'].join('/');
    const first = httpAction('GET', route);
    expect(first).toBe('GET /sessions/:pid');
    expect(httpAction('GET', `/sessions/${':pid'}`)).toBe(first);
    expect(httpAction('POST', route)).toBe('POST /sessions/:pid');
    expect(httpAction('GET', 'unmatched')).toBe('GET unmatched');
  });
});
