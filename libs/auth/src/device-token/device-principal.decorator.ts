import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { VerifiedDevice } from './device-token.verifier';

/** Where DeviceTokenGuard leaves the verified principal on the request. */
export const DEVICE_PRINCIPAL_KEY = 'devicePrincipal';

/**
 * The verified device behind a request guarded by DeviceTokenGuard:
 * `handler(@DevicePrincipal() device: DevicePrincipal)`.
 */
export const DevicePrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): VerifiedDevice | undefined => {
  const req = ctx.getType() === 'http' ? ctx.switchToHttp().getRequest() : ctx.switchToWs().getClient();
  return (req as Record<string, unknown>)?.[DEVICE_PRINCIPAL_KEY] as VerifiedDevice | undefined;
});
// The type and the decorator share a name on purpose: `@DevicePrincipal() d: DevicePrincipal`.
export type DevicePrincipal = VerifiedDevice;

/** Alias of DevicePrincipal for apps whose only principal is a device. */
export const Principal = DevicePrincipal;
