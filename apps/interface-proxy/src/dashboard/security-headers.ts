import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DASHBOARD_PATH } from './request-checks';

/** No inline script or style, nothing framed, nothing fetched from elsewhere. */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Headers on every /dashboard answer, errors included (they are added in
 * onSend, after Nest's exception filter has written the body). API answers
 * are never cached: they carry device data and one-time secrets.
 */
export function registerDashboardHeaders(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', async (req, reply, payload) => {
      const url = req.url;
      if (url !== DASHBOARD_PATH && !url.startsWith(`${DASHBOARD_PATH}/`) && !url.startsWith(`${DASHBOARD_PATH}?`))
        return payload;
      reply.header('content-security-policy', DASHBOARD_CSP);
      reply.header('x-frame-options', 'DENY');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cross-origin-opener-policy', 'same-origin');
      reply.header('cross-origin-resource-policy', 'same-origin');
      reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
      reply.header('cache-control', url.startsWith(`${DASHBOARD_PATH}/api/`) ? 'no-store' : 'no-cache');
      return payload;
    });
}
