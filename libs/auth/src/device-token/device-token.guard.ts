import { CanActivate, ExecutionContext, Inject, Injectable, Optional, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditLog } from '../common/audit';
import { publicOrAction } from '../common/route-metadata';
import { bearerToken, TokenRejected } from '../jwt/jwks-verifier';
import { DEVICE_PRINCIPAL_KEY } from './device-principal.decorator';
import { DeviceTokenVerifier, VerifiedDevice } from './device-token.verifier';

export const DEVICE_TOKEN_AUDIT = Symbol('DEVICE_TOKEN_AUDIT');
/** Optional counters (the platform's MetricsService fits): reason codes only, never a token. */
export const DEVICE_TOKEN_METRICS = Symbol('DEVICE_TOKEN_METRICS');
export interface DeviceTokenMetrics {
  authDecision(route: string, decision: string, reason: string): void;
  readonly revocationsReceived?: { inc(labels: { app: string }): void };
  readonly app?: string;
}

/** The one body every refused device token gets. */
export const UNAUTHORIZED_BODY = { detail: 'unauthorized' } as const;

interface HeaderCarrier {
  headers?: Record<string, string | string[] | undefined>;
  routeOptions?: { url?: string };
  ip?: string;
  id?: unknown;
}

/**
 * Accepts `Authorization: Bearer <device token>`. Thin: the verifier decides,
 * the guard records the reason in the audit log and answers a fixed 401.
 * Routes marked @Public() pass. Non-HTTP contexts (NATS handlers, WebSocket
 * messages) are refused unless @Public(), so registering it with APP_GUARD is safe.
 */
@Injectable()
export class DeviceTokenGuard implements CanActivate {
  private readonly routes: ReturnType<typeof publicOrAction>;

  constructor(
    private readonly verifier: DeviceTokenVerifier,
    reflector: Reflector,
    @Inject(DEVICE_TOKEN_AUDIT) private readonly audit: AuditLog,
    @Optional() @Inject(DEVICE_TOKEN_METRICS) private readonly metrics?: DeviceTokenMetrics | null,
  ) {
    this.routes = publicOrAction(reflector);
  }

  // Not async: a token seen before is answered at once, and Nest awaits only what is a promise.
  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    const { open, action } = this.routes.of(ctx);
    if (open) return true;
    if (ctx.getType() !== 'http') throw new UnauthorizedException(UNAUTHORIZED_BODY);
    const req = ctx.switchToHttp().getRequest<HeaderCarrier & Record<string, unknown>>();
    let verdict: VerifiedDevice | Promise<VerifiedDevice>;
    try {
      verdict = this.verifier.verifyNowOrLater(bearerToken(req.headers?.authorization));
    } catch (err) {
      return this.refuse(req, action, err);
    }
    return verdict instanceof Promise
      ? verdict.then((principal) => this.allow(req, action, principal), (err: unknown) => this.refuse(req, action, err))
      : this.allow(req, action, verdict);
  }

  private allow(req: HeaderCarrier & Record<string, unknown>, action: string, principal: VerifiedDevice): true {
    req[DEVICE_PRINCIPAL_KEY] = principal;
    this.metrics?.authDecision(req.routeOptions?.url ?? 'unmatched', 'allow', 'ok');
    this.audit.record({ principal: principal.deviceId, action, decision: 'allow', reason: 'ok', client_ip: req.ip, request_id: req.id ? String(req.id) : undefined });
    return true;
  }

  private refuse(req: HeaderCarrier, action: string, err: unknown): never {
    const reason = err instanceof TokenRejected ? err.reason : 'verifier_error';
    this.metrics?.authDecision(req.routeOptions?.url ?? 'unmatched', 'deny', reason);
    this.audit.record({ action, decision: 'deny', reason, client_ip: req.ip, request_id: req.id ? String(req.id) : undefined });
    throw new UnauthorizedException(UNAUTHORIZED_BODY);
  }
}
