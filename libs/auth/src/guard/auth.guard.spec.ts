import { Controller, HttpException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { EventPattern, RpcException } from '@nestjs/microservices';
import type { AuditEvent } from '@portcullis/contracts';
import {
  AppLogger,
  AUTH_OUTCOME,
  AuditLog,
  AuthOutcome,
  createPino,
  DependencyUnavailable,
  InProcessClient,
  MetricsService,
} from '@portcullis/platform';
import { SharedSecretStrategy } from '../strategies/shared-secret.strategy';
import { AuthGuard, StrategyFactory } from './auth.guard';
import { Auth, AUTH_PRINCIPAL, Internal, Public } from './decorators';
import { Accepted, AuthRejected, AuthStrategy } from './strategy';

const SECRET = 'guard-spec-secret-0123456789';

/** A strategy whose check cannot be made: its dependency is down. */
class DownStrategy extends AuthStrategy<string, never> {
  readonly kind = 'admin-key';
  extract(): string {
    return 'anything';
  }
  async verify(): Promise<Accepted<never>> {
    throw new AuthRejected('nonce_store_unavailable', { outage: new DependencyUnavailable('NATS') });
  }
}

@Controller()
class Routes {
  @Public() open() {}
  unmarked() {}
  @Auth('shared-secret', { route: 'enforced' }) enforced() {}
  @Auth('shared-secret', { route: 'shadowed' }) shadowed() {}
  @Auth('shared-secret', { route: 'opened' }) opened() {}
  @Auth('oidc') noStrategy() {}
  @Auth('admin-key') down() {}
  @Internal() internal() {}
  @EventPattern('spec.unmarked') message() {}
  @Internal() @EventPattern('spec.internal') internalMessage() {}
}

function guard(factories: StrategyFactory[]): { guard: AuthGuard; audits: AuditEvent[]; metrics: MetricsService } {
  const app = `guard-spec-${Math.random().toString(36).slice(2)}`;
  const metrics = new MetricsService(app);
  // The app's audit log as the platform builds it; its JSON lines are what the spec reads.
  const audits: AuditEvent[] = [];
  const lines = {
    write: (line: string) => {
      const { audit } = JSON.parse(line) as { audit?: AuditEvent };
      if (audit) audits.push(audit);
    },
  };
  const audit = new AuditLog(
    new AppLogger(createPino({ app, level: 'debug', stream: lines as never })),
    metrics,
    new InProcessClient(),
  );
  const g = new AuthGuard(new Reflector(), { get: () => undefined } as never, metrics, audit, factories);
  g.onModuleInit();
  return { guard: g, audits, metrics };
}

const strategies: StrategyFactory[] = [
  () => new SharedSecretStrategy({ current: SECRET, routeModes: { shadowed: 'shadow', opened: 'open' } }),
  () => new DownStrategy(),
];

type Carrier = Record<string | symbol, unknown>;
function http(
  handler: keyof Routes,
  method: string,
  headers: Record<string, string> = {},
): { ctx: ExecutionContextHost; req: Carrier } {
  const req: Carrier = {
    method,
    url: `/${handler}`,
    headers,
    routeOptions: { url: `/${handler}` },
    ip: '127.0.0.1',
    id: 'r1',
  };
  const ctx = new ExecutionContextHost([req, {}], Routes, Routes.prototype[handler]);
  ctx.setType('http');
  return { ctx, req };
}

function rpc(handler: keyof Routes): ExecutionContextHost {
  const ctx = new ExecutionContextHost([{}, {}], Routes, Routes.prototype[handler]);
  ctx.setType('rpc');
  return ctx;
}

async function decide(
  ctx: ExecutionContextHost,
  g: AuthGuard,
): Promise<{ passed: boolean; status?: number; body?: unknown; error?: unknown }> {
  try {
    return { passed: await g.canActivate(ctx) };
  } catch (err) {
    if (err instanceof HttpException) return { passed: false, status: err.getStatus(), body: err.getResponse() };
    return { passed: false, error: err };
  }
}

describe('AuthGuard rules: route mark × mode × credential → decision', () => {
  // route, method, credential, passes, decision on the request line, audited decision (undefined: no audit event)
  const table: Array<
    [keyof Routes, string, 'good' | 'bad' | 'none', boolean, AuthOutcome['decision'], string | undefined]
  > = [
    ['open', 'GET', 'none', true, 'public', undefined],
    ['open', 'POST', 'bad', true, 'public', undefined],
    ['unmarked', 'GET', 'good', false, 'deny', 'deny'],
    ['enforced', 'GET', 'good', true, 'allow', undefined],
    ['enforced', 'HEAD', 'good', true, 'allow', undefined],
    ['enforced', 'POST', 'good', true, 'allow', 'allow'],
    ['enforced', 'DELETE', 'good', true, 'allow', 'allow'],
    ['enforced', 'GET', 'bad', false, 'deny', 'deny'],
    ['enforced', 'POST', 'none', false, 'deny', 'deny'],
    ['shadowed', 'POST', 'bad', true, 'would_deny', 'would_deny'],
    ['shadowed', 'POST', 'none', true, 'would_deny', 'would_deny'],
    ['shadowed', 'POST', 'good', true, 'allow', 'allow'],
    ['opened', 'POST', 'bad', true, 'open', undefined],
    ['noStrategy', 'GET', 'good', false, 'deny', 'deny'],
    ['internal', 'GET', 'none', false, 'deny', 'deny'],
  ];

  it.each(table)(
    '%s %s with a %s credential: passes=%s, outcome %s, audit %s',
    async (route, method, cred, passes, outcome, audited) => {
      const { guard: g, audits } = guard(strategies);
      const headers: Record<string, string> =
        cred === 'good' ? { 'x-bot-secret': SECRET } : cred === 'bad' ? { 'x-bot-secret': `${SECRET}x` } : {};
      const { ctx, req } = http(route, method, headers);
      const result = await decide(ctx, g);
      expect(result.passed).toBe(passes);
      if (!passes) expect([result.status, result.body]).toEqual([401, { detail: 'unauthorized' }]);
      expect((req[AUTH_OUTCOME] as AuthOutcome).decision).toBe(outcome);
      expect(audits.map((a) => a.decision)).toEqual(audited ? [audited] : []);
      if (audited) expect(audits[0].action).toBe(`${method} /${route}`);
      expect(Boolean(req[AUTH_PRINCIPAL])).toBe(outcome === 'allow');
    },
  );

  it('names the reason of each refusal, and never the credential', async () => {
    const { guard: g, audits } = guard(strategies);
    for (const [route, headers] of [
      ['unmarked', {}],
      ['enforced', {}],
      ['enforced', { 'x-bot-secret': 'wrong' }],
      ['noStrategy', {}],
      ['internal', {}],
    ] as const) {
      await decide(http(route, 'GET', headers).ctx, g);
    }
    expect(audits.map((a) => a.reason)).toEqual([
      'unmarked_route',
      'missing_credential',
      'invalid_credential',
      'no_strategy',
      'internal_only',
    ]);
    expect(JSON.stringify(audits)).not.toContain('wrong');
  });

  it('counts every decision, allowed reads included', async () => {
    const { guard: g, metrics } = guard(strategies);
    await decide(http('enforced', 'GET', { 'x-bot-secret': SECRET }).ctx, g);
    await decide(http('enforced', 'GET', {}).ctx, g);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/portcullis_auth_decisions_total\{[^}]*route="\/enforced",decision="allow",reason="ok"\} 1/);
    expect(text).toMatch(
      /portcullis_auth_decisions_total\{[^}]*route="\/enforced",decision="deny",reason="missing_credential"\} 1/,
    );
  });

  it('answers a check that could not be made with the outage (503), and audits it as a denial', async () => {
    const { guard: g, audits } = guard(strategies);
    await expect(g.canActivate(http('down', 'GET').ctx)).rejects.toBeInstanceOf(DependencyUnavailable);
    expect(audits.map((a) => [a.decision, a.reason])).toEqual([['deny', 'nonce_store_unavailable']]);
  });

  it('refuses an unmarked message handler and lets an @Internal() one through; refuses unknown contexts', async () => {
    const { guard: g, audits } = guard(strategies);
    const refused = await decide(rpc('message'), g);
    expect(refused.error).toBeInstanceOf(RpcException);
    expect(audits.map((a) => [a.action, a.decision, a.reason])).toEqual([
      ['nats spec.unmarked', 'deny', 'unmarked_route'],
    ]);
    expect((await decide(rpc('internalMessage'), g)).passed).toBe(true);
    const odd = new ExecutionContextHost([{}, {}], Routes, Routes.prototype.enforced);
    odd.setType('graphql');
    expect((await decide(odd, g)).status).toBe(401);
    expect(audits.at(-1)?.reason).toBe('unknown_context');
  });

  it('refuses two strategies of one kind at boot', () => {
    expect(() =>
      guard([() => new SharedSecretStrategy({ current: 'a' }), () => new SharedSecretStrategy({ current: 'b' })]),
    ).toThrow(/two shared-secret strategies/);
  });
});
