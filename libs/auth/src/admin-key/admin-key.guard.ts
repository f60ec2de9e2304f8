import { CanActivate, ExecutionContext, Inject, Injectable, Optional, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditLog } from '../common/audit';
import { safeEqual } from '../common/crypto';
import { fingerprint } from '../common/crypto';
import { publicOrAction } from '../common/route-metadata';
import { AdminKeySet, AdminKeySource } from './admin-key.source';

export const ADMIN_KEY_HEADER = 'x-portcullis-api-key';
export const ADMIN_KEY_AUDIT = Symbol('ADMIN_KEY_AUDIT');
export const ADMIN_UNAUTHORIZED_BODY = { detail: 'unauthorized' } as const;

/** The same body for every refusal; with a described source it also says where the accepted key lives. */
export function adminUnauthorizedBody(source: AdminKeySource): { detail: string; hint?: string } {
  const where = source.describe();
  if (!where) return ADMIN_UNAUTHORIZED_BODY;
  return { detail: 'unauthorized', hint: `X-Portcullis-API-Key missing or not accepted; this server reads its key from ${where}` };
}

export type AdminKeyDecision = { ok: true; which: 'current' | 'previous' } | { ok: false; reason: string };

/**
 * Checks a presented admin key against a key set. Both candidates are
 * compared on every call (constant time, no early exit), so timing says
 * nothing about which one matched or whether a previous key exists.
 */
export function checkAdminKey(presented: string | undefined, set: AdminKeySet, now = new Date()): AdminKeyDecision {
  if (!set.current) return { ok: false, reason: 'admin_key_unconfigured' };
  const given = presented ?? '';
  const current = safeEqual(given, set.current);
  const prevKey = set.previous?.key ?? set.current;
  const prevMatch = safeEqual(given, prevKey);
  const prevValid = Boolean(set.previous) && (set.previous as { validUntil: Date }).validUntil.getTime() > now.getTime();
  if (!presented) return { ok: false, reason: 'missing_key' };
  if (current) return { ok: true, which: 'current' };
  if (prevMatch && prevValid) return { ok: true, which: 'previous' };
  return { ok: false, reason: prevMatch ? 'previous_key_expired' : 'wrong_key' };
}

/**
 * Guards admin routes with `X-Portcullis-API-Key`:
 *   providers: [{ provide: AdminKeySource, useValue: new StaticAdminKeySource({ current: cfg.adminKey }) }, AdminKeyGuard]
 *   @UseGuards(AdminKeyGuard) on the admin controller.
 * A refusal is always 401 `{"detail":"unauthorized"}`; the reason goes to the audit log.
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  private readonly audit: AuditLog;
  private readonly routes: ReturnType<typeof publicOrAction>;

  constructor(
    private readonly source: AdminKeySource,
    reflector: Reflector,
    @Optional() @Inject(ADMIN_KEY_AUDIT) audit?: AuditLog,
  ) {
    this.audit = audit ?? new AuditLog('admin');
    this.routes = publicOrAction(reflector);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const { open, action } = this.routes.of(ctx);
    if (open) return true;
    if (ctx.getType() !== 'http') throw new UnauthorizedException(ADMIN_UNAUTHORIZED_BODY);
    const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined>; ip?: string; id?: unknown }>();
    const raw = req.headers[ADMIN_KEY_HEADER];
    const presented = Array.isArray(raw) ? raw[0] : raw;
    const decision = checkAdminKey(presented, this.source.keys());
    const request_id = req.id ? String(req.id) : undefined;
    if (!decision.ok) {
      this.audit.record({ action, decision: 'deny', reason: decision.reason, client_ip: req.ip, request_id });
      throw new UnauthorizedException(adminUnauthorizedBody(this.source));
    }
    this.audit.record({ principal: fingerprint(presented as string), action, decision: 'allow', reason: `admin_key_${decision.which}`, client_ip: req.ip, request_id });
    return true;
  }
}
