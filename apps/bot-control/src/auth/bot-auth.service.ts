import { Injectable, Logger, Optional } from '@nestjs/common';
import {
  AuditLog,
  DeviceTokenVerifier,
  TokenRejected,
  VerifiedDevice,
  bearerToken,
  HeaderBag,
  NonceStore,
  RequestSignatureVerifier,
  checkSharedSecret,
  extractSharedSecret,
  hasSignature,
  httpAction,
} from '@portcullis/auth';
import { DependencyUnavailable, MetricsService } from '@portcullis/platform';
import { BotControlConfig } from '../config';
import { BotRouteKind } from './bot-route.decorator';

export interface AuthInput {
  method: string;
  pathWithQuery: string;
  headers: HeaderBag;
  body?: Buffer | string;
  route: string;
  clientIp?: string;
  requestId?: string;
}

export interface AuthDecision {
  allowed: boolean;
  enforced: boolean;
  reason: string;
}

interface VerifyResult {
  ok: boolean;
  reason: string;
  principal?: string;
  /** The check could not be made (the nonce store is down): refused as an outage, not as a bad credential. */
  outage?: unknown;
}

const OPEN: AuthDecision = Object.freeze({ allowed: true, enforced: false, reason: 'open' });

const MUTATIONS: ReadonlySet<BotRouteKind> = new Set(['join', 'leave', 'delete']);
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/**
 * The shared-secret check plus its optional hardening (signed requests).
 * While a route is not enforced, a request that would be refused is still
 * audited and counted as `would_deny` (shadow mode), so an operator can see
 * it is safe to flip BOT_CONTROL_AUTH_REQUIRED.
 */
@Injectable()
export class BotAuthService {
  private readonly logger = new Logger(BotAuthService.name);
  private readonly audit: AuditLog;
  private readonly signatures: RequestSignatureVerifier;

  constructor(
    private readonly cfg: BotControlConfig,
    nonces: NonceStore,
    private readonly metrics: MetricsService,
    @Optional() private readonly devices?: DeviceTokenVerifier,
  ) {
    this.audit = new AuditLog(cfg.app);
    this.signatures = new RequestSignatureVerifier(
      { current: cfg.secret, previous: cfg.previousSecret },
      nonces,
      cfg.signatureSkewSeconds,
    );
  }

  get auditLog(): AuditLog {
    return this.audit;
  }

  enforced(kind: BotRouteKind): boolean {
    switch (kind) {
      case 'join':
        return this.cfg.authRequired;
      case 'leave':
      case 'delete':
        // BOT_CONTROL_AUTH_REQUIRED_CHANGE can only add enforcement (on /sessions/* mutations), never remove it.
        return this.cfg.authRequired || this.cfg.authRequiredChange;
      case 'events':
      case 'read':
        return this.cfg.eventsAuthRequired;
    }
  }

  /**
   * Synchronous when the answer is (the shared secret, an open route), so the
   * common request pays no promise; a device token or signature returns a promise.
   */
  check(kind: BotRouteKind, input: AuthInput): AuthDecision | Promise<AuthDecision> {
    const enforced = this.enforced(kind);
    // Shadow mode is for the protected mutations; open reads and event streams are not audited per request.
    if (!enforced && !MUTATIONS.has(kind)) return OPEN;
    const result = this.verify(kind, input);
    return result instanceof Promise ? result.then((r) => this.decide(enforced, input, r)) : this.decide(enforced, input, result);
  }

  private decide(enforced: boolean, input: AuthInput, result: VerifyResult): AuthDecision {
    const allowed = result.ok || !enforced;
    const decision = result.ok ? 'allow' : enforced ? 'deny' : 'would_deny';
    this.metrics.authDecision(input.route, decision, result.reason);
    this.audit.record({
      action: httpAction(input.method, input.route),
      decision,
      reason: result.reason,
      principal: result.principal,
      request_id: input.requestId,
      client_ip: input.clientIp,
    });
    // Fail closed, but say why: the caller's credential may be good, the nonce could not be spent.
    if (!allowed && result.outage) throw new DependencyUnavailable('NATS', undefined, { cause: result.outage });
    return { allowed, enforced, reason: result.reason };
  }

  private verify(kind: BotRouteKind, input: AuthInput): VerifyResult | Promise<VerifyResult> {
    const bearer = bearerToken(input.headers.authorization);
    // A device (from device-auth) calling bot-control presents its access token; a JWT is never a shared secret.
    if (this.devices && bearer && JWT_SHAPE.test(bearer)) {
      const ok = (device: VerifiedDevice): VerifyResult => ({ ok: true, reason: 'device_token', principal: `device:${device.deviceId}` });
      const refused = (err: unknown): VerifyResult => ({ ok: false, reason: err instanceof TokenRejected ? err.reason : 'malformed_token' });
      try {
        const device = this.devices.verifyNowOrLater(bearer);
        return device instanceof Promise ? device.then(ok, refused) : ok(device);
      } catch (err) {
        return refused(err);
      }
    }
    const signatureMode = this.cfg.signatureRequired && MUTATIONS.has(kind);
    // A signature proves possession of the secret without sending it, so it is accepted wherever the secret is.
    if (signatureMode || hasSignature(input.headers)) {
      return this.signatures
        .verify({ method: input.method, pathWithQuery: input.pathWithQuery, body: input.body }, input.headers)
        .catch((err: unknown) => {
          this.logger.error(`signature check failed: ${String(err)}`);
          return { ok: false as const, reason: 'nonce_store_unavailable' as const, outage: err };
        })
        .then(
          (sig): VerifyResult =>
            sig.ok
              ? { ok: true, reason: sig.which === 'current' ? 'signed' : 'signed_previous', principal: `shared_secret:${sig.which}` }
              : { ok: false, reason: sig.reason, outage: 'outage' in sig ? sig.outage : undefined },
        );
    }
    const secret = checkSharedSecret(extractSharedSecret(input.headers), this.cfg.secret, this.cfg.previousSecret);
    return secret.ok
      ? { ok: true, reason: secret.which === 'current' ? 'ok' : 'ok_previous', principal: `shared_secret:${secret.which}` }
      : { ok: false, reason: secret.reason };
  }
}
