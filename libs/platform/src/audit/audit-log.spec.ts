import { AuditLog } from './audit-log';

describe('AuditLog', () => {
  it('stamps events with the current time as ISO 8601, to the millisecond', () => {
    const before = Date.now();
    const event = new AuditLog('spec-audit').record({ action: 'GET /x', decision: 'deny', reason: 'missing_token' });
    expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(event.time)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(event.time)).toBeLessThanOrEqual(Date.now());
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
});
