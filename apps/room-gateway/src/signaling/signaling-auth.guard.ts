import { applyDecorators, CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException, UseGuards } from '@nestjs/common';
import { AuditLog, bearerToken, DEVICE_PRINCIPAL_KEY, DeviceTokenVerifier, Public, TokenRejected, UNAUTHORIZED_BODY } from '@portcullis/auth';
import type { FastifyRequest } from 'fastify';
import { SIGNALING_AUDIT } from './signaling.tokens';

/**
 * Requires `Authorization: Bearer <device token>` on every signaling route, whatever other
 * metadata says (unlike DeviceTokenGuard, it does not honour @Public()).
 */
@Injectable()
export class SignalingAuthGuard implements CanActivate {
  constructor(private readonly verifier: DeviceTokenVerifier, @Inject(SIGNALING_AUDIT) private readonly audit: AuditLog) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest & Record<string, unknown>>();
    try {
      req[DEVICE_PRINCIPAL_KEY] = await this.verifier.verify(bearerToken(req.headers.authorization));
      return true;
    } catch (err) {
      const reason = err instanceof TokenRejected ? err.reason : 'verifier_error';
      this.audit.record({ action: `${ctx.getClass().name}.${ctx.getHandler().name}`, decision: 'deny', reason, client_ip: req.ip, request_id: String(req.id) });
      throw new UnauthorizedException(UNAUTHORIZED_BODY);
    }
  }
}

/**
 * Marks a signaling route: @Public() only steps past room-gateway's global BYOK guard
 * (GatewayAuthGuard, which knows provider keys, not devices); SignalingAuthGuard then
 * demands a device token. Nothing under this decorator is reachable without one.
 */
export const SignalingRoute = () => applyDecorators(Public(), UseGuards(SignalingAuthGuard));
