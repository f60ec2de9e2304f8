import { CanActivate, ExecutionContext, HttpException, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { RpcException } from '@nestjs/microservices';
import { WsException } from '@nestjs/websockets';
import type { AuditDecision } from '@portcullis/contracts';
import {
  AUTH_OUTCOME,
  AuditLog,
  AuthOutcome,
  DependencyUnavailable,
  isDependencyOutage,
  MetricsService,
  outageDependency,
  Public,
} from '@portcullis/platform';
import type { IncomingMessage } from 'node:http';
import { AUTH_PRINCIPAL, AuthRoute } from './decorators';
import { Accepted, AuthKind, AuthRejected, AuthRequest, AuthStrategy, RouteMode, UNAUTHORIZED_BODY } from './strategy';

/** Builds one strategy once every provider of the app exists; `get` finds any provider of the app by its token. */
export type StrategyFactory = (get: <T>(token: unknown) => T) => AuthStrategy;

export const AUTH_STRATEGY_FACTORIES = Symbol('AUTH_STRATEGY_FACTORIES');

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const PATTERN_METADATA = 'microservices:pattern';

type Target = object;

/** Where a decision is recorded: the request's route as the metric and audit action name it. */
export interface DecisionSite {
  transport: AuthRequest['transport'];
  method: string;
  route: string;
  clientIp?: string;
  requestId?: string;
}

/** The audit action of a site: `<METHOD> <route>` for HTTP, `ws <route>`, `nats <subject pattern>`. */
function auditAction(site: Pick<DecisionSite, 'transport' | 'method' | 'route'>): string {
  if (site.transport === 'http') return `${site.method} ${site.route}`;
  return `${site.transport} ${site.route}`;
}

/**
 * The one guard of every app, registered globally by AuthModule. For each HTTP
 * route (SSE included), Nest WebSocket handler and NATS message handler it:
 *
 * - lets a @Public() route through (public means that, and only that);
 * - refuses an unmarked route, a context it does not know, and a kind with no strategy;
 * - asks the route's strategies (@Auth(kind | [kinds])) for the credential: each kind
 *   that finds one on the request is tried in order, the first acceptance wins, and
 *   the first refusal is the reason; when no kind finds a credential the last kind
 *   listed is asked to verify "nothing", which names what was missing;
 * - counts every decision (portcullis_auth_decisions_total), audits every denial,
 *   would-deny, mutation and admin action, and leaves allowed reads to the request's
 *   own log line (docs/auth.md, "What is audited");
 * - answers a refusal with the strategy's fixed body, a dependency outage with 503;
 * - puts the principal on the request for @Principal().
 *
 * WebSocket upgrades that Nest does not route through guards (gateway connections,
 * room-gateway's raw relay) call `authorizeUpgrade`, which is the same path.
 */
@Injectable()
export class AuthGuard implements CanActivate, OnModuleInit {
  private readonly logger = new Logger('AuthGuard');
  private readonly strategies = new Map<AuthKind, AuthStrategy>();

  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly metrics: MetricsService,
    private readonly audit: AuditLog,
    @Inject(AUTH_STRATEGY_FACTORIES) private readonly factories: StrategyFactory[],
  ) {}

  onModuleInit(): void {
    const get = <T>(token: unknown): T => this.moduleRef.get<unknown, T>(token as never, { strict: false });
    for (const make of this.factories) {
      const strategy = make(get);
      if (this.strategies.has(strategy.kind)) throw new Error(`two ${strategy.kind} strategies registered`);
      this.strategies.set(strategy.kind, strategy);
    }
  }

  /** The registered strategy of a kind (for an app that must call it outside a request, e.g. the signaling relay's auth frame). */
  strategy<S extends AuthStrategy>(kind: AuthKind): S | undefined {
    return this.strategies.get(kind) as S | undefined;
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const type = ctx.getType<string>();
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (type === 'http') {
      const req = ctx.switchToHttp().getRequest<FastifyLike>();
      await this.authorize(targets, httpRequest(req), req);
      return true;
    }
    if (type === 'rpc') {
      const pattern = [].concat(Reflect.getMetadata(PATTERN_METADATA, ctx.getHandler()) ?? [])[0] as unknown;
      const request: AuthRequest = {
        transport: 'nats',
        method: '',
        route: typeof pattern === 'string' ? pattern : `${ctx.getClass().name}.${ctx.getHandler().name}`,
        pathWithQuery: '',
        headers: {},
      };
      await this.authorize(targets, request, ctx.switchToRpc().getContext() ?? {});
      return true;
    }
    if (type === 'ws') {
      const client = ctx.switchToWs().getClient<object>();
      const request: AuthRequest = {
        transport: 'ws',
        method: 'GET',
        route: `${ctx.getClass().name}.${ctx.getHandler().name}`,
        pathWithQuery: '',
        headers: {},
      };
      await this.authorize(targets, request, client ?? {});
      return true;
    }
    const site = { transport: 'http' as const, method: type, route: `${ctx.getClass().name}.${ctx.getHandler().name}` };
    this.record(site, 'deny', 'unknown_context');
    throw new HttpException(UNAUTHORIZED_BODY, 401);
  }

  /**
   * A WebSocket upgrade outside Nest's guard chain: `target` is the gateway (or relay)
   * class carrying @Auth()/@Public(). Resolves with the principal (undefined on an open
   * or shadow-mode route); rejects with AuthRejected (status and body as HTTP would
   * answer) or DependencyUnavailable. The principal is also left on `req`.
   */
  async authorizeUpgrade<P = unknown>(
    target: Target,
    req: IncomingMessage,
    routePattern: string,
    headers = req.headers,
  ): Promise<P | undefined> {
    const request: AuthRequest = {
      transport: 'ws',
      method: 'GET',
      route: routePattern,
      pathWithQuery: req.url ?? routePattern,
      headers,
      clientIp: req.socket?.remoteAddress,
      requestId: typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : undefined,
    };
    await this.authorize([target], request, req, true);
    const outcome = (req as { [AUTH_OUTCOME]?: AuthOutcome })[AUTH_OUTCOME];
    // No "request completed" line follows an upgrade: this line carries the allowed read.
    this.logger.debug({ msg: 'upgrade authorized', route: routePattern, auth: outcome });
    return (req as { [AUTH_PRINCIPAL]?: P })[AUTH_PRINCIPAL];
  }

  /**
   * Records a decision made after the guard let a request in, on the guard's own
   * audit and metrics path (room-gateway: the provider refused the key; the relay: a
   * member removed or a device revoked while connected). Denials are audited; allows
   * only when `audit` says so.
   */
  record(
    site: DecisionSite,
    decision: AuditDecision,
    reason: string,
    principal?: string,
    audit = decision !== 'allow',
  ): void {
    this.metrics.authDecision(site.route, decision, reason);
    if (audit)
      this.audit.record({
        principal,
        action: auditAction(site),
        decision,
        reason,
        request_id: site.requestId,
        client_ip: site.clientIp,
      });
  }

  private async authorize(targets: Target[], request: AuthRequest, carrier: object, upgrade = false): Promise<void> {
    const outcome = (o: AuthOutcome) => void ((carrier as { [AUTH_OUTCOME]?: AuthOutcome })[AUTH_OUTCOME] = o);
    if (this.reflector.getAllAndOverride(Public, targets as never)) return outcome({ decision: 'public' });
    const route = this.reflector.getAllAndOverride(AuthRoute, targets as never);
    if (!route) return this.refuse(request, 'deny', new AuthRejected('unmarked_route'), undefined, outcome, upgrade);
    if (route.kinds.includes('internal')) {
      if (route.kinds.length === 1 && request.transport === 'nats') {
        this.record(request, 'allow', 'internal', undefined, false);
        return outcome({ decision: 'allow', reason: 'internal' });
      }
      return this.refuse(request, 'deny', new AuthRejected('internal_only'), undefined, outcome, upgrade);
    }
    const candidates = route.kinds.map((k) => this.strategies.get(k)).filter((s): s is AuthStrategy => Boolean(s));
    if (!candidates.length)
      return this.refuse(request, 'deny', new AuthRejected('no_strategy'), undefined, outcome, upgrade);
    const mode: RouteMode = candidates.find((s) => s.mode)?.mode?.(route) ?? 'enforce';
    if (mode === 'open') return outcome({ decision: 'open' });

    let accepted: { strategy: AuthStrategy; result: Accepted<unknown> } | undefined;
    let refused: { strategy: AuthStrategy; err: unknown } | undefined;
    const attempt = async (strategy: AuthStrategy, credential: unknown) => {
      try {
        accepted = { strategy, result: await strategy.verify(credential, route) };
      } catch (err) {
        refused ??= { strategy, err };
      }
    };
    for (const strategy of candidates) {
      const credential = strategy.extract(request);
      if (credential === undefined) continue;
      await attempt(strategy, credential);
      if (accepted) break;
    }
    if (!accepted && !refused) await attempt(candidates[candidates.length - 1], undefined);

    if (accepted) {
      const { strategy, result } = accepted;
      const audited = strategy.adminActions || (request.transport === 'http' && !READS.has(request.method));
      this.record(request, 'allow', result.reason, result.subject, audited);
      (carrier as { [AUTH_PRINCIPAL]?: unknown })[AUTH_PRINCIPAL] = result.principal;
      return outcome({ decision: 'allow', reason: result.reason, principal: result.subject });
    }
    const { strategy, err } = refused!;
    return this.refuse(request, mode === 'shadow' ? 'would_deny' : 'deny', err, strategy, outcome, upgrade);
  }

  private refuse(
    request: AuthRequest,
    decision: 'deny' | 'would_deny',
    err: unknown,
    strategy: AuthStrategy | undefined,
    outcome: (o: AuthOutcome) => void,
    upgrade: boolean,
  ): void {
    const rejection = toRejection(err);
    if (!(err instanceof AuthRejected) && rejection.reason === 'verifier_error')
      this.logger.warn(`credential check failed: ${err instanceof Error ? err.message : String(err)}`);
    this.record(request, decision, rejection.reason);
    outcome({ decision, reason: rejection.reason });
    // Shadow mode: the request goes on; the would-deny is on record for the operator.
    if (decision === 'would_deny') return;
    // Fail closed, but say why: the credential may be good, the check could not be made.
    if (rejection.outage !== undefined) {
      const cause = rejection.outage;
      throw cause instanceof DependencyUnavailable
        ? cause
        : new DependencyUnavailable(outageDependency(cause) ?? 'dependency', undefined, { cause });
    }
    const body = rejection.body ?? strategy?.unauthorizedBody() ?? UNAUTHORIZED_BODY;
    if (upgrade) throw new AuthRejected(rejection.reason, { status: rejection.status, body });
    if (request.transport === 'nats') throw new RpcException(body);
    if (request.transport === 'ws') throw new WsException(body);
    throw new HttpException(body, rejection.status);
  }
}

function toRejection(err: unknown): AuthRejected {
  if (err instanceof AuthRejected) return err;
  if (isDependencyOutage(err)) return new AuthRejected('verifier_error', { outage: err });
  return new AuthRejected('verifier_error');
}

interface FastifyLike {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  routeOptions?: { url?: string };
  rawBody?: Buffer;
  protocol?: string;
  ip?: string;
  id?: unknown;
}

function httpRequest(req: FastifyLike): AuthRequest {
  return {
    transport: 'http',
    method: req.method,
    route: req.routeOptions?.url ?? 'unmatched',
    pathWithQuery: req.url,
    headers: req.headers,
    body: req.rawBody,
    protocol: req.protocol,
    clientIp: req.ip,
    requestId: req.id === undefined ? undefined : String(req.id),
  };
}
