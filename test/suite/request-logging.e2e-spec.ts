import { Body, Controller, Get, Injectable, Logger, Module, OnModuleDestroy, OnModuleInit, Post } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Public } from '@portcullis/auth';
import { appUrl, bootApp, PlatformModule } from '@portcullis/platform';
import { canary } from '../support/env';
import { http } from '../support/http';
import { LogCapture } from '../support/log-capture';

@Controller('echo')
class EchoController {
  private readonly logger = new Logger('Echo');

  @Public()
  @Post()
  async echo(@Body() body: Record<string, unknown>): Promise<{ ok: true }> {
    // After the body was read and after an await: still inside the request's context.
    await new Promise((r) => setTimeout(r, 5));
    this.logger.log({ keys: Object.keys(body ?? {}) }, 'handled');
    return { ok: true };
  }

  @Public()
  @Get()
  get(): { ok: true } {
    this.logger.warn('handled get');
    return { ok: true };
  }
}

describe('request logging (one app, real HTTP)', () => {
  const logs = new LogCapture();
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    @Module({
      imports: [PlatformModule.forRoot({ app: 'log-test', logLevel: 'info', logStream: logs })],
      controllers: [EchoController],
    })
    class LogTestModule {}
    app = await bootApp(LogTestModule, { app: 'log-test', port: 0, host: '127.0.0.1', microservice: false });
    url = await appUrl(app);
  });

  afterAll(async () => {
    await app.close();
  });

  it("tags a handler's lines with the request id, after the body is read and across awaits", async () => {
    const secret = canary('log-body');
    const r = await http('POST', `${url}/echo`, {
      headers: { 'x-request-id': 'req-post-1', authorization: `Bearer ${secret}` },
      json: { a: 1 },
    });
    expect(r.status).toBe(201);
    await http('GET', `${url}/echo`, { headers: { 'x-request-id': 'req-get-2' } });
    const lines = logs.parsed();
    expect(lines.find((l) => l.msg === 'handled')).toMatchObject({
      app: 'log-test',
      context: 'Echo',
      request_id: 'req-post-1',
      keys: ['a'],
    });
    expect(lines.find((l) => l.msg === 'handled get')).toMatchObject({ request_id: 'req-get-2' });
    // One "request completed" line per request, with the path only and credentials redacted.
    const done = lines.filter((l) => l.msg === 'request completed' && l.request_id === 'req-post-1');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ req: { method: 'POST', url: '/echo' }, res: { statusCode: 201 } });
    expect(logs.text).not.toContain(secret);
    expect(logs.text).toContain('"authorization":"[redacted]"');
  });

  it('writes no request line for health checks', async () => {
    await http('GET', `${url}/health`, { headers: { 'x-request-id': 'req-health-3' } });
    expect(logs.parsed().some((l) => l.request_id === 'req-health-3')).toBe(false);
  });
});

/** Logs through Nest's static logger from a timer it starts while the app boots. */
@Injectable()
class Ticker implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  onModuleInit(): void {
    this.timer = setTimeout(() => new Logger('Ticker').log('tick'), 1500);
  }
  onModuleDestroy(): void {
    clearTimeout(this.timer);
  }
}

describe('two apps in one process (as the all-in-one runner hosts them)', () => {
  it('writes a line an app logs outside any request to that app, not to the app booted last', async () => {
    const apps: NestFastifyApplication[] = [];
    const streams: Record<string, LogCapture> = {};
    try {
      for (const name of ['first-app', 'second-app']) {
        const logs = (streams[name] = new LogCapture());
        @Module({
          imports: [PlatformModule.forRoot({ app: name, logLevel: 'info', logStream: logs })],
          providers: [Ticker],
        })
        class TickModule {}
        apps.push(await bootApp(TickModule, { app: name, port: 0, host: '127.0.0.1', microservice: false }));
      }
      const ticks = (name: string) => streams[name].parsed().filter((l) => l.msg === 'tick');
      const deadline = Date.now() + 5000;
      while ((ticks('first-app').length < 1 || ticks('second-app').length < 1) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(ticks('first-app')).toEqual([expect.objectContaining({ app: 'first-app', context: 'Ticker' })]);
      expect(ticks('second-app')).toEqual([expect.objectContaining({ app: 'second-app', context: 'Ticker' })]);
      // Boot lines too: each app's own "Nest application successfully started" went to its own stream.
      for (const name of ['first-app', 'second-app']) {
        expect(streams[name].parsed().some((l) => /successfully started/.test(String(l.msg)) && l.app === name)).toBe(
          true,
        );
      }
    } finally {
      for (const app of apps) await app.close();
    }
  });
});
