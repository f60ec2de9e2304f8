import { Writable } from 'node:stream';
import { AppLogger, logContext } from './app-logger';
import { createPino } from './logger.module';

function capture(app: string, level = 'info'): { logger: AppLogger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  const logger = new AppLogger(createPino({ app, level, stream }));
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}

describe(AppLogger.name, () => {
  it("writes Nest's calls in the nestjs-pino shape: context last, objects merged, pino's (object, message) form kept", () => {
    const { logger, lines } = capture('spec-app');
    logger.log('started', 'Boot');
    logger.warn({ status: 401, path: '/x' }, 'refused; check THE_VARIABLE', 'Upstream');
    logger.error('boom', 'Error: boom\n    at here (file.ts:1:1)', 'ExceptionsHandler');
    logger.debug('not written at info', 'Boot');
    const [a, b, c] = lines();
    expect(lines()).toHaveLength(3);
    expect(a).toMatchObject({ level: 30, app: 'spec-app', context: 'Boot', msg: 'started' });
    expect(b).toMatchObject({
      level: 40,
      context: 'Upstream',
      status: 401,
      path: '/x',
      msg: 'refused; check THE_VARIABLE',
    });
    expect(c).toMatchObject({ level: 50, context: 'ExceptionsHandler', err: { message: 'boom' } });
    expect((c.err as { stack: string }).stack).toContain('at here');
  });

  it("tags every line written inside a request with its id, through that request's app logger", () => {
    const first = capture('first');
    const second = capture('second');
    logContext.run({ requestId: 'req-123', logger: second.logger.pino }, () => first.logger.log('inside', 'Ctx'));
    first.logger.log('outside', 'Ctx');
    expect(second.lines()).toEqual([expect.objectContaining({ app: 'second', request_id: 'req-123', msg: 'inside' })]);
    expect(first.lines()).toEqual([expect.objectContaining({ app: 'first', msg: 'outside' })]);
    expect(first.lines()[0]).not.toHaveProperty('request_id');
  });

  it('redacts credentials in objects it is given', () => {
    const { logger, lines } = capture('spec-app');
    logger.warn(
      { req: { headers: { authorization: 'Bearer canary-1', 'x-bot-secret': 'canary-2' } }, device_secret: 'canary-3' },
      'x',
      'Ctx',
    );
    const text = JSON.stringify(lines());
    for (const c of ['canary-1', 'canary-2', 'canary-3']) expect(text).not.toContain(c);
  });
});
